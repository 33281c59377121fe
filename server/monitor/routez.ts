// /routez: the routes to the other servers of the cluster, with nats-server's field names and
// types (its Routez/RouteInfo). `subs=1` lists each route's subscriptions (the peer's interest).

import type { RouteLink } from '../cluster/route.ts';
import { formatUptime } from './http.ts';

export interface RoutezSource {
  readonly serverId: string;
  readonly serverName: string;
  nowMs(): number;
  /** Open routes; none when the server is not clustered. */
  routes(): readonly RouteLink[];
  /** URLs this server was configured to dial. */
  configured(): readonly string[];
}

/** A Go time.Duration as nats-server prints rtt: "1.234ms", "512µs", "2s". */
export function formatRtt(ms: number): string {
  if (ms < 0) return '0s';
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(3))}ms`;
  return `${Number((ms / 1000).toFixed(3))}s`;
}

export function buildRoutez(src: RoutezSource, query: URLSearchParams): Record<string, unknown> {
  const now = src.nowMs();
  const withSubs = query.get('subs') === '1' || query.get('subs') === 'true';
  const configured = new Set(src.configured());
  const routes = src.routes().map((r) => {
    const info: Record<string, unknown> = {
      rid: r.rid,
      remote_id: r.peer?.id ?? '',
      remote_name: r.peer?.name ?? '',
      did_solicit: r.outbound,
      is_configured: r.outbound && configured.has(r.dialUrl),
      ip: r.remoteAddress,
      port: r.remotePort,
      start: new Date(r.startMs).toISOString(),
      last_activity: new Date(r.lastActivityMs).toISOString(),
      rtt: formatRtt(r.rttMs),
      uptime: formatUptime(now - r.startMs),
      idle: formatUptime(now - r.lastActivityMs),
      pending_size: r.pendingBytes,
      in_msgs: r.inMsgs,
      out_msgs: r.outMsgs,
      in_bytes: r.inBytes,
      out_bytes: r.outBytes,
      subscriptions: r.remoteSubs.size,
    };
    if (withSubs) info.subscriptions_list = [...r.remoteSubs.values()].map((s) => (s.queue === '' ? s.subject : `${s.subject} ${s.queue}`));
    return info;
  });
  return {
    server_id: src.serverId,
    server_name: src.serverName,
    now: new Date(now).toISOString(),
    num_routes: routes.length,
    routes,
  };
}
