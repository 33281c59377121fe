// The FIFO of PING waiters: the n-th PONG answers the n-th PING. Keepalive PINGs have no waiter.

export interface PongWaiter {
  resolve(): void;
  reject(e: Error): void;
}

export class PongQueue {
  private items: (PongWaiter | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(w: PongWaiter | undefined): void {
    this.items.push(w);
  }

  /** The waiter of the oldest PING (undefined for a keepalive PING or an empty queue). */
  shift(): PongWaiter | undefined {
    if (this.head >= this.items.length) return undefined;
    const w = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return w;
  }

  failAll(err: Error): void {
    const items = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    for (const w of items) w?.reject(err);
  }
}
