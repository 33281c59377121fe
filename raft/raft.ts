// RaftNode: one member of a Raft group as a pure, deterministic state machine.
//
// It owns no timers, sockets or disk. The caller drives it:
//   - tick()                   every tick interval (time exists only as ticks);
//   - step(message)            for every message received from a peer;
//   - propose / proposeConfChange / readIndex / transferLeadership / campaign  for local requests;
// and collects the effects with hasReady()/ready(), processes them under the persist-before-send
// contract documented on `Ready` (types.ts), then calls advance(ready). Randomness (election
// timeouts) comes from the injected Rng, so a seed replays a run exactly.
//
// Modelled on etcd-io/raft (raft.go, rawnode.go): per-role step functions, Progress-based flow
// control, pre-vote, check-quorum, read-index, leadership transfer. Design decisions are in
// docs/adr/0002-raft-design.md. This file exceeds the ~500-line guideline by design
// (docs/DESIGN.md principle 14): the per-role step logic reads best in one place.

import { assert } from '../runtime/assert.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import type { Rng } from '../runtime/rng.ts';
import { RaftLog, TERM_UNKNOWN } from './log.ts';
import { Progress, ProgressState } from './progress.ts';
import { committedIndex, hasQuorum, voteResult, VoteResult } from './quorum.ts';
import type { StorageReader } from './storage.ts';
import {
  ConfChangeKind,
  EMPTY_BYTES,
  EntryKind,
  MessageType,
  NO_NODE,
  Role,
  decodeConfChange,
  encodeConfChange,
  hardStateEqual,
  isLocalMessageType,
  makeMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Ready,
  type Snapshot,
  type SoftState,
} from './types.ts';

/**
 * Deliberate protocol bugs, for the simulator's mutation tests ONLY: they let a test prove that
 * the safety checker notices a broken node. Never set these outside tests.
 */
export interface UnsafeTestMutations {
  /** Leader commits an index replicated on a majority even if its entry is from an older term (breaks Raft §5.4.2 / Figure 8). */
  readonly commitByCountingAnyTerm?: boolean;
  /** Grant votes without the "candidate's log is at least as up-to-date" check (breaks §5.4.1). */
  readonly grantVoteToStaleLog?: boolean;
  /** Answer read-index requests with the local commit index, without a quorum round. */
  readonly readIndexWithoutQuorum?: boolean;
}

export interface RaftOptions {
  readonly id: NodeId;
  readonly storage: StorageReader;
  /** Source of election-timeout jitter. Inject a seeded Rng for deterministic runs. */
  readonly rng: Rng;
  /** Ticks without hearing from a leader before campaigning; randomized in [n, 2n). Default 10. */
  readonly electionTick?: number;
  /** Ticks between leader heartbeats; must be < electionTick. Default 1. */
  readonly heartbeatTick?: number;
  /** Run a pre-vote round before incrementing the term (a rejoining node does not disrupt). Default true. */
  readonly preVote?: boolean;
  /** Leader steps down without majority contact for an election timeout; followers honour leases. Default true. */
  readonly checkQuorum?: boolean;
  /** Append messages in flight per follower in Replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Soft bound on the entry bytes of one Append. Default 1 MiB. */
  readonly maxSizePerMsgBytes?: number;
  /** Proposals are dropped while the leader's uncommitted tail exceeds this. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /** Bound on committed entry bytes per Ready. Default 64 MiB. */
  readonly maxCommittedBytesPerReady?: number;
  /** Ticks a leader waits for a snapshot acknowledgement before assuming it lost. Default 4 × electionTick. */
  readonly snapshotTimeoutTicks?: number;
  /** Read-index requests a leader holds unanswered; more are dropped (callers time out). Default 4096. */
  readonly maxPendingReads?: number;
  /** Index the application has already applied (persistent state machines); default: the snapshot index. */
  readonly applied?: number;
  readonly logger?: Logger;
  /** Test-only protocol bugs; see UnsafeTestMutations. */
  readonly unsafeTestMutations?: UnsafeTestMutations;
}

export type DropReason =
  | 'empty'
  | 'no-leader'
  | 'not-member'
  | 'transferring'
  | 'conf-change-pending'
  | 'not-committed-in-term'
  | 'uncommitted-limit';

export type ProposeOutcome =
  | { readonly kind: 'appended'; readonly term: number; readonly firstIndex: number; readonly lastIndex: number }
  | { readonly kind: 'forwarded'; readonly to: NodeId }
  | { readonly kind: 'dropped'; readonly reason: DropReason };

/** Membership history entries beyond which compacted ones are pruned. */
const CONF_HISTORY_PRUNE_AT = 32;

const CampaignKind = { PreElection: 0, Election: 1, Transfer: 2 } as const;
type CampaignKind = (typeof CampaignKind)[keyof typeof CampaignKind];

interface ProposalItem {
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** Pending read-index requests of a leader, acknowledged by heartbeat responses (etcd read_only.go). */
class ReadOnlyQueue {
  private readonly pending = new Map<string, { index: number; from: NodeId; context: Uint8Array; acks: Set<NodeId> }>();
  private queue: string[] = [];

  static key(ctx: Uint8Array): string {
    let s = '';
    for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]);
    return s;
  }

  add(index: number, from: NodeId, context: Uint8Array): void {
    const k = ReadOnlyQueue.key(context);
    if (this.pending.has(k)) return;
    this.pending.set(k, { index, from, context, acks: new Set() });
    this.queue.push(k);
  }

  recvAck(id: NodeId, context: Uint8Array): ReadonlySet<NodeId> | null {
    const p = this.pending.get(ReadOnlyQueue.key(context));
    if (p === undefined) return null;
    p.acks.add(id);
    return p.acks;
  }

  /** Releases the request for `context` and every request queued before it. */
  advance(context: Uint8Array): { index: number; from: NodeId; context: Uint8Array }[] {
    const k = ReadOnlyQueue.key(context);
    const pos = this.queue.indexOf(k);
    if (pos < 0) return [];
    const released = this.queue.slice(0, pos + 1).map((key) => {
      const p = this.pending.get(key)!;
      this.pending.delete(key);
      return p;
    });
    this.queue = this.queue.slice(pos + 1);
    return released;
  }

  lastPendingContext(): Uint8Array | null {
    if (this.queue.length === 0) return null;
    return this.pending.get(this.queue[this.queue.length - 1])!.context;
  }

  get size(): number {
    return this.queue.length;
  }
}

export class RaftNode {
  readonly id: NodeId;
  private termValue = 0;
  private voteValue: NodeId = NO_NODE;
  private lead: NodeId = NO_NODE;
  private roleValue: Role = Role.Follower;
  private readonly log: RaftLog;
  /**
   * Current membership (sorted): the configuration of the latest conf-change entry in the log,
   * committed or not (append-time membership, Raft dissertation §4.1; ADR 0002).
   */
  private votersValue: readonly NodeId[] = [];
  /**
   * Membership by log position: element 0 is the snapshot's configuration, then one element per
   * conf-change entry in the log, ascending. A truncated suffix takes its configurations with it.
   */
  private confHistory: { index: number; voters: readonly NodeId[] }[] = [];

  private readonly prs = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private readOnly = new ReadOnlyQueue();
  private pendingReadIndexMessages: Message[] = [];

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = NO_NODE;

  private uncommittedBytes = 0;
  /** Flattened [lastIndex, bytes] pairs of leader proposals not yet committed; head at uncommittedHead. */
  private uncommittedBatches: number[] = [];
  private uncommittedHead = 0;

  private prevHardState: HardState;
  private prevSoftState: SoftState;
  private readyOutstanding = false;
  private readonly commitScratch: number[] = [];

  private readonly rng: Rng;
  private readonly electionTick: number;
  private readonly heartbeatTick: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly maxInflight: number;
  private readonly maxSizePerMsg: number;
  private readonly maxUncommittedBytes: number;
  private readonly snapshotTimeoutTicks: number;
  private readonly maxPendingReads: number;
  private readonly logger: Logger;
  private readonly mutations: UnsafeTestMutations;

  constructor(opts: RaftOptions) {
    assert(Number.isSafeInteger(opts.id) && opts.id > 0, 'raft: id must be a positive integer');
    this.id = opts.id;
    this.rng = opts.rng;
    this.electionTick = opts.electionTick ?? 10;
    this.heartbeatTick = opts.heartbeatTick ?? 1;
    assert(this.heartbeatTick >= 1 && this.electionTick > this.heartbeatTick, 'raft: need electionTick > heartbeatTick >= 1');
    this.preVote = opts.preVote ?? true;
    this.checkQuorum = opts.checkQuorum ?? true;
    this.maxInflight = opts.maxInflightMsgs ?? 256;
    this.maxSizePerMsg = opts.maxSizePerMsgBytes ?? 1 << 20;
    this.maxUncommittedBytes = opts.maxUncommittedBytes ?? 64 << 20;
    this.snapshotTimeoutTicks = opts.snapshotTimeoutTicks ?? 4 * this.electionTick;
    this.maxPendingReads = opts.maxPendingReads ?? 4096;
    this.logger = (opts.logger ?? silentLogger).child({ raft: opts.id });
    this.mutations = opts.unsafeTestMutations ?? {};

    const storage = opts.storage;
    const { hardState, confState } = storage.initialState();
    this.log = new RaftLog(storage, opts.maxCommittedBytesPerReady ?? 64 << 20);
    this.log.onAppend = (ents) => this.trackConfEntries(ents);

    const snapIndex = storage.snapshot().metadata.index;
    this.votersValue = sortedUnique(confState.voters);
    this.confHistory = [{ index: snapIndex, voters: this.votersValue }];
    // Membership is a function of the log: replay every conf change after the snapshot.
    const last = this.log.lastIndex();
    for (let lo = snapIndex + 1; lo <= last; ) {
      const chunk = this.log.slice(lo, last + 1, 8 << 20);
      this.trackConfEntries(chunk);
      lo += chunk.length;
    }
    this.log.committed = Math.max(hardState.commit, snapIndex, storage.firstIndex() - 1);
    assert(this.log.committed <= this.log.lastIndex(), `raft: persisted commit ${hardState.commit} beyond last index ${this.log.lastIndex()}`);
    const applied = Math.min(Math.max(opts.applied ?? snapIndex, snapIndex), this.log.committed);
    this.log.applied = applied;
    this.termValue = hardState.term;
    this.voteValue = hardState.vote;

    this.becomeFollower(this.termValue, NO_NODE);
    this.prevHardState = hardState;
    this.prevSoftState = { lead: NO_NODE, role: Role.Follower, term: this.termValue };
  }

  // -------------------------------------------------------------------------------------------
  // Status (read-only views, for the driver, tests and the simulator's checker).

  get term(): number {
    return this.termValue;
  }
  get vote(): NodeId {
    return this.voteValue;
  }
  get role(): Role {
    return this.roleValue;
  }
  /** The leader this node currently follows (itself when leader), or NO_NODE. */
  get leader(): NodeId {
    return this.lead;
  }
  get committed(): number {
    return this.log.committed;
  }
  get applied(): number {
    return this.log.applied;
  }
  get voters(): readonly NodeId[] {
    return this.votersValue;
  }
  get transferee(): NodeId {
    return this.leadTransferee;
  }
  lastIndex(): number {
    return this.log.lastIndex();
  }
  firstIndex(): number {
    return this.log.firstIndex();
  }
  /** Term of the entry at `index` in this node's log (stable or not), or -1 if outside it. */
  termAt(index: number): number {
    return this.log.termAt(index);
  }
  /** Entries [lo, hi) of this node's log (stable or not). */
  entriesBetween(lo: number, hi: number): Entry[] {
    return this.log.slice(lo, hi, Infinity);
  }
  /** Leader only: the progress tracked for `id`. */
  progress(id: NodeId): Readonly<Progress> | undefined {
    return this.roleValue === Role.Leader ? this.prs.get(id) : undefined;
  }
  /** Membership as of log position `index` (from the snapshot on): what a snapshot at `index` records. */
  confStateAt(index: number): ConfState {
    assert(index >= this.confHistory[0].index && index <= this.log.lastIndex(), `confStateAt(${index}) outside [${this.confHistory[0].index}, ${this.log.lastIndex()}]`);
    let voters = this.confHistory[0].voters;
    for (const h of this.confHistory) {
      if (h.index > index) break;
      voters = h.voters;
    }
    return { voters: [...voters] };
  }

  // -------------------------------------------------------------------------------------------
  // Inputs.

  /** Advances logical time by one tick: elections for followers, heartbeats for the leader. */
  tick(): void {
    if (this.roleValue === Role.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  /** Feeds a message received from a peer. Local-only message types are ignored. */
  step(m: Message): void {
    if (isLocalMessageType(m.type) || m.to !== this.id || m.from === NO_NODE || m.from === this.id) return;
    // Only forwarded requests may arrive without a term.
    if (m.term === 0 && m.type !== MessageType.Propose && m.type !== MessageType.ReadIndex && m.type !== MessageType.TransferLeader) return;
    this.stepInternal(m);
  }

  /** Starts an election now (if a voter and not leader), e.g. to speed up bootstrap. */
  campaign(): void {
    this.stepInternal(makeMessage({ type: MessageType.Hup, to: this.id, from: this.id }));
  }

  /** Proposes application data, one entry per element. Followers forward to the leader. */
  propose(data: Uint8Array | readonly Uint8Array[]): ProposeOutcome {
    const list = data instanceof Uint8Array ? [data] : data;
    const items: ProposalItem[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) items[i] = { kind: EntryKind.Normal, data: list[i] };
    return this.proposeItems(items);
  }

  /**
   * Proposes adding or removing one voter. A leader accepts it only once it has committed an
   * entry of its own term and no earlier conf change is uncommitted. Each server uses the new
   * membership as soon as the entry is in its log (ADR 0002).
   */
  proposeConfChange(cc: ConfChange): ProposeOutcome {
    return this.proposeItems([{ kind: EntryKind.ConfChange, data: encodeConfChange(cc) }]);
  }

  /**
   * Requests a linearizable read point. The answer arrives as a ReadState with the same context
   * in a later Ready (never, if leadership changes first: retry after a timeout). Returns false
   * when there is no known leader to ask.
   */
  readIndex(context: Uint8Array): boolean {
    if (this.roleValue !== Role.Leader && this.lead === NO_NODE) return false;
    this.stepInternal(makeMessage({ type: MessageType.ReadIndex, to: this.id, from: this.id, context }));
    return true;
  }

  /** Asks the leader to hand leadership to `to` (brought up to date, then told to campaign). */
  transferLeadership(to: NodeId): void {
    if (this.roleValue === Role.Leader) this.handleTransferLeader(to);
    else if (this.lead !== NO_NODE) this.send({ type: MessageType.TransferLeader, to: this.lead, index: to });
  }

  /** The transport could not reach `id`: stop pipelining to it until it answers again. */
  reportUnreachable(id: NodeId): void {
    this.stepInternal(makeMessage({ type: MessageType.Unreachable, to: this.id, from: id }));
  }

  /** Outcome of sending a snapshot to `id` (transports that know it should report it). */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.stepInternal(makeMessage({ type: MessageType.SnapshotStatus, to: this.id, from: id, reject: !ok }));
  }

  // -------------------------------------------------------------------------------------------
  // Ready / advance.

  hasReady(): boolean {
    if (this.softStateChanged()) return true;
    if (!hardStateEqual(this.hardState(), this.prevHardState)) return true;
    const u = this.log.unstable;
    if (u.snapshot !== null || u.entries.length > 0) return true;
    return this.msgs.length > 0 || this.readStates.length > 0 || this.log.hasNextCommittedEnts();
  }

  /** Collects the pending effects. Must be followed by advance() before the next ready(). */
  ready(): Ready {
    assert(!this.readyOutstanding, 'raft: ready() called again before advance()');
    const hs = this.hardState();
    const softChanged = this.softStateChanged();
    const soft: SoftState = softChanged ? { lead: this.lead, role: this.roleValue, term: this.termValue } : this.prevSoftState;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hs : null,
      entries: this.log.unstableEntries(),
      snapshot: this.log.unstable.snapshot,
      committedEntries: this.log.nextCommittedEnts(),
      messages: this.msgs,
      readStates: this.readStates,
    };
    this.msgs = [];
    this.readStates = [];
    if (softChanged) this.prevSoftState = soft;
    if (hardChanged) this.prevHardState = hs;
    this.readyOutstanding = true;
    return rd;
  }

  /** Acknowledges that `rd` was persisted, sent and applied (see the Ready contract). */
  advance(rd: Ready): void {
    assert(this.readyOutstanding, 'raft: advance() without an outstanding ready()');
    this.readyOutstanding = false;
    if (rd.snapshot !== null) {
      this.log.stableSnapTo(rd.snapshot.metadata.index);
      this.log.appliedTo(rd.snapshot.metadata.index);
    }
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      this.log.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) this.log.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
  }

  private softStateChanged(): boolean {
    const p = this.prevSoftState;
    return p.lead !== this.lead || p.role !== this.roleValue || p.term !== this.termValue;
  }

  private hardState(): HardState {
    const p = this.prevHardState;
    if (p.term === this.termValue && p.vote === this.voteValue && p.commit === this.log.committed) return p;
    return { term: this.termValue, vote: this.voteValue, commit: this.log.committed };
  }

  // -------------------------------------------------------------------------------------------
  // Proposals.

  private proposeItems(items: ProposalItem[]): ProposeOutcome {
    if (items.length === 0) return { kind: 'dropped', reason: 'empty' };
    if (this.roleValue === Role.Leader) return this.appendProposal(items);
    if (this.roleValue === Role.Follower && this.lead !== NO_NODE) {
      const carriers: Entry[] = items.map((it) => ({ term: 0, index: 0, kind: it.kind, data: it.data }));
      this.send({ type: MessageType.Propose, to: this.lead, entries: carriers });
      return { kind: 'forwarded', to: this.lead };
    }
    return { kind: 'dropped', reason: 'no-leader' };
  }

  private appendProposal(items: readonly ProposalItem[]): ProposeOutcome {
    // A leader that removed itself only finishes committing that change, then steps down.
    if (!this.promotable()) return { kind: 'dropped', reason: 'not-member' };
    if (this.leadTransferee !== NO_NODE) return { kind: 'dropped', reason: 'transferring' };
    let bytes = 0;
    let hasConf = false;
    for (const it of items) {
      bytes += it.data.byteLength;
      if (it.kind === EntryKind.ConfChange) {
        // One membership change at a time: the previous one must be committed first. And a new
        // leader must first commit an entry of its own term: otherwise an uncommitted change
        // from an earlier term could still win elsewhere and the two configurations need not
        // overlap (the single-server bug Ongaro described on raft-dev, 2015).
        if (hasConf || this.lastConfIndex() > this.log.committed) return { kind: 'dropped', reason: 'conf-change-pending' };
        if (!this.committedEntryInCurrentTerm()) return { kind: 'dropped', reason: 'not-committed-in-term' };
        hasConf = true;
      }
    }
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.maxUncommittedBytes) return { kind: 'dropped', reason: 'uncommitted-limit' };

    const first = this.log.lastIndex() + 1;
    const ents: Entry[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      ents[i] = { term: this.termValue, index: first + i, kind: it.kind, data: it.data };
    }
    const term = this.termValue;
    const last = this.appendEntries(ents);
    if (bytes > 0) {
      this.uncommittedBytes += bytes;
      this.uncommittedBatches.push(last, bytes);
    }
    this.maybeCommit(); // a single-voter group commits at once
    if (this.roleValue === Role.Leader) this.bcastAppend();
    return { kind: 'appended', term, firstIndex: first, lastIndex: last };
  }

  /** Leader: append to the local log and count ourselves as having it (persisted before any ack counts, by the Ready contract). */
  private appendEntries(ents: Entry[]): number {
    const last = this.log.append(ents);
    this.prs.get(this.id)!.maybeUpdate(last);
    return last;
  }

  // -------------------------------------------------------------------------------------------
  // The state machine proper.

  private stepInternal(m: Message): void {
    // 1. Terms (Raft §5.1): a higher term makes us a follower, a lower one is stale.
    if (m.term > this.termValue) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        // Leader lease (check-quorum): while we have heard from a leader within the minimum
        // election timeout, ignore campaigns — unless a leadership transfer asked for it.
        const inLease = this.checkQuorum && this.lead !== NO_NODE && this.electionElapsed < this.electionTick;
        if (!m.transfer && inLease) return;
      }
      if (m.type === MessageType.PreVote) {
        // Never change our term because of a pre-vote.
      } else if (m.type === MessageType.PreVoteResponse && !m.reject) {
        // Granted pre-votes carry the term we will campaign for; handled in stepCandidate.
      } else {
        const fromLeader = m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot;
        this.becomeFollower(m.term, fromLeader ? m.from : NO_NODE);
      }
    } else if (m.term > 0 && m.term < this.termValue) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.Append)) {
        // A stale leader (e.g. one that was partitioned away) learns our term from this and
        // steps down. Needed because with leases/pre-votes we may never send it a Vote.
        this.send({ type: MessageType.AppendResponse, to: m.from });
      } else if (m.type === MessageType.PreVote) {
        // Reject explicitly so a pre-candidate stuck at a lower term learns ours.
        this.send({ type: MessageType.PreVoteResponse, to: m.from, term: this.termValue, reject: true });
      }
      return;
    }

    // 2. Messages handled the same in every role.
    switch (m.type) {
      case MessageType.Hup:
        this.hup(false);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
    }

    // 3. Per-role handling.
    switch (this.roleValue) {
      case Role.Leader:
        this.stepLeader(m);
        break;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        break;
      case Role.Follower:
        this.stepFollower(m);
        break;
    }
  }

  private handleVoteRequest(m: Message): void {
    const isPre = m.type === MessageType.PreVote;
    const respType = isPre ? MessageType.PreVoteResponse : MessageType.VoteResponse;
    // We can vote if this repeats our vote, if we have not voted and know no leader in this
    // term, or if this is a pre-vote for a future term.
    const canVote =
      this.voteValue === m.from || (this.voteValue === NO_NODE && this.lead === NO_NODE) || (isPre && m.term > this.termValue);
    const upToDate = this.mutations.grantVoteToStaleLog === true || this.log.isUpToDate(m.index, m.logTerm);
    if (canVote && upToDate) {
      // Answer with the request's term: for pre-votes it is a future term we have not adopted.
      this.send({ type: respType, to: m.from, term: m.term });
      if (!isPre) {
        this.electionElapsed = 0;
        this.voteValue = m.from; // persisted (Ready.hardState) before the response leaves
      }
    } else {
      this.send({ type: respType, to: m.from, term: this.termValue, reject: true });
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat();
        return;
      case MessageType.CheckQuorum:
        if (!this.quorumActive()) {
          this.logger.info({ term: this.termValue }, 'stepping down: quorum not active');
          this.becomeFollower(this.termValue, NO_NODE);
          return;
        }
        for (const [id, pr] of this.prs) if (id !== this.id) pr.recentActive = false;
        return;
      case MessageType.Propose:
        // Forwarded by a follower (the outcome is not reported back: clients retry on timeout).
        this.appendProposal(m.entries);
        return;
      case MessageType.ReadIndex:
        this.handleReadIndexAsLeader(m);
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m.index);
        return;
    }

    const pr = this.prs.get(m.from);
    if (pr === undefined) return; // not (or no longer) a member
    switch (m.type) {
      case MessageType.AppendResponse:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResponse:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapshotStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for a heartbeat response before probing again.
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.Unreachable:
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast back-off: the follower told us the last index where its log might match ours
      // (rejectHint) and the term it has there (logTerm). Skip every index of our log whose
      // term is above that term: none of them can match.
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.Probe))) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.log.firstIndex()) {
      // Caught up through the snapshot (or otherwise): resume from the log.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      if (this.roleValue !== Role.Leader) return;
      this.bcastAppend();
    } else if (pr.canBumpCommit(this.log.committed)) {
      // The follower may not know the current commit index yet: tell it now rather than at
      // the next heartbeat.
      this.sendAppend(m.from);
    }
    // Flow control may have opened: send as much as the window allows, without empty messages.
    while (this.maybeSendAppend(m.from, false)) {
      // keep sending
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // Also recovers a follower whose in-flight Appends were all lost (empty Append when the
    // window is full), and moves a caught-up Probe follower back to Replicate.
    if (pr.match < this.log.lastIndex() || pr.state === ProgressState.Probe) this.sendAppend(m.from);

    if (m.context === null || m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === null || !hasQuorum(this.votersValue, (id) => acks.has(id))) return;
    for (const rs of this.readOnly.advance(m.context)) this.respondToRead(rs.from, rs.index, rs.context);
  }

  private handleReadIndexAsLeader(m: Message): void {
    const ctx = m.context ?? EMPTY_BYTES;
    const singleton = this.votersValue.length === 1 && this.votersValue[0] === this.id;
    if (singleton || this.mutations.readIndexWithoutQuorum === true) {
      this.respondToRead(m.from, this.log.committed, ctx);
      return;
    }
    // A new leader's commit index may lag the true one until it commits an entry of its own
    // term (its no-op); only then is `committed` a valid read point (Raft thesis §6.4).
    if (this.readOnly.size + this.pendingReadIndexMessages.length >= this.maxPendingReads) return; // dropped: bounded
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.readOnly.add(this.log.committed, m.from, ctx);
    this.readOnly.recvAck(this.id, ctx);
    this.bcastHeartbeatWithContext(ctx);
  }

  private respondToRead(from: NodeId, index: number, context: Uint8Array): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send({ type: MessageType.ReadIndexResponse, to: from, index, context });
  }

  private handleTransferLeader(transferee: NodeId): void {
    if (this.roleValue !== Role.Leader || !this.prs.has(transferee)) return;
    if (this.leadTransferee !== NO_NODE) {
      if (this.leadTransferee === transferee) return; // already in progress
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return;
    // The transfer must finish within one election timeout, or it is aborted (tickHeartbeat).
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (this.prs.get(transferee)!.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  private stepCandidate(m: Message): void {
    const isPre = this.roleValue === Role.PreCandidate;
    switch (m.type) {
      case MessageType.Append:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case MessageType.PreVoteResponse:
      case MessageType.VoteResponse: {
        if (isPre !== (m.type === MessageType.PreVoteResponse)) return;
        // Granted pre-votes must be for the term we would campaign in; anything else is an
        // answer to an older round.
        if (isPre && !m.reject && m.term !== this.termValue + 1) return;
        this.votes.set(m.from, !m.reject);
        const result = voteResult(this.votersValue, this.votes);
        if (result === VoteResult.Won) {
          if (isPre) this.campaignAs(CampaignKind.Election);
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.Lost) {
          this.becomeFollower(this.termValue, NO_NODE);
        }
        return;
      }
      default:
        // Propose, ReadIndex, TransferLeader, TimeoutNow: no leader to serve them; dropped.
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Propose:
      case MessageType.ReadIndex:
      case MessageType.TransferLeader:
        // Forward our own requests to the leader; never relay a peer's (one hop only).
        if (this.lead === NO_NODE || m.from !== this.id) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.Append:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TimeoutNow:
        // The leader asks us to take over: campaign at once, skipping pre-vote and leases.
        this.hup(true);
        return;
      case MessageType.ReadIndexResponse:
        if (m.context !== null) this.readStates.push({ index: m.index, context: m.context });
        return;
    }
  }

  // --- follower handlers ---------------------------------------------------------------------

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: MessageType.AppendResponse, to: m.from, index: this.log.committed });
      return;
    }
    const before = this.log.committed;
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (this.log.committed > before) this.afterCommitAdvance();
    if (lastNew >= 0) {
      this.send({ type: MessageType.AppendResponse, to: m.from, index: lastNew });
      return;
    }
    // Reject with a hint: the last index at or below m.index whose term is <= m.logTerm.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({ type: MessageType.AppendResponse, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    const before = this.log.committed;
    // m.commit <= our match as the leader knows it, unless we lost entries we had acknowledged
    // (a wiped disk). Then tell the leader where our log really ends, as a rejected Append
    // anchored at that commit would: with nothing new to append it would never find out.
    if (m.commit > this.log.lastIndex()) {
      this.send({ type: MessageType.AppendResponse, to: m.from, index: m.commit, reject: true, rejectHint: this.log.lastIndex(), logTerm: 0 });
      return;
    }
    this.log.commitTo(m.commit);
    if (this.log.committed > before) this.afterCommitAdvance();
    this.send({ type: MessageType.HeartbeatResponse, to: m.from, context: m.context });
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    if (snap === null) return;
    if (this.restore(snap)) this.send({ type: MessageType.AppendResponse, to: m.from, index: this.log.lastIndex() });
    else this.send({ type: MessageType.AppendResponse, to: m.from, index: this.log.committed });
  }

  /** Installs `snap` unless it is stale; returns true if the log was replaced. */
  private restore(snap: Snapshot): boolean {
    const md = snap.metadata;
    if (md.index <= this.log.committed) return false;
    if (this.log.matchTerm(md.index, md.term)) {
      // We already have the snapshot's last entry: just learn that it is committed.
      this.log.commitTo(md.index);
      this.afterCommitAdvance();
      return false;
    }
    this.log.restore(snap);
    this.votersValue = sortedUnique(md.confState.voters);
    this.confHistory = [{ index: md.index, voters: this.votersValue }];
    return true;
  }

  // --- leader machinery ----------------------------------------------------------------------

  /** Advances the commit index from the followers' match indexes (current-term entries only). */
  private maybeCommit(): boolean {
    let advanced = false;
    for (;;) {
      const idx = committedIndex(this.votersValue, this.prs, this.commitScratch);
      if (!this.log.maybeCommit(idx, this.termValue, this.mutations.commitByCountingAnyTerm === true)) break;
      advanced = true;
      // Applying a committed conf change can change the quorum: loop until stable.
      this.afterCommitAdvance();
      if (this.roleValue !== Role.Leader) break;
    }
    return advanced;
  }

  /** Everything that follows a commit-index advance, in any role. */
  private afterCommitAdvance(): void {
    const committed = this.log.committed;
    if (this.roleValue !== Role.Leader) return;
    if (!this.promotable() && this.lastConfIndex() <= committed) {
      // Our own removal is committed: hand over and step down (dissertation §4.2.2).
      this.stepDownRemoved();
      return;
    }
    const b = this.uncommittedBatches;
    while (this.uncommittedHead < b.length && b[this.uncommittedHead] <= committed) {
      this.uncommittedBytes -= b[this.uncommittedHead + 1];
      this.uncommittedHead += 2;
    }
    if (this.uncommittedHead === b.length) {
      b.length = 0;
      this.uncommittedHead = 0;
    }
    if (this.pendingReadIndexMessages.length > 0 && this.committedEntryInCurrentTerm()) {
      const pending = this.pendingReadIndexMessages;
      this.pendingReadIndexMessages = [];
      for (const m of pending) this.handleReadIndexAsLeader(m);
    }
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termAt(this.log.committed) === this.termValue;
  }

  private quorumActive(): boolean {
    return hasQuorum(this.votersValue, (id) => id === this.id || this.prs.get(id)?.recentActive === true);
  }

  private bcastAppend(): void {
    for (const id of this.prs.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private sendAppend(to: NodeId): boolean {
    return this.maybeSendAppend(to, true);
  }

  /**
   * Sends `to` the next Append (or a snapshot if the entries it needs are compacted). With
   * sendIfEmpty=false, only sends if there are entries. Returns true if something was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.prs.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termAt(prevIndex);
    if (prevTerm === TERM_UNKNOWN) return this.maybeSendSnapshot(to, pr);
    let ents: readonly Entry[] = [];
    // With a full window, only an empty Append (commit index / loss recovery) may go out.
    if (!(pr.state === ProgressState.Replicate && pr.inflights.full()) && pr.next <= this.log.lastIndex()) {
      ents = this.log.entries(pr.next, this.maxSizePerMsg);
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({ type: MessageType.Append, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed });
    pr.sentEntries(ents.length, ents.length > 0 ? ents[ents.length - 1].index : prevIndex);
    pr.sentCommitIndex(this.log.committed);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Do not ship a (possibly large) snapshot to a peer we have not heard from lately.
    if (!pr.recentActive) return false;
    const snap = this.log.snapshot();
    assert(snap.metadata.index > 0, `raft: follower ${to} needs compacted entries but there is no snapshot`);
    this.send({ type: MessageType.Snapshot, to, snapshot: snap });
    pr.becomeSnapshot(snap.metadata.index);
    return true;
  }

  private bcastHeartbeat(): void {
    // Re-sending the newest pending read context makes read-index robust to lost heartbeats.
    this.bcastHeartbeatWithContext(this.readOnly.lastPendingContext());
    for (const [id, pr] of this.prs) {
      if (id === this.id || pr.state !== ProgressState.Snapshot) continue;
      pr.snapshotWaitBeats += this.heartbeatTick;
      if (pr.snapshotWaitBeats >= this.snapshotTimeoutTicks) {
        // No acknowledgement: assume the snapshot was lost and start over from probing.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
      }
    }
  }

  private bcastHeartbeatWithContext(context: Uint8Array | null): void {
    for (const [id, pr] of this.prs) {
      if (id === this.id) continue;
      const commit = Math.min(pr.match, this.log.committed);
      pr.sentCommitIndex(commit);
      this.send({ type: MessageType.Heartbeat, to: id, commit, context });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send({ type: MessageType.TimeoutNow, to });
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NO_NODE;
  }

  // --- membership ----------------------------------------------------------------------------

  /**
   * Keeps the membership in step with the log: `ents` was just appended and replaced everything
   * from ents[0].index on, so configurations from that point are dropped, then the batch's conf
   * changes take effect in order.
   */
  private trackConfEntries(ents: readonly Entry[]): void {
    const from = ents[0].index;
    const h = this.confHistory;
    const before = this.votersValue;
    while (h.length > 1 && h[h.length - 1].index >= from) h.pop();
    let voters = h[h.length - 1].voters;
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      if (e.kind !== EntryKind.ConfChange) continue;
      voters = applyConfChange(voters, decodeConfChange(e.data));
      h.push({ index: e.index, voters });
    }
    if (h.length > CONF_HISTORY_PRUNE_AT) this.pruneConfHistory();
    if (voters === before) return;
    this.votersValue = voters;
    this.logger.info({ index: h[h.length - 1].index, voters }, 'membership changed');
    if (this.roleValue === Role.Leader) this.leaderConfigChanged(before, voters);
  }

  /** Forgets configurations of compacted log positions, keeping the one in force at the compaction point. */
  private pruneConfHistory(): void {
    const h = this.confHistory;
    const floor = this.log.firstIndex() - 1;
    let keepFrom = 0;
    while (keepFrom + 1 < h.length && h[keepFrom + 1].index <= floor) keepFrom++;
    if (keepFrom > 0) h.splice(0, keepFrom);
  }

  /** Index of the latest conf change in the log (or the snapshot index if none after it). */
  private lastConfIndex(): number {
    return this.confHistory[this.confHistory.length - 1].index;
  }

  /** The leader appended a conf change: track new members, forget removed ones. */
  private leaderConfigChanged(before: readonly NodeId[], after: readonly NodeId[]): void {
    for (const id of after) {
      if (this.prs.has(id)) continue;
      const pr = new Progress(this.log.lastIndex() + 1, this.maxInflight);
      // Count a new member as active so check-quorum does not fire before it could answer.
      pr.recentActive = true;
      this.prs.set(id, pr);
    }
    for (const id of before) {
      // Our own progress stays: it tracks our log, though we no longer count in quorums.
      if (after.includes(id) || id === this.id) continue;
      this.prs.delete(id);
      if (id === this.leadTransferee) this.abortLeaderTransfer();
    }
  }

  /**
   * We led the cluster through our own removal and it is committed: tell the others it is
   * committed, hand leadership to the most caught-up voter, and step down for good (a server
   * outside its configuration never campaigns).
   */
  private stepDownRemoved(): void {
    this.bcastAppend();
    let best: NodeId = NO_NODE;
    let bestMatch = -1;
    for (const id of this.votersValue) {
      const pr = this.prs.get(id);
      if (pr !== undefined && pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    if (best !== NO_NODE && bestMatch === this.log.lastIndex()) this.sendTimeoutNow(best);
    this.logger.info({ term: this.termValue }, 'stepping down: removed from the group');
    this.becomeFollower(this.termValue, NO_NODE);
  }

  private promotable(): boolean {
    return this.votersValue.includes(this.id);
  }

  // --- elections -----------------------------------------------------------------------------

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTick) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        this.stepInternal(makeMessage({ type: MessageType.CheckQuorum, to: this.id, from: this.id }));
        if (this.roleValue !== Role.Leader) return;
      }
      // A transfer that did not complete within an election timeout is abandoned.
      if (this.leadTransferee !== NO_NODE) this.abortLeaderTransfer();
    }
    if (this.heartbeatElapsed >= this.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private hup(transfer: boolean): void {
    if (this.roleValue === Role.Leader || !this.promotable()) return;
    if (transfer) this.campaignAs(CampaignKind.Transfer);
    else this.campaignAs(this.preVote ? CampaignKind.PreElection : CampaignKind.Election);
  }

  private campaignAs(kind: CampaignKind): void {
    let voteType: MessageType;
    let term: number;
    if (kind === CampaignKind.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      term = this.termValue + 1; // pre-votes ask about the next term without adopting it
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.termValue;
    }
    // Our own vote (durable before any message leaves, by the Ready contract).
    this.votes.set(this.id, true);
    if (voteResult(this.votersValue, this.votes) === VoteResult.Won) {
      // Single-voter group.
      if (kind === CampaignKind.PreElection) this.campaignAs(CampaignKind.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.votersValue) {
      if (id === this.id) continue;
      this.send({ type: voteType, to: id, term, index: lastIndex, logTerm: lastTerm, transfer: kind === CampaignKind.Transfer });
    }
  }

  private reset(term: number): void {
    if (term !== this.termValue) {
      this.termValue = term;
      this.voteValue = NO_NODE;
    }
    this.lead = NO_NODE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTick + this.rng.int(this.electionTick);
    this.abortLeaderTransfer();
    this.votes.clear();
    this.prs.clear();
    this.uncommittedBytes = 0;
    this.uncommittedBatches = [];
    this.uncommittedHead = 0;
    if (this.readOnly.size > 0) this.readOnly = new ReadOnlyQueue();
    this.pendingReadIndexMessages = [];
  }

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.roleValue = Role.Follower;
  }

  private becomePreCandidate(): void {
    assert(this.roleValue !== Role.Leader, 'raft: leader -> pre-candidate');
    // Term and vote stay as they are: a pre-vote changes nothing durable.
    this.votes.clear();
    this.lead = NO_NODE;
    this.roleValue = Role.PreCandidate;
  }

  private becomeCandidate(): void {
    assert(this.roleValue !== Role.Leader, 'raft: leader -> candidate');
    this.reset(this.termValue + 1);
    this.voteValue = this.id;
    this.roleValue = Role.Candidate;
  }

  private becomeLeader(): void {
    assert(this.roleValue !== Role.Follower, 'raft: follower -> leader');
    this.reset(this.termValue);
    this.lead = this.id;
    this.roleValue = Role.Leader;
    const last = this.log.lastIndex();
    for (const id of this.votersValue) this.prs.set(id, new Progress(last + 1, this.maxInflight));
    const self = this.prs.get(this.id)!;
    self.match = last;
    self.becomeReplicate();
    self.recentActive = true;
    this.logger.info({ term: this.termValue, lastIndex: last }, 'became leader');
    // The no-op: committing an entry of our own term commits every earlier one (§5.4.2, §8).
    this.appendEntries([{ term: this.termValue, index: last + 1, kind: EntryKind.Normal, data: EMPTY_BYTES }]);
    this.maybeCommit();
  }

  /**
   * Queues a message for the next Ready, stamping `from` and the term: vote messages carry the
   * term given by the caller, forwarded requests carry none (the leader treats them as local
   * input), everything else carries our current term.
   */
  private send(fields: Partial<Message> & { type: MessageType; to: NodeId }): void {
    const t = fields.type;
    let term: number;
    if (t === MessageType.Vote || t === MessageType.PreVote || t === MessageType.VoteResponse || t === MessageType.PreVoteResponse) {
      term = fields.term ?? 0;
      assert(term > 0, `raft: ${t} needs a term`);
    } else if (t === MessageType.Propose || t === MessageType.ReadIndex || t === MessageType.TransferLeader) {
      term = 0;
    } else {
      term = this.termValue;
    }
    this.msgs.push(
      makeMessage({
        type: t,
        to: fields.to,
        from: this.id,
        term,
        logTerm: fields.logTerm,
        index: fields.index,
        entries: fields.entries,
        commit: fields.commit,
        snapshot: fields.snapshot,
        reject: fields.reject,
        rejectHint: fields.rejectHint,
        context: fields.context,
        transfer: fields.transfer,
      }),
    );
  }
}

function sortedUnique(ids: readonly NodeId[]): readonly NodeId[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}

/** The voter set after `cc` (the same array when nothing changes). */
function applyConfChange(voters: readonly NodeId[], cc: ConfChange): readonly NodeId[] {
  if (cc.kind === ConfChangeKind.AddNode) return voters.includes(cc.nodeId) ? voters : sortedUnique([...voters, cc.nodeId]);
  return voters.includes(cc.nodeId) ? voters.filter((id) => id !== cc.nodeId) : voters;
}
