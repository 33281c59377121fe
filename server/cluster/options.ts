// Cluster settings: defaults, route URLs and validation (one line naming the field, like every
// other option; server/options.ts calls clusterRule).

import type { ClusterOptions } from '../options-types.ts';

/** Used when a cluster is configured without a name (nats-server would generate one). */
export const DEFAULT_CLUSTER_NAME = 'sluice';
/** Route keep-alive: a dead peer is noticed within about interval × (max outstanding + 1). */
export const DEFAULT_ROUTE_PING_INTERVAL_MS = 1000;
export const DEFAULT_ROUTE_MAX_PINGS_OUTSTANDING = 3;
/** A peer this far behind is dropped (and redialled) rather than buffered without bound. */
export const DEFAULT_ROUTE_MAX_PENDING_BYTES = 64 * 1024 * 1024;

export function defaultClusterOptions(): ClusterOptions {
  return {
    name: DEFAULT_CLUSTER_NAME,
    host: '',
    port: 0,
    routes: [],
    advertise: '',
    pingIntervalMs: DEFAULT_ROUTE_PING_INTERVAL_MS,
    maxPingsOutstanding: DEFAULT_ROUTE_MAX_PINGS_OUTSTANDING,
    maxPendingBytes: DEFAULT_ROUTE_MAX_PENDING_BYTES,
  };
}

export interface RouteUrl {
  readonly host: string;
  readonly port: number;
  /** The URL as given, for logs and the ports file. */
  readonly url: string;
}

/** `nats-route://host:port` (or `nats://`); credentials and a trailing slash are accepted. */
export function parseRouteUrl(text: string): RouteUrl | undefined {
  const m = /^(nats-route|nats):\/\/(?:[^@/\s]*@)?(\[[^\]]+\]|[^:/\s@]+):(\d{1,5})\/?$/i.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { host, port, url: text.trim() };
}

const ROUTE_URL_EXPECTED = 'a route URL such as "nats-route://127.0.0.1:6222"';

/** undefined when valid; otherwise "<field> to be ..." for the options error line. */
export function clusterRule(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'cluster to be a block { name, port, routes }';
  const c = v as Record<string, unknown>;
  const d = defaultClusterOptions() as unknown as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!(k in d)) return `cluster to have no key ${JSON.stringify(k)}`;
  if (typeof c.name !== 'string' || c.name === '' || /\s/.test(c.name)) return 'cluster.name to be a name without whitespace';
  if (typeof c.host !== 'string') return 'cluster.host to be an interface name or address';
  if (!isInt(c.port) || c.port < 0 || c.port > 65535) return 'cluster.port to be an integer 0..65535 (0 = a free port)';
  if (!Array.isArray(c.routes)) return `cluster.routes to be a list of route URLs`;
  for (let i = 0; i < c.routes.length; i++) {
    const r: unknown = c.routes[i];
    if (typeof r !== 'string' || parseRouteUrl(r) === undefined) return `cluster.routes[${i}] to be ${ROUTE_URL_EXPECTED}`;
  }
  if (typeof c.advertise !== 'string' || (c.advertise !== '' && parseRouteUrl(`nats-route://${c.advertise}`) === undefined)) {
    return 'cluster.advertise to be host:port, such as "10.0.0.5:6222"';
  }
  if (!isInt(c.pingIntervalMs) || c.pingIntervalMs <= 0) return 'cluster.pingIntervalMs to be a positive duration in milliseconds';
  if (!isInt(c.maxPingsOutstanding) || c.maxPingsOutstanding <= 0) return 'cluster.maxPingsOutstanding to be a positive integer';
  if (!isInt(c.maxPendingBytes) || c.maxPendingBytes <= 0) return 'cluster.maxPendingBytes to be a positive size in bytes';
  return undefined;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

export { ROUTE_URL_EXPECTED };
