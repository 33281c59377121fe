// /varz: server identity, configuration and counters, with nats-server's field names.

import os from 'node:os';
import { ADVERTISED_SERVER_VERSION, PROTOCOL_VERSION, SLUICE_VERSION } from '../../protocol/version.ts';
import type { ServerOptions } from '../options-types.ts';
import type { ServerStats } from '../stats.ts';
import { formatUptime, type CpuSampler } from './http.ts';

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
    ping_interval: o.pingIntervalMs * 1_000_000,
    ping_max: o.maxPingsOutstanding,
    http_host: o.httpHost,
    http_port: src.httpPort,
    auth_timeout: o.authTimeoutMs / 1000,
    max_control_line: o.maxControlLineBytes,
    max_payload: o.maxPayloadBytes,
    max_pending: o.maxPendingBytes,
    write_deadline: o.writeDeadlineMs * 1_000_000,
    jetstream: src.jetstreamEnabled() ? { config: { store_dir: o.storeDir } } : {},
    start: new Date(src.startMs).toISOString(),
    now: new Date(now).toISOString(),
    uptime: formatUptime(now - src.startMs),
    mem: process.memoryUsage.rss(),
    cores: os.cpus().length,
    cpu: src.cpu.sample(),
    connections: src.connectionCount(),
    total_connections: src.stats.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: 0,
    in_msgs: src.stats.inMsgs,
    out_msgs: src.stats.outMsgs,
    in_bytes: src.stats.inBytes,
    out_bytes: src.stats.outBytes,
    slow_consumers: src.stats.slowConsumers,
    subscriptions: src.subscriptionCount(),
  };
}
