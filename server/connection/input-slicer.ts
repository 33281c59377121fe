// Reading in slices, so that one connection cannot hold the event loop. Node hands a connection
// its input in reads of up to 64 KiB, and a busy socket several of them in one pass of the event
// loop; tens of thousands of SUBs in one burst then kept every other connection waiting for
// hundreds of milliseconds. A read larger than SLICE_BYTES is parsed a slice at a time; once a
// turn has spent TURN_BUDGET_NS on this connection, the rest waits for the next turn (reading
// paused, continued from setImmediate, after the other connections' I/O). Reads up to SLICE_BYTES
// take the direct path: no clock read, no copy. Slices are views into the read; the parser keeps
// a frame that straddles two slices as it keeps one that straddles two reads.

import type { Clock } from '../../runtime/clock.ts';

export const SLICE_BYTES = 16 * 1024;
export const TURN_BUDGET_NS = 5_000_000;

export interface SlicerHooks {
  /** False once the connection closed: what is queued is dropped. */
  open(): boolean;
  /** Stop reading (the backlog is being worked off) / the backlog is done. */
  pause(): void;
  resume(): void;
}

export class InputSlicer {
  /** Reads not yet parsed; the first one from `offset`. Empty unless a turn ran out of budget. */
  private readonly queue: Buffer[] = [];
  private offset = 0;
  private waiting = false;
  private readonly continueBound = (): void => this.continueBacklog();

  constructor(
    private readonly clock: Clock,
    private readonly parse: (bytes: Buffer) => void,
    private readonly hooks: SlicerHooks,
  ) {}

  push(chunk: Buffer): void {
    if (this.queue.length > 0) {
      this.queue.push(chunk);
      return;
    }
    if (chunk.length <= SLICE_BYTES) {
      this.parse(chunk);
      return;
    }
    this.queue.push(chunk);
    this.offset = 0;
    this.work(this.clock.monoNs());
  }

  private work(startNs: number): void {
    while (this.queue.length > 0) {
      if (!this.hooks.open()) {
        this.queue.length = 0;
        return;
      }
      const chunk = this.queue[0]!;
      const end = Math.min(chunk.length, this.offset + SLICE_BYTES);
      const slice = this.offset === 0 && end === chunk.length ? chunk : chunk.subarray(this.offset, end);
      // Advance before parsing: the parser may close the connection, or push more input.
      this.offset = end;
      if (end === chunk.length) {
        this.queue.shift();
        this.offset = 0;
      }
      this.parse(slice);
      if (this.queue.length > 0 && this.clock.monoNs() - startNs > TURN_BUDGET_NS) {
        this.hooks.pause();
        this.waiting = true;
        this.clock.setImmediate(this.continueBound);
        return;
      }
    }
  }

  private continueBacklog(): void {
    this.waiting = false;
    this.work(this.clock.monoNs());
    if (!this.waiting && this.hooks.open()) this.hooks.resume();
  }
}
