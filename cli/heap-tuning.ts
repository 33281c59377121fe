// V8 settings for the sluice process. The CLI owns the process, so it sets them; an application
// that embeds the server (sluice/server) keeps its own.
//
// The young generation: V8 doubles its semi-spaces (up to 16 MiB each, 32 MiB in all) while a
// burst allocates fast, e.g. 2,000 connections opening at once, and shrinks them only during a
// later garbage collection. An idle server collects nothing, so after a connection storm it kept
// ~30 MiB of RSS for good (benchmarks/README.md, storm). A growth factor of 1 keeps the semi-spaces
// at their initial size; pubsub, fanout and js-pub ran within noise of the default (the hot paths
// allocate little). Unlike the semi-space size, the growth factor is read at each growth, so it
// takes effect when set at run time.
//
// The collector: a slow consumer cut at max_pending leaves up to 64 MiB of dead output that V8
// would free only in a full collection nobody triggers (runtime/reclaim.ts). The server asks for
// one after such a drop, at most once a second. V8's `gc` is taken from a fresh context while
// --expose-gc is on and the flag is turned off again, so no script sees a global `gc`.

import v8 from 'node:v8';
import vm from 'node:vm';
import { installGarbageCollector } from '../server/index.ts';

/**
 * A server that replicates streams (cluster + JetStream) lets the young generation grow as V8
 * would. Every replicated message becomes a log entry, route frames and Raft acks on each of
 * three servers, far more short-lived garbage than a single server makes: in js-pub-r3 with the
 * semi-spaces pinned the collector took ~30 % of each server's CPU, with V8's growth ~10 %, and
 * CPU per acknowledged message fell from ~96 to ~72 µs (benchmarks/README.md). Such a server
 * keeps up to ~30 MiB more after a burst, which its role can afford.
 */
export function tuneHeapForReplication(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=2');
}

export function tuneHeap(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
  v8.setFlagsFromString('--no-expose-gc');
  if (typeof gc === 'function') installGarbageCollector(() => (gc as () => void)());
}
