// Server options: the defaults and the validation, in one place. Flags (cli/), config files
// (server/config/) and embedding callers (startServer) all funnel through resolveOptions, so a
// value is judged by the same rule wherever it came from. Every error is ONE line naming the
// field, because the CLI prints it as-is and exits.

import { LOG_LEVELS, type LogLevel } from '../runtime/logger.ts';
import {
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONTROL_LINE_BYTES,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_PINGS_OUTSTANDING,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_PORT,
  DEFAULT_TLS_TIMEOUT_MS,
  DEFAULT_WRITE_DEADLINE_MS,
  RECOMMENDED_MAX_PAYLOAD_CEILING_BYTES,
} from '../protocol/limits.ts';
import {
  DEFAULT_READ_CACHE_BYTES as DEFAULT_JETSTREAM_READ_CACHE_BYTES,
  DEFAULT_SYNC_INTERVAL_MS,
  DEFAULT_SYNC_MODE,
  SYNC_MODES,
} from '../streams/settings.ts';
import { accountsRule, crossCheckAccounts, DEFAULT_SYSTEM_ACCOUNT } from './accounts/config.ts';
import { MEMORY_RESOLVER, OperatorMode } from './accounts/operator.ts';
import { checkUsers } from './auth/users.ts';
import { clusterRule, defaultClusterOptions } from './cluster/options.ts';
import { defaultLeafNodeOptions, defaultLeafRemote, leafnodesRule } from './leafnode/options.ts';
import type { ServerOptions, TlsOptions, WebSocketOptions } from './options-types.ts';

export type { ServerOptions, TlsOptions, WebSocketOptions } from './options-types.ts';

/**
 * Refused outright above this: a message is buffered whole on both ends, and nats-server's own
 * hard ceiling is 64 MiB as well.
 */
export const MAX_PAYLOAD_HARD_CAP_BYTES = 64 * 1024 * 1024;
/** nats-server stores max_control_line in an int32; so do the clients that read it from INFO. */
const INT32_MAX = 2 ** 31 - 1;

/** An invalid option value. `message` is a single line that names the field. */
export class OptionsError extends Error {
  override name = 'OptionsError';
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** nats-server's defaults: two minutes in all, the first ten seconds without closing anyone. */
export const DEFAULT_LAME_DUCK_DURATION_MS = 2 * 60_000;
export const DEFAULT_LAME_DUCK_GRACE_PERIOD_MS = 10_000;

export function defaultOptions(): ServerOptions {
  return {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    // '' means "use the generated server id" (the server decides, it owns the id).
    serverName: '',
    httpPort: undefined,
    httpHost: DEFAULT_HOST,
    storeDir: undefined,
    jetstreamDomain: undefined,
    jetstreamReadCacheBytes: DEFAULT_JETSTREAM_READ_CACHE_BYTES,
    jetstreamMaxMemory: -1,
    jetstreamMaxStore: -1,
    jetstreamSync: DEFAULT_SYNC_MODE,
    jetstreamSyncIntervalMs: DEFAULT_SYNC_INTERVAL_MS,
    maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES,
    maxControlLineBytes: DEFAULT_MAX_CONTROL_LINE_BYTES,
    maxPendingBytes: DEFAULT_MAX_PENDING_BYTES,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    maxSubscriptionsPerConnection: DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    pingIntervalMs: DEFAULT_PING_INTERVAL_MS,
    maxPingsOutstanding: DEFAULT_MAX_PINGS_OUTSTANDING,
    authTimeoutMs: DEFAULT_AUTH_TIMEOUT_MS,
    writeDeadlineMs: DEFAULT_WRITE_DEADLINE_MS,
    logLevel: 'info',
    logFile: undefined,
    pidFile: undefined,
    lameDuckDurationMs: DEFAULT_LAME_DUCK_DURATION_MS,
    lameDuckGracePeriodMs: DEFAULT_LAME_DUCK_GRACE_PERIOD_MS,
    portsFileDir: undefined,
    wsPort: undefined,
    websocket: defaultWebSocketOptions(),
    cluster: undefined,
    leafnodes: undefined,
    tls: undefined,
    allowNonTls: false,
    token: undefined,
    user: undefined,
    pass: undefined,
    users: [],
    accounts: [],
    noAuthUser: undefined,
    systemAccount: DEFAULT_SYSTEM_ACCOUNT,
    operators: [],
    resolver: undefined,
    resolverPreload: {},
  };
}

export function defaultWebSocketOptions(): WebSocketOptions {
  return {
    host: '',
    noTls: false,
    tls: undefined,
    compression: false,
    allowedOrigins: [],
    sameOrigin: false,
    advertise: undefined,
    handshakeTimeoutMs: 0,
  };
}

/** A TLS setting with its optional parts defaulted (verify off, 2 s handshake, INFO first). */
export function completeTlsOptions(t: Partial<TlsOptions> & Pick<TlsOptions, 'certFile' | 'keyFile'>): TlsOptions {
  return {
    certFile: t.certFile,
    keyFile: t.keyFile,
    caFile: t.caFile,
    verify: t.verify ?? false,
    timeoutMs: t.timeoutMs ?? DEFAULT_TLS_TIMEOUT_MS,
    handshakeFirst: t.handshakeFirst ?? false,
  };
}

// ---------------------------------------------------------------------------------------------
// Per-field rules. Each returns undefined when the value is acceptable, or what was expected
// ("an integer 0..65535"), so callers can phrase the error with their own name for the field
// (`"port"` for options and config keys, `--port` for flags).

type Check = (value: unknown) => string | undefined;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

const portRule: Check = (v) => (isInt(v) && v >= 0 && v <= 65535 ? undefined : 'an integer 0..65535');
const optionalPortRule: Check = (v) => (v === undefined ? undefined : portRule(v));
const positiveIntRule =
  (max = Number.MAX_SAFE_INTEGER, what = 'a positive integer'): Check =>
  (v) =>
    isInt(v) && v > 0 && v <= max ? undefined : max === Number.MAX_SAFE_INTEGER ? what : `${what} up to ${max}`;
const nonNegativeIntRule: Check = (v) => (isInt(v) && v >= 0 ? undefined : 'an integer >= 0 (0 = unlimited)');
const nonEmptyStringRule: Check = (v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'a non-empty string');
const optionalPathRule: Check = (v) =>
  v === undefined ? undefined : typeof v === 'string' && v.trim() !== '' ? undefined : 'a non-empty path';

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const optionalStringRule =
  (what: string): Check =>
  (v) =>
    v === undefined || (typeof v === 'string' && v !== '') ? undefined : what;

const TLS_KEYS = new Set(['certFile', 'keyFile', 'caFile', 'verify', 'timeoutMs', 'handshakeFirst']);

function tlsRule(path: string): Check {
  return (v) => {
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) return `${path} to be { certFile, keyFile, caFile, verify, timeoutMs, handshakeFirst }`;
    for (const k of Object.keys(v)) if (!TLS_KEYS.has(k)) return `${path} to have no key ${JSON.stringify(k)}`;
    for (const k of ['certFile', 'keyFile'] as const) {
      if (typeof v[k] !== 'string' || (v[k] as string).trim() === '') return `${path}.${k} to be a file path`;
    }
    if (v.caFile !== undefined && (typeof v.caFile !== 'string' || v.caFile.trim() === '')) return `${path}.caFile to be a file path`;
    if (typeof v.verify !== 'boolean') return `${path}.verify to be true or false`;
    if (typeof v.handshakeFirst !== 'boolean') return `${path}.handshakeFirst to be true or false`;
    if (!isInt(v.timeoutMs) || v.timeoutMs <= 0) return `${path}.timeoutMs to be a positive duration in milliseconds`;
    return undefined;
  };
}

const websocketRule: Check = (v) => {
  if (!isPlainObject(v)) return 'websocket settings { host, noTls, tls, compression, allowedOrigins, ... }';
  const d = defaultWebSocketOptions() as unknown as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!(k in d)) return `websocket to have no key ${JSON.stringify(k)}`;
  if (typeof v.host !== 'string') return 'websocket.host to be an interface name or address';
  for (const k of ['noTls', 'compression', 'sameOrigin'] as const) {
    if (typeof v[k] !== 'boolean') return `websocket.${k} to be true or false`;
  }
  const origins = v.allowedOrigins;
  if (!Array.isArray(origins)) return 'websocket.allowedOrigins to be a list of origins';
  for (let i = 0; i < origins.length; i++) {
    const o: unknown = origins[i];
    if (typeof o !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+\/?$/i.test(o)) {
      return `websocket.allowedOrigins[${i}] to be an origin such as "https://app.example.com"`;
    }
  }
  if (v.advertise !== undefined && (typeof v.advertise !== 'string' || !/^[^\s:]+:\d+$|^\[[^\]]+\]:\d+$/.test(v.advertise))) {
    return 'websocket.advertise to be "host:port"';
  }
  if (!isInt(v.handshakeTimeoutMs) || v.handshakeTimeoutMs < 0) return 'websocket.handshakeTimeoutMs to be an integer >= 0 (0 = none)';
  return tlsRule('websocket.tls')(v.tls);
};

const RULES: { readonly [K in keyof ServerOptions]-?: Check } = {
  host: nonEmptyStringRule,
  port: portRule,
  // nats-server refuses spaces in server_name: it appears unquoted in routes and monitoring.
  serverName: (v) => (typeof v === 'string' && !/\s/.test(v) ? undefined : 'a name without whitespace'),
  httpPort: optionalPortRule,
  httpHost: nonEmptyStringRule,
  storeDir: optionalPathRule,
  jetstreamDomain: (v) => (v === undefined || (typeof v === 'string' && /^[A-Za-z0-9_-]+$/.test(v)) ? undefined : 'a domain name of letters, digits, "-" and "_"'),
  jetstreamReadCacheBytes: nonNegativeIntRule,
  jetstreamMaxMemory: (v) => (isInt(v) && v >= -1 ? undefined : 'a size in bytes, or -1 for no limit'),
  jetstreamMaxStore: (v) => (isInt(v) && v >= -1 ? undefined : 'a size in bytes, or -1 for no limit'),
  jetstreamSync: (v) => ((SYNC_MODES as readonly unknown[]).includes(v) ? undefined : `one of ${SYNC_MODES.join(', ')}`),
  jetstreamSyncIntervalMs: positiveIntRule(Number.MAX_SAFE_INTEGER, 'a positive duration in milliseconds'),
  maxPayloadBytes: positiveIntRule(MAX_PAYLOAD_HARD_CAP_BYTES, 'a positive size in bytes'),
  maxControlLineBytes: positiveIntRule(INT32_MAX, 'a positive size in bytes'),
  maxPendingBytes: positiveIntRule(Number.MAX_SAFE_INTEGER, 'a positive size in bytes'),
  maxConnections: positiveIntRule(),
  maxSubscriptionsPerConnection: nonNegativeIntRule,
  pingIntervalMs: positiveIntRule(Number.MAX_SAFE_INTEGER, 'a positive duration in milliseconds'),
  maxPingsOutstanding: positiveIntRule(),
  authTimeoutMs: positiveIntRule(Number.MAX_SAFE_INTEGER, 'a positive duration in milliseconds'),
  writeDeadlineMs: positiveIntRule(Number.MAX_SAFE_INTEGER, 'a positive duration in milliseconds'),
  logLevel: (v) => ((LOG_LEVELS as readonly unknown[]).includes(v) ? undefined : `one of ${LOG_LEVELS.join(', ')}`),
  logFile: optionalPathRule,
  pidFile: optionalPathRule,
  lameDuckDurationMs: positiveIntRule(Number.MAX_SAFE_INTEGER, 'a positive duration in milliseconds'),
  lameDuckGracePeriodMs: (v) => (isInt(v) && v >= 0 ? undefined : 'a duration in milliseconds >= 0'),
  portsFileDir: optionalPathRule,
  wsPort: optionalPortRule,
  websocket: websocketRule,
  cluster: clusterRule,
  leafnodes: leafnodesRule,
  tls: tlsRule('tls'),
  allowNonTls: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
  token: optionalStringRule('a non-empty token'),
  user: optionalStringRule('a non-empty user name'),
  pass: (v) => (v === undefined || typeof v === 'string' ? undefined : 'a password string'),
  users: checkUsers,
  accounts: accountsRule,
  noAuthUser: optionalStringRule('a non-empty user name'),
  systemAccount: (v) => (typeof v === 'string' && /^[^\s.*>]+$/.test(v) ? undefined : 'an account name'),
  operators: (v) => (Array.isArray(v) && v.every((j) => typeof j === 'string' && j.trim() !== '') ? undefined : 'a list of operator JWTs'),
  resolver: (v) => (v === undefined || v === MEMORY_RESOLVER ? undefined : 'MEMORY (the URL and nats resolvers are not built)'),
  resolverPreload: (v) =>
    isPlainObject(v) && Object.values(v).every((j) => typeof j === 'string') ? undefined : 'a map of account public key to account JWT',
};

export const OPTION_FIELDS = Object.keys(RULES) as readonly (keyof ServerOptions)[];

export function isOptionField(name: string): name is keyof ServerOptions {
  return Object.prototype.hasOwnProperty.call(RULES, name);
}

/** undefined when `value` is valid for `field`; otherwise what was expected, e.g. "an integer 0..65535". */
export function checkOption(field: keyof ServerOptions, value: unknown): string | undefined {
  return RULES[field](value);
}

/** Renders a value for an error message: strings quoted, everything else as JSON would show it. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** The one error line format every source uses. `name` is already decorated: `"port"` or `--port`. */
export function invalidValueMessage(name: string, expected: string, got: unknown): string {
  return `invalid value for ${name}: expected ${expected}, got ${showValue(got)}`;
}

// ---------------------------------------------------------------------------------------------

export interface ResolvedOptions {
  options: ServerOptions;
  /** Acceptable but unwise settings, one line each, for the caller to log. */
  warnings: string[];
}

/**
 * Defaults overlaid with `partial`, every field validated. `undefined` in `partial` means "not
 * given" (the optional fields default to undefined anyway). Unknown keys are refused, so a typo
 * from an embedding caller in plain JS is not silently ignored.
 */
export function resolveOptionsWithWarnings(partial: Partial<ServerOptions>): ResolvedOptions {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw new OptionsError('', `invalid server options: expected an object, got ${showValue(partial)}`);
  }
  for (const key of Object.keys(partial)) {
    if (!isOptionField(key)) throw new OptionsError(key, `unknown option ${JSON.stringify(key)}`);
  }
  const given = partial as Record<string, unknown>;
  const resolved = defaultOptions() as unknown as Record<string, unknown>;
  for (const field of OPTION_FIELDS) {
    const value = given[field];
    if (value !== undefined) resolved[field] = value;
  }
  // The monitoring listener follows the client interface unless told otherwise.
  if (given.httpHost === undefined) resolved.httpHost = resolved.host;
  // Nested settings may be given in part: fill in their defaults.
  if (isPlainObject(given.websocket)) {
    const ws = { ...defaultWebSocketOptions(), ...given.websocket } as Record<string, unknown>;
    if (isPlainObject(ws.tls) && typeof ws.tls.certFile === 'string' && typeof ws.tls.keyFile === 'string') {
      ws.tls = completeTlsOptions(ws.tls as unknown as TlsOptions);
    }
    resolved.websocket = ws;
  }
  if (isPlainObject(given.cluster)) resolved.cluster = { ...defaultClusterOptions(), ...definedOnly(given.cluster) };
  if (isPlainObject(given.leafnodes)) {
    const leaf = { ...defaultLeafNodeOptions(), ...definedOnly(given.leafnodes) };
    if (Array.isArray(leaf.remotes)) leaf.remotes = leaf.remotes.map((r) => (isPlainObject(r) ? { ...defaultLeafRemote([]), ...definedOnly(r) } : r));
    resolved.leafnodes = leaf;
  }
  const tls = given.tls;
  if (isPlainObject(tls) && typeof tls.certFile === 'string' && typeof tls.keyFile === 'string') {
    resolved.tls = completeTlsOptions(tls as unknown as TlsOptions);
  }

  for (const field of OPTION_FIELDS) {
    const expected = RULES[field](resolved[field]);
    if (expected !== undefined) {
      throw new OptionsError(field, invalidValueMessage(JSON.stringify(field), expected, resolved[field]));
    }
  }
  const options = resolved as unknown as ServerOptions;

  // Cross-field rules. A message larger than what one connection may have pending could never be
  // delivered to anyone, so nats-server refuses the combination; so do we.
  if (options.maxPayloadBytes > options.maxPendingBytes) {
    throw new OptionsError(
      'maxPayloadBytes',
      `invalid value for "maxPayloadBytes": ${options.maxPayloadBytes} is larger than "maxPendingBytes" (${options.maxPendingBytes})`,
    );
  }

  checkAuthCombination(options);
  const operator = OperatorMode.build(options, Date.now());
  if (Array.isArray(operator)) throw new OptionsError(operator[0], operator[1]);
  if (operator !== undefined) {
    // nats-server: the operator JWT's system account unless the config names one, and never another.
    const fromJwt = operator.operatorSystemAccount;
    if (given.systemAccount === undefined && fromJwt !== '') options.systemAccount = fromJwt;
    else if (fromJwt !== '' && options.systemAccount !== fromJwt) {
      throw new OptionsError('systemAccount', `invalid value for "systemAccount": system_account in config and operator JWT must be identical (the operator names ${fromJwt})`);
    }
    // nats-server cannot start without it either ("Can't set system account").
    if (options.systemAccount !== DEFAULT_SYSTEM_ACCOUNT && !operator.accounts.has(options.systemAccount)) {
      throw new OptionsError('systemAccount', `invalid value for "systemAccount": account ${options.systemAccount} has no usable JWT in resolver_preload`);
    }
  }
  const accountProblem = crossCheckAccounts(operator === undefined ? options : { ...options, accounts: operator.accountConfigs() });
  if (accountProblem !== undefined) throw new OptionsError(accountProblem[0], accountProblem[1]);
  // nats-server's rule: the grace period is the start of the duration, so it must be shorter.
  if (options.lameDuckGracePeriodMs >= options.lameDuckDurationMs) {
    throw new OptionsError(
      'lameDuckGracePeriodMs',
      `invalid value for "lameDuckGracePeriodMs": ${options.lameDuckGracePeriodMs} ms must be shorter than "lameDuckDurationMs" (${options.lameDuckDurationMs} ms)`,
    );
  }

  const warnings: string[] = [...(operator?.warnings ?? [])];
  if (options.maxPayloadBytes > RECOMMENDED_MAX_PAYLOAD_CEILING_BYTES) {
    warnings.push(
      `"maxPayloadBytes" is ${options.maxPayloadBytes} bytes, above the recommended ${RECOMMENDED_MAX_PAYLOAD_CEILING_BYTES} (8 MiB): every message is buffered whole by the server and the clients`,
    );
  }
  return { options, warnings };
}

/** nats-server refuses these combinations: one of them would silently never be used. */
function checkAuthCombination(o: ServerOptions): void {
  if (o.pass !== undefined && o.user === undefined) {
    throw new OptionsError('pass', 'invalid value for "pass": a password needs a user ("user")');
  }
  if (o.users.length > 0 && o.user !== undefined) {
    throw new OptionsError('user', 'invalid value for "user": a single user cannot be combined with a users list ("users")');
  }
  if (o.users.length > 0 && o.token !== undefined) {
    throw new OptionsError('token', 'invalid value for "token": a token cannot be combined with a users list ("users")');
  }
  if (o.token !== undefined && o.user !== undefined) {
    throw new OptionsError('token', 'invalid value for "token": a token cannot be combined with a single user ("user")');
  }
}

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function resolveOptions(partial: Partial<ServerOptions>): ServerOptions {
  return resolveOptionsWithWarnings(partial).options;
}

// ---------------------------------------------------------------------------------------------
// Units shared by flags and config files.

const SIZE_SUFFIXES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  ki: 1024,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1000 ** 5,
  pb: 1024 ** 5,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  // Exa sizes exceed 2^53; they exist so the suffix is recognised and refused as out of range
  // rather than reported as an unknown unit.
  e: 1000 ** 6,
  eb: 1024 ** 6,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/**
 * The multiplier for a size suffix, nats-server's convention: `k`/`m`/`g`/`t` are powers of
 * 1000, `kb`/`ki`/`kib` (etc.) powers of 1024; case-insensitive. undefined for an unknown suffix.
 */
export function sizeSuffixMultiplier(suffix: string): number | undefined {
  const key = suffix.toLowerCase();
  return Object.prototype.hasOwnProperty.call(SIZE_SUFFIXES, key) ? SIZE_SUFFIXES[key] : undefined;
}

/** "1048576", "1MB", "512KiB", "2M" -> bytes; undefined when not a non-negative whole size. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const mult = sizeSuffixMultiplier(m[2]!);
  if (mult === undefined) return undefined;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Go's time.ParseDuration syntax, which nats-server configs use: "10s", "2m", "1h30m", "1.5s",
 * "500ms", "0". Returns whole milliseconds (rounded), or undefined when the text is not a
 * duration. Negative durations are returned as such; the option rules refuse them.
 */
export function parseDurationMs(text: string): number | undefined {
  let s = text.trim();
  if (s === '') return undefined;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  let matched = false;
  while (s.length > 0) {
    const m = part.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
    s = s.slice(m[0].length);
    matched = true;
  }
  if (!matched) return undefined;
  const ms = Math.round(total) * sign;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export function isLogLevel(v: unknown): v is LogLevel {
  return (LOG_LEVELS as readonly unknown[]).includes(v);
}
