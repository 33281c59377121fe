// /varz: server identity, configuration and counters, with nats-server's field names (its Varz;
// the blocks of features sluice does not have, gateway, leaf and mqtt, are empty objects as on a
// nats-server without them).

import os from 'node:os';
import { ADVERTISED_SERVER_VERSION, PROTOCOL_VERSION, SLUICE_VERSION } from '../../protocol/version.ts';
import type { ServerOptions } from '../options-types.ts';
import type { ServerStats } from '../stats.ts';
import { formatUptime, type CpuSampler, type RequestCounts } from './http.ts';

export interface VarzSource {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: ServerOptions;
  readonly stats: ServerStats;
  readonly startMs: number;
  readonly clientPort: number;
  readonly httpPort: number;
  readonly cpu: CpuSampler;
  nowMs(): number;
  connectionCount(): number;
  subscriptionCount(): number;
  jetstreamEnabled(): boolean;
  /** JetStream's usage, when enabled (the `jetstream.stats` block). */
  jetstreamStats?(): { memory: number; storage: number; api: { total: number; errors: number } };
  /** Requests served per monitoring path. */
  readonly requestCounts?: RequestCounts;
  /** When the configuration in force was loaded (start, or the last reload). */
  configLoadTimeMs?(): number;
  /** Clients must authenticate. */
  readonly authRequired?: boolean;
  /** The bound WebSocket port, when there is a WebSocket listener. */
  readonly wsPort?: number;
  /** The WebSocket listener uses TLS. */
  readonly wsTls?: boolean;
  /** The bound cluster port, when clustered. */
  readonly clusterPort?: number;
  /** Open routes (also the number of remote servers: one route per peer). */
  routeCount(): number;
  /** Open leaf node connections and the `leaf` block (server/monitor/leafz.ts). */
  leafCount?(): number;
  leafBlock?(): Record<string, unknown>;
}

export function buildVarz(src: VarzSource): Record<string, unknown> {
  const o = src.options;
  const now = src.nowMs();
  return {
    server_id: src.serverId,
    server_name: src.serverName,
    version: ADVERTISED_SERVER_VERSION,
    sluice_version: SLUICE_VERSION,
    proto: PROTOCOL_VERSION,
    go: `node${process.versions.node}`,
    host: o.host,
    port: src.clientPort,
    max_connections: o.maxConnections,
    // Only when limited, as nats-server (omitempty).
    ...(o.maxSubscriptionsPerConnection > 0 ? { max_subscriptions: o.maxSubscriptionsPerConnection } : {}),
    ping_interval: o.pingIntervalMs * 1_000_000,
    ping_max: o.maxPingsOutstanding,
    http_host: o.httpHost,
    http_port: src.httpPort,
    http_base_path: '',
    https_port: 0,
    auth_timeout: o.authTimeoutMs / 1000,
    // Present only when true, as nats-server's omitempty fields.
    ...(src.authRequired === true ? { auth_required: true } : {}),
    ...(o.tls !== undefined ? { tls_required: true } : {}),
    ...(o.tls?.verify === true ? { tls_verify: true } : {}),
    max_control_line: o.maxControlLineBytes,
    max_payload: o.maxPayloadBytes,
    max_pending: o.maxPendingBytes,
    cluster:
      o.cluster === undefined
        ? {}
        : {
            name: o.cluster.name,
            addr: o.cluster.host || o.host,
            cluster_port: src.clusterPort ?? o.cluster.port,
            ...(o.cluster.routes.length > 0 ? { urls: o.cluster.routes.map(hostPortOf) } : {}),
          },
    gateway: {},
    leaf: src.leafBlock?.() ?? {},
    mqtt: {},
    websocket:
      src.wsPort === undefined
        ? {}
        : {
            host: o.websocket.host || o.host,
            port: src.wsPort,
            ...(o.websocket.advertise !== undefined ? { advertise: o.websocket.advertise } : {}),
            ...(src.wsTls === true ? {} : { no_tls: true }),
            ...(o.websocket.compression ? { compression: true } : {}),
            ...(o.websocket.allowedOrigins.length > 0 ? { allowed_origins: [...o.websocket.allowedOrigins] } : {}),
            ...(o.websocket.sameOrigin ? { same_origin: true } : {}),
          },
    jetstream: jetstreamBlock(src),
    // nats-server prints the TLS handshake timeout (its default, 2 s) with or without TLS.
    tls_timeout: (o.tls?.timeoutMs ?? 2000) / 1000,
    write_deadline: o.writeDeadlineMs * 1_000_000,
    start: new Date(src.startMs).toISOString(),
    now: new Date(now).toISOString(),
    uptime: formatUptime(now - src.startMs),
    mem: process.memoryUsage.rss(),
    cores: os.cpus().length,
    // Node runs JavaScript on one thread: the closest thing to Go's GOMAXPROCS.
    gomaxprocs: 1,
    cpu: src.cpu.sample(),
    connections: src.connectionCount(),
    total_connections: src.stats.totalConnections,
    routes: src.routeCount(),
    remotes: src.routeCount(),
    leafnodes: src.leafCount?.() ?? 0,
    in_msgs: src.stats.inMsgs,
    out_msgs: src.stats.outMsgs,
    in_bytes: src.stats.inBytes,
    out_bytes: src.stats.outBytes,
    slow_consumers: src.stats.slowConsumers,
    subscriptions: src.subscriptionCount(),
    http_req_stats: Object.fromEntries(src.requestCounts ?? []),
    config_load_time: new Date(src.configLoadTimeMs?.() ?? src.startMs).toISOString(),
    // The system account always exists ($SYS unless configured), as in nats-server.
    system_account: o.systemAccount,
  };
}

function jetstreamBlock(src: VarzSource): Record<string, unknown> {
  if (!src.jetstreamEnabled()) return {};
  const st = src.jetstreamStats?.() ?? { memory: 0, storage: 0, api: { total: 0, errors: 0 } };
  return {
    // jetstream { max_mem, max_file }; without them 0, not nats-server's computed defaults.
    config: { max_memory: Math.max(0, src.options.jetstreamMaxMemory), max_storage: Math.max(0, src.options.jetstreamMaxStore), store_dir: src.options.storeDir ?? '' },
    stats: {
      memory: st.memory,
      storage: st.storage,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 1,
      ha_assets: 0,
      api: { total: st.api.total, errors: st.api.errors },
    },
  };
}

/** nats-server lists configured routes as host:port. */
function hostPortOf(url: string): string {
  return url.replace(/^[a-z-]+:\/\/(?:[^@/]*@)?/i, '').replace(/\/$/, '');
}
