// Connection options: the public shape, the defaults in one place, and their validation.

import type { Clock } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import { NatsError, ErrorCode } from './errors.ts';

/** TLS settings for tls:// (and nats:// with `tls` set). Passed through to node:tls in Node. */
export interface TlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Uint8Array | (string | Uint8Array)[];
  /** PEM client certificate and key (for servers that verify clients). */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  /** Skip server certificate verification (tests only). */
  rejectUnauthorized?: boolean;
  /** Server name for SNI and verification; defaults to the URL's host. */
  servername?: string;
}

export interface ConnectionOptions {
  /** One URL or a list: `nats://`, `tls://`, `ws://`, `wss://`, or `host:port` (nats://). */
  servers?: string | string[];
  /** Client name shown in server monitoring. */
  name?: string;
  token?: string;
  user?: string;
  pass?: string;
  /** An nkey user seed (`SU...`): the client signs the server's nonce with it. */
  nkeySeed?: string;
  /** TLS for nats:// URLs (tls:// and wss:// always use TLS). `true` = defaults. */
  tls?: TlsOptions | boolean;
  /** Per-attempt connect timeout (socket + handshake). */
  timeoutMs?: number;
  /** Client keepalive: a PING every pingIntervalMs; more than maxPingOut unanswered = stale. */
  pingIntervalMs?: number;
  maxPingOut?: number;
  /** Reconnect after losing the connection (default true). */
  reconnect?: boolean;
  /** Attempts per server before it is dropped from the pool; -1 = forever. */
  maxReconnectAttempts?: number;
  /** First wait between attempts at the same server; doubles per failed attempt up to the max. */
  reconnectTimeWaitMs?: number;
  maxReconnectTimeWaitMs?: number;
  /** Random extra wait in [0, jitter) added to every backoff (tls:// and wss:// use the TLS one). */
  reconnectJitterMs?: number;
  reconnectJitterTlsMs?: number;
  /** Bytes of publishes kept while disconnected; publishing beyond it throws. */
  reconnectBufferBytes?: number;
  /** If the first connect fails, keep trying (as a reconnect) instead of rejecting. */
  waitOnFirstConnect?: boolean;
  /** Re-send pending requests after a reconnect instead of failing them with DISCONNECTED. */
  retryRequestsOnReconnect?: boolean;
  /** Do not deliver this connection's own publishes to its own subscriptions. */
  noEcho?: boolean;
  /** Prefix of reply inboxes (default `_INBOX`). */
  inboxPrefix?: string;
  /** Try servers in the given order instead of shuffling. */
  noRandomize?: boolean;
  /** Ignore connect_urls from the server (no cluster discovery). */
  ignoreClusterUpdates?: boolean;
  /** Verbose/pedantic protocol modes (for debugging; +OK is ignored). */
  verbose?: boolean;
  pedantic?: boolean;
  /** Default client-side pending limits per subscription (iterator mode). -1 = unlimited. */
  pendingLimitMsgs?: number;
  pendingLimitBytes?: number;
  /** Timeout for request() when none is given. */
  requestTimeoutMs?: number;
  /** Injected time and randomness (tests, simulation). */
  clock?: Clock;
  rng?: Rng;
}

export interface ResolvedOptions {
  servers: string[];
  name: string;
  token: string | undefined;
  user: string | undefined;
  pass: string | undefined;
  nkeySeed: string | undefined;
  tls: TlsOptions | undefined;
  timeoutMs: number;
  pingIntervalMs: number;
  maxPingOut: number;
  reconnect: boolean;
  maxReconnectAttempts: number;
  reconnectTimeWaitMs: number;
  maxReconnectTimeWaitMs: number;
  reconnectJitterMs: number;
  reconnectJitterTlsMs: number;
  reconnectBufferBytes: number;
  waitOnFirstConnect: boolean;
  retryRequestsOnReconnect: boolean;
  noEcho: boolean;
  inboxPrefix: string;
  noRandomize: boolean;
  ignoreClusterUpdates: boolean;
  verbose: boolean;
  pedantic: boolean;
  pendingLimitMsgs: number;
  pendingLimitBytes: number;
  requestTimeoutMs: number;
}

export const DEFAULTS = {
  servers: ['nats://127.0.0.1:4222'],
  timeoutMs: 20_000,
  pingIntervalMs: 2 * 60 * 1000,
  maxPingOut: 2,
  maxReconnectAttempts: 10,
  reconnectTimeWaitMs: 2000,
  maxReconnectTimeWaitMs: 30_000,
  reconnectJitterMs: 100,
  reconnectJitterTlsMs: 1000,
  reconnectBufferBytes: 8 * 1024 * 1024,
  inboxPrefix: '_INBOX',
  pendingLimitMsgs: 512 * 1024,
  pendingLimitBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 5000,
} as const;

function invalid(what: string): NatsError {
  return new NatsError(ErrorCode.InvalidOption, what);
}

function nonNegative(name: string, v: number | undefined, dflt: number, allowMinusOne = false): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || (v < 0 && !(allowMinusOne && v === -1))) throw invalid(`${name} must be >= 0, got ${v}`);
  return v;
}

export function resolveOptions(opts: ConnectionOptions): ResolvedOptions {
  const servers = opts.servers === undefined ? [...DEFAULTS.servers] : Array.isArray(opts.servers) ? [...opts.servers] : [opts.servers];
  if (servers.length === 0) throw invalid('servers is empty');
  for (const s of servers) parseServerUrl(s); // throws on a bad URL
  const inboxPrefix = opts.inboxPrefix ?? DEFAULTS.inboxPrefix;
  if (inboxPrefix.length === 0 || /[\s*>]/.test(inboxPrefix) || inboxPrefix.endsWith('.')) {
    throw invalid(`invalid inboxPrefix '${inboxPrefix}'`);
  }
  if (opts.token !== undefined && opts.user !== undefined) throw invalid('token and user are exclusive');
  const tls = opts.tls === true ? {} : opts.tls === false ? undefined : opts.tls;
  const pingIntervalMs = nonNegative('pingIntervalMs', opts.pingIntervalMs, DEFAULTS.pingIntervalMs);
  return {
    servers,
    name: opts.name ?? '',
    token: opts.token,
    user: opts.user,
    pass: opts.pass,
    nkeySeed: opts.nkeySeed,
    tls,
    timeoutMs: nonNegative('timeoutMs', opts.timeoutMs, DEFAULTS.timeoutMs),
    pingIntervalMs,
    maxPingOut: nonNegative('maxPingOut', opts.maxPingOut, DEFAULTS.maxPingOut),
    reconnect: opts.reconnect ?? true,
    maxReconnectAttempts: nonNegative('maxReconnectAttempts', opts.maxReconnectAttempts, DEFAULTS.maxReconnectAttempts, true),
    reconnectTimeWaitMs: nonNegative('reconnectTimeWaitMs', opts.reconnectTimeWaitMs, DEFAULTS.reconnectTimeWaitMs),
    maxReconnectTimeWaitMs: nonNegative('maxReconnectTimeWaitMs', opts.maxReconnectTimeWaitMs, DEFAULTS.maxReconnectTimeWaitMs),
    reconnectJitterMs: nonNegative('reconnectJitterMs', opts.reconnectJitterMs, DEFAULTS.reconnectJitterMs),
    reconnectJitterTlsMs: nonNegative('reconnectJitterTlsMs', opts.reconnectJitterTlsMs, DEFAULTS.reconnectJitterTlsMs),
    reconnectBufferBytes: nonNegative('reconnectBufferBytes', opts.reconnectBufferBytes, DEFAULTS.reconnectBufferBytes),
    waitOnFirstConnect: opts.waitOnFirstConnect ?? false,
    retryRequestsOnReconnect: opts.retryRequestsOnReconnect ?? false,
    noEcho: opts.noEcho ?? false,
    inboxPrefix,
    noRandomize: opts.noRandomize ?? false,
    ignoreClusterUpdates: opts.ignoreClusterUpdates ?? false,
    verbose: opts.verbose ?? false,
    pedantic: opts.pedantic ?? false,
    pendingLimitMsgs: nonNegative('pendingLimitMsgs', opts.pendingLimitMsgs, DEFAULTS.pendingLimitMsgs, true),
    pendingLimitBytes: nonNegative('pendingLimitBytes', opts.pendingLimitBytes, DEFAULTS.pendingLimitBytes, true),
    requestTimeoutMs: nonNegative('requestTimeoutMs', opts.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
  };
}

export type Scheme = 'nats' | 'tls' | 'ws' | 'wss';

/** A parsed server address. `key` (scheme://host:port[path]) identifies it in the pool. */
export interface ServerUrl {
  readonly scheme: Scheme;
  readonly host: string;
  readonly port: number;
  /** WebSocket path ('' for TCP). */
  readonly path: string;
  /** Credentials embedded in the URL (user:pass@ or token@). */
  readonly user: string;
  readonly pass: string;
  readonly key: string;
}

const DEFAULT_PORTS: Record<Scheme, number> = { nats: 4222, tls: 4222, ws: 80, wss: 443 };

/** Parse `nats://h:p`, `tls://`, `ws://h:p/path`, `wss://`, or a bare `h:p` (nats://). */
export function parseServerUrl(raw: string, defaultScheme: Scheme = 'nats'): ServerUrl {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `${defaultScheme}://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw invalid(`invalid server URL '${raw}'`);
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'nats' && scheme !== 'tls' && scheme !== 'ws' && scheme !== 'wss') {
    throw invalid(`unsupported URL scheme '${scheme}' in '${raw}'`);
  }
  if (u.hostname === '') throw invalid(`server URL without host: '${raw}'`);
  const port = u.port === '' ? DEFAULT_PORTS[scheme] : Number(u.port);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const isWs = scheme === 'ws' || scheme === 'wss';
  const path = isWs ? (u.pathname === '/' ? '' : u.pathname) + u.search : '';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    scheme,
    host,
    port,
    path,
    user: decodeURIComponent(u.username),
    pass: decodeURIComponent(u.password),
    key: `${scheme}://${hostPart}:${port}${path}`,
  };
}
