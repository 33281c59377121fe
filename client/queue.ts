// An unbounded single-consumer async queue: push() never waits, the consumer iterates with
// for-await. Used for connection status events. (Subscriptions keep their own queue because they
// count processed messages and enforce pending limits.)

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private error: Error | undefined = undefined;
  private waiterReject: ((e: Error) => void) | undefined;
  private readonly onReturn: (() => void) | undefined;

  constructor(onReturn?: () => void) {
    this.onReturn = onReturn;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.waiterReject = undefined;
      w({ value: item, done: false });
      return;
    }
    this.items.push(item);
  }

  /** No more items; the iterator finishes once the queued ones are consumed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.waiterReject = undefined;
      w({ value: undefined, done: true });
    }
  }

  /** Like end(), but the iterator throws `err` after the queued items. */
  fail(err: Error): void {
    if (this.ended) return;
    this.ended = true;
    const reject = this.waiterReject;
    this.waiter = undefined;
    this.waiterReject = undefined;
    if (reject !== undefined) reject(err);
    else this.error = err;
  }

  get done(): boolean {
    return this.ended;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head]!;
      this.items[this.head] = undefined as T;
      this.head++;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) {
      const err = this.error;
      if (err !== undefined) {
        this.error = undefined;
        return Promise.reject(err);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterReject = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    this.items = [];
    this.head = 0;
    this.onReturn?.();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
