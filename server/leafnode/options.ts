// Leaf node settings: defaults, remote URLs and validation (one line naming the field, like every
// other option; server/options.ts calls leafnodesRule).

import type { LeafNodeOptions, LeafRemoteOptions } from '../options-types.ts';

/** nats-server's default leafnode port (the listener's, when `port` is not given in a block). */
export const DEFAULT_LEAFNODE_PORT = 7422;
/** nats-server's default delay before redialling a hub. */
export const DEFAULT_LEAF_RECONNECT_MS = 1000;

export function defaultLeafNodeOptions(): LeafNodeOptions {
  return { host: '', port: undefined, user: undefined, pass: undefined, account: '', remotes: [], reconnectMs: DEFAULT_LEAF_RECONNECT_MS };
}

export function defaultLeafRemote(urls: string[]): LeafRemoteOptions {
  return { urls, credentials: '', account: '', tls: undefined, denyImports: [], denyExports: [] };
}

export interface LeafUrl {
  readonly host: string;
  readonly port: number;
  /** TLS asked for by the scheme (tls://, wss://). */
  readonly tls: boolean;
  /** A WebSocket remote (ws://, wss://): the hub's WebSocket port, path `/leafnode`. */
  readonly ws: boolean;
  /** The WebSocket path to request ('/leafnode' unless the URL names one ending in it). */
  readonly path: string;
  /** Credentials in the URL ('' = none). */
  readonly user: string;
  readonly pass: string;
}

const LEAF_URL = /^(nats-leaf|nats|tls|leafnode|ws|wss):\/\/(?:([^:@/\s]*)(?::([^@/\s]*))?@)?(\[[^\]]+\]|[^:/\s@]+)(?::(\d{1,5}))?(\/[^\s]*)?$/i;

/** The path a WebSocket leaf connection asks for; nats-server routes it to its leafnode code. */
const WS_LEAF_PATH = '/leafnode';

/**
 * `nats-leaf://[user:pass@]host[:port]`; nats://, tls:// and leafnode:// too, port 7422 by
 * default; `ws://` and `wss://` for a hub's WebSocket port (80 / 443 by default).
 */
export function parseLeafUrl(text: string): LeafUrl | undefined {
  const m = LEAF_URL.exec(text.trim());
  if (m === null) return undefined;
  const scheme = m[1]!.toLowerCase();
  const ws = scheme === 'ws' || scheme === 'wss';
  const path = m[6] ?? '';
  if (!ws && path !== '' && path !== '/') return undefined;
  const port = m[5] !== undefined ? Number(m[5]) : ws ? (scheme === 'wss' ? 443 : 80) : DEFAULT_LEAFNODE_PORT;
  if (port < 1 || port > 65535) return undefined;
  const host = m[4]!.startsWith('[') ? m[4]!.slice(1, -1) : m[4]!;
  return {
    host,
    port,
    tls: scheme === 'tls' || scheme === 'wss',
    ws,
    path: !ws ? '' : path.endsWith(WS_LEAF_PATH) ? path : `${path.replace(/\/$/, '')}${WS_LEAF_PATH}`,
    user: m[2] === undefined ? '' : decodeURIComponent(m[2]),
    pass: m[3] === undefined ? '' : decodeURIComponent(m[3]),
  };
}

export const LEAF_URL_EXPECTED = 'a leafnode URL such as "nats-leaf://user:pass@hub:7422"';

/** undefined when valid; otherwise "<field> to be ..." for the options error line. */
export function leafnodesRule(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) return 'leafnodes to be a block { port, remotes, authorization }';
  const d = defaultLeafNodeOptions() as unknown as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!(k in d)) return `leafnodes to have no key ${JSON.stringify(k)}`;
  if (typeof v.host !== 'string') return 'leafnodes.host to be an interface name or address';
  if (v.port !== undefined && (!isInt(v.port) || v.port < 0 || v.port > 65535)) return 'leafnodes.port to be an integer 0..65535 (0 = a free port)';
  if (v.user !== undefined && (typeof v.user !== 'string' || v.user === '')) return 'leafnodes.user to be a non-empty user name';
  if (v.pass !== undefined && typeof v.pass !== 'string') return 'leafnodes.pass to be a password string';
  if (typeof v.account !== 'string' || /[\s.*>]/.test(v.account)) return 'leafnodes.account to be an account name';
  if (!isInt(v.reconnectMs) || v.reconnectMs <= 0) return 'leafnodes.reconnectMs to be a positive duration in milliseconds';
  if (!Array.isArray(v.remotes)) return 'leafnodes.remotes to be a list of remotes';
  for (let i = 0; i < v.remotes.length; i++) {
    const why = remoteRule(v.remotes[i], `leafnodes.remotes[${i}]`);
    if (why !== undefined) return why;
  }
  return undefined;
}

function remoteRule(r: unknown, path: string): string | undefined {
  if (!isObject(r)) return `${path} to be a block { url, credentials, account, tls, deny_imports, deny_exports }`;
  const d = defaultLeafRemote([]) as unknown as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!(k in d)) return `${path} to have no key ${JSON.stringify(k)}`;
  if (!Array.isArray(r.urls) || r.urls.length === 0) return `${path}.url to be ${LEAF_URL_EXPECTED}`;
  for (let i = 0; i < r.urls.length; i++) {
    const u: unknown = r.urls[i];
    if (typeof u !== 'string' || parseLeafUrl(u) === undefined) return `${path}.urls[${i}] to be ${LEAF_URL_EXPECTED}`;
  }
  if (typeof r.credentials !== 'string') return `${path}.credentials to be a file path`;
  // Which accounts exist is checked with the rest of the options (server/accounts/config.ts).
  if (typeof r.account !== 'string' || /[\s.*>]/.test(r.account)) return `${path}.account to be an account name`;
  for (const k of ['denyImports', 'denyExports'] as const) {
    const list = r[k];
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s !== '')) return `${path}.${k} to be a list of subjects`;
  }
  if (r.tls !== undefined) {
    if (!isObject(r.tls)) return `${path}.tls to be a block { ca_file, cert_file, key_file, verify }`;
    for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
      const f = r.tls[k];
      if (f !== undefined && (typeof f !== 'string' || f === '')) return `${path}.tls.${k} to be a file path`;
    }
    if ((r.tls.certFile === undefined) !== (r.tls.keyFile === undefined)) return `${path}.tls to have both cert_file and key_file, or neither`;
    if (typeof r.tls.verify !== 'boolean') return `${path}.tls.verify to be true or false`;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
