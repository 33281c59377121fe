// Replicated streams on a clustered JetStream server (ADR 0010, steps 5-7): the meta group's state
// (which streams exist, where their replicas are), the handling of $JS.API requests that concern
// them, and this server's replicas.
//
// Requests for a replicated stream (num_replicas > 1, or a name the meta group knows):
// - CREATE and DELETE are forwarded to the meta leader ($JSC.META.<verb>.<stream>, which every
//   JetStream server subscribes cluster-wide and only the leader answers). The leader validates,
//   places the replicas, and proposes the assignment; CREATE is answered by the stream's first
//   leader once it can take publishes, DELETE by the meta leader once the removal is applied.
// - INFO is answered by the stream's leader, which subscribes it cluster-wide while it leads.
// - Consumers run on the stream's leader (ADR 0010 step 9): it adopts the stream into the
//   consumer registry, answers the stream's $JS.API.CONSUMER.* requests through cluster-wide
//   subscriptions, and its consumers subscribe their acks and pulls cluster-wide. Every
//   consumer's record and state, ephemerals' too, travel in the stream's log
//   (replicated-consumer-store.ts), so the next leader takes them all over.
// R1 streams are untouched: they live on the server that created them, as before.

import type { ClusterInfo, StreamConfig, StreamInfo } from '../../protocol/jetstream-api.ts';
import { jsApiError, type ApiError } from '../../protocol/js-errors.ts';
import type { Applier } from '../../raft/driver.ts';
import { EntryKind } from '../../raft/types.ts';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { DirectGetBinder } from '../api/direct.ts';
import type { ApiRequest, ApiRoute, ApiRouter } from '../api/router.ts';
import type { MessageBus } from '../bus.ts';
import type { ConsumerRegistry } from '../consumer/registry.ts';
import { parseJsonObject } from '../json-shape.ts';
import type { StreamManager } from '../manager.ts';
import { checkStreamConfigShape, checkStreamUpdate, findOverlap, normalizeStreamConfig, sameConfig } from '../stream/config.ts';
import { streamInfo } from '../stream/info.ts';
import { MetaState, decodeMetaOp, encodeMetaOp, placeReplicas, resizePeers, streamGroupName, type MetaChange, type StreamAssignment } from './assignments.ts';
import type { RaftGroups } from './groups.ts';
import { nodeIdOf } from './node-ids.ts';
import type { MetaGroup } from './meta.ts';
import type { RaftNetwork } from './network.ts';
import { ReplicatedStream, type ReplicaHost } from './replicated-stream.ts';
import { ReplicatedConsumerStore } from './replicated-consumer-store.ts';
import type { LoadedConsumer } from '../consumer/persistence.ts';
import type { ConsumerLogOp } from './op-codec.ts';
import { JsApiException } from '../manager.ts';
import { requestedStream, type AccountJetStreamLimits } from '../limits.ts';

const META_PREFIX = '$JSC.META';
/** How long STREAM.LIST waits for the leaders of replicated streams to report. */
const LIST_GATHER_MS = 2000;
/** A CREATE is answered by the stream's first leader only if it leads this soon after creation. */
const CREATE_ANSWER_WINDOW_MS = 30_000;
/** How long a forwarded request's answer is watched for its audit (the clients' timeouts are shorter). */
const FORWARDED_ANSWER_WAIT_MS = 60_000;

export interface ClusteredStreamsDeps {
  readonly bus: MessageBus;
  readonly api: ApiRouter;
  readonly manager: StreamManager;
  readonly groups: RaftGroups;
  readonly network: RaftNetwork;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly clusterName: string;
  readonly direct: DirectGetBinder;
  readonly consumers: ConsumerRegistry;
  /** The account's JetStream limits, checked by the meta leader on every stream of the cluster. */
  readonly limits?: AccountJetStreamLimits;
}

/** Routes the local ApiRouter has no handler for: answered only where the leader is. */
const STREAM_STEPDOWN: ApiRoute = { kind: 'stream_leader_stepdown', handle: () => undefined };
const META_STEPDOWN: ApiRoute = { kind: 'meta_leader_stepdown', handle: () => undefined };
const CONSUMER_STEPDOWN: ApiRoute = { kind: 'consumer_leader_stepdown', handle: () => undefined };
/**
 * Per-stream requests the stream's leader answers with the local handlers: on a replicated
 * stream's leader their changes go through the log (Stream.commit).
 */
const LEADER_ROUTES = ['STREAM.MSG.GET', 'STREAM.PURGE', 'STREAM.MSG.DELETE'];
/** The $JS.API.CONSUMER.<verb>.<stream>... requests a stream's leader answers for its consumers. */
const CONSUMER_VERBS = new Set(['CREATE', 'INFO', 'DELETE', 'NAMES', 'LIST']);

export class ClusteredStreams implements ReplicaHost {
  readonly state = new MetaState();
  readonly bus: MessageBus;
  readonly logger: Logger;
  readonly groups: RaftGroups;
  private readonly deps: ClusteredStreamsDeps;
  private readonly replicas = new Map<string, ReplicatedStream>();
  /** Replicas being opened or closed, in order per stream. */
  private work: Promise<void> = Promise.resolve();
  private meta: MetaGroup | null = null;
  /** Streams whose CREATE this server already answered (a leader answers once). */
  private readonly answered = new Set<string>();
  /** This server's copy of the consumers of its replicas. */
  private readonly consumerStore: ReplicatedConsumerStore;

  constructor(deps: ClusteredStreamsDeps) {
    this.deps = deps;
    this.bus = deps.bus;
    this.logger = deps.logger;
    this.groups = deps.groups;
    const m = deps.manager;
    this.consumerStore = new ReplicatedConsumerStore(m.env, m.sync, deps.clock, deps.logger, (stream, op) => this.proposeConsumer(stream, op));
    deps.consumers.replicaStore = this.consumerStore;
  }

  private proposeConsumer(stream: string, op: ConsumerLogOp): Promise<void> {
    const r = this.replicas.get(stream);
    if (r === undefined) return Promise.reject(new JsApiException(jsApiError('StreamNotFound')));
    return r.proposeConsumer(op);
  }

  applyConsumerOp(op: ConsumerLogOp): void {
    this.consumerStore.apply(op);
  }

  consumersOf(stream: string): LoadedConsumer[] {
    return this.consumerStore.load(stream);
  }

  replaceConsumers(stream: string, consumers: LoadedConsumer[]): void {
    this.consumerStore.replaceStream(stream, consumers);
  }

  writeInOrder(write: () => void): void {
    this.deps.manager.env.pipeline.inOrder(write);
  }

  get self(): string {
    return this.deps.network.self;
  }

  get root(): ReplicaHost['root'] {
    return this.deps.manager.env.root;
  }

  /** The meta group's state machine. */
  applier(): Applier {
    return {
      applySnapshot: () => undefined,
      applyEntries: (entries) => {
        for (const e of entries) {
          if (e.kind !== EntryKind.Normal || e.data.length === 0) continue;
          const op = decodeMetaOp(e.data);
          if (op === undefined) {
            this.logger.warn({ index: e.index }, 'skipping a meta entry this server does not understand');
            continue;
          }
          const change = this.state.apply(op);
          if (change !== null) this.changed(change);
        }
      },
    };
  }

  /** Wires the API interception and the meta leader's request subscriptions. */
  start(meta: MetaGroup): void {
    this.meta = meta;
    this.deps.api.interceptor = (route, req) => this.intercept(route, req);
    this.bus.subscribe(`${META_PREFIX}.CREATE.*`, (subject, reply, _hdr, data) => this.metaCreate(subject, reply, data), '', true);
    this.bus.subscribe(`${META_PREFIX}.UPDATE.*`, (subject, reply, _hdr, data) => this.metaUpdate(subject, reply, data), '', true);
    this.bus.subscribe(`${META_PREFIX}.DELETE.*`, (subject, reply) => this.metaDelete(subject, reply), '', true);
    // Every JetStream server listens; only the meta leader steps down and answers.
    this.bus.subscribe(
      '$JS.API.META.LEADER.STEPDOWN',
      (_s, reply) => {
        if (reply === '' || this.meta?.isLeader !== true) return;
        const ok = this.meta.raft!.stepDown();
        this.deps.api.reply(META_STEPDOWN, reply, ok ? { success: true } : { error: jsApiError('ClusterNotAvail') });
      },
      '',
      true,
    );
    this.deps.manager.replicatedConfigs = () => this.state.allStreams().map((a) => a.config);
    this.deps.manager.replicatedInfos = (wanted) => this.gatherInfos(wanted);
    this.deps.manager.leadReplica = (name) => {
      const r = this.replicas.get(name);
      return r !== undefined && r.isLeader ? r.stream : undefined;
    };
  }

  /**
   * Why this server is not ready to serve JetStream in the cluster, or '' when it is: it must be
   * a member of the meta group, know its leader and have applied what it knows is committed,
   * and every stream replica here must know its leader and have applied its committed entries.
   */
  health(serverOnly = false): string {
    const meta = this.meta?.raft ?? null;
    if (meta === null) return 'JetStream has not joined the meta group yet';
    if (!meta.members.includes(meta.selfName)) return 'JetStream is not a member of the meta group yet';
    if (meta.leader === '') return 'JetStream has no meta leader';
    if (meta.applied < meta.committed) return 'JetStream is not current with the meta leader';
    // nats-server's js-server-only: the server's own JetStream state, not each stream's group.
    if (serverOnly) return '';
    for (const r of this.replicas.values()) {
      if (r.stranded !== '') return `JetStream ${r.stranded}`;
      if (r.catchingUp) return `JetStream stream ${r.name} is copying its data from the leader`;
      const g = r.raft;
      if (g === null || g.leader === '') return `JetStream stream ${r.name} has no leader`;
      if (g.applied < g.committed) return `JetStream stream ${r.name} is catching up`;
    }
    return '';
  }

  replica(name: string): ReplicatedStream | undefined {
    return this.replicas.get(name);
  }

  async close(): Promise<void> {
    this.deps.api.interceptor = null;
    await this.work;
    await Promise.all([...this.replicas.values()].map((r) => r.close()));
    this.replicas.clear();
  }

  // ---- $JS.API on this server ---------------------------------------------------------------

  private intercept(route: string, req: ApiRequest): boolean {
    const name = req.args[0] ?? '';
    if (route === 'STREAM.CREATE') {
      if (this.state.stream(name) === undefined && !wantsReplicas(req)) return false;
      this.forwardToMeta('CREATE', route, name, req);
      return true;
    }
    if (route.startsWith('STREAM.') && route !== 'STREAM.NAMES' && route !== 'STREAM.LIST' && this.state.stream(name) !== undefined) {
      if (route === 'STREAM.DELETE') this.forwardToMeta('DELETE', route, name, req);
      else if (route === 'STREAM.UPDATE') this.forwardToMeta('UPDATE', route, name, req);
      // The stream's leader answers these through its cluster-wide subscriptions; a replica here
      // must not answer in its place. (It dispatches all but INFO, and audits them then.)
      else if (route === 'STREAM.INFO') this.watchAnswer(req);
      else if (!LEADER_ROUTES.includes(route)) this.refuse(route, req, notYet(route));
      return true;
    }
    // The stream's leader answers for its consumers (leaderChanged); no replica here may.
    if (route.startsWith('CONSUMER.') && this.state.stream(name) !== undefined) return true;
    return false;
  }

  private forwardToMeta(verb: string, route: string, name: string, req: ApiRequest): void {
    if (this.meta === null || this.meta.leader === '') {
      this.refuse(route, req, jsApiError('ClusterNotAvail'));
      return;
    }
    this.watchAnswer(req);
    this.bus.publish(`${META_PREFIX}.${verb}.${name}`, req.reply, null, req.data);
  }

  /**
   * The meta group (or the stream's leader) answers a request this server passes on straight to
   * the client; the answer comes through here on its way to the client connected here, so this
   * server, which has the request, audits it then. Only for a client of this server (a request a
   * route brought is the other server's to audit) and while someone listens for the audit; given
   * up after a while.
   */
  private watchAnswer(req: ApiRequest): void {
    const advisories = this.deps.api.advisories;
    if (advisories === null || req.client === undefined) return;
    let timer: TimerHandle | null = null;
    const sub = this.bus.subscribe(req.reply, (_s, _r, _h, data) => {
      sub.unsubscribe();
      timer?.cancel();
      const parsed = parseJsonObject(data, false);
      if (parsed.ok) advisories.audit(req, parsed.value);
    });
    timer = this.deps.clock.setTimeout(() => sub.unsubscribe(), FORWARDED_ANSWER_WAIT_MS);
  }

  private refuse(routeName: string, req: ApiRequest | { reply: string }, error: ApiError): void {
    const route = this.deps.api.route(routeName);
    // A request taken here (not one forwarded by another server) is audited with its refusal.
    if (route !== undefined) this.deps.api.sendError(req.reply, route, error, 'subject' in req ? req : undefined);
  }

  // ---- the meta leader ----------------------------------------------------------------------

  private metaCreate(subject: string, reply: string, data: Buffer): void {
    const meta = this.meta;
    if (meta === null || !meta.isLeader || reply === '') return;
    const name = subject.slice(`${META_PREFIX}.CREATE.`.length);
    const limits = this.deps.limits;
    const all = limits === undefined ? [] : this.accountStreams();
    const cfg = this.validate(name, data, (body) => limits?.checkCreate(requestedStream(name, body), all.length, all));
    if ('error' in cfg) return this.refuse('STREAM.CREATE', { reply }, cfg.error);
    const limited = this.checkLimits(() => limits?.checkCreateConfig(cfg.config, all));
    if (limited !== undefined) return this.refuse('STREAM.CREATE', { reply }, limited);
    const existing = this.state.stream(name);
    if (existing !== undefined) {
      if (JSON.stringify(existing.config) !== JSON.stringify(cfg.config)) return this.refuse('STREAM.CREATE', { reply }, jsApiError('StreamNameExist'));
      // Same config: the stream's leader answers INFO; ask it on the client's behalf.
      this.bus.publish(`$JS.API.STREAM.INFO.${name}`, reply, null, Buffer.alloc(0));
      return;
    }
    const raft = meta.raft!;
    const candidates = raft.members.filter((m) => m === raft.selfName || this.deps.network.connected().includes(m));
    const peers = placeReplicas(cfg.config.num_replicas, candidates, this.state);
    if (peers === undefined) return this.refuse('STREAM.CREATE', { reply }, jsApiError('InsufficientResources'));
    const assignment: StreamAssignment = {
      config: cfg.config,
      group: { name: streamGroupName(cfg.config, newToken(8)), peers },
      created: this.deps.clock.epochNs().toString(),
      reply,
    };
    const outcome = raft.propose(encodeMetaOp({ op: 'stream', assignment }));
    if (outcome.kind !== 'appended') this.refuse('STREAM.CREATE', { reply }, jsApiError('ClusterNotAvail'));
  }

  /**
   * UPDATE: the meta leader checks the change against the assignment's config and records the new
   * config; the stream's leader then takes it into the stream's own log (takeConfig), so every
   * replica changes its limits at the same position among the messages.
   */
  private metaUpdate(subject: string, reply: string, data: Buffer): void {
    const meta = this.meta;
    if (meta === null || !meta.isLeader || reply === '') return;
    const name = subject.slice(`${META_PREFIX}.UPDATE.`.length);
    const existing = this.state.stream(name);
    if (existing === undefined) return this.refuse('STREAM.UPDATE', { reply }, jsApiError('StreamNotFound'));
    const cfg = this.validate(name, data);
    if ('error' in cfg) return this.refuse('STREAM.UPDATE', { reply }, cfg.error);
    const checked = checkStreamUpdate(existing.config, cfg.config);
    if (!checked.ok) return this.refuse('STREAM.UPDATE', { reply }, checked.error);
    const limits = this.deps.limits;
    const limited = limits === undefined ? undefined : this.checkLimits(() => limits.checkUpdate(checked.config, existing.config, this.accountStreams()));
    if (limited !== undefined) return this.refuse('STREAM.UPDATE', { reply }, limited);
    let peers: string[] | undefined;
    if (checked.config.num_replicas !== existing.config.num_replicas) {
      const resized = this.resize(existing, checked.config.num_replicas);
      if ('error' in resized) return this.refuse('STREAM.UPDATE', { reply }, resized.error);
      peers = resized.peers;
    }
    const others = this.state.allStreams().filter((a) => a.config.name !== name).map((a) => a.config);
    if (findOverlap(checked.config.subjects ?? [], others) !== undefined) return this.refuse('STREAM.UPDATE', { reply }, jsApiError('StreamSubjectOverlap'));
    if (sameConfig(existing.config, checked.config)) {
      // Nothing changes: the stream's leader answers with its current info.
      this.bus.publish(`$JS.API.STREAM.INFO.${name}`, reply, null, Buffer.alloc(0));
      return;
    }
    const outcome = meta.raft!.propose(encodeMetaOp({ op: 'stream-update', config: checked.config, reply, ...(peers !== undefined ? { peers } : {}) }));
    if (outcome.kind !== 'appended') this.refuse('STREAM.UPDATE', { reply }, jsApiError('ClusterNotAvail'));
  }

  /**
   * The servers that hold a stream once its replica count changes. The servers leaving drop
   * their replica when the change applies, before the stream's leader removes them from the
   * group, so the ones staying must still be a majority of the group as it was; and a replicated
   * stream stays replicated (R1 streams live outside the meta group on this server).
   */
  private resize(existing: StreamAssignment, replicas: number): { peers: string[] } | { error: ApiError } {
    const current = existing.group.peers;
    if (replicas < 2) {
      return { error: jsApiError('StreamUpdate', { err: 'num_replicas of a replicated stream cannot become 1 on this server' }) };
    }
    if (replicas < Math.floor(current.length / 2) + 1) {
      return { error: jsApiError('StreamUpdate', { err: `num_replicas can shrink from ${current.length} to no fewer than ${Math.floor(current.length / 2) + 1} at a time` }) };
    }
    const raft = this.meta!.raft!;
    const candidates = raft.members.filter((m) => m === raft.selfName || this.deps.network.connected().includes(m));
    const leader = this.replicas.get(existing.config.name)?.raft?.leader ?? '';
    const peers = resizePeers(current, replicas, candidates, this.state, leader);
    return peers === undefined ? { error: jsApiError('InsufficientResources') } : { peers };
  }

  /**
   * The stream's leader brings the stream's config to the meta group's (after an UPDATE, or on
   * taking over when the previous leader had not yet) through the stream's log, then answers.
   */
  private takeConfig(replica: ReplicatedStream, reply: string): void {
    const wanted = this.state.stream(replica.name)?.config;
    if (wanted === undefined) return;
    const answer = (): void => {
      const route = this.deps.api.route('STREAM.UPDATE');
      if (reply !== '' && route !== undefined) this.deps.api.reply(route, reply, this.info(replica));
    };
    if (sameConfig(replica.stream.config, wanted)) return answer();
    replica.stream.commit({ op: 'config', config: wanted }).then(answer, (err: unknown) => {
      this.logger.warn({ stream: replica.name, err: String(err) }, 'stream config not taken into the log yet');
      if (reply !== '') this.refuse('STREAM.UPDATE', { reply }, jsApiError('ClusterNotAvail'));
    });
  }

  private metaDelete(subject: string, reply: string): void {
    const meta = this.meta;
    if (meta === null || !meta.isLeader) return;
    const name = subject.slice(`${META_PREFIX}.DELETE.`.length);
    if (this.state.stream(name) === undefined) return this.refuse('STREAM.DELETE', { reply }, jsApiError('StreamNotFound'));
    const outcome = meta.raft!.propose(encodeMetaOp({ op: 'stream-delete', name, reply }));
    if (outcome.kind !== 'appended') this.refuse('STREAM.DELETE', { reply }, jsApiError('ClusterNotAvail'));
  }

  /**
   * The request's config, normalised and validated; `checkRaw` sees the body as sent first (the
   * account's limits are checked on it before validation, as nats-server does).
   */
  private validate(name: string, data: Buffer, checkRaw?: (body: Readonly<Record<string, unknown>>) => void): { config: StreamConfig } | { error: ApiError } {
    const parsed = parseJsonObject(data, false);
    if (!parsed.ok) return { error: jsApiError('InvalidJSON', { err: parsed.err }) };
    const body = parsed.value;
    const shapeErr = checkStreamConfigShape(body);
    if (shapeErr !== undefined) return { error: jsApiError('InvalidJSON', { err: shapeErr }) };
    if (body.name !== name) return { error: jsApiError('StreamMismatch') };
    if (checkRaw !== undefined) {
      const limited = this.checkLimits(() => checkRaw(body));
      if (limited !== undefined) return { error: limited };
    }
    const normalized = normalizeStreamConfig(body);
    if (!normalized.ok) return { error: normalized.error };
    if (normalized.config.num_replicas > 5) return { error: jsApiError('StreamInvalidConfig', { err: 'replicas > 5 not supported' }) };
    return { config: normalized.config };
  }

  /**
   * Every stream of this account the meta leader knows: the replicated ones of the whole cluster
   * and this server's own R1 streams. R1 streams on other servers live outside the meta group,
   * so a cluster-wide max_streams or byte reservation cannot count them (docs/accounts.md).
   */
  private accountStreams(): StreamConfig[] {
    const byName = new Map<string, StreamConfig>();
    for (const c of this.deps.manager.configs()) byName.set(c.name, c);
    for (const a of this.state.allStreams()) byName.set(a.config.name, a.config);
    return [...byName.values()];
  }

  /** Runs a limits check; the JetStream error it raised, or undefined when it passed. */
  private checkLimits(check: () => void): ApiError | undefined {
    try {
      check();
      return undefined;
    } catch (err) {
      if (err instanceof JsApiException) return err.apiError;
      throw err;
    }
  }

  // ---- applying assignments -----------------------------------------------------------------

  private changed(change: MetaChange): void {
    const a = change.assignment;
    const name = a.config.name;
    const self = this.deps.network.self;
    if (change.kind === 'stream-updated') {
      const r = this.replicas.get(name);
      const assigned = a.group.peers.includes(self);
      if (r === undefined && assigned) {
        // Added by a replica-count change: join the group empty and catch up.
        this.work = this.work.then(() => this.openReplica(a)).catch((err: unknown) => {
          this.logger.error({ stream: name, err: String(err) }, 'could not open a stream replica');
        });
        return;
      }
      if (r !== undefined && !assigned) {
        this.dropReplica(name, '');
        return;
      }
      if (r === undefined) return;
      r.assignment = a;
      if (r.isLeader) {
        this.takeConfig(r, change.reply);
        r.reconcileMembers();
      }
      return;
    }
    if (change.kind === 'stream-added') {
      if (!a.group.peers.includes(self)) return;
      this.work = this.work.then(() => this.openReplica(a)).catch((err: unknown) => {
        this.logger.error({ stream: name, err: String(err) }, 'could not open a stream replica');
      });
      return;
    }
    this.dropReplica(name, change.reply);
  }

  /** Stops and deletes this server's replica of `name` (the stream is gone, or moved off this server). */
  private dropReplica(name: string, reply: string): void {
    this.work = this.work
      .then(async () => {
        const r = this.replicas.get(name);
        this.replicas.delete(name);
        this.deps.direct.removeReplica(name);
        if (r !== undefined) this.deps.consumers.release(r.stream, true);
        this.consumerStore.dropStream(name);
        await r?.drop();
      })
      .catch((err: unknown) => this.logger.error({ stream: name, err: String(err) }, 'could not drop a stream replica'))
      .then(() => {
        if (this.meta?.isLeader === true && reply !== '') {
          // The meta leader answers the DELETE and advises it, once for the cluster.
          this.deps.api.advisories?.streamDeleted(name);
          const route = this.deps.api.route('STREAM.DELETE');
          if (route !== undefined) this.deps.api.reply(route, reply, { success: true });
        }
      });
  }

  private async openReplica(a: StreamAssignment): Promise<void> {
    if (this.replicas.has(a.config.name)) return;
    const stream = await this.deps.manager.openReplica(a.config, BigInt(a.created));
    const replica = new ReplicatedStream(a, stream, this);
    this.replicas.set(a.config.name, replica);
    await replica.start();
    this.deps.direct.addReplica(stream);
    this.logger.info({ stream: a.config.name, group: a.group.name, peers: a.group.peers }, 'opened stream replica');
  }

  // ---- ReplicaHost --------------------------------------------------------------------------

  leaderChanged(replica: ReplicatedStream, leader: boolean): void {
    const stream = replica.stream;
    if (!leader) {
      this.deps.consumers.release(stream, false);
      return;
    }
    const name = replica.name;
    stream.clusterInfo = () => this.clusterBlock(replica);
    this.deps.consumers.adopt(stream, this.consumerStore.load(name));
    this.subscribeConsumerApi(replica);
    // An UPDATE the previous leader had not taken into the log yet.
    this.takeConfig(replica, '');
    const infoRoute = this.deps.api.route('STREAM.INFO');
    replica.addLeaderSubscription(
      this.bus.subscribe(
        `$JS.API.STREAM.INFO.${name}`,
        (_s, reply) => {
          if (reply !== '' && infoRoute !== undefined) this.deps.api.reply(infoRoute, reply, { total: 0, offset: 0, limit: 0, ...this.info(replica) });
        },
        '',
        true,
      ),
    );
    for (const route of LEADER_ROUTES) {
      replica.addLeaderSubscription(
        this.bus.subscribe(`$JS.API.${route}.${name}`, (s, reply, hdr, data) => this.deps.api.dispatchDirect(s, reply, hdr, data), '', true),
      );
    }
    replica.addLeaderSubscription(
      this.bus.subscribe(
        `$JS.API.STREAM.LEADER.STEPDOWN.${name}`,
        (_s, reply) => {
          const ok = replica.raft?.stepDown() === true;
          if (reply !== '') this.deps.api.reply(STREAM_STEPDOWN, reply, ok ? { success: true } : { error: jsApiError('ClusterNotAvail') });
        },
        '',
        true,
      ),
    );
    // The first leader of a new stream answers its CREATE (once).
    const a = replica.assignment;
    const fresh = this.deps.clock.epochNs() - BigInt(a.created) < BigInt(CREATE_ANSWER_WINDOW_MS) * 1_000_000n;
    if (a.reply !== '' && fresh && !this.answered.has(name)) {
      this.answered.add(name);
      const route = this.deps.api.route('STREAM.CREATE');
      if (route !== undefined) this.deps.api.reply(route, a.reply, { ...this.info(replica), did_create: true });
    }
  }

  /**
   * The stream's consumer requests, answered here while this replica leads. The wildcards can
   * also match requests of a stream named like a verb (CONSUMER.DURABLE.CREATE.<x> matches
   * CONSUMER.*.CREATE.>), so each handler checks the subject's exact form.
   */
  private subscribeConsumerApi(replica: ReplicatedStream): void {
    const name = replica.name;
    const api = this.deps.api;
    const byVerb = (subject: string, reply: string, hdr: Buffer | null, data: Buffer): void => {
      const t = subject.split('.');
      if (CONSUMER_VERBS.has(t[3]!) && t[4] === name) api.dispatchDirect(subject, reply, hdr, data);
    };
    const durable = (subject: string, reply: string, hdr: Buffer | null, data: Buffer): void => {
      if (subject.split('.')[3] === 'DURABLE') api.dispatchDirect(subject, reply, hdr, data);
    };
    replica.addLeaderSubscription(this.bus.subscribe(`$JS.API.CONSUMER.*.${name}`, byVerb, '', true));
    replica.addLeaderSubscription(this.bus.subscribe(`$JS.API.CONSUMER.*.${name}.>`, byVerb, '', true));
    replica.addLeaderSubscription(this.bus.subscribe(`$JS.API.CONSUMER.DURABLE.CREATE.${name}.*`, durable, '', true));
    // A consumer leads where its stream leads: stepping it down steps the stream group down.
    replica.addLeaderSubscription(
      this.bus.subscribe(
        `$JS.API.CONSUMER.LEADER.STEPDOWN.${name}.*`,
        (subject, reply) => {
          if (reply === '' || subject.split('.')[3] !== 'LEADER') return;
          const consumer = subject.slice(`$JS.API.CONSUMER.LEADER.STEPDOWN.${name}.`.length);
          if (this.deps.consumers.get(name, consumer) === undefined) {
            api.sendError(reply, CONSUMER_STEPDOWN, jsApiError('ConsumerNotFound'));
            return;
          }
          const ok = replica.raft?.stepDown() === true;
          api.reply(CONSUMER_STEPDOWN, reply, ok ? { success: true } : { error: jsApiError('ClusterNotAvail') });
        },
        '',
        true,
      ),
    );
  }

  /**
   * StreamInfo of each replicated stream `wanted` selects, from its leader: this server's replica
   * if it leads, otherwise the leader's answer to an INFO request (all asked at once, answers
   * awaited up to LIST_GATHER_MS; the silent ones are `missing`, as nats-server reports them).
   */
  private async gatherInfos(wanted: (config: StreamConfig) => boolean): Promise<{ infos: StreamInfo[]; missing: string[] }> {
    const infos: StreamInfo[] = [];
    const asking = new Map<string, string>();
    for (const a of this.state.allStreams()) {
      if (!wanted(a.config)) continue;
      const r = this.replicas.get(a.config.name);
      if (r?.isLeader === true) infos.push(this.info(r) as unknown as StreamInfo);
      else asking.set(String(asking.size), a.config.name);
    }
    if (asking.size === 0) return { infos, missing: [] };
    const inbox = `_INBOX.${newToken(22)}`;
    const pending = new Set(asking.keys());
    await new Promise<void>((resolve) => {
      const timer = this.deps.clock.setTimeout(() => finish(), LIST_GATHER_MS);
      // Cluster-wide: the leaders answer from other servers.
      const sub = this.bus.subscribe(
        `${inbox}.*`,
        (subject, _reply, _hdr, data) => {
          const key = subject.slice(inbox.length + 1);
          if (!pending.delete(key)) return;
          const parsed = parseJsonObject(data, false);
          if (parsed.ok && parsed.value.error === undefined) infos.push(parsed.value as unknown as StreamInfo);
          if (pending.size === 0) finish();
        },
        '',
        true,
      );
      const finish = (): void => {
        timer.cancel();
        sub.unsubscribe();
        resolve();
      };
      for (const [key, name] of asking) this.bus.publish(`$JS.API.STREAM.INFO.${name}`, `${inbox}.${key}`, null, Buffer.alloc(0));
    });
    // The INFO replies' own envelope (response type, paging) is not part of a LIST entry.
    for (const info of infos) for (const k of ['type', 'total', 'offset', 'limit']) delete (info as unknown as Record<string, unknown>)[k];
    return { infos, missing: [...pending].map((k) => asking.get(k)!).sort() };
  }

  /** A replicated stream's `cluster` block: the group's leader and how current each follower is. */
  private clusterBlock(replica: ReplicatedStream): ClusterInfo {
    const raft = replica.raft;
    const self = this.deps.network.self;
    const replicas = (raft?.members ?? [])
      .filter((m) => m !== self)
      .map((name) => {
        const p = raft?.progressOf(name);
        const lag = p === undefined ? 0 : Math.max(0, (raft?.lastIndex ?? 0) - p.match);
        return { name, current: p !== undefined && p.recentActive && lag === 0, active: 0, lag, peer: nodeIdOf(name).toString(16) };
      });
    return { name: this.deps.clusterName, leader: raft?.leader ?? '', replicas };
  }

  /** StreamInfo from the leader's replica, with the `cluster` block. */
  info(replica: ReplicatedStream): Record<string, unknown> {
    const { info } = streamInfo(replica.stream, {
      nowNs: this.deps.clock.epochNs(),
      cluster: this.clusterBlock(replica),
      consumerCount: this.deps.consumers.perStream(replica.name),
    });
    return info as unknown as Record<string, unknown>;
  }
}

function wantsReplicas(req: ApiRequest): boolean {
  const parsed = parseJsonObject(req.data, true);
  return parsed.ok && typeof parsed.value.num_replicas === 'number' && parsed.value.num_replicas > 1;
}

function notYet(what: string): ApiError {
  return jsApiError('StreamGeneral', { err: `${what} on replicated streams is not supported by this server yet` });
}
