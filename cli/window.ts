// At most `size` asynchronous operations in flight (JetStream publishes waiting for PubAcks):
//   window.add(js.publish(...)); if (window.full) await window.room();
// A settled operation frees its slot at once; the waiter resumes after every ack of the same
// socket read has been counted, so the refill goes out as one batch. O(1) per operation (unlike
// Promise.race over the set in flight). The first failure is thrown by room() and drain().

export class Window {
  private inflight = 0;
  private wake: (() => void) | undefined = undefined;
  private failed = false;
  private failure: unknown = undefined;
  private readonly size: number;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  get full(): boolean {
    return this.inflight >= this.size || this.failed;
  }

  add(p: Promise<unknown>): void {
    this.inflight++;
    p.then(
      () => this.settle(),
      (e: unknown) => {
        if (!this.failed) {
          this.failed = true;
          this.failure = e;
        }
        this.settle();
      },
    );
  }

  /** Resolves once a slot is free; throws the first failure. */
  async room(): Promise<void> {
    while (this.inflight >= this.size && !this.failed) await new Promise<void>((r) => (this.wake = r));
    if (this.failed) throw this.failure;
  }

  /** Resolves once nothing is in flight; throws the first failure. */
  async drain(): Promise<void> {
    while (this.inflight > 0) await new Promise<void>((r) => (this.wake = r));
    if (this.failed) throw this.failure;
  }

  private settle(): void {
    this.inflight--;
    const w = this.wake;
    if (w !== undefined) {
      this.wake = undefined;
      w();
    }
  }
}
