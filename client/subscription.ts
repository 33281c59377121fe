// A subscription: either a callback (called synchronously as each message is parsed) or an async
// iterator over a queue with client-side pending limits (messages over the limits are dropped
// and reported as a slow consumer, as nats.go does; the server is not involved).

import type { Msg } from './msg.ts';

/** What a subscription needs from its connection. */
export interface SubscriptionHost {
  /** Forget the subscription and send UNSUB (with max: the server stops after max deliveries). */
  unsubscribe(sub: Subscription, max?: number): void;
  /** UNSUB, then resolve once the server has confirmed (PING/PONG) that no more will come. */
  drainSubscription(sub: Subscription): Promise<void>;
  /** A callback threw. */
  callbackError(sub: Subscription, err: unknown): void;
  slowConsumer(sub: Subscription): void;
}

export interface SubscriptionOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
  /** Unsubscribe automatically after this many messages. */
  max?: number;
  /** Called for each message, synchronously; without it, iterate the subscription. */
  callback?: (msg: Msg) => void;
  /**
   * Instead of `callback`: called with a view of each message's payload (headers skipped), its
   * subject and reply subject ('' when none), the view valid only during the call. No copy and no
   * Msg per message: for high-rate readers that only look at the bytes (counters, load
   * generators, echo services). Copy what must be kept.
   */
  dataCallback?: (data: Uint8Array, subject: string, reply: string) => void;
  /** Iterator mode: messages held before dropping (-1 = unlimited). */
  pendingLimitMsgs?: number;
  pendingLimitBytes?: number;
}

const noMsgCallback = (): void => undefined;

export class Subscription implements AsyncIterable<Msg> {
  readonly sid: number;
  readonly subject: string;
  readonly queue: string;
  /** Total deliveries after which the subscription ends; 0 = none. */
  max: number;
  private received = 0;
  private processed = 0;
  private readonly host: SubscriptionHost;
  private readonly callback: ((msg: Msg) => void) | undefined;
  /** The no-copy callback (SubscriptionOptions.dataCallback); the connection checks it first. */
  readonly dataCallback: ((data: Uint8Array, subject: string, reply: string) => void) | undefined;
  private readonly limitMsgs: number;
  private readonly limitBytes: number;
  // Iterator queue.
  private items: Msg[] = [];
  private head = 0;
  private pendingBytes = 0;
  private waiter: ((r: IteratorResult<Msg>) => void) | undefined;
  private waiterReject: ((e: unknown) => void) | undefined;
  private iterating = false;
  private slow = false;
  private dropped = 0;
  /** No more messages will be added. */
  private finished = false;
  private error: Error | undefined;
  private errorReported = false;
  private draining = false;
  private resolveClosed!: (e: Error | undefined) => void;
  private closedSettled = false;
  /** Resolves when the subscription has ended and all its messages were handed out. */
  readonly closed: Promise<Error | undefined>;

  constructor(host: SubscriptionHost, sid: number, subject: string, opts: SubscriptionOptions, limitMsgs: number, limitBytes: number) {
    this.host = host;
    this.sid = sid;
    this.subject = subject;
    this.queue = opts.queue ?? '';
    this.max = opts.max ?? 0;
    if (opts.callback !== undefined && opts.dataCallback !== undefined) throw new TypeError('give callback or dataCallback, not both');
    this.dataCallback = opts.dataCallback;
    // A data callback is a callback subscription too: not iterable, nothing queued.
    this.callback = opts.callback ?? (opts.dataCallback !== undefined ? noMsgCallback : undefined);
    this.limitMsgs = opts.pendingLimitMsgs ?? limitMsgs;
    this.limitBytes = opts.pendingLimitBytes ?? limitBytes;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  getReceived(): number {
    return this.received;
  }
  getProcessed(): number {
    return this.processed;
  }
  /** Messages queued and not yet handed to the iterator. */
  getPending(): number {
    return this.items.length - this.head;
  }
  getDropped(): number {
    return this.dropped;
  }
  getSubject(): string {
    return this.subject;
  }
  getID(): number {
    return this.sid;
  }
  isClosed(): boolean {
    return this.finished;
  }
  isDraining(): boolean {
    return this.draining;
  }

  /**
   * Called by the connection for each message to this sid. Returns true when the subscription has
   * now reached its max (the caller removes it).
   */
  deliver(msg: Msg): boolean {
    if (this.finished) return false;
    const n = ++this.received;
    const cb = this.callback;
    if (cb !== undefined) {
      try {
        cb(msg);
      } catch (e) {
        this.host.callbackError(this, e);
      }
      this.processed++;
    } else {
      this.enqueue(msg);
    }
    if (this.max > 0 && n >= this.max) {
      this.finish(undefined);
      return true;
    }
    return false;
  }

  /** deliver() for a dataCallback subscription: `data` is a view, valid during the call only. */
  deliverData(data: Uint8Array, subject: string, reply: string): boolean {
    if (this.finished) return false;
    const n = ++this.received;
    try {
      this.dataCallback!(data, subject, reply);
    } catch (e) {
      this.host.callbackError(this, e);
    }
    this.processed++;
    if (this.max > 0 && n >= this.max) {
      this.finish(undefined);
      return true;
    }
    return false;
  }

  private enqueue(msg: Msg): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.waiterReject = undefined;
      this.processed++;
      w({ value: msg, done: false });
      return;
    }
    const pendingMsgs = this.items.length - this.head;
    const size = msg.data.length;
    if (
      (this.limitMsgs >= 0 && pendingMsgs >= this.limitMsgs) ||
      (this.limitBytes >= 0 && this.pendingBytes + size > this.limitBytes)
    ) {
      this.dropped++;
      if (!this.slow) {
        this.slow = true;
        this.host.slowConsumer(this);
      }
      return;
    }
    this.items.push(msg);
    this.pendingBytes += size;
  }

  /** Ends the subscription: no more messages; the iterator finishes after the queued ones. */
  finish(err: Error | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.error = err;
    const w = this.waiter;
    if (w !== undefined && this.head === this.items.length) {
      this.waiter = undefined;
      const reject = this.waiterReject!;
      this.waiterReject = undefined;
      if (err !== undefined) {
        this.errorReported = true;
        reject(err);
      } else w({ value: undefined, done: true });
    }
    this.settleIfDone();
  }

  private settleIfDone(): void {
    if (this.closedSettled || !this.finished) return;
    if (this.callback === undefined && this.head < this.items.length) return;
    this.closedSettled = true;
    this.resolveClosed(this.error);
  }

  /** Stop now (queued messages are still handed out), or after `max` total deliveries. */
  unsubscribe(max?: number): void {
    if (this.finished) return;
    if (max !== undefined && max > 0 && max > this.received) {
      this.max = max;
      this.host.unsubscribe(this, max);
      return;
    }
    this.host.unsubscribe(this);
    this.finish(undefined);
  }

  /** Stop receiving but process what the server already sent; resolves when all is processed. */
  async drain(): Promise<void> {
    if (this.finished) {
      await this.closed;
      return;
    }
    if (!this.draining) {
      this.draining = true;
      await this.host.drainSubscription(this);
      this.finish(undefined);
    }
    await this.closed;
  }

  // --- async iteration ---------------------------------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<Msg> {
    if (this.callback !== undefined) throw new TypeError('a subscription with a callback cannot be iterated');
    if (this.iterating) throw new TypeError('a subscription can be iterated only once');
    this.iterating = true;
    return {
      next: () => this.next(),
      return: () => {
        this.unsubscribe();
        this.items = [];
        this.head = 0;
        this.pendingBytes = 0;
        this.settleIfDone();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private next(): Promise<IteratorResult<Msg>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head]!;
      this.items[this.head] = undefined as unknown as Msg;
      this.head++;
      this.pendingBytes -= value.data.length;
      if (this.head === this.items.length) {
        this.items = [];
        this.head = 0;
        this.slow = false;
      }
      this.processed++;
      this.settleIfDone();
      return Promise.resolve({ value, done: false });
    }
    if (this.finished) {
      if (this.error !== undefined && !this.errorReported) {
        this.errorReported = true;
        return Promise.reject(this.error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.waiterReject = reject;
    });
  }
}
