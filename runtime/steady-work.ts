// Telling the process owner that steady allocation is about to start. The CLI keeps V8's young
// generation small until its collector watch sees two seconds of steady minor collections
// (cli/heap-tuning.ts), which is right for bursts such as a connection storm. Some work is known
// to be steady before it starts: a mirror or source catching up with a backlog of tens of
// thousands of messages copies them back to back. With the young generation still small, a
// scavenge came every ~1,500 copied messages and promoted every record awaiting its commit: in
// js-mirror the copy spent ~190 scavenges (about a third of its time) where a grown young
// generation needed ~20 (benchmarks/README.md, Dec 7 11:40). Whether the watch had fired during
// the origin's pre-fill decided which of the two a run got.
//
// What to do about it is the process owner's decision, as for collections (reclaim.ts): the CLI
// lets the young generation grow; an application embedding the server keeps its own settings.

let handler: (() => void) | undefined;

/** The process owner's response to steady work starting; undefined = none (the default). */
export function onSteadyWork(h: (() => void) | undefined): void {
  handler = h;
}

/** Work that allocates steadily for a while (a bulk copy) is starting. Cheap; may be called often. */
export function steadyWorkStarting(): void {
  handler?.();
}
