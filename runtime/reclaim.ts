// Handing a large dropped buffer back soon. When a slow consumer is cut, the megabytes it had
// queued (up to max_pending, 64 MiB by default) become garbage, but V8 frees Buffer memory only in
// a full collection, and nothing asks for one: the flood that made the consumer slow keeps
// allocating read buffers, which only trigger young-generation collections, so the dead queue
// stayed resident while ~30 MiB more was allocated around it (benchmarks/README.md, storm-flood),
// and an idle server never collected it at all. One full collection right after such a drop
// returns the queue to the allocator, where the next reads reuse it.
//
// Collecting is the process owner's decision: the CLI installs V8's collector
// (cli/heap-tuning.ts); an application embedding the server keeps its own policy, and drops are
// then left to V8.

import { systemClock, type Clock, type TimerHandle } from './clock.ts';

/** Drops smaller than this are left to V8: the pause would cost more than the memory is worth. */
export const RECLAIM_MIN_BYTES = 8 * 1024 * 1024;
/**
 * At most one forced collection per interval (one full GC of a small heap is ~5-30 ms here): a
 * client that gets itself cut as a slow consumer again and again cannot make the server spend its
 * time collecting. Drops within the interval share one collection at its end.
 */
export const RECLAIM_MIN_INTERVAL_MS = 1000;

export class MemoryReclaimer {
  private lastMs = Number.NEGATIVE_INFINITY;
  private pending: TimerHandle | undefined;
  /** Collections run so far (tests, diagnostics). */
  collections = 0;

  constructor(
    private readonly clock: Clock,
    private readonly collect: () => void,
    private readonly minIntervalMs = RECLAIM_MIN_INTERVAL_MS,
  ) {}

  /**
   * `bytes` were just released (their last references dropped). The collection runs after the
   * current I/O callbacks, so whatever else lets go of them in this turn has done so.
   */
  dropped(bytes: number): void {
    if (bytes < RECLAIM_MIN_BYTES || this.pending !== undefined) return;
    const wait = this.lastMs + this.minIntervalMs - this.clock.nowMs();
    const run = (): void => {
      this.pending = undefined;
      this.lastMs = this.clock.nowMs();
      this.collections++;
      this.collect();
    };
    this.pending = wait > 0 ? this.clock.setTimeout(run, wait) : this.clock.setImmediate(run);
  }

  cancel(): void {
    this.pending?.cancel();
    this.pending = undefined;
  }
}

let installed: MemoryReclaimer | undefined;

/** The process's collector (the CLI's); undefined leaves every drop to V8. */
export function installGarbageCollector(collect: (() => void) | undefined): void {
  installed?.cancel();
  installed = collect === undefined ? undefined : new MemoryReclaimer(systemClock, collect);
}

/** A connection dropped `bytes` of queued output: collect them soon if a collector is installed. */
export function reclaimDropped(bytes: number): void {
  installed?.dropped(bytes);
}
