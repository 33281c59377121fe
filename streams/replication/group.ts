// One Raft group on this server: raft/'s pure RaftNode, its log on LMDB (lmdb-raft-storage.ts),
// and the RaftDriver that ticks it and moves its Ready batches, with the cluster's routes as the
// transport (network.ts). What the group replicates is the Applier's business: the meta group's
// assignments, a stream's ops, a consumer's state.
//
// Membership: a group is either bootstrapped here with its initial voters (the first entries of
// its log name them), or joins empty and learns its membership from the leader's log (a server
// added to the meta group later). Raft node ids come from server names (node-ids.ts).

import type { RootDatabase } from 'lmdb';
import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Rng } from '../../runtime/rng.ts';
import { RaftDriver, type Applier, type Transport } from '../../raft/driver.ts';
import { RaftNode, type ProposeOutcome } from '../../raft/raft.ts';
import { bootstrap } from '../../raft/storage.ts';
import { ConfChangeKind, NO_NODE, Role, type Message, type NodeId } from '../../raft/types.ts';
import { LmdbRaftStorage, type Durability } from './lmdb-raft-storage.ts';
import type { RaftNetwork } from './network.ts';
import { groupMembers, nodeIdOf } from './node-ids.ts';

/**
 * Raft timing on the wall clock. A tick of 50 ms with an election timeout of 12-24 ticks finds a
 * new leader 0.6-1.2 s after the old one went quiet (plus a pre-vote round), well inside the 2 s
 * users expect; heartbeats every tick keep followers' leases fresh.
 */
export const RAFT_TICK_MS = 50;
export const RAFT_ELECTION_TICKS = 12;

export interface RaftGroupOptions {
  readonly name: string;
  /** Initial voters by server name, this server among them; empty to join an existing group. */
  readonly bootstrapMembers: readonly string[];
  readonly network: RaftNetwork;
  readonly root: RootDatabase;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly applier: Applier;
  /** Index the applier has already applied (its state survived a restart); default 0. */
  readonly applied?: number;
  readonly durability?: Durability;
  readonly tickMs?: number;
}

export class RaftGroup {
  readonly name: string;
  readonly selfName: string;
  private readonly opts: RaftGroupOptions;
  private readonly storage: LmdbRaftStorage;
  private readonly node: RaftNode;
  private readonly driver: RaftDriver;
  /** Node id -> server name for every server this group has heard of. */
  private readonly names: Map<NodeId, string>;
  private readonly logger: Logger;

  private constructor(opts: RaftGroupOptions, storage: LmdbRaftStorage) {
    this.opts = opts;
    this.name = opts.name;
    this.selfName = opts.network.self;
    this.storage = storage;
    this.logger = opts.logger.child({ group: opts.name });
    this.names = groupMembers([this.selfName, ...opts.bootstrapMembers, ...opts.network.connected()]);
    this.node = new RaftNode({
      id: nodeIdOf(this.selfName),
      storage,
      rng: opts.rng,
      electionTick: RAFT_ELECTION_TICKS,
      heartbeatTick: 1,
      applied: opts.applied ?? 0,
      logger: this.logger,
    });
    const transport: Transport = { send: (messages) => this.send(messages) };
    this.driver = new RaftDriver({
      node: this.node,
      storage,
      transport,
      applier: opts.applier,
      clock: opts.clock,
      tickMs: opts.tickMs ?? RAFT_TICK_MS,
      logger: this.logger,
      onFatal: (err) => this.logger.error({ err: String(err) }, 'raft group stopped'),
    });
  }

  /** Opens the group's log (bootstrapping it when new and given members) and starts ticking. */
  static async start(opts: RaftGroupOptions): Promise<RaftGroup> {
    const storage = LmdbRaftStorage.open(opts.root, `raft:${opts.name}`, { durability: opts.durability ?? 'flushed' });
    const fresh = storage.lastIndex() === 0 && storage.hardState().term === 0 && storage.snapshot().metadata.index === 0;
    if (fresh && opts.bootstrapMembers.length > 0) {
      if (!opts.bootstrapMembers.includes(opts.network.self)) throw new Error(`raft group ${opts.name}: this server is not among its members`);
      await bootstrap(storage, [...groupMembers(opts.bootstrapMembers).keys()]);
    }
    const group = new RaftGroup(opts, storage);
    group.driver.start();
    return group;
  }

  /** Raft traffic for this group from `from`. */
  receive(from: string, messages: readonly Message[]): void {
    this.names.set(nodeIdOf(from), from);
    for (const m of messages) this.driver.receive(m);
  }

  /** A peer route opened: learn its name so messages to it can be addressed. */
  peerConnected(name: string): void {
    this.names.set(nodeIdOf(name), name);
  }

  /**
   * Appends to the log, on the leader only. Never forwarded: every entry of these groups was
   * decided by a leader (a stream's sequences, the meta group's placements), and a node that has
   * just lost leadership, before its soft state says so, must not hand its decision to the next.
   */
  propose(data: Uint8Array | readonly Uint8Array[]): ProposeOutcome {
    return this.driver.withNode((n) => (n.role === Role.Leader ? n.propose(data) : { kind: 'dropped', reason: 'no-leader' }));
  }

  /** Adds a voter (one at a time; the leader refuses while another change is pending). */
  addMember(name: string): ProposeOutcome {
    this.names.set(nodeIdOf(name), name);
    return this.driver.withNode((n) => n.proposeConfChange({ kind: ConfChangeKind.AddNode, nodeId: nodeIdOf(name) }));
  }

  /** Removes a voter (one change at a time, like addMember). */
  removeMember(name: string): ProposeOutcome {
    return this.driver.withNode((n) => n.proposeConfChange({ kind: ConfChangeKind.RemoveNode, nodeId: nodeIdOf(name) }));
  }

  /**
   * Hands leadership to another voter: `to`, or one of the most caught-up ones picked at random
   * (always the first would bounce leadership between two servers of three).
   */
  stepDown(to?: string): boolean {
    return this.driver.withNode((n) => {
      if (n.role !== Role.Leader) return false;
      let target = to === undefined ? NO_NODE : nodeIdOf(to);
      if (target === NO_NODE) {
        let best = -1;
        let ties: number[] = [];
        for (const id of n.voters) {
          if (id === n.id) continue;
          const match = n.progress(id)?.match ?? -1;
          if (match > best) {
            best = match;
            ties = [id];
          } else if (match === best) {
            ties.push(id);
          }
        }
        if (ties.length > 0) target = ties[this.opts.rng.int(ties.length)]!;
      }
      if (target === NO_NODE) return false;
      n.transferLeadership(target);
      return true;
    });
  }

  get isLeader(): boolean {
    return this.node.role === Role.Leader;
  }

  /** The leader's server name, or '' when there is none (or it is not known here). */
  get leader(): string {
    const id = this.node.leader;
    return id === NO_NODE ? '' : (this.names.get(id) ?? '');
  }

  get term(): number {
    return this.node.term;
  }

  get committed(): number {
    return this.node.committed;
  }

  get applied(): number {
    return this.node.applied;
  }

  /** Voters by server name (names not yet learnt show as their node id). */
  get members(): string[] {
    return this.node.voters.map((id) => this.names.get(id) ?? String(id));
  }

  /** How far each voter's log matches the leader's (leader only; others report nothing). */
  progressOf(name: string): { match: number; recentActive: boolean } | undefined {
    if (this.node.role !== Role.Leader) return undefined;
    const p = this.node.progress(nodeIdOf(name));
    return p === undefined ? undefined : { match: p.match, recentActive: p.recentActive };
  }

  get lastIndex(): number {
    return this.node.lastIndex();
  }

  /** The first entry still in the log here (those before it were trimmed). */
  get firstIndex(): number {
    return this.storage.firstIndex();
  }

  /**
   * The leader: the highest index every voter's log holds (its own last index included), i.e.
   * what no voter will ever need to be sent again; 0 elsewhere.
   */
  minMatch(): number {
    if (this.node.role !== Role.Leader) return 0;
    let min = this.node.lastIndex();
    for (const id of this.node.voters) {
      if (id === this.node.id) continue;
      min = Math.min(min, this.node.progress(id)?.match ?? 0);
    }
    return min;
  }

  /**
   * Drops the log up to `upTo` (clamped to what is applied here), leaving a snapshot record
   * that marks the point (`data` says what it stands for). Resolves once durable.
   */
  async trim(upTo: number, data: Uint8Array): Promise<void> {
    const index = Math.min(upTo, this.node.applied);
    if (index <= this.storage.snapshot().metadata.index || index < this.storage.firstIndex()) return;
    const confState = this.node.confStateAt(index);
    await this.storage.createSnapshot(index, confState, data);
    await this.storage.compact(index);
  }

  async stop(): Promise<void> {
    await this.driver.stop();
    await this.storage.whenIdle();
  }

  /** Stops the group and deletes its log here (this server no longer holds a replica). */
  async drop(): Promise<void> {
    await this.stop();
    await this.storage.drop();
  }

  private send(messages: readonly Message[]): void {
    // One frame per peer per Ready: group the batch by destination.
    let byPeer: Map<string, Message[]> | null = null;
    for (const m of messages) {
      const to = this.names.get(m.to);
      if (to === undefined) {
        this.logger.debug({ to: m.to }, 'raft message to an unknown server dropped');
        continue;
      }
      byPeer ??= new Map();
      const list = byPeer.get(to);
      if (list === undefined) byPeer.set(to, [m]);
      else list.push(m);
    }
    if (byPeer === null) return;
    for (const [to, list] of byPeer) this.opts.network.send(this.name, to, list);
  }
}
