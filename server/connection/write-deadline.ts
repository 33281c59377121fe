// write_deadline as nats-server enforces it: a write to a client that cannot complete within the
// deadline makes the client a slow consumer, and the connection is closed (nats-server's
// "Slow Consumer Detected: WriteDeadline of 10s exceeded"). Node never blocks in write(): bytes
// the kernel cannot take wait in the transport's queue. So the deadline is checked on that queue:
// when bytes are pending, a timer is armed; when it fires, every byte that had been handed to the
// transport by the time it was armed must have left. If not, a byte waited longer than the
// deadline and the connection is cut; if so and more is pending, the check repeats. A stalled
// byte is caught within two deadlines, and no byte that left within one is ever blamed. 'drain'
// (the queue is empty) disarms the check, so a client that keeps up costs one counter add per
// flush.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';

export class WriteDeadline {
  /** Bytes handed to the transport so far. */
  private handed = 0;
  /** What `handed` was when the timer was armed: all of it must be gone when it fires. */
  private due = 0;
  private timer: TimerHandle | undefined;
  private readonly check = (): void => this.onTimer();

  constructor(
    private readonly clock: Clock,
    private readonly deadlineMs: number,
    /** Bytes accepted by the transport and not yet handed to the kernel. */
    private readonly pendingBytes: () => number,
    private readonly exceeded: () => void,
  ) {}

  /** Call after handing `bytes` to the transport. */
  wrote(bytes: number): void {
    this.handed += bytes;
    if (this.timer === undefined && this.pendingBytes() > 0) this.arm();
  }

  /** The transport's queue is empty. */
  drained(): void {
    this.cancel();
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    this.due = this.handed;
    this.timer = this.clock.setTimeout(this.check, this.deadlineMs);
  }

  private onTimer(): void {
    this.timer = undefined;
    const pending = this.pendingBytes();
    if (pending === 0) return;
    if (this.handed - pending < this.due) {
      this.exceeded();
      return;
    }
    this.arm();
  }
}
