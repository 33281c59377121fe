// JetStream's entry point for the server: startJetStream opens the store, brings streams back,
// binds their subjects and the $JS.API handlers on the MessageBus, and returns the service the
// server closes on shutdown. streams/ never imports server/: the bus is all it needs.

import type { Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import type { AccountLimits, ConsumerInfo, StorageType, StreamInfo } from '../protocol/jetstream-api.ts';
import { AccountJetStreamLimits, NO_ACCOUNT_LIMITS, type ServerJetStreamLimits, type UsageSource } from './limits.ts';
import { registerConsumerApi } from './api/consumers.ts';
import { DirectGetBinder } from './api/direct.ts';
import { streamInfo } from './stream/info.ts';
import { registerStreamApi } from './api/streams.ts';
import { ApiRouter } from './api/router.ts';
import { ApiAdvisories } from './api/advisories.ts';
import type { MessageBus } from './bus.ts';
import { ConsumerRegistry } from './consumer/registry.ts';
import { ConsumerStore } from './consumer/persistence.ts';
import { StreamSourcing } from './sourcing/sourcing.ts';
import { StreamManager } from './manager.ts';
import { DEFAULT_SYNC_MODE, type SyncMode } from './store/lmdb-env.ts';
import type { Rng } from '../runtime/rng.ts';
import { RaftGroups } from './replication/groups.ts';
import { hasRaftLog } from './replication/lmdb-raft-storage.ts';
import { META_GROUP, MetaGroup } from './replication/meta.ts';
import { ClusteredStreams } from './replication/clustered.ts';
import type { RaftNetwork } from './replication/network.ts';

export interface JetStreamDeps {
  /** JetStream data lives in <storeDir>/jetstream (one LMDB environment). */
  storeDir: string;
  bus: MessageBus;
  clock: Clock;
  logger: Logger;
  /** Reported as the stream leader in STREAM.INFO. */
  serverName: string;
  maxPayloadBytes: number;
  /** When a write counts as done: docs/adr/0008-sync-modes.md. Default 'committed'. */
  sync?: SyncMode;
  /** Committed mode: how often the environment is fsynced; default 1 s. */
  syncIntervalMs?: number;
  /** Budget of the recently-written-messages cache (store/record-cache.ts); 0 = none. */
  readCacheBytes?: number;
  /** `jetstream { domain }`: named in PubAcks, account info and stream info, as nats-server does. */
  domain?: string;
  /** This account's limits (streams/limits.ts); default none. */
  limits?: Readonly<AccountLimits>;
  /** The server's totals, shared by every account's JetStream; default none. */
  serverLimits?: ServerJetStreamLimits;
  /**
   * The client whose request is being delivered right now, as nats-server's ClientInfo, for the
   * API audit advisory (api/advisories.ts); undefined when unknown (a request from a peer).
   */
  requester?: () => Record<string, unknown> | undefined;
}

export interface JetStreamStats {
  streams: number;
  consumers: number;
  messages: number;
  bytes: number;
  memory: number;
  storage: number;
}

export interface JetStreamService {
  readonly manager: StreamManager;
  /** The $JS.API router; the consumer layer registers its CONSUMER.* routes here. */
  readonly api: ApiRouter;
  /** The account's limits and what they are checked against. */
  readonly limits: AccountJetStreamLimits;
  /**
   * Set by the consumer layer: consumers on one stream / in total (account info, stream info,
   * stats). Default: none.
   */
  consumerCounts: { perStream(stream: string): number; total(): number };
  /** STREAM.INFO of every stream here (monitoring: /jsz, /metrics, the dashboard). */
  streamInfos(): StreamInfo[];
  /** CONSUMER.INFO of every consumer on `stream` (monitoring). */
  consumerInfos(stream: string): ConsumerInfo[];
  stats(): JetStreamStats;
  /**
   * Joins the cluster's JetStream: Raft groups over `network` and the meta group
   * (docs/adr/0010-replicated-jetstream.md). Called once, by a clustered server.
   */
  joinCluster(network: RaftNetwork, rng: Rng, clusterName: string): void;
  /** Replicated streams, once joinCluster was called. */
  readonly clustered: ClusteredStreams | null;
  /** '' when this server's JetStream is ready; else why not (clustered: not caught up). */
  /** `serverOnly`: the meta group only, not every stream's group (healthz js-server-only). */
  health(serverOnly?: boolean): string;
  /** The meta group, once joinCluster was called. */
  readonly meta: MetaGroup | null;
  close(): Promise<void>;
}

export async function startJetStream(deps: JetStreamDeps): Promise<JetStreamService> {
  const logger = deps.logger.child({ component: 'jetstream' });
  // The manager exists once its streams are back; publishes before that see no usage.
  let opened: StreamManager | undefined;
  const usage: UsageSource = {
    usage: () => opened?.stats() ?? { memory: 0, storage: 0 },
    configs: () => opened?.configs() ?? [],
  };
  const limits = new AccountJetStreamLimits(deps.limits ?? NO_ACCOUNT_LIMITS, deps.serverLimits, usage, deps.clock);
  const leaveServerTotals = deps.serverLimits?.add(usage);
  const managerDeps = {
    storeDir: deps.storeDir,
    bus: deps.bus,
    clock: deps.clock,
    logger,
    sync: deps.sync ?? DEFAULT_SYNC_MODE,
    syncIntervalMs: deps.syncIntervalMs,
    readCacheBytes: deps.readCacheBytes,
    domain: deps.domain,
    // Without limits nothing is asked per publish.
    admit: limits.checksPublish ? (storage: StorageType, bytes: number) => limits.admit(storage, bytes) : undefined,
  };
  const manager = await StreamManager.open(managerDeps);
  opened = manager;
  const api = new ApiRouter(deps.bus, logger);
  api.advisories = new ApiAdvisories({ bus: deps.bus, clock: deps.clock, serverName: deps.serverName, domain: deps.domain, ...(deps.requester !== undefined ? { requester: deps.requester } : {}) });
  const direct = new DirectGetBinder(deps.bus, logger);
  manager.addLifecycle(direct);
  const consumerStore = new ConsumerStore(manager.env, managerDeps.sync, deps.clock, logger);
  const consumers = new ConsumerRegistry({ manager, bus: deps.bus, clock: deps.clock, logger, store: consumerStore, maxConsumers: (streamMax) => limits.maxConsumers(streamMax), maxAckPending: limits.limits.max_ack_pending });
  manager.addLifecycle(consumers);
  consumers.finishRecovery();
  const sourcing = new StreamSourcing({ clock: deps.clock, logger, bus: deps.bus, mirrorCaughtUp: (mirror, origin) => direct.bindMirror(mirror, origin) });
  manager.addLifecycle(sourcing);

  let closing: Promise<void> | null = null;
  let raftGroups: RaftGroups | null = null;
  let meta: MetaGroup | null = null;
  let clustered: ClusteredStreams | null = null;
  const service: JetStreamService = {
    manager,
    api,
    limits,
    get meta() {
      return meta;
    },
    get clustered() {
      return clustered;
    },
    health(serverOnly) {
      return clustered?.health(serverOnly) ?? '';
    },
    joinCluster(network, rng, clusterName) {
      if (raftGroups !== null) return;
      const groupLogger = logger.child({ component: 'raft' });
      raftGroups = new RaftGroups({
        network,
        root: manager.env.root,
        clock: deps.clock,
        rng,
        logger: groupLogger,
        // A Raft log write is done when the sync mode says a write is done (ADR 0008).
        durability: managerDeps.sync === 'durable' ? 'flushed' : 'committed',
      });
      clustered = new ClusteredStreams({
        bus: deps.bus,
        api,
        manager,
        groups: raftGroups,
        network,
        clock: deps.clock,
        logger: groupLogger,
        clusterName,
        direct,
        consumers,
        limits,
      });
      meta = new MetaGroup({
        groups: raftGroups,
        network,
        clock: deps.clock,
        logger: groupLogger,
        applier: clustered.applier(),
        hasLog: hasRaftLog(manager.env.root, META_GROUP),
      });
      clustered.start(meta);
      meta.start();
    },
    consumerCounts: { perStream: (stream) => consumers.perStream(stream), total: () => consumers.total() },
    streamInfos() {
      const nowNs = deps.clock.epochNs();
      return manager.list().map((stream) => {
        const cluster = stream.clusterInfo?.();
        const opts = { nowNs, leader: deps.serverName, consumerCount: consumers.perStream(stream.name) };
        return streamInfo(stream, cluster !== undefined ? { ...opts, cluster: { ...cluster } } : opts).info;
      });
    },
    consumerInfos(stream) {
      const now = deps.clock.epochNs();
      return consumers.list(stream).map((c) => c.info(now));
    },
    stats() {
      const s = manager.stats();
      return {
        streams: s.streams,
        consumers: service.consumerCounts.total(),
        messages: s.messages,
        bytes: s.bytes,
        memory: s.memory,
        storage: s.storage,
      };
    },
    close() {
      closing ??= (async () => {
        await meta?.close();
        await clustered?.close();
        await raftGroups?.close();
        api.stop();
        sourcing.close();
        direct.close();
        await consumers.close();
        await manager.close();
        leaveServerTotals?.();
        logger.info({}, 'JetStream stopped');
      })();
      return closing;
    },
  };

  registerStreamApi(api, {
    manager,
    clock: deps.clock,
    serverName: deps.serverName,
    domain: deps.domain,
    consumerCount: (stream) => service.consumerCounts.perStream(stream),
    totalConsumers: () => service.consumerCounts.total(),
    apiStats: () => api.stats,
    sourceInfo: (stream) => sourcing.info(stream),
    limits,
  });
  registerConsumerApi(api, { registry: consumers, manager, clock: deps.clock, clustered: () => raftGroups !== null });
  api.start();
  const st = manager.stats();
  logger.info(
    { store_dir: deps.storeDir, sync: managerDeps.sync, streams: st.streams, messages: st.messages, consumers: consumers.total() },
    'JetStream started',
  );
  return service;
}

export { StreamManager, JsApiException } from './manager.ts';
export { ServerJetStreamLimits, AccountJetStreamLimits, NO_ACCOUNT_LIMITS } from './limits.ts';
export { DEFAULT_READ_CACHE_BYTES } from './store/record-cache.ts';
export type { StreamLifecycle } from './manager.ts';
export { DEFAULT_SYNC_INTERVAL_MS, DEFAULT_SYNC_MODE, SYNC_MODES, SyncMode } from './store/lmdb-env.ts';
export { ApiRouter, NO_RESPONSE, requestJson, requireEmpty, apiFail, API_PREFIX } from './api/router.ts';
export type { ApiRequest, ApiRoute } from './api/router.ts';
export { Stream } from './stream/stream.ts';
export type { StreamObserver } from './stream/stream.ts';
export { applyOp } from './stream/ops.ts';
export type { StreamOp, StreamMachine, ApplyResult } from './stream/ops.ts';
export type { MessageBus, BusHandler, BusSubscription } from './bus.ts';
export { ConsumerRegistry } from './consumer/registry.ts';
export { Consumer } from './consumer/consumer.ts';
