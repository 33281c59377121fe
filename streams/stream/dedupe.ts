// The Nats-Msg-Id duplicate window: msg id -> (sequence, store timestamp), forgotten once older
// than duplicate_window. Ids arrive in time order (they are recorded when a message is applied,
// with its store timestamp), so a FIFO of entries gives expiry from the front in O(1) amortised
// per id, and nothing ever scans the whole window.
//
// Memory is bounded twice: by time (the window) and by `maxEntries` (a named policy,
// docs/DESIGN.md principle 6): past it the oldest ids are forgotten early, which shortens the
// effective window under extreme publish rates rather than growing without bound.

import type { TimeNs } from '../store/types.ts';

export const DEFAULT_MAX_DEDUPE_ENTRIES = 1_000_000;

interface Entry {
  readonly id: string;
  readonly seq: number;
  readonly timeNs: TimeNs;
}

export class DedupeWindow {
  private readonly byId = new Map<string, Entry>();
  /** Insertion (= time) order; entries before `head` were removed. */
  private fifo: Entry[] = [];
  private head = 0;
  private windowNs: bigint;
  private readonly maxEntries: number;
  /** Ids forgotten early because of maxEntries (for monitoring / logs). */
  evictedEarly = 0;

  constructor(windowNs: number, maxEntries = DEFAULT_MAX_DEDUPE_ENTRIES) {
    this.windowNs = BigInt(Math.max(0, Math.floor(windowNs)));
    this.maxEntries = Math.max(1, maxEntries);
  }

  get size(): number {
    return this.byId.size;
  }

  get enabled(): boolean {
    return this.windowNs > 0n;
  }

  setWindow(windowNs: number): void {
    this.windowNs = BigInt(Math.max(0, Math.floor(windowNs)));
    if (this.windowNs === 0n) this.clear();
  }

  /** The sequence of a message stored with `id` inside the window as of `nowNs`, if any. */
  lookup(id: string, nowNs: TimeNs): number | undefined {
    const e = this.byId.get(id);
    if (e === undefined) return undefined;
    if (nowNs - e.timeNs > this.windowNs) return undefined; // expired, not yet swept
    return e.seq;
  }

  /** Records `id` as stored at `seq` with store time `timeNs`. A later record replaces an earlier one. */
  record(id: string, seq: number, timeNs: TimeNs): void {
    if (this.windowNs === 0n) return;
    const e: Entry = { id, seq, timeNs };
    this.byId.set(id, e);
    this.fifo.push(e);
    while (this.byId.size > this.maxEntries) {
      const old = this.fifo[this.head++]!;
      if (this.byId.get(old.id) === old) {
        this.byId.delete(old.id);
        this.evictedEarly++;
      }
    }
    this.compact();
  }

  /** Forgets ids older than the window as of `nowNs`; returns the time of the oldest kept, or null. */
  expire(nowNs: TimeNs): TimeNs | null {
    const cutoff = nowNs - this.windowNs;
    while (this.head < this.fifo.length) {
      const e = this.fifo[this.head]!;
      if (e.timeNs >= cutoff) break;
      this.head++;
      // A re-recorded id has a newer entry further back; only drop the map entry if it is this one.
      if (this.byId.get(e.id) === e) this.byId.delete(e.id);
    }
    this.compact();
    return this.head < this.fifo.length ? this.fifo[this.head]!.timeNs : null;
  }

  clear(): void {
    this.byId.clear();
    this.fifo = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.fifo.length) {
      this.fifo = this.fifo.slice(this.head);
      this.head = 0;
    } else if (this.head === this.fifo.length && this.head > 0) {
      this.fifo = [];
      this.head = 0;
    }
  }
}
