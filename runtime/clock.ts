// The only place where wall time and timers are reached. Everything else takes a Clock so
// tests and the simulator can run on virtual time.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Monotonic high-resolution nanoseconds (bigint-free: safe up to ~104 days of uptime). */
  monoNs(): number;
  /** Nanoseconds since the Unix epoch as a bigint (for JetStream timestamps). */
  epochNs(): bigint;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  setInterval(fn: () => void, everyMs: number): TimerHandle;
  /** Runs fn after the current I/O callbacks, before timers (setImmediate). */
  setImmediate(fn: () => void): TimerHandle;
}

const hrBase = process.hrtime.bigint();
const epochBaseNs = BigInt(Date.now()) * 1_000_000n;

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monoNs: () => Number(process.hrtime.bigint() - hrBase),
  epochNs: () => epochBaseNs + (process.hrtime.bigint() - hrBase),
  setTimeout(fn, delayMs) {
    const t = setTimeout(fn, delayMs);
    t.unref?.();
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, everyMs) {
    const t = setInterval(fn, everyMs);
    t.unref?.();
    return { cancel: () => clearInterval(t) };
  },
  setImmediate(fn) {
    const t = setImmediate(fn);
    return { cancel: () => clearImmediate(t) };
  },
};

/** A clock whose time only moves when the test says so. Timers fire in due order. */
export class ManualClock implements Clock {
  private nowValueMs: number;
  private seq = 0;
  private readonly timers = new Map<number, { dueMs: number; fn: () => void; everyMs: number }>();

  constructor(startMs = 1_700_000_000_000) {
    this.nowValueMs = startMs;
  }

  nowMs(): number {
    return this.nowValueMs;
  }
  monoNs(): number {
    return this.nowValueMs * 1_000_000;
  }
  epochNs(): bigint {
    return BigInt(this.nowValueMs) * 1_000_000n;
  }
  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.add(fn, delayMs, 0);
  }
  setInterval(fn: () => void, everyMs: number): TimerHandle {
    return this.add(fn, everyMs, Math.max(1, everyMs));
  }
  setImmediate(fn: () => void): TimerHandle {
    return this.add(fn, 0, 0);
  }

  /** Moves time forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.nowValueMs + ms;
    for (;;) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, t] of this.timers) {
        if (t.dueMs <= target && t.dueMs < nextDue) {
          nextDue = t.dueMs;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.timers.get(nextId)!;
      this.nowValueMs = Math.max(this.nowValueMs, t.dueMs);
      if (t.everyMs > 0) t.dueMs += t.everyMs;
      else this.timers.delete(nextId);
      t.fn();
    }
    this.nowValueMs = target;
  }

  private add(fn: () => void, delayMs: number, everyMs: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { dueMs: this.nowValueMs + Math.max(0, delayMs), fn, everyMs });
    return { cancel: () => void this.timers.delete(id) };
  }
}
