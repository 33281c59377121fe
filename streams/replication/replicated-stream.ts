// One replica of a replicated stream (ADR 0010, step 7): the local Stream (store, dedupe window,
// config) driven by the stream's Raft group. Every replica applies committed StreamOps with the
// same applyOp a single server uses; the leader alone captures the stream's subjects (announced
// cluster-wide), decides each publish, proposes the op, and sends the PubAck once the op is
// committed (in a majority of logs, each persisted under the sync mode) and applied here.
//
// The raft index applied is stored beside the stream (sub-database `sluice:replicas`), written
// with the store writes of the ops it covers (the commit pipeline's order), so it commits in the
// same LMDB transaction: a restarted replica resumes after it and never applies an op twice.

import type { RootDatabase } from 'lmdb';
import type { Applier } from '../../raft/driver.ts';
import { EntryKind, Role, type Entry, type Snapshot, type SoftState } from '../../raft/types.ts';
import { jsApiError } from '../../protocol/js-errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import type { Stream } from '../stream/stream.ts';
import type { ApplyResult } from '../stream/ops.ts';
import { bootstrapPeers, type StreamAssignment } from './assignments.ts';
import type { RaftGroup } from './group.ts';
import type { RaftGroups } from './groups.ts';
import { LeaderBook } from './leader-book.ts';
import { JsApiException } from '../manager.ts';
import { decodeConsumerOp, decodeControlOp, decodeStreamOp, encodeConsumerOp, encodeControlOp, encodeStreamOp, type ConsumerLogOp } from './op-codec.ts';
import { CatchupClient, CatchupImpossible, CatchupServer, copyFromLeader, type ReplicaImage } from './catchup.ts';
import type { LoadedConsumer } from '../consumer/persistence.ts';

const APPLIED_DB = 'sluice:replicas';
/**
 * The leader proposes trimming the group's logs once this many entries accumulated since the
 * last trim point: every replica then drops what every voter's log holds (see trimLog).
 */
export const TRIM_EVERY_ENTRIES = 10_000;
/** The snapshot record a trim leaves: the stream's state is its store, not a snapshot blob. */
const TRIM_MARK = Buffer.from('sluice-trim-v1');

export interface ReplicaHost {
  readonly bus: MessageBus;
  readonly logger: Logger;
  readonly root: RootDatabase;
  readonly groups: RaftGroups;
  /** Called when this replica becomes the stream's leader (and when it stops being it). */
  leaderChanged(replica: ReplicatedStream, leader: boolean): void;
  /** A committed consumer entry of this stream (replicated-consumer-store.ts), on every replica. */
  applyConsumerOp(op: ConsumerLogOp): void;
  /** This replica's copy of the stream's consumers (what a catch-up hands over). */
  consumersOf(stream: string): LoadedConsumer[];
  /** Replaces the copy of the stream's consumers with the leader's (after a catch-up). */
  replaceConsumers(stream: string, consumers: LoadedConsumer[]): void;
  /** Runs an LMDB write so that it commits with, or after, the store writes made so far. */
  writeInOrder(write: () => void): void;
  /** This server's name. */
  readonly self: string;
}

/** Pause between catch-up attempts (the leader moved, a reply was lost). */
const CATCHUP_RETRY_MS = 500;

/** Somebody waiting for an entry the leader proposed: settled when it applies here. */
interface Pending {
  resolve(result: ApplyResult | undefined): void;
  reject(err: unknown): void;
}

/** How often a leader brings its group's voters to the assignment's peers (one change at a time). */
const MEMBERSHIP_CHECK_MS = 1000;

export class ReplicatedStream implements Applier {
  /** Replaced when the meta group changes the stream (its config, its peers). */
  assignment: StreamAssignment;
  readonly stream: Stream;
  private readonly host: ReplicaHost;
  private readonly logger: Logger;
  private readonly appliedDb;
  private group: RaftGroup | null = null;
  /** The leader's proposals in flight and who waits for them (leader-book.ts), by reply subject. */
  private readonly book = new LeaderBook<string>();
  /** While leading: the capture of the stream's subjects, and the host's per-stream API. */
  private captureSubs: BusSubscription[] = [];
  private subs: BusSubscription[] = [];
  private closed = false;
  /** The last raft index applied here (raft's own count moves only after the Ready is done). */
  private lastApplied = 0;
  /** The applied index at the leader's last trim proposal. */
  private lastTrimProposal = 0;
  /** Why this replica cannot go on (its copy of the stream cannot be made), or ''. */
  stranded = '';
  /** True while this replica copies the stream from its leader (catchup.ts). */
  catchingUp = false;
  /** While set, applying waits: the leader is freezing its state for a follower's catch-up. */
  private gate: Promise<void> | null = null;
  private catchupServer: CatchupServer | null = null;
  private membershipTimer: NodeJS.Timeout | null = null;
  private catchupClient: CatchupClient | null = null;
  /** The leader's entries somebody waits for (consumer writes, API changes), by raft index. */
  private readonly waiters = new Map<number, Pending>();

  constructor(assignment: StreamAssignment, stream: Stream, host: ReplicaHost) {
    this.assignment = assignment;
    this.stream = stream;
    this.host = host;
    this.logger = host.logger.child({ stream: stream.name, group: assignment.group.name });
    stream.replicated = true;
    this.appliedDb = host.root.openDB<number, string>({ name: APPLIED_DB, encoding: 'msgpack' });
  }

  get name(): string {
    return this.stream.name;
  }

  get raft(): RaftGroup | null {
    return this.group;
  }

  get isLeader(): boolean {
    return this.book.leading;
  }

  async start(): Promise<void> {
    // A memory store starts empty whatever was applied before the restart: replay (or copy) it all.
    const applied = this.stream.store.storage === 'memory' ? 0 : ((this.appliedDb.get(this.name) as number | undefined) ?? 0);
    this.lastApplied = applied;
    const self = this.host.self;
    this.group = await this.host.groups.start(this.assignment.group.name, bootstrapPeers(this.assignment.group, self), this, applied);
  }

  /** Stops the group and capture and closes the store; the data stays (drop() removes it). */
  async close(): Promise<void> {
    await this.stopGroup();
    await this.stream.close();
  }

  /** Stops the group and deletes everything of this replica: its store, its log, its applied index. */
  async drop(): Promise<void> {
    await this.stopGroup(true);
    await this.appliedDb.remove(this.name);
    await this.stream.drop();
  }

  private async stopGroup(drop = false): Promise<void> {
    this.closed = true;
    this.catchupClient?.close();
    this.stopLeading();
    await this.host.groups.stop(this.assignment.group.name, drop);
  }

  // ---- leader: capture and propose ----------------------------------------------------------

  private ingest(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): void {
    const group = this.group;
    if (!this.book.leading || group === null) return;
    const stream = this.stream;
    const from = stream.acks(reply) ? reply : null;
    const d = this.book.decide(stream, subject, hdr, data, from);
    if (d.kind === 'waiting') return;
    if (d.kind === 'answer') {
      if (from !== null) stream.respond(from, d.decided);
      return;
    }
    const out = group.propose(encodeStreamOp(d.op));
    if (out.kind !== 'appended') {
      // Too much in flight: the publisher hears so and retries (with Nats-Msg-Id, safely). While
      // leadership moves the old leader stays silent: the new one, capturing the same publish,
      // answers it, and with nobody leading the publisher times out and retries.
      const moving = out.kind === 'dropped' && (out.reason === 'transferring' || out.reason === 'no-leader' || out.reason === 'not-member');
      if (from !== null && !moving) stream.respond(from, { kind: 'rejected', error: jsApiError('ClusterNotAvail') });
      return;
    }
    this.book.proposed(d.op, from);
  }

  /**
   * Proposes a consumer entry (the leader's consumers only); resolves once it is committed and
   * applied here, rejects with 10008 if this replica does not lead or stops leading first.
   */
  proposeConsumer(op: ConsumerLogOp): Promise<void> {
    return this.proposeAndWait(encodeConsumerOp(op)).then(() => undefined);
  }

  /** Proposes an entry; resolves with its apply result here (undefined for consumer entries). */
  private proposeAndWait(entry: Uint8Array): Promise<ApplyResult | undefined> {
    const group = this.group;
    const out = this.book.leading && group !== null ? group.propose(entry) : null;
    if (out === null || out.kind !== 'appended') return Promise.reject(new JsApiException(jsApiError('ClusterNotAvail')));
    return new Promise((resolve, reject) => this.waiters.set(out.lastIndex, { resolve, reject }));
  }

  private settle(index: number, result: ApplyResult | undefined): void {
    const waiting = this.waiters.get(index);
    if (waiting === undefined) return;
    this.waiters.delete(index);
    waiting.resolve(result);
  }

  private startLeading(): void {
    if (this.book.leading || this.closed) return;
    // Everything committed is applied by now (see maybeLead): the store's last sequence is the
    // cluster's, and new proposals continue from it.
    this.book.start(this.stream);
    // API changes and the removals the leader's consumers decide go through the log like publishes.
    this.stream.committer = (op) => this.proposeAndWait(encodeStreamOp(op)) as Promise<ApplyResult>;
    this.stream.resumeAgeExpiry();
    this.capture();
    this.catchupServer = new CatchupServer(this.host.bus, (min) => this.freeze(min));
    this.subs.push(this.catchupServer.subscribe(this.name));
    this.membershipTimer = setInterval(() => this.reconcileMembers(), MEMBERSHIP_CHECK_MS);
    this.membershipTimer.unref();
    this.reconcileMembers();
    this.logger.info({}, 'stream leader');
    this.host.leaderChanged(this, true);
  }

  private stopLeading(): void {
    if (!this.book.leading) return;
    this.book.stop();
    this.stream.committer = null;
    const lost = [...this.waiters.values()];
    this.waiters.clear();
    for (const p of lost) p.reject(new JsApiException(jsApiError('ClusterNotAvail')));
    for (const s of [...this.captureSubs, ...this.subs]) s.unsubscribe();
    this.catchupServer?.close();
    this.catchupServer = null;
    if (this.membershipTimer !== null) clearInterval(this.membershipTimer);
    this.membershipTimer = null;
    this.captureSubs = [];
    this.subs = [];
    this.host.leaderChanged(this, false);
  }

  /**
   * The leader: one step towards the assignment's peers as the group's voters (after the replica
   * count changed). Servers no longer assigned have dropped their replica, so they go first; a
   * new server is added once its replica runs, and catches up from the log or by copying the
   * stream (catchup.ts). Raft takes one change at a time; the next check takes the next.
   */
  reconcileMembers(): void {
    const g = this.group;
    if (g === null || !this.book.leading) return;
    const want = this.assignment.group.peers;
    const voters = g.members;
    const extra = voters.find((v) => !want.includes(v) && v !== g.selfName) ?? voters.find((v) => !want.includes(v));
    if (extra !== undefined) {
      if (g.removeMember(extra).kind === 'appended') this.logger.info({ server: extra }, 'removing a server from the stream group');
      return;
    }
    const missing = want.find((p) => !voters.includes(p));
    if (missing !== undefined && g.addMember(missing).kind === 'appended') this.logger.info({ server: missing }, 'adding a server to the stream group');
  }

  /** Subscribes the stream's subjects cluster-wide (again, after a config op changed them). */
  private capture(): void {
    for (const s of this.captureSubs) s.unsubscribe();
    const handler = (subject: string, reply: string, hdr: Buffer | null, data: Buffer): void => this.ingest(subject, reply, hdr, data);
    this.captureSubs = (this.stream.config.subjects ?? []).map((subject) => this.host.bus.subscribe(subject, handler, '', true));
  }

  /** Extra cluster-wide subscriptions the host wants while this replica leads (per-stream API). */
  addLeaderSubscription(sub: BusSubscription): void {
    if (this.book.leading) this.subs.push(sub);
    else sub.unsubscribe();
  }

  // ---- Applier ------------------------------------------------------------------------------

  /**
   * Logs are trimmed only up to what every voter's log holds (trimLog), so a replica is sent a
   * snapshot only when it lost its data or joined later. The snapshot is a mark; the state is the
   * leader's store, copied from it (catchup.ts) before anything after the mark is applied.
   */
  applySnapshot(snapshot: Snapshot): void | Promise<void> {
    if (snapshot.metadata.index <= this.lastApplied) return;
    return this.catchUpFromLeader(snapshot.metadata.index);
  }

  /**
   * Copies the stream from its leader until this replica holds its state at an applied index of
   * at least `min`; retries (with whichever server leads by then) until it succeeds or closes.
   */
  private async catchUpFromLeader(min: number): Promise<void> {
    this.catchingUp = true;
    this.logger.warn({ applied: this.lastApplied, needs: min }, 'replica behind the trimmed log: copying the stream from its leader');
    const client = new CatchupClient(this.host.bus, this.name);
    this.catchupClient = client;
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        try {
          const got = await copyFromLeader(client, this.stream.store, min);
          if (JSON.stringify(got.config) !== JSON.stringify(this.stream.config)) this.stream.apply({ op: 'config', config: got.config });
          this.host.replaceConsumers(this.name, got.consumers);
          this.stream.recover();
          this.lastApplied = got.applied;
          await this.appliedDb.put(this.name, got.applied);
          this.logger.info({ applied: got.applied, messages: this.stream.store.state().messages, attempt }, 'replica copied from its leader');
          return;
        } catch (err) {
          if (this.closed) return;
          if (err instanceof CatchupImpossible) {
            this.stranded = `stream ${this.name}: ${err.message}`;
            this.logger.error({}, this.stranded);
            throw err;
          }
          this.logger.warn({ err: String(err instanceof Error ? err.message : err), attempt }, 'stream catch-up failed; trying again');
          await new Promise<void>((r) => setTimeout(r, CATCHUP_RETRY_MS).unref());
        }
      }
    } finally {
      client.close();
      if (this.catchupClient === client) this.catchupClient = null;
      this.catchingUp = false;
    }
  }

  /**
   * The leader's side of a catch-up: this replica frozen at its applied index. Applying waits
   * meanwhile (a gate the driver's pump awaits) until the store has committed everything, so the
   * frozen store, the consumers' copies and the config are all exactly the state at that index.
   */
  private async freeze(min: number): Promise<ReplicaImage> {
    while (this.gate !== null) await this.gate;
    if (this.lastApplied < min) throw new Error(`the leader has applied ${this.lastApplied}, the catch-up needs ${min}`);
    let open!: () => void;
    this.gate = new Promise<void>((r) => (open = r));
    try {
      await this.stream.store.durable();
      return {
        applied: this.lastApplied,
        store: this.stream.store.freeze(),
        config: this.stream.config,
        consumers: this.host.consumersOf(this.name),
      };
    } finally {
      this.gate = null;
      open();
    }
  }

  /**
   * The leader: proposes that every replica trims its log up to the highest index every voter
   * holds. Returns false when there is nothing to trim. A voter that is down holds trimming back
   * (its log position is the minimum) until it returns.
   */
  trimLog(): boolean {
    const group = this.group;
    if (group === null || !this.book.leading) return false;
    const upTo = group.minMatch();
    if (upTo < group.firstIndex) return false;
    this.lastTrimProposal = this.lastApplied;
    return group.propose(encodeControlOp({ op: 'trim', upTo })).kind === 'appended';
  }

  private trimTo(upTo: number): void {
    this.group?.trim(Math.min(upTo, this.lastApplied), TRIM_MARK).catch((err: unknown) => this.logger.warn({ err: String(err), upTo }, 'log trim failed'));
  }

  applyEntries(entries: readonly Entry[]): void | Promise<void> {
    if (this.closed || entries.length === 0) return;
    if (this.gate !== null) return this.gate.then(() => this.applyEntries(entries));
    // A gap: the log starts after what this replica applied (a restart in the middle of a
    // catch-up, or a memory store that came back empty after its log was trimmed).
    const first = entries[0]!.index;
    if (first > this.lastApplied + 1) return this.catchUpFromLeader(first - 1).then(() => this.applyEntries(entries));
    const stream = this.stream;
    let last = 0;
    for (const e of entries) {
      // Entries a catch-up's copy already holds.
      if (e.index <= this.lastApplied) continue;
      last = e.index;
      if (e.kind !== EntryKind.Normal || e.data.length === 0) continue;
      const consumerOp = decodeConsumerOp(e.data);
      if (consumerOp !== undefined) {
        this.host.applyConsumerOp(consumerOp);
        this.settle(e.index, undefined);
        continue;
      }
      const control = decodeControlOp(e.data);
      if (control !== undefined) {
        if (control.op === 'trim') this.trimTo(control.upTo);
        continue;
      }
      const op = decodeStreamOp(e.data);
      const before = op.op === 'config' ? stream.config.subjects : undefined;
      const result = stream.apply(op);
      if (op.op === 'config' && this.book.leading && JSON.stringify(before) !== JSON.stringify(op.config.subjects)) this.capture();
      this.settle(e.index, result);
      const answers = this.book.applied(op);
      // Committed in a majority of logs and applied here: safe to acknowledge now (a crash before
      // the store commits re-applies it from the log, see the file comment).
      if (answers.appended !== undefined) stream.ackCommitted(answers.appended, answers.seq);
      for (const r of answers.duplicates) stream.respond(r, { kind: 'duplicate', seq: answers.seq });
    }
    // Same turn as the store writes above: one LMDB transaction holds both.
    if (last > 0) {
      this.lastApplied = last;
      // Never ahead of the ops it covers: with the store's writes staged behind a commit in
      // flight (commit-pipeline.ts), a direct put would commit first.
      this.host.writeInOrder(() => void this.appliedDb.put(this.name, last));
      const g = this.group;
      if (this.book.leading && g !== null && last - g.firstIndex >= TRIM_EVERY_ENTRIES && last - this.lastTrimProposal >= TRIM_EVERY_ENTRIES / 2) this.trimLog();
    }
    this.maybeLead();
  }

  onSoftState(ss: SoftState): void {
    if (ss.role !== Role.Leader) this.stopLeading();
    this.maybeLead();
  }

  /** A new leader waits until it has applied everything in its log, then takes publishes. */
  private maybeLead(): void {
    const g = this.group;
    if (g === null || this.book.leading || !g.isLeader) return;
    if (Math.max(this.lastApplied, g.applied) < g.lastIndex) return;
    this.startLeading();
  }
}
