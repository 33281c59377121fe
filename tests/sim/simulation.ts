// Deterministic simulation of a raft cluster (docs/DESIGN.md principle 9; in the spirit of
// TigerBeetle's VOPR and etcd's rafttest).
//
// One seeded Rng decides everything: cluster size and raft options, network faults, which
// event happens when, and every node's election jitter. Virtual time advances from event to
// event (node ticks, message deliveries, client/fault actions); one event is one step. After
// every step the SafetyChecker's invariants hold or the run stops with the violation, its step
// and the seed — and re-running the seed replays the run exactly.
//
// Phases:
//   1. faults (`steps` events): drops, duplicates, delays/reordering, partitions (symmetric,
//      isolated node, asymmetric links), crashes at any point of Ready processing and restarts
//      from what was persisted, client proposals (single and batched), read-index requests,
//      conf changes (add a spare server / remove a member), leadership transfers, forced
//      campaigns, snapshots with log compaction.
//   2. liveness: heal everything, restart every member, stop servers removed from the group;
//      within `livenessTimeoutTicks` a leader must commit a fresh proposal that every member
//      applies. Then every member must hold the whole committed history.

import { AssertionError } from '../../runtime/assert.ts';
import { seededRng, type Rng } from '../../runtime/rng.ts';
import { RaftNode, type RaftOptions } from '../../raft/raft.ts';
import { MemoryStorage, bootstrap } from '../../raft/storage.ts';
import { ConfChangeKind, EntryKind, Role, type Entry, type Message, type NodeId } from '../../raft/types.ts';
import { InvariantViolation, SafetyChecker, type LogView, type MachineState } from './checker.ts';
import { EventQueue } from './event-queue.ts';
import { MemoryLogView, PersistedLogView, TAG_CLIENT, TAG_MARKER, decodeMachine, decodePayload, encodeMachine, payload } from './model.ts';
import { CALM_NETWORK, SimNetwork, type NetworkFaults } from './network.ts';
import { PROFILES, type SimOptions, type SimResult, type SimStats, type SimViolation } from './options.ts';

export { PROFILES, formatResult } from './options.ts';
export type { ProfileName, SimOptions, SimResult, SimStats, SimViolation } from './options.ts';

type CrashPoint = 'before-persist' | 'after-persist' | 'after-send';

type SimEvent =
  | { readonly kind: 'tick'; readonly node: NodeId }
  | { readonly kind: 'deliver'; readonly msg: Message }
  | { readonly kind: 'action' }
  | { readonly kind: 'probe' };

interface SimNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raft: RaftNode | null;
  /** Removed from the group and shut down for good. */
  retired: boolean;
  sm: MachineState;
  pendingCrash: CrashPoint | null;
}

const TICK_MS = 10;
const ELECTION_TICK = 10;

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

export class Simulation {
  private readonly rng: Rng;
  private readonly net: SimNetwork;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly checker = new SafetyChecker();
  private readonly raftOptions: Omit<RaftOptions, 'id' | 'storage' | 'rng'>;
  private readonly spares: NodeId[];
  private readonly retiredIds = new Set<NodeId>();
  private readonly touched = new Set<NodeId>();
  private readonly stats: SimStats;
  private readonly steps: number;
  private readonly livenessTimeoutTicks: number;
  private readonly trace: ((line: string) => void) | null;
  private readonly config: string;
  private now = 0;
  private step = 0;
  private phase: 'faults' | 'liveness' = 'faults';
  private nextClientId = 1;
  private nextReadId = 1;
  private nextMarker = 1;
  private lastMarkerAtMs = -Infinity;
  private readonly markerAppliedBy = new Map<number, Set<NodeId>>();
  private livenessDone = false;
  /** Probability that a newly elected leader is struck (isolated or crashed) at once. */
  private readonly nemesisRate: number;
  private stormy = false;
  private weatherUntilMs = 0;
  /** Log index of each liveness marker (when first applied). */
  private readonly markerIndex = new Map<number, number>();
  private livenessIndex = 0;

  private readonly opts: SimOptions;

  constructor(options: SimOptions) {
    const opts: SimOptions = options.profile !== undefined ? { ...PROFILES[options.profile], ...options } : options;
    this.opts = opts;
    this.rng = seededRng(opts.seed);
    const rng = this.rng;
    this.steps = opts.steps ?? 3000;
    this.livenessTimeoutTicks = opts.livenessTimeoutTicks ?? 400;
    this.trace = opts.trace ?? null;
    const size = opts.clusterSize ?? (rng.next() < 0.5 ? 3 : 5);
    this.raftOptions = {
      electionTick: ELECTION_TICK,
      heartbeatTick: pick(rng, [1, 2, 3]),
      preVote: rng.next() < 0.75,
      checkQuorum: rng.next() < 0.75,
      maxInflightMsgs: pick(rng, [1, 2, 4, 16, 256]),
      maxSizePerMsgBytes: pick(rng, [1, 100, 1 << 20]),
      ...opts.raftOverrides,
      unsafeTestMutations: opts.mutations,
    };
    const faults: NetworkFaults = {
      dropRate: pick(rng, [0, 0.01, 0.05, 0.1, 0.2]),
      duplicateRate: pick(rng, [0, 0.02, 0.05]),
      maxDelayMs: pick(rng, [1, 5, 15, 30]),
      longDelayRate: pick(rng, [0, 0.01, 0.05]),
      longDelayMs: 300,
    };
    this.net = new SimNetwork(rng, faults);
    this.nemesisRate = opts.nemesisRate ?? pick(rng, [0, 0.1, 0.3, 0.5]);
    const ids: NodeId[] = [];
    for (let i = 1; i <= size; i++) ids.push(i);
    this.spares = [size + 1, size + 2];
    this.config =
      `nodes=${size} preVote=${this.raftOptions.preVote} checkQuorum=${this.raftOptions.checkQuorum} ` +
      `heartbeatTick=${this.raftOptions.heartbeatTick} inflight=${this.raftOptions.maxInflightMsgs} ` +
      `maxMsgBytes=${this.raftOptions.maxSizePerMsgBytes} drop=${faults.dropRate} dup=${faults.duplicateRate} ` +
      `delay<=${faults.maxDelayMs}ms long=${faults.longDelayRate} nemesis=${this.nemesisRate}` +
      (opts.mutations !== undefined ? ` mutations=${JSON.stringify(opts.mutations)}` : '');
    this.stats = {
      steps: 0, livenessSteps: 0, livenessTicks: 0, virtualMs: 0, maxTerm: 0, leaders: 0, committed: 0,
      proposals: 0, reads: 0, readsServed: 0, crashes: 0, restarts: 0, partitions: 0, snapshotsTaken: 0,
      snapshotsInstalled: 0, confChangesProposed: 0, transfers: 0, messages: 0, dropped: 0, duplicated: 0,
    };

    for (const id of [...ids, ...this.spares]) {
      const storage = new MemoryStorage();
      if (id <= size) void bootstrap(storage, ids);
      this.nodes.set(id, { id, storage, raft: null, retired: false, sm: { index: 0, hash: 0 }, pendingCrash: null });
    }
    for (const id of this.nodes.keys()) {
      this.startNode(id);
      // Ticks are not synchronized across nodes.
      this.queue.push(1 + rng.int(TICK_MS), { kind: 'tick', node: id });
    }
    this.queue.push(1 + rng.int(20), { kind: 'action' });
  }

  run(): SimResult {
    let violation: SimViolation | null = null;
    try {
      while (this.step < this.steps) this.runStep();
      this.stats.steps = this.step;
      this.beginLiveness();
      const healedAt = this.now;
      const deadline = healedAt + this.livenessTimeoutTicks * TICK_MS;
      while (!this.livenessDone) {
        if (this.now > deadline) {
          throw new InvariantViolation(
            'liveness',
            `no proposal committed and applied by all members ${JSON.stringify(this.checker.voters)} within ${this.livenessTimeoutTicks} ticks after healing (${this.describeNodes()})`,
          );
        }
        this.runStep();
      }
      this.stats.livenessTicks = Math.ceil((this.now - healedAt) / TICK_MS);
      // Every member holds the whole history up to the marker that proved liveness.
      for (const id of this.checker.voters) this.checker.checkHoldsHistory(id, this.raft(id), this.livenessIndex);
    } catch (err) {
      violation = this.toViolation(err);
    }
    if (this.phase === 'faults') {
      this.stats.steps = this.step;
      this.stats.livenessSteps = 0;
    } else {
      this.stats.livenessSteps = this.step - this.stats.steps;
    }
    this.stats.virtualMs = this.now;
    this.stats.maxTerm = this.checker.maxTerm;
    this.stats.leaders = this.checker.leadersObserved;
    this.stats.committed = this.checker.committedLength;
    this.stats.readsServed = this.checker.readsServed;
    this.stats.messages = this.net.sent;
    this.stats.dropped = this.net.dropped;
    this.stats.duplicated = this.net.duplicated;
    return { seed: this.opts.seed, replayArgs: this.replayArgs(), ok: violation === null, violation, config: this.config, stats: this.stats };
  }

  private replayArgs(): string {
    const o = this.opts;
    let a = `--seed ${o.seed}`;
    if (this.steps !== 3000) a += ` --steps ${this.steps}`;
    if (o.profile !== undefined) a += ` --profile ${o.profile}`;
    else if (o.raftOverrides !== undefined || o.nemesisRate !== undefined || o.alwaysStormy !== undefined) a += ' (custom options: see config)';
    if (o.clusterSize !== undefined && o.profile === undefined) a += ` --nodes ${o.clusterSize}`;
    for (const [k, v] of Object.entries(o.mutations ?? {})) if (v === true) a += ` --mutation ${k}`;
    if (o.unsafeSendBeforePersist === true) a += ' --unsafe-send-before-persist';
    return a;
  }

  private toViolation(err: unknown): SimViolation {
    const base = { step: this.step, timeMs: this.now, phase: this.phase };
    if (err instanceof InvariantViolation) return { ...base, invariant: err.invariant, detail: err.message };
    if (err instanceof AssertionError) return { ...base, invariant: 'raft-assertion', detail: err.message };
    const e = err instanceof Error ? err : new Error(String(err));
    return { ...base, invariant: 'exception', detail: e.stack ?? e.message };
  }

  private log(line: string): void {
    if (this.trace !== null) this.trace(`[${this.step} t=${this.now}] ${line}`);
  }

  private raft(id: NodeId): RaftNode {
    const r = this.nodes.get(id)?.raft;
    if (r === null || r === undefined) throw new InvariantViolation('liveness', `member ${id} is down`);
    return r;
  }

  private describeNodes(): string {
    const parts: string[] = [];
    for (const n of this.nodes.values()) {
      if (n.raft === null) parts.push(`${n.id}:down${n.retired ? '(retired)' : ''}`);
      else parts.push(`${n.id}:${n.raft.role}@${n.raft.term} lead=${n.raft.leader} commit=${n.raft.committed} last=${n.raft.lastIndex()} voters=${n.raft.voters.join(',')}`);
    }
    return parts.join('; ');
  }

  // --- the step loop -------------------------------------------------------------------------

  private runStep(): void {
    const item = this.queue.pop();
    if (item === undefined) throw new Error('simulation ran out of events');
    this.now = item.atMs;
    this.step++;
    this.touched.clear();
    const ev = item.event;
    switch (ev.kind) {
      case 'tick': {
        const n = this.nodes.get(ev.node)!;
        if (n.raft !== null) {
          n.raft.tick();
          this.touched.add(n.id);
          this.processReady(n);
        }
        this.queue.push(this.now + TICK_MS, ev);
        break;
      }
      case 'deliver': {
        const m = ev.msg;
        const n = this.nodes.get(m.to);
        if (n === undefined || n.raft === null || this.net.isBlocked(m.from, m.to)) break;
        if (this.trace !== null) this.log(`deliver ${m.type} ${m.from}->${m.to} term=${m.term} idx=${m.index} lt=${m.logTerm} n=${m.entries.length} commit=${m.commit}${m.reject ? ' REJECT hint=' + m.rejectHint : ''}`);
        n.raft.step(m);
        this.touched.add(n.id);
        this.processReady(n);
        break;
      }
      case 'action':
        if (this.phase === 'faults') {
          this.randomAction();
          this.queue.push(this.now + 2 + this.rng.int(20), ev);
        }
        break;
      case 'probe':
        this.livenessProbe();
        this.queue.push(this.now + 5 * TICK_MS, ev);
        break;
    }
    // Invariants over every node this step changed.
    for (const id of this.touched) {
      const r = this.nodes.get(id)!.raft;
      if (r !== null) this.checker.observeNode(id, r);
    }
    this.checker.checkCommittedSurvivesElections(this.logViews());
    if (this.phase === 'liveness') this.checkLivenessDone();
  }

  /** Processes the node's Ready batches per the contract, or crashes it at the planned point. */
  private processReady(n: SimNode): void {
    while (n.raft !== null && n.raft.hasReady()) {
      const r = n.raft;
      const rd = r.ready();
      if (this.opts.unsafeSendBeforePersist === true) this.sendAll(rd.messages);
      if (n.pendingCrash === 'before-persist') return this.crash(n);
      n.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
      this.checker.observePersisted(n.id, n.storage, rd.entries);
      if (n.pendingCrash === 'after-persist') return this.crash(n);
      if (this.opts.unsafeSendBeforePersist !== true) this.sendAll(rd.messages);
      if (n.pendingCrash === 'after-send') return this.crash(n);
      if (rd.snapshot !== null) {
        n.sm = decodeMachine(rd.snapshot.data);
        this.checker.observeSnapshotState(n.id, rd.snapshot.metadata.index, n.sm);
        this.stats.snapshotsInstalled++;
        this.log(`node ${n.id} installed snapshot at ${rd.snapshot.metadata.index}`);
      }
      for (const e of rd.committedEntries) this.apply(n, r, e);
      for (const rs of rd.readStates) this.checker.readAnswered(n.id, new DataView(rs.context.buffer, rs.context.byteOffset, 4).getUint32(0), rs.index);
      if (rd.softState !== null) {
        this.log(`node ${n.id} is ${rd.softState.role} (leader ${rd.softState.lead}) at term ${r.term}`);
        if (rd.softState.role === Role.Leader) this.maybeStrikeNewLeader(n);
      }
      r.advance(rd);
    }
  }

  private sendAll(messages: readonly Message[]): void {
    for (const m of messages) {
      for (const delay of this.net.fate(m.from, m.to)) this.queue.push(this.now + delay, { kind: 'deliver', msg: m });
    }
  }

  private apply(n: SimNode, r: RaftNode, e: Entry): void {
    this.checker.observeApply(n.id, r.term, n.sm, e);
    if (e.kind !== EntryKind.Normal) return;
    const p = decodePayload(e.data);
    if (p !== null && p.tag === TAG_MARKER) {
      let set = this.markerAppliedBy.get(p.id);
      if (set === undefined) this.markerAppliedBy.set(p.id, (set = new Set()));
      if (!this.markerIndex.has(p.id)) this.markerIndex.set(p.id, e.index);
      set.add(n.id);
    }
  }

  // --- nodes ---------------------------------------------------------------------------------

  private startNode(id: NodeId): void {
    const n = this.nodes.get(id)!;
    n.raft = new RaftNode({ ...this.raftOptions, id, storage: n.storage, rng: seededRng(this.rng.int(0x7fffffff)) });
    n.pendingCrash = null;
    // The state machine is volatile: it restarts from the durable snapshot and raft re-delivers
    // the committed entries after it.
    const snap = n.storage.snapshot();
    n.sm = decodeMachine(snap.data);
    if (snap.metadata.index > 0) this.checker.observeSnapshotState(id, snap.metadata.index, n.sm);
    this.checker.observeRestart(id, n.raft);
    this.touched.add(id);
    this.processReady(n);
  }

  /** Each non-retired node's possible logs: in memory (if up) and as persisted. */
  private logViews(): Map<NodeId, LogView[]> {
    const out = new Map<NodeId, LogView[]>();
    for (const n of this.nodes.values()) {
      if (n.retired) continue;
      const views: LogView[] = [new PersistedLogView(n.storage)];
      if (n.raft !== null) views.push(new MemoryLogView(n.raft));
      out.set(n.id, views);
    }
    return out;
  }

  private crash(n: SimNode): void {
    this.log(`crash node ${n.id}${n.pendingCrash !== null ? ' (' + n.pendingCrash + ')' : ''}`);
    n.raft = null;
    n.pendingCrash = null;
    this.stats.crashes++;
  }

  /**
   * Running nodes that take part in the group (spares that were never added are passive: they
   * have no configuration and nothing to do until a leader adds them).
   */
  private upNodes(): SimNode[] {
    const out: SimNode[] = [];
    for (const n of this.nodes.values()) {
      if (n.raft !== null && (n.raft.voters.length > 0 || this.checker.everMembers.has(n.id))) out.push(n);
    }
    return out;
  }

  private leaders(): SimNode[] {
    return this.upNodes().filter((n) => n.raft!.role === Role.Leader);
  }

  // --- fault-phase actions -------------------------------------------------------------------

  /**
   * Weather: the fault phase alternates stormy periods (crashes, partitions, forced campaigns,
   * the new-leader nemesis) with calm ones (only client traffic, restarts, snapshots, transfers
   * and conf changes over the lossy network), so the cluster both suffers and makes progress.
   */
  private updateWeather(): void {
    if (this.opts.alwaysStormy === true) {
      this.stormy = true;
      return;
    }
    if (this.now < this.weatherUntilMs) return;
    this.stormy = !this.stormy;
    this.weatherUntilMs = this.now + 150 + this.rng.int(600);
    this.log(this.stormy ? 'weather: storm' : 'weather: calm');
    if (!this.stormy && this.rng.next() < 0.7) this.actHeal();
  }

  private randomAction(): void {
    this.updateWeather();
    const roll = this.rng.int(100);
    if (roll < 40) return this.actPropose();
    if (roll < 52) return this.actRead();
    if (roll < 60) return this.actRestart();
    if (roll < 67) return this.actSnapshot();
    if (roll < 71) return this.actTransfer();
    if (roll < 75) return this.actConfChange();
    if (!this.stormy) return;
    if (roll < 83) return this.actCrash();
    if (roll < 90) return this.actPartition();
    if (roll < 94) return this.actHeal();
    if (roll < 97) return this.actCampaign();
    // else: quiet
  }

  private randomUpNode(): SimNode | null {
    const up = this.upNodes();
    return up.length === 0 ? null : pick(this.rng, up);
  }

  private actPropose(): void {
    const n = this.randomUpNode();
    if (n === null) return;
    const count = this.rng.next() < 0.25 ? 2 + this.rng.int(6) : 1;
    const batch: Uint8Array[] = [];
    for (let i = 0; i < count; i++) batch.push(payload(TAG_CLIENT, this.nextClientId++));
    const out = n.raft!.propose(batch);
    this.stats.proposals += count;
    this.log(`propose x${count} at ${n.id}: ${out.kind}`);
    this.touched.add(n.id);
    this.processReady(n);
  }

  private actRead(): void {
    const n = this.randomUpNode();
    if (n === null) return;
    const id = this.nextReadId++;
    const ctx = new Uint8Array(4);
    new DataView(ctx.buffer).setUint32(0, id);
    this.checker.readRequested(id);
    this.stats.reads++;
    n.raft!.readIndex(ctx);
    this.touched.add(n.id);
    this.processReady(n);
  }

  private actCrash(): void {
    const up = this.upNodes();
    if (up.length <= 1) return;
    // Leaders are targeted half of the time: leader churn with uncommitted tails is where
    // commit-rule and election bugs show.
    const leaders = this.leaders();
    const n = leaders.length > 0 && this.rng.next() < 0.5 ? pick(this.rng, leaders) : pick(this.rng, up);
    const point = pick(this.rng, ['now', 'before-persist', 'after-persist', 'after-send'] as const);
    if (point === 'now') this.crash(n);
    else n.pendingCrash = point; // at its next Ready
  }

  private actRestart(): void {
    const down = [...this.nodes.values()].filter((n) => n.raft === null && !n.retired);
    if (down.length === 0) return;
    const n = pick(this.rng, down);
    this.log(`restart node ${n.id}`);
    this.stats.restarts++;
    this.startNode(n.id);
  }

  private actPartition(): void {
    this.net.healAll();
    const ids = [...this.nodes.keys()];
    const kind = this.rng.int(3);
    if (kind === 0) {
      // Two sides, symmetric.
      const side = new Set(ids.filter(() => this.rng.next() < 0.5));
      for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) this.net.block(a, b);
      this.log(`partition {${[...side].join(',')}} | rest`);
    } else if (kind === 1) {
      const leaders = this.leaders();
      const lone = leaders.length > 0 && this.rng.next() < 0.5 ? pick(this.rng, leaders).id : pick(this.rng, ids);
      for (const b of ids) if (b !== lone) {
        this.net.block(lone, b);
        this.net.block(b, lone);
      }
      this.log(`isolate ${lone}`);
    } else {
      // Asymmetric: some directed links fail, their reverse may still work.
      const cut: string[] = [];
      for (const a of ids) for (const b of ids) if (a !== b && this.rng.next() < 0.25) {
        this.net.block(a, b);
        cut.push(`${a}>${b}`);
      }
      this.log(`asymmetric cut ${cut.join(' ')}`);
    }
    this.stats.partitions++;
  }

  /**
   * Nemesis: sometimes a freshly elected leader loses its network (its no-op and first appends
   * never leave) or crashes right away. This breeds the divergent, uncommitted tails of several
   * terms that commit-rule and election bugs need (Raft paper Figure 8).
   */
  private maybeStrikeNewLeader(n: SimNode): void {
    if (this.phase !== 'faults' || !this.stormy || this.rng.next() >= this.nemesisRate) return;
    if (this.rng.next() < 0.5) {
      for (const other of this.nodes.keys()) if (other !== n.id) {
        this.net.block(n.id, other);
        this.net.block(other, n.id);
      }
      this.stats.partitions++;
      this.log(`nemesis: isolate new leader ${n.id}`);
    } else {
      n.pendingCrash = pick(this.rng, ['before-persist', 'after-persist', 'after-send'] as const);
      this.log(`nemesis: crash new leader ${n.id} at its next Ready (${n.pendingCrash})`);
    }
  }

  private actHeal(): void {
    if (!this.net.partitioned) return;
    this.net.healAll();
    this.log('heal network');
  }

  private actSnapshot(): void {
    const n = this.randomUpNode();
    if (n === null) return;
    const r = n.raft!;
    const applied = r.applied;
    if (applied <= n.storage.snapshot().metadata.index) return;
    n.storage.createSnapshot(applied, r.confStateAt(applied), encodeMachine(n.sm));
    const compactTo = applied - this.rng.int(8);
    if (compactTo >= n.storage.firstIndex()) n.storage.compact(compactTo);
    this.stats.snapshotsTaken++;
    this.log(`node ${n.id} snapshot at ${applied}, compacted to ${compactTo}`);
  }

  private actTransfer(): void {
    const leaders = this.leaders();
    if (leaders.length === 0) return;
    const l = pick(this.rng, leaders);
    const others = l.raft!.voters.filter((v) => v !== l.id);
    if (others.length === 0) return;
    const to = pick(this.rng, others);
    this.log(`transfer leadership ${l.id} -> ${to}`);
    this.stats.transfers++;
    l.raft!.transferLeadership(to);
    this.touched.add(l.id);
    this.processReady(l);
  }

  private actConfChange(): void {
    const leaders = this.leaders();
    if (leaders.length === 0) return;
    const l = pick(this.rng, leaders);
    const r = l.raft!;
    const voters = r.voters;
    const candidatesToAdd = this.spares.filter((id) => !voters.includes(id) && !this.retiredIds.has(id));
    const canAdd = voters.length < 5 && candidatesToAdd.length > 0;
    const canRemove = voters.length > 3;
    if (!canAdd && !canRemove) return;
    const add = canAdd && (!canRemove || this.rng.next() < 0.5);
    const nodeId = add ? pick(this.rng, candidatesToAdd) : pick(this.rng, voters);
    const out = r.proposeConfChange({ kind: add ? ConfChangeKind.AddNode : ConfChangeKind.RemoveNode, nodeId });
    this.log(`conf change at ${l.id}: ${add ? 'add' : 'remove'} ${nodeId}: ${out.kind}`);
    if (out.kind === 'appended') {
      this.stats.confChangesProposed++;
      if (!add) this.retiredIds.add(nodeId); // ids are never reused
    }
    this.touched.add(l.id);
    this.processReady(l);
  }

  private actCampaign(): void {
    const n = this.randomUpNode();
    if (n === null) return;
    this.log(`force campaign at ${n.id}`);
    n.raft!.campaign();
    this.touched.add(n.id);
    this.processReady(n);
  }

  // --- liveness phase ------------------------------------------------------------------------

  private beginLiveness(): void {
    this.phase = 'liveness';
    this.log('--- faults stop: heal, restart members, stop removed servers ---');
    this.net.healAll();
    this.net.faults = CALM_NETWORK;
    this.retireRemoved();
    for (const n of this.nodes.values()) {
      n.pendingCrash = null;
      if (n.raft === null && !n.retired) {
        this.stats.restarts++;
        this.startNode(n.id);
      }
    }
    this.queue.push(this.now + 1, { kind: 'probe' });
  }

  /** Shuts down, for good, servers the committed history removed from the group. */
  private retireRemoved(): void {
    for (const id of this.checker.everMembers) {
      if (this.checker.voters.includes(id)) continue;
      const n = this.nodes.get(id)!;
      if (n.retired) continue;
      n.retired = true;
      n.raft = null;
      this.log(`retire removed server ${id}`);
    }
  }

  private livenessProbe(): void {
    this.retireRemoved();
    if (this.now - this.lastMarkerAtMs < 20 * TICK_MS) return;
    let best: SimNode | null = null;
    for (const n of this.leaders()) if (best === null || n.raft!.term > best.raft!.term) best = n;
    if (best === null) return;
    const out = best.raft!.propose(payload(TAG_MARKER, this.nextMarker++));
    this.log(`liveness probe at ${best.id}: ${out.kind}`);
    if (out.kind === 'appended') this.lastMarkerAtMs = this.now;
    this.touched.add(best.id);
    this.processReady(best);
  }

  private checkLivenessDone(): void {
    const members = this.checker.voters;
    for (const id of members) if (this.nodes.get(id)!.raft === null) return;
    for (const [marker, set] of this.markerAppliedBy) {
      if (members.every((id) => set.has(id))) {
        this.livenessDone = true;
        this.livenessIndex = this.markerIndex.get(marker)!;
        return;
      }
    }
  }
}

export function runSimulation(opts: SimOptions): SimResult {
  return new Simulation(opts).run();
}
