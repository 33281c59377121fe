// One replica of a replicated stream (ADR 0010, step 7): the local Stream (store, dedupe window,
// config) driven by the stream's Raft group. Every replica applies committed StreamOps with the
// same applyOp a single server uses; the leader alone captures the stream's subjects (announced
// cluster-wide), decides each publish, proposes the op, and sends the PubAck once the op is
// committed (in a majority of logs, each persisted under the sync mode) and applied here.
//
// The raft index applied is stored beside the stream (sub-database `sluice:replicas`), written in
// the same event-loop turn as the ops it covers, so it commits in the same LMDB transaction: a
// restarted replica resumes after it and never applies an op twice.

import type { RootDatabase } from 'lmdb';
import type { Applier } from '../../raft/driver.ts';
import { EntryKind, Role, type Entry, type Snapshot, type SoftState } from '../../raft/types.ts';
import { jsApiError } from '../../protocol/js-errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import type { Stream } from '../stream/stream.ts';
import type { ApplyResult } from '../stream/ops.ts';
import type { StreamAssignment } from './assignments.ts';
import type { RaftGroup } from './group.ts';
import type { RaftGroups } from './groups.ts';
import { LeaderBook } from './leader-book.ts';
import { JsApiException } from '../manager.ts';
import { decodeConsumerOp, decodeControlOp, decodeStreamOp, encodeConsumerOp, encodeControlOp, encodeStreamOp, type ConsumerLogOp } from './op-codec.ts';

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
}

/** Somebody waiting for an entry the leader proposed: settled when it applies here. */
interface Pending {
  resolve(result: ApplyResult | undefined): void;
  reject(err: unknown): void;
}

export class ReplicatedStream implements Applier {
  readonly assignment: StreamAssignment;
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
  /** Why this replica cannot go on (it was sent a snapshot it cannot install), or ''. */
  stranded = '';
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
    const applied = (this.appliedDb.get(this.name) as number | undefined) ?? 0;
    this.lastApplied = applied;
    this.group = await this.host.groups.start(this.assignment.group.name, this.assignment.group.peers, this, applied);
  }

  /** Stops the group and capture and closes the store; the data stays (drop() removes it). */
  async close(): Promise<void> {
    await this.stopGroup();
    await this.stream.close();
  }

  async drop(): Promise<void> {
    await this.stopGroup();
    await this.appliedDb.remove(this.name);
    await this.stream.drop();
  }

  private async stopGroup(): Promise<void> {
    this.closed = true;
    this.stopLeading();
    await this.host.groups.stop(this.assignment.group.name);
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
    this.captureSubs = [];
    this.subs = [];
    this.host.leaderChanged(this, false);
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
   * Logs are trimmed only up to what every voter's log holds (trimLog), so a replica is never
   * sent a snapshot while it keeps its disk. One that lost it (or a voter added later) would be:
   * installing a snapshot needs the messages themselves, which is not built yet, so the group
   * stops here rather than apply later entries on top of a gap.
   */
  applySnapshot(snapshot: Snapshot): void {
    if (snapshot.metadata.index <= this.lastApplied) return;
    this.stranded = `stream ${this.name}: this replica is behind its group's trimmed log (needs entries from ${this.lastApplied + 1}, the log starts after ${snapshot.metadata.index}) and cannot catch up`;
    this.logger.error({ applied: this.lastApplied, snapshot: snapshot.metadata.index }, this.stranded);
    throw new Error(this.stranded);
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

  applyEntries(entries: readonly Entry[]): void {
    const stream = this.stream;
    let last = 0;
    for (const e of entries) {
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
      void this.appliedDb.put(this.name, last);
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
