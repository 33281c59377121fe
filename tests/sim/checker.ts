// Safety invariants of Raft (paper Figure 3), checked incrementally by the simulator after every
// step. Each check is O(1) per observed event except leader completeness, which runs once per
// newly observed leader over the committed history.
//
//   election safety       at most one leader per term
//   log matching          an (index, term) pair identifies the entry and everything before it
//   leader completeness   a leader elected after an entry was committed holds that entry
//   state machine safety  no two nodes apply different entries at the same index
//   committed never lost  a restarted node's durable log agrees with everything committed, and
//                         no log that could still win an election lacks a committed entry
//   read linearizability  a read-index answer is >= every commit index seen before the request
//
// "Committed" is witnessed, not guessed: an entry enters the history when some node applies it
// (applying happens only after the Ready that made it durable, per the contract).

import type { RaftNode } from '../../raft/raft.ts';
import type { MemoryStorage } from '../../raft/storage.ts';
import { ConfChangeKind, EntryKind, decodeConfChange, type Entry, type NodeId } from '../../raft/types.ts';

export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

/** The simulated state machine: the index applied and a running hash of every applied entry. */
export interface MachineState {
  index: number;
  hash: number;
}

export function mixEntry(hash: number, e: Entry): number {
  let h = hash ^ 0x9e3779b9;
  h = Math.imul(h ^ (e.index >>> 0), 16777619);
  h = Math.imul(h ^ Math.floor(e.index / 4294967296), 16777619);
  h = Math.imul(h ^ e.term, 16777619);
  h = Math.imul(h ^ e.kind, 16777619);
  const d = e.data;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
  return h >>> 0;
}

function dataHash(d: Uint8Array): number {
  let h = 2166136261;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 16777619);
  return (h ^ d.length) >>> 0;
}

const TERM_KEY_LIMIT = 1 << 20;

/** One possible state of a node's log: in memory while it runs, or as persisted (after a crash). */
export interface LogView {
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** True if the log holds (index, term), or compacted it into its snapshot. */
  contains(index: number, term: number): boolean;
}

function atLeastAsUpToDate(a: LogView, b: LogView): boolean {
  return a.lastTerm > b.lastTerm || (a.lastTerm === b.lastTerm && a.lastIndex >= b.lastIndex);
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** (index, term) -> prev term and data hash, for log matching. */
  private readonly entryIds = new Map<number, { prevTerm: number; dataHash: number }>();
  /** Committed history, by index (index 0 is the empty prefix). */
  readonly histTerm: number[] = [0];
  readonly histHash: number[] = [0];
  private readonly histKnownAtTerm: number[] = [0];
  /** Membership according to the committed history. */
  voters: NodeId[] = [];
  readonly everMembers = new Set<NodeId>();
  /** Highest term and commit index observed on any node. */
  maxTerm = 0;
  maxCommitted = 0;
  private readonly readFloor = new Map<number, number>();
  leadersObserved = 0;
  readsServed = 0;

  get committedLength(): number {
    return this.histTerm.length - 1;
  }

  /** Term and commit bookkeeping for a node touched by a step. */
  observeNode(id: NodeId, r: RaftNode): void {
    if (r.term > this.maxTerm) this.maxTerm = r.term;
    if (r.committed > this.maxCommitted) this.maxCommitted = r.committed;
    if (r.role !== 'leader') return;
    const known = this.leaderOfTerm.get(r.term);
    if (known === undefined) {
      this.leaderOfTerm.set(r.term, id);
      this.leadersObserved++;
      this.checkLeaderCompleteness(id, r);
    } else if (known !== id) {
      throw new InvariantViolation('election-safety', `nodes ${known} and ${id} are both leaders of term ${r.term}`);
    }
  }

  private checkLeaderCompleteness(id: NodeId, r: RaftNode): void {
    const first = r.firstIndex();
    for (let i = Math.max(first, 1); i < this.histTerm.length; i++) {
      if (this.histKnownAtTerm[i] >= r.term) continue; // may have committed after this leader's election
      const t = r.termAt(i);
      if (t !== this.histTerm[i]) {
        throw new InvariantViolation(
          'leader-completeness',
          `leader ${id} of term ${r.term} has term ${t} at index ${i}, but (${i}, term ${this.histTerm[i]}) was committed by term ${this.histKnownAtTerm[i]}`,
        );
      }
    }
  }

  /** Entries node `id` just made durable (after storage.save). */
  observePersisted(id: NodeId, storage: MemoryStorage, entries: readonly Entry[]): void {
    const first = storage.firstIndex();
    for (const e of entries) {
      if (e.index < first) continue;
      if (e.term >= TERM_KEY_LIMIT) throw new Error('term too large for the checker key');
      const prevTerm = storage.term(e.index - 1);
      const key = e.index * TERM_KEY_LIMIT + e.term;
      const dh = dataHash(e.data);
      const seen = this.entryIds.get(key);
      if (seen === undefined) this.entryIds.set(key, { prevTerm, dataHash: dh });
      else if (seen.prevTerm !== prevTerm || seen.dataHash !== dh) {
        throw new InvariantViolation(
          'log-matching',
          `node ${id} persisted (${e.index}, term ${e.term}) after term ${prevTerm} with data #${dh}; elsewhere it follows term ${seen.prevTerm} with data #${seen.dataHash}`,
        );
      }
    }
  }

  /** Node `id` applies `e`; returns the new machine hash. */
  observeApply(id: NodeId, nodeTerm: number, sm: MachineState, e: Entry): void {
    if (e.index !== sm.index + 1) throw new InvariantViolation('apply-order', `node ${id} applied ${e.index} after ${sm.index}`);
    const hash = mixEntry(sm.hash, e);
    if (nodeTerm > this.maxTerm) this.maxTerm = nodeTerm;
    if (e.index < this.histTerm.length) {
      if (this.histTerm[e.index] !== e.term || this.histHash[e.index] !== hash) {
        throw new InvariantViolation(
          'state-machine-safety',
          `node ${id} applied (${e.index}, term ${e.term}) but (${e.index}, term ${this.histTerm[e.index]}) was applied before (state #${hash} vs #${this.histHash[e.index]})`,
        );
      }
    } else {
      if (e.index !== this.histTerm.length) throw new InvariantViolation('history-gap', `node ${id} applied ${e.index} beyond history ${this.committedLength}`);
      this.histTerm.push(e.term);
      this.histHash.push(hash);
      this.histKnownAtTerm.push(this.maxTerm);
      if (e.kind === EntryKind.ConfChange) {
        const cc = decodeConfChange(e.data);
        if (cc.kind === ConfChangeKind.AddNode && !this.voters.includes(cc.nodeId)) {
          this.voters = [...this.voters, cc.nodeId].sort((a, b) => a - b);
          this.everMembers.add(cc.nodeId);
        }
        if (cc.kind === ConfChangeKind.RemoveNode) this.voters = this.voters.filter((v) => v !== cc.nodeId);
      }
    }
    sm.index = e.index;
    sm.hash = hash;
  }

  /** Node `id` replaced its state machine with a snapshot image. */
  observeSnapshotState(id: NodeId, snapIndex: number, sm: MachineState): void {
    if (sm.index !== snapIndex) throw new InvariantViolation('snapshot', `node ${id}: snapshot at ${snapIndex} holds state of ${sm.index}`);
    if (sm.index >= this.histHash.length || this.histHash[sm.index] !== sm.hash) {
      throw new InvariantViolation('state-machine-safety', `node ${id}: snapshot state at ${sm.index} (#${sm.hash}) differs from the committed history`);
    }
  }

  /** A restarted node: its durable log must agree with the committed history up to its commit. */
  observeRestart(id: NodeId, r: RaftNode): void {
    const hi = Math.min(r.committed, this.histTerm.length - 1);
    for (let i = r.firstIndex(); i <= hi; i++) {
      if (r.termAt(i) !== this.histTerm[i]) {
        throw new InvariantViolation('committed-entry-lost', `node ${id} restarted with term ${r.termAt(i)} at committed index ${i}, history has ${this.histTerm[i]}`);
      }
    }
  }

  /**
   * Committed entries cannot be lost by a future election: every log that is at least as
   * up-to-date (§5.4.1) as some possible log of each member of a majority of the committed
   * configuration — i.e. every log that could collect a majority of votes — holds the latest
   * committed entry (and with it, by log matching, every earlier one).
   *
   * Why this holds in correct Raft: the latest committed entry F was committed by a leader of
   * some term c, which counted a majority M that stored F and an entry of term c (the commit
   * rule). M intersects any majority of the committed configuration (they differ by at most one
   * server). A log at least as up-to-date as a member of M either ends in a term > c — written
   * by a later leader, which holds F — or in term c at or beyond that member's end, i.e. it
   * holds the term-c leader's log through F. Committing by counting replicas of an older term
   * (Figure 8) breaks exactly this, before any node has to apply a conflicting entry.
   *
   * `views` maps each live or restartable node to its possible logs.
   */
  checkCommittedSurvivesElections(views: ReadonlyMap<NodeId, readonly LogView[]>): void {
    const f = this.histTerm.length - 1;
    if (f === 0 || this.voters.length === 0) return;
    const tf = this.histTerm[f];
    const quorum = (this.voters.length >>> 1) + 1;
    for (const [id, states] of views) {
      for (const s of states) {
        if (s.contains(f, tf)) continue;
        let grants = 0;
        for (const v of this.voters) {
          const vs = views.get(v);
          if (vs === undefined) continue;
          for (let k = 0; k < vs.length; k++) {
            if (atLeastAsUpToDate(s, vs[k])) {
              grants++;
              break;
            }
          }
        }
        if (grants >= quorum) {
          throw new InvariantViolation(
            'committed-entry-at-risk',
            `node ${id} (log ends at ${s.lastIndex}, term ${s.lastTerm}) lacks committed (${f}, term ${tf}) yet could win votes from a majority of ${JSON.stringify(this.voters)}`,
          );
        }
      }
    }
  }

  /** Every entry committed up to `upTo` is present (or covered by the snapshot) in `r`'s log. */
  checkHoldsHistory(id: NodeId, r: RaftNode, upTo: number): void {
    if (r.lastIndex() < upTo) {
      throw new InvariantViolation('committed-entry-lost', `node ${id} ends at ${r.lastIndex()}, history at ${upTo}`);
    }
    for (let i = r.firstIndex(); i <= upTo; i++) {
      if (r.termAt(i) !== this.histTerm[i]) {
        throw new InvariantViolation('committed-entry-lost', `node ${id} has term ${r.termAt(i)} at ${i}, history has ${this.histTerm[i]}`);
      }
    }
  }

  readRequested(requestId: number): void {
    this.readFloor.set(requestId, this.maxCommitted);
  }

  readAnswered(id: NodeId, requestId: number, index: number): void {
    const floor = this.readFloor.get(requestId);
    if (floor === undefined) throw new InvariantViolation('read-index', `node ${id} got an answer to unknown read ${requestId}`);
    this.readsServed++;
    if (index < floor) {
      throw new InvariantViolation('read-linearizability', `node ${id}: read ${requestId} answered with index ${index} < ${floor} committed before it was issued`);
    }
  }
}
