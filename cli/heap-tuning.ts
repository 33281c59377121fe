// V8 settings for the sluice process. The CLI owns the process, so it sets them; an application
// that embeds the server (sluice/server) keeps its own.
//
// The young generation: V8 doubles its semi-spaces (up to 16 MiB each, 32 MiB in all) while a
// burst allocates fast, e.g. 2,000 connections opening at once, and shrinks them only during a
// later garbage collection. An idle server collects nothing, so after a connection storm it kept
// ~30 MiB of RSS for good (benchmarks/README.md, storm). A growth factor of 1 keeps the semi-spaces
// at their initial size until the process allocates steadily (growYoungGenerationWhenBusy), until
// the server says steady work is starting (a mirror's catch-up, runtime/steady-work.ts), or from
// the start on a server that replicates streams. Unlike the semi-space size, the growth
// factor is read at each growth, so it takes effect when set at run time.
//
// The collector: a slow consumer cut at max_pending leaves up to 64 MiB of dead output that V8
// would free only in a full collection nobody triggers (runtime/reclaim.ts). The server asks for
// one after such a drop, at most once a second. V8's `gc` is taken from a fresh context while
// --expose-gc is on and the flag is turned off again, so no script sees a global `gc`.

import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { installGarbageCollector, onSteadyWork } from '../server/index.ts';

/** Minor collections a second that count as sustained allocation, and for how many seconds in a row. */
export const BUSY_SCAVENGES_PER_SECOND = 100;
export const BUSY_SECONDS = 2;

/**
 * Lets the young generation grow as V8 would, for the rest of the process. Pinned, it costs the
 * paths that allocate per message: in js-pub-r3 the collector took ~30 % of each server's CPU
 * (with V8's growth ~10 %), and a mirror's catch-up ran ~30 % slower (benchmarks/README.md). The
 * price is RSS after a burst: ~12 MiB more after a 2,000-connection storm.
 */
export function letYoungGenerationGrow(): void {
  if (grown) return;
  grown = true;
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}
let grown = false;

/**
 * Watches the collector and lets the young generation grow (`onBusy`) once minor collections
 * come at `perSecond` or more for `seconds` seconds in a row: the process is then doing steady
 * per-message work (storing, copying, replicating, routing at full speed), where a small young
 * generation costs throughput, rather than a burst such as a connection storm, after which the
 * grown semi-spaces would stay. Measured with the pinned young generation: a storm 11-22 minor
 * collections a second, pubsub 130-170, js-pub ~200, a mirror's copy ~300. Returns a function
 * that stops watching.
 */
export function growYoungGenerationWhenBusy(onBusy: () => void = letYoungGenerationGrow, perSecond = BUSY_SCAVENGES_PER_SECOND, seconds = BUSY_SECONDS): () => void {
  const busy = new SteadyCollections(perSecond, seconds);
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) busy.minorCollection();
  });
  observer.observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    // Grown already (a replicating server): nothing left to watch for.
    if (grown && onBusy === letYoungGenerationGrow) return stop();
    if (!busy.tick()) return;
    stop();
    onBusy();
  }, 1000);
  timer.unref();
  const stop = (): void => {
    observer.disconnect();
    clearInterval(timer);
  };
  return stop;
}

/** Minor collections counted per one-second tick: steady when `perSecond` or more for `seconds` ticks in a row. */
export class SteadyCollections {
  private count = 0;
  private streak = 0;

  constructor(
    private readonly perSecond: number,
    private readonly seconds: number,
  ) {}

  minorCollection(): void {
    this.count++;
  }

  /** Ends a second; true once the collections have been steady long enough. */
  tick(): boolean {
    this.streak = this.count >= this.perSecond ? this.streak + 1 : 0;
    this.count = 0;
    return this.streak >= this.seconds;
  }
}

export function tuneHeap(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  growYoungGenerationWhenBusy();
  // Known steady work (a mirror's catch-up of a large backlog) need not wait for the watch.
  onSteadyWork(letYoungGenerationGrow);
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
  v8.setFlagsFromString('--no-expose-gc');
  if (typeof gc === 'function') installGarbageCollector(() => (gc as () => void)());
}
