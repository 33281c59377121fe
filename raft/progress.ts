// The leader's view of one follower's log: how far it matches, what to send next, and the flow
// control that bounds how much is in flight (docs/DESIGN.md principle 6: the raft inflight limit).
//
// States (as in etcd-io/raft tracker/progress.go):
// - Probe: the leader does not know where the follower's log ends. It sends one Append at a
//   time and waits for the answer (or a heartbeat response) before sending the next.
// - Replicate: the follower is known to match up to `match`; the leader streams Appends
//   optimistically (pipelining), advancing `next` as it sends, bounded by `inflights`.
// - Snapshot: the follower needs entries the leader has compacted; a snapshot is on its way and
//   nothing else is sent until it is acknowledged, reported failed, or the wait times out.

export const ProgressState = {
  Probe: 'probe',
  Replicate: 'replicate',
  Snapshot: 'snapshot',
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/**
 * A bounded FIFO of the last indexes of Append messages sent but not yet acknowledged, in a
 * ring buffer. When it is full the leader stops sending entries to that follower.
 */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  private countValue = 0;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('inflights capacity must be >= 1');
    this.buffer = new Array<number>(capacity).fill(0);
  }

  get count(): number {
    return this.countValue;
  }

  full(): boolean {
    return this.countValue === this.capacity;
  }

  /** Records an Append whose last entry is `lastIndex`. Indexes must be added ascending. */
  add(lastIndex: number): void {
    if (this.full()) throw new RangeError('inflights: add on a full window');
    let slot = this.start + this.countValue;
    if (slot >= this.capacity) slot -= this.capacity;
    this.buffer[slot] = lastIndex;
    this.countValue++;
  }

  /** Frees every in-flight Append whose last index is <= `index` (they are acknowledged). */
  freeLE(index: number): void {
    while (this.countValue > 0 && this.buffer[this.start] <= index) {
      this.start++;
      if (this.start === this.capacity) this.start = 0;
      this.countValue--;
    }
    if (this.countValue === 0) this.start = 0;
  }

  reset(): void {
    this.start = 0;
    this.countValue = 0;
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. Invariant: next > match. */
  next: number;
  state: ProgressState;
  /** In Snapshot state: index of the snapshot sent. */
  pendingSnapshot: number;
  /** Heard from since the last check-quorum round (the leader is always active for itself). */
  recentActive: boolean;
  /**
   * Probe: an Append is outstanding. Replicate: the inflight window is full. Cleared by a
   * heartbeat response, so a lost message cannot stall replication forever.
   */
  msgAppFlowPaused: boolean;
  /** Ticks spent in Snapshot state; after a bound the snapshot is assumed lost. */
  snapshotWaitBeats: number;
  /** Highest commit index sent to the follower (Append or Heartbeat). */
  sentCommit: number;
  readonly inflights: Inflights;

  constructor(next: number, maxInflight: number) {
    this.match = 0;
    this.next = next;
    this.state = ProgressState.Probe;
    this.pendingSnapshot = 0;
    this.recentActive = false;
    this.msgAppFlowPaused = false;
    this.snapshotWaitBeats = 0;
    this.sentCommit = 0;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.snapshotWaitBeats = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // Coming out of Snapshot, the follower has (or will have) the snapshot: probe after it.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.next = snapshotIndex + 1;
  }

  /** True when the leader must not send Appends with entries now. */
  isPaused(): boolean {
    return this.state === ProgressState.Snapshot || this.msgAppFlowPaused;
  }

  /** Bookkeeping after sending an Append with `count` entries ending at `lastIndex`. */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.Probe) {
      // Every Append in Probe is a probe: wait for its answer (or a heartbeat response).
      this.msgAppFlowPaused = true;
    }
  }

  sentCommitIndex(commit: number): void {
    if (commit > this.sentCommit) this.sentCommit = commit;
  }

  /**
   * True if sending `commit` now may advance the follower's commit index: we have not yet sent a
   * commit index covering everything sent to it (next - 1).
   */
  canBumpCommit(commit: number): boolean {
    return commit > this.sentCommit && this.sentCommit < this.next - 1;
  }

  /**
   * An acknowledgement that the follower matches up to `index`. Returns true when `match`
   * advanced (stale or duplicate acknowledgements return false).
   */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    if (this.next < index + 1) this.next = index + 1;
    return updated;
  }

  /**
   * A rejection of the Append anchored at `rejected`, with the follower's hint `matchHint` of
   * its last possibly-matching index. Returns false when the rejection is stale (it refers to
   * an Append sent before the current probe/replicate round).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // In Replicate, anything below match was already acknowledged: stale. A rejection anchored
      // at match itself, with a hint below it, says the follower no longer has what it
      // acknowledged: probe it (below).
      if (rejected < this.match || (rejected === this.match && matchHint >= this.match)) return false;
      // Restart from the last known match; the caller moves us to Probe.
      this.next = this.match + 1;
      return true;
    }
    // Probe/Snapshot: only the answer to the probe we sent (next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    if (matchHint < this.match) {
      // The follower's log ends before what it acknowledged: it lost its data (a wiped disk) and
      // came back under the same id. A lower match is safe (it can only hold back commits and
      // log trimming; the commit index never moves back) and the only way to reach it again:
      // resend from where its log really ends, or a snapshot if that part is compacted here.
      this.match = matchHint;
      this.next = matchHint + 1;
      this.msgAppFlowPaused = false;
      return true;
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }
}
