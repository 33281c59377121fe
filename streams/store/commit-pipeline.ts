// Pipelined group commit (issue 19; ADR 0003 decision 6 as amended): a transaction's size follows
// how long the previous commit took, not how many writes one event-loop turn happened to issue.
//
// lmdb-js (eventTurnBatching) makes every write issued in one turn one transaction and queues it
// behind the one committing. When turns are small (a publisher writing a few frames at a time,
// many connections each sending one), that is a transaction per turn: measured in process, 1
// append per turn cost ~30 µs of CPU per message in transactions of ~6 messages, against ~5 µs at
// 60 per turn (benchmarks/README.md, "JetStream publish under refill and many publishers").
//
// So the stores of one environment write through this pipeline:
// - nothing of theirs committing: a write goes to lmdb-js at once, into the batch of this turn
//   (the low-load path is unchanged: a lone publish commits at the end of its turn);
// - from the moment a batch holding store writes closes (lmdb-js's beforecommit) until it has
//   committed, stores only stage their writes (LmdbStore keeps them in arrays);
// - when it commits, every store writes what it staged, at once, into a new batch, which closes
//   at the end of that turn, and the cycle repeats. The staged writes' durability promise is the
//   promise of that batch.
// Each store's writes stay in the order it made them: staged writes are written before any
// direct write can follow them (the flush runs before anything else once the commit resolves).
// If the committing batch fails, the staged batch is failed with it, unwritten: a store whose
// commit failed stops writing (LmdbView.failure), and nothing applied after the failure may be
// acknowledged as stored.

/** A commit promise as lmdb-js returns it (with separateFlushed: `.flushed`, the fdatasync). */
export type CommitPromise = Promise<unknown> & { flushed?: Promise<unknown> };

/** A writer that can hold its writes while a commit is in flight. */
export interface PipelineMember {
  /** Writes everything staged, as direct writes of the batch now open (the commit before it is done). */
  flushStaged(): void;
  /** The commit before the staged writes failed: forget them (they are never written). */
  dropStaged(): void;
}

interface Deferred {
  readonly promise: CommitPromise;
  settle(from: CommitPromise | null, err?: unknown): void;
}

function deferred(): Deferred {
  let resolveCommit!: () => void;
  let rejectCommit!: (e: unknown) => void;
  let resolveFlushed!: () => void;
  let rejectFlushed!: (e: unknown) => void;
  const promise: CommitPromise = new Promise<void>((res, rej) => {
    resolveCommit = res;
    rejectCommit = rej;
  });
  promise.flushed = new Promise<void>((res, rej) => {
    resolveFlushed = res;
    rejectFlushed = rej;
  });
  // Whoever cares awaits them (LmdbView); an unobserved failure must not crash the process.
  promise.catch(() => undefined);
  promise.flushed.catch(() => undefined);
  return {
    promise,
    settle(from, err) {
      if (from === null) {
        if (err === undefined) {
          resolveCommit();
          resolveFlushed();
        } else {
          rejectCommit(err);
          rejectFlushed(err);
        }
        return;
      }
      from.then(() => resolveCommit(), rejectCommit);
      (from.flushed ?? from).then(() => resolveFlushed(), rejectFlushed);
    },
  };
}

export class CommitPipeline {
  /** The commit promise of the open lmdb-js batch, once a store wrote into it. */
  private open: CommitPromise | null = null;
  /** A batch with store writes is committing: writes are staged until it is done. */
  private inFlight = false;
  private readonly staged = new Set<PipelineMember>();
  /** The batch the staged writes will go into. */
  private next: Deferred | null = null;
  /** Batches that held store writes, and staged batches, for tests and stats. */
  commits = 0;
  stagedBatches = 0;

  /** True while a store's write must be staged instead of written. */
  get staging(): boolean {
    return this.inFlight;
  }

  /** A store wrote into the open batch; `p` is what lmdb-js returned for it. */
  wrote(p: CommitPromise): void {
    this.open = p;
  }

  /** A store stages a write: the promise of the batch it will be written in. */
  stage(m: PipelineMember): CommitPromise {
    this.staged.add(m);
    if (this.next === null) this.next = deferred();
    return this.next.promise;
  }

  /**
   * A write that must not commit before the store writes made so far (a replicated stream's
   * applied raft index): done at once when nothing is staged, else written with the staged
   * writes, after them, into the same batch. Dropped with them if the commit before fails.
   */
  inOrder(write: () => void): void {
    if (!this.inFlight) {
      write();
      return;
    }
    this.stage({ flushStaged: write, dropStaged: () => undefined });
  }

  /** lmdb-js is closing the open batch (its beforecommit, after the stores added their metadata). */
  batchClosing(): void {
    const p = this.open;
    if (p === null) return;
    this.open = null;
    this.inFlight = true;
    this.commits++;
    p.then(
      () => this.committed(),
      (err: unknown) => this.failed(err),
    );
  }

  /** Resolves once nothing is staged (every write made so far has reached lmdb-js). */
  async settled(): Promise<void> {
    while (this.next !== null) await this.next.promise.catch(() => undefined);
  }

  private committed(): void {
    this.inFlight = false;
    const next = this.next;
    if (next === null) return;
    this.next = null;
    this.stagedBatches++;
    const members = [...this.staged];
    this.staged.clear();
    for (const m of members) m.flushStaged();
    // The stores' flushes were direct writes (staging is off), so `open` is their batch's promise;
    // null when none of them wrote anything (a dropped stream's staged writes are forgotten).
    next.settle(this.open);
  }

  private failed(err: unknown): void {
    this.inFlight = false;
    const next = this.next;
    if (next === null) return;
    this.next = null;
    for (const m of this.staged) m.dropStaged();
    this.staged.clear();
    next.settle(null, err instanceof Error ? err : new Error(String(err)));
  }
}
