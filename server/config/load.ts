// Loads a config file into server options. Two formats:
//   - JSON, with sluice's own keys (the CLI flag names, snake_case or camelCase);
//   - nats-server's configuration syntax, with nats-server's key names mapped onto sluice's
//     options, so an existing nats-server.conf works unchanged.
// Keys sluice does not support (yet) are one warning each, never fatal: a migration should start
// the broker and say what was ignored. A supported key with an unusable value is fatal, with one
// line naming the key (and, for nats syntax, file:line:col).

import { readFileSync } from 'node:fs';
import type { ServerOptions } from '../options-types.ts';
import { showValue } from '../options.ts';
import { mapAccounts } from './accounts-config.ts';
import { mapAuthorization, mapUsers } from './auth-config.ts';
import {
  asBool,
  asDurationMs,
  asHostPort,
  asInt,
  asLogLevel,
  asPort,
  asSize,
  asString,
  asSyncMode,
  Bad,
  asMap,
  Collector,
  ConfigError,
  POSITIVE_DURATION_EXPECTED,
  type Conv,
  type LoadedConfig,
} from './convert.ts';
import { mapClusterBlock, mapTlsBlock, mapWebSocketBlock } from './listeners-config.ts';
import { mapLeafNodesBlock } from './leafnodes-config.ts';
import { mapOperatorKey } from './operator-config.ts';
import { NatsConfError, parseNatsConf, type ConfMap, type ConfValue, type ParsedConf } from './nats-conf.ts';

export { ConfigError } from './convert.ts';
export type { LoadedConfig } from './convert.ts';

export interface LoadConfigOptions {
  /** For `$VAR` in nats syntax. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  readFile?: (path: string) => string;
}

/** Where nats-server's `jetstream: enabled` (no store_dir) keeps its data, in sluice's terms. */
export const DEFAULT_JETSTREAM_STORE_DIR = './data';

export function loadConfigFile(path: string, opts: LoadConfigOptions = {}): LoadedConfig {
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`cannot read config file ${path}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  }
  return loadConfigText(text, path, { ...opts, readFile });
}

/** Format detection: a document starting with '{' that parses as JSON is JSON; anything else is nats syntax. */
export function loadConfigText(text: string, file: string, opts: LoadConfigOptions = {}): LoadedConfig {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let jsonError: string | undefined;
  if (body.trimStart().startsWith('{')) {
    try {
      return mapJsonConfig(JSON.parse(body) as unknown, file);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      // Not JSON after all: nats syntax may also wrap the file in braces.
      jsonError = (err as Error).message;
    }
  }
  let parsed: ParsedConf;
  try {
    parsed = parseNatsConf(body, { file, env: opts.env, readFile: opts.readFile });
  } catch (err) {
    if (!(err instanceof NatsConfError)) throw err;
    throw new ConfigError(
      jsonError === undefined ? err.message : `${err.message} (nor is it valid JSON: ${jsonError.split('\n')[0]})`,
    );
  }
  return mapNatsConfig(parsed, file);
}


// --- JSON ------------------------------------------------------------------------------------

interface JsonKey {
  field: keyof ServerOptions;
  conv: Conv<unknown>;
  /** Wording for range errors when the key's unit differs from the option's (seconds vs ms). */
  expected?: string;
}

/**
 * sluice's own keys: the CLI flag names (snake_case and camelCase) plus the option field names.
 * Sizes may be numbers (bytes) or strings ("1MB"). Durations without a unit in the name
 * (ping_interval, auth_timeout, write_deadline) take "2m"-style strings or seconds, as in
 * nats-server; the *Ms field names take milliseconds.
 */
const JSON_KEYS: ReadonlyMap<string, JsonKey> = (() => {
  const m = new Map<string, JsonKey>();
  const add = (names: string[], field: keyof ServerOptions, conv: Conv<unknown>): void => {
    const expected = conv === asDurationMs ? POSITIVE_DURATION_EXPECTED : undefined;
    for (const n of names) m.set(n, { field, conv, expected });
  };
  const ms: Conv<number> = (v) => (typeof v === 'number' && Number.isInteger(v) ? v : new Bad('an integer number of milliseconds'));
  add(['host'], 'host', asString);
  add(['port'], 'port', asPort);
  add(['name', 'server_name', 'serverName'], 'serverName', asString);
  add(['http_port', 'httpPort'], 'httpPort', asPort);
  add(['http_host', 'httpHost'], 'httpHost', asString);
  add(['store_dir', 'storeDir'], 'storeDir', asString);
  add(['jetstream_read_cache', 'jetstreamReadCacheBytes'], 'jetstreamReadCacheBytes', asSize);
  add(['jetstream_sync', 'jetstreamSync'], 'jetstreamSync', asSyncMode);
  add(['jetstreamMaxMemory'], 'jetstreamMaxMemory', asSize);
  add(['jetstreamMaxStore'], 'jetstreamMaxStore', asSize);
  add(['jetstream_sync_interval'], 'jetstreamSyncIntervalMs', asDurationMs);
  add(['jetstreamSyncIntervalMs'], 'jetstreamSyncIntervalMs', ms);
  add(['max_payload', 'maxPayload', 'maxPayloadBytes'], 'maxPayloadBytes', asSize);
  add(['max_control_line', 'maxControlLine', 'maxControlLineBytes'], 'maxControlLineBytes', asSize);
  add(['max_pending', 'maxPending', 'maxPendingBytes'], 'maxPendingBytes', asSize);
  add(['max_connections', 'maxConnections'], 'maxConnections', asInt);
  add(['max_subscriptions', 'maxSubscriptions', 'maxSubscriptionsPerConnection'], 'maxSubscriptionsPerConnection', asInt);
  add(['ping_interval', 'pingInterval'], 'pingIntervalMs', asDurationMs);
  add(['pingIntervalMs'], 'pingIntervalMs', ms);
  add(['ping_max', 'pingMax', 'maxPingsOutstanding'], 'maxPingsOutstanding', asInt);
  add(['auth_timeout', 'authTimeout'], 'authTimeoutMs', asDurationMs);
  add(['authTimeoutMs'], 'authTimeoutMs', ms);
  add(['write_deadline', 'writeDeadline'], 'writeDeadlineMs', asDurationMs);
  add(['writeDeadlineMs'], 'writeDeadlineMs', ms);
  add(['log_level', 'logLevel'], 'logLevel', asLogLevel);
  add(['log_file', 'logfile', 'logFile'], 'logFile', asString);
  add(['pid_file', 'pidFile'], 'pidFile', asString);
  add(['lame_duck_duration'], 'lameDuckDurationMs', asDurationMs);
  add(['lame_duck_grace_period'], 'lameDuckGracePeriodMs', asDurationMs);
  add(['lameDuckDurationMs'], 'lameDuckDurationMs', ms);
  add(['lameDuckGracePeriodMs'], 'lameDuckGracePeriodMs', ms);
  add(['ports_file_dir', 'portsFileDir'], 'portsFileDir', asString);
  add(['allow_non_tls', 'allowNonTls'], 'allowNonTls', asBool);
  add(['no_auth_user', 'noAuthUser'], 'noAuthUser', asString);
  add(['system_account', 'systemAccount'], 'systemAccount', asString);
  return m;
})();

export function mapJsonConfig(doc: unknown, file: string): LoadedConfig {
  const c = new Collector(file);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`${file}: expected a JSON object at the top level, got ${showValue(doc)}`);
  }
  const root = doc as ConfMap;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    // null means "not set" in JSON configs: leave the default (or a flag) in charge.
    if (value === null) continue;
    // Blocks take nats-server's shapes in JSON too (same mappers as the nats syntax).
    if (mapSecurityKey(c, key, value, root, NO_RAW, NOT_VARIABLE)) continue;
    const spec = JSON_KEYS.get(key);
    if (!spec) {
      c.unsupported(key);
      continue;
    }
    const converted = c.convert(spec.conv, key, value);
    c.set(spec.field, converted as never, key, value, undefined, spec.expected);
  }
  return c.result('json');
}

// --- shared by both formats: authorization, users, tls, websocket ----------------------------

const NO_RAW = (): undefined => undefined;
const NOT_VARIABLE = (): boolean => false;

/** Maps `key` if it is one of the security/listener keys; false when it is not one of them. */
function mapSecurityKey(
  c: Collector,
  key: string,
  v: unknown,
  parent: ConfMap,
  raw: (map: ConfMap, key: string) => string | undefined,
  isVariable: (map: ConfMap, key: string) => boolean,
): boolean {
  switch (key.toLowerCase()) {
    case 'accounts':
      mapAccounts(c, key, v, parent, raw, isVariable);
      return true;
    case 'authorization':
      mapAuthorization(c, key, v, raw);
      return true;
    case 'tls':
      c.set('tls', mapTlsBlock(c, key, v, raw), key, v, parent);
      return true;
    case 'websocket':
    case 'ws':
      mapWebSocketBlock(c, key, v, raw);
      return true;
    case 'cluster':
      mapClusterBlock(c, key, v, raw);
      return true;
    case 'leafnodes':
    case 'leaf':
      mapLeafNodesBlock(c, key, v, raw);
      return true;
    case 'ws_port':
    case 'wsport':
      c.set('wsPort', c.convert(asPort, key, v, parent), key, v, parent);
      return true;
    case 'users':
      c.set('users', mapUsers(c, key, v, parent, raw), key, v, parent);
      return true;
    case 'token':
      c.set('token', c.convert(asString, key, v, parent), key, v, parent);
      return true;
    case 'user':
    case 'username':
      c.set('user', c.convert(asString, key, v, parent), key, v, parent);
      return true;
    case 'pass':
    case 'password':
      c.set('pass', c.convert(asString, key, v, parent), key, v, parent);
      return true;
    default:
      return mapOperatorKey(c, key, v, parent);
  }
}

// --- nats-server syntax ----------------------------------------------------------------------

export function mapNatsConfig(parsed: ParsedConf, file: string): LoadedConfig {
  const root = parsed.root;
  const locate = (keyPath: string, map: ConfMap = root): string | undefined => {
    const last = keyPath.slice(keyPath.lastIndexOf('.') + 1);
    const loc = parsed.keyInfo(map, last)?.loc;
    return loc ? `${loc.file}:${loc.line}:${loc.col}` : undefined;
  };
  const c = new Collector(file, locate);
  const raw = (map: ConfMap, key: string): string | undefined => parsed.keyInfo(map, key)?.raw;
  const isVariable = (map: ConfMap, key: string): boolean => parsed.keyInfo(map, key)?.usedAsVariable === true;

  let jetstream: boolean | undefined;
  let jsStoreDir: StoreDirSetting | undefined;
  let topStoreDir: StoreDirSetting | undefined;
  let debug = false;
  let trace = false;

  for (const [key, v] of Object.entries(root)) {
    const k = key.toLowerCase();
    switch (k) {
      case 'listen': {
        const hp = c.convert(asHostPort, key, v);
        if (hp.host !== undefined) c.set('host', hp.host, key, v);
        c.set('port', hp.port, key, v);
        break;
      }
      case 'port':
        c.set('port', c.convert(asPort, key, v), key, v);
        break;
      case 'host':
      case 'net':
        c.set('host', c.convert(asString, key, v), key, v);
        break;
      case 'server_name':
        c.set('serverName', c.convert(asString, key, v), key, v);
        break;
      case 'http': {
        const hp = c.convert(asHostPort, key, v);
        if (hp.host !== undefined) c.set('httpHost', hp.host, key, v);
        c.set('httpPort', hp.port, key, v);
        break;
      }
      case 'http_port':
      case 'monitor_port':
        c.set('httpPort', c.convert(asPort, key, v), key, v);
        break;
      case 'max_payload':
        c.set('maxPayloadBytes', c.convert(asSize, key, v), key, v);
        break;
      case 'max_control_line':
        c.set('maxControlLineBytes', c.convert(asSize, key, v), key, v);
        break;
      case 'max_pending':
        c.set('maxPendingBytes', c.convert(asSize, key, v), key, v);
        break;
      case 'max_connections':
      case 'max_conn':
        c.set('maxConnections', c.convert(asInt, key, v), key, v);
        break;
      case 'max_subscriptions':
      case 'max_subs':
        c.set('maxSubscriptionsPerConnection', c.convert(asInt, key, v), key, v);
        break;
      case 'ping_interval':
      case 'write_deadline': {
        const ms = c.convert(asDurationMs, key, v, root, raw(root, key));
        if (typeof v === 'number' && /^-?\d+(\.\d+)?$/.test(raw(root, key) ?? '')) {
          // nats-server warns the same way: bare numbers are a legacy form.
          c.warn(`${JSON.stringify(key)} read as ${v} seconds; write a duration such as "${v}s"`, key);
        }
        c.set(k === 'ping_interval' ? 'pingIntervalMs' : 'writeDeadlineMs', ms, key, v, root, POSITIVE_DURATION_EXPECTED);
        break;
      }
      case 'ping_max':
        c.set('maxPingsOutstanding', c.convert(asInt, key, v), key, v);
        break;
      case 'authorization':
      case 'tls':
      case 'websocket':
      case 'cluster':
      case 'leafnodes':
      case 'leaf':
      case 'accounts':
        mapSecurityKey(c, key, v, root, raw, isVariable);
        break;
      case 'no_auth_user':
        c.set('noAuthUser', c.convert(asString, key, v), key, v);
        break;
      case 'system_account':
        c.set('systemAccount', c.convert(asString, key, v), key, v);
        break;
      case 'jetstream': {
        const js = mapJetStream(c, key, v, raw);
        jetstream = js.enabled;
        if (js.storeDir !== undefined) jsStoreDir = js.storeDir;
        break;
      }
      case 'store_dir':
      case 'storedir':
        topStoreDir = { dir: c.convert(asString, key, v), key, map: root };
        break;
      case 'ports_file_dir':
        c.set('portsFileDir', c.convert(asString, key, v), key, v);
        break;
      case 'allow_non_tls':
        c.set('allowNonTls', c.convert(asBool, key, v), key, v);
        break;
      case 'debug':
        debug = c.convert(asBool, key, v);
        break;
      case 'trace':
      case 'trace_verbose':
        trace = c.convert(asBool, key, v) || trace;
        break;
      case 'logfile':
      case 'log_file':
        c.set('logFile', c.convert(asString, key, v), key, v);
        break;
      case 'pid_file':
        c.set('pidFile', c.convert(asString, key, v), key, v);
        break;
      case 'lame_duck_duration':
      case 'lame_duck_grace_period':
        c.set(
          k === 'lame_duck_duration' ? 'lameDuckDurationMs' : 'lameDuckGracePeriodMs',
          c.convert(asDurationMs, key, v, root, raw(root, key)),
          key,
          v,
          root,
          POSITIVE_DURATION_EXPECTED,
        );
        break;
      case 'log_level': // sluice's own key, accepted here too
        c.set('logLevel', c.convert(asLogLevel, key, v) as ServerOptions['logLevel'], key, v);
        break;
      default:
        // A key referenced as $key is a variable definition, not a setting (nats-server agrees).
        if (parsed.keyInfo(root, key)?.usedAsVariable) break;
        if (mapOperatorKey(c, key, v, root)) break;
        c.unsupported(key);
    }
  }

  // An explicit log_level wins; otherwise trace implies debug output too, as in nats-server.
  if (c.options.logLevel === undefined && (trace || debug)) c.options.logLevel = trace ? 'trace' : 'debug';

  // In sluice a store directory is what turns JetStream on; nats-server keeps the two apart, so
  // translate: enabled -> its dir (or our default), not enabled -> no dir.
  const dir = jsStoreDir ?? topStoreDir;
  if (jetstream === true) {
    if (dir) c.set('storeDir', dir.dir, dir.key, dir.dir, dir.map);
    else c.options.storeDir = DEFAULT_JETSTREAM_STORE_DIR;
  } else if (dir) {
    c.warn(
      `${JSON.stringify(dir.key)} ignored: JetStream is not enabled (add "jetstream: enabled" or a jetstream block)`,
      dir.key,
      dir.map,
    );
  }
  return c.result('nats');
}

interface StoreDirSetting {
  dir: string;
  /** The key path as written, for messages. */
  key: string;
  /** The map holding the key, for its location. */
  map: ConfMap;
}

function mapJetStream(
  c: Collector,
  key: string,
  v: ConfValue,
  raw: (map: ConfMap, key: string) => string | undefined,
): { enabled: boolean; storeDir: StoreDirSetting | undefined } {
  if (typeof v === 'boolean') return { enabled: v, storeDir: undefined };
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'enabled' || s === 'enable') return { enabled: true, storeDir: undefined };
    if (s === 'disabled' || s === 'disable') return { enabled: false, storeDir: undefined };
    c.fail(key, '"enabled", "disabled", true, false or a block { store_dir: ... }', v);
  }
  const block = asMap(c, key, v);
  let enabled = true;
  let storeDir: StoreDirSetting | undefined;
  for (const [sub, sv] of Object.entries(block)) {
    const path = `${key}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'store_dir':
      case 'storedir':
      case 'store':
        storeDir = { dir: c.convert(asString, path, sv, block), key: path, map: block };
        break;
      case 'enabled':
      case 'enable':
        enabled = c.convert(asBool, path, sv, block);
        break;
      case 'domain':
        c.set('jetstreamDomain', c.convert(asString, path, sv, block), path, sv, block);
        break;
      case 'max_memory_store':
      case 'max_mem_store':
      case 'max_mem':
        c.set('jetstreamMaxMemory', c.convert(asSize, path, sv, block), path, sv, block);
        break;
      case 'max_file_store':
      case 'max_file':
        c.set('jetstreamMaxStore', c.convert(asSize, path, sv, block), path, sv, block);
        break;
      case 'read_cache': // sluice's own key: memory for recently written messages
        c.set('jetstreamReadCacheBytes', c.convert(asSize, path, sv, block), path, sv, block);
        break;
      case 'sync': // sluice's own key: committed | durable | none (docs/adr/0008-sync-modes.md)
        c.set('jetstreamSync', c.convert(asSyncMode, path, sv, block), path, sv, block);
        break;
      case 'sync_interval': {
        // nats-server's key: "always" fsyncs every write (our 'durable'); a duration is how often
        // the store is fsynced in 'committed' mode.
        if (typeof sv === 'string' && sv.toLowerCase() === 'always') {
          c.set('jetstreamSync', 'durable', path, sv, block);
        } else {
          c.set('jetstreamSyncIntervalMs', c.convert(asDurationMs, path, sv, block, raw(block, sub)), path, sv, block);
        }
        break;
      }
      default:
        c.unsupported(path, block);
    }
  }
  return { enabled, storeDir };
}
