// One socket write per connection per turn: deliveries append to a connection's outbound buffer
// and mark it dirty; the flusher writes every dirty connection once, at the end of the turn.

import type { Clock } from '../../runtime/clock.ts';

export interface Flushable {
  /** Set by the flusher while the connection is queued; the connection must not touch it. */
  queuedForFlush: boolean;
  flush(): void;
}

export class Flusher {
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;
  private readonly clock: Clock;
  private readonly runBound = (): void => this.run();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  markDirty(c: Flushable): void {
    if (c.queuedForFlush) return;
    c.queuedForFlush = true;
    this.dirty.push(c);
    if (!this.scheduled) {
      this.scheduled = true;
      this.clock.setImmediate(this.runBound);
    }
  }

  /** Flushes every dirty connection now. */
  run(): void {
    this.scheduled = false;
    // Swap lists: a flush may mark other connections dirty (e.g. a slow-consumer close).
    const list = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      c.queuedForFlush = false;
      c.flush();
    }
    list.length = 0;
    this.spare = list;
  }
}
