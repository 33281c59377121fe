// The `accounts {}` block of a config file (nats-server syntax and JSON alike), mapped onto
// sluice's account options (server/accounts/config.ts). nats-server's shapes (opts.go
// parseAccounts):
//   accounts {
//     A: {
//       users: [ { user: a, password: a } ]
//       exports: [ { stream: "a.>" }, { service: "svc.>", response_type: stream, accounts: [B] } ]
//       imports: [ { stream: { account: B, subject: "b.>" }, prefix: from_b },
//                  { service: { account: B, subject: "svc.x" }, to: "local.x" } ]
//       jetstream: enabled
//     }
//   }
// or a list of names (`accounts: [A, B]`). Users of an account become users of the `users` option
// with their `account` set, so authentication is one lookup whatever the account.

import { accountsRule, type AccountConfig, type ExportConfig, type ImportConfig, type ResponseType } from '../accounts/config.ts';
import type { PermissionsConfig, UserConfig } from '../auth/users.ts';
import { mapPermissions, mapUsers, type RawLookup } from './auth-config.ts';
import { asBool, asInt, asMap, asSize, asString, Bad, type Collector, type Conv } from './convert.ts';
import { NO_ACCOUNT_LIMITS, type AccountLimits } from '../../protocol/jetstream-api.ts';
import type { ConfMap } from './nats-conf.ts';

const asAccountNames: Conv<string[]> = (v) =>
  Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '') ? (v as string[]) : new Bad('a list of account names');

const RESPONSE_TYPES: Readonly<Record<string, ResponseType>> = {
  single: 'singleton',
  singleton: 'singleton',
  stream: 'stream',
  chunk: 'chunked',
  chunked: 'chunked',
};

const asResponseType: Conv<ResponseType> = (v) =>
  (typeof v === 'string' ? RESPONSE_TYPES[v.toLowerCase()] : undefined) ?? new Bad('"singleton", "stream" or "chunked"');

/** nats-server's keys sluice reads past with a warning (they change nothing here yet). */
const IGNORED_EXPORT_KEYS = new Set(['latency', 'threshold', 'response_threshold', 'response_max_time', 'response_time', 'account_token_position', 'allow_trace']);
const IGNORED_IMPORT_KEYS = new Set(['share', 'allow_trace']);

function mapExport(c: Collector, path: string, v: unknown): ExportConfig {
  const block = asMap(c, path, v);
  let stream: string | undefined;
  let service: string | undefined;
  let accounts: string[] | undefined;
  let responseType: ResponseType | undefined;
  for (const [k, sv] of Object.entries(block)) {
    const p = `${path}.${k}`;
    const key = k.toLowerCase();
    if (key === 'stream') stream = c.convert(asString, p, sv, block);
    else if (key === 'service') service = c.convert(asString, p, sv, block);
    else if (key === 'accounts') accounts = c.convert(asAccountNames, p, sv, block);
    else if (key === 'response' || key === 'response_type') responseType = c.convert(asResponseType, p, sv, block);
    else if (IGNORED_EXPORT_KEYS.has(key)) c.unsupported(p, block);
    else c.fail(p, '"stream" or "service", "accounts", "response_type"', sv, block);
  }
  if ((stream === undefined) === (service === undefined)) c.fail(path, 'an export { stream: <subject> } or { service: <subject> }', v);
  if (stream !== undefined) {
    if (responseType !== undefined) c.fail(`${path}.response_type`, 'no response type: it applies to service exports', responseType, block);
    return { kind: 'stream', subject: stream, ...(accounts !== undefined ? { accounts } : {}) };
  }
  return { kind: 'service', subject: service!, responseType: responseType ?? 'singleton', ...(accounts !== undefined ? { accounts } : {}) };
}

/** `{ account: B, subject: "b.>" }`, the side of an import that names the exporter. */
function mapImportSource(c: Collector, path: string, v: unknown): { account: string; subject: string } {
  const block = asMap(c, path, v);
  let account = '';
  let subject = '';
  for (const [k, sv] of Object.entries(block)) {
    const key = k.toLowerCase();
    if (key === 'account') account = c.convert(asString, `${path}.${k}`, sv, block);
    else if (key === 'subject') subject = c.convert(asString, `${path}.${k}`, sv, block);
    else c.fail(`${path}.${k}`, '"account" or "subject"', sv, block);
  }
  if (account === '' || subject === '') c.fail(path, 'an account name and a subject { account, subject }', v);
  return { account, subject };
}

function mapImport(c: Collector, path: string, v: unknown): ImportConfig {
  const block = asMap(c, path, v);
  let stream: { account: string; subject: string } | undefined;
  let service: { account: string; subject: string } | undefined;
  let prefix = '';
  let to = '';
  for (const [k, sv] of Object.entries(block)) {
    const p = `${path}.${k}`;
    const key = k.toLowerCase();
    if (key === 'stream') stream = mapImportSource(c, p, sv);
    else if (key === 'service') service = mapImportSource(c, p, sv);
    // nats-server adds the '.' after a prefix unless it is there already.
    else if (key === 'prefix') prefix = c.convert(asString, p, sv, block).replace(/\.$/, '');
    else if (key === 'to') to = c.convert(asString, p, sv, block);
    else if (IGNORED_IMPORT_KEYS.has(key)) c.unsupported(p, block);
    else c.fail(p, '"stream" or "service", "prefix", "to"', sv, block);
  }
  if ((stream === undefined) === (service === undefined)) c.fail(path, 'an import { stream: { account, subject } } or { service: { account, subject } }', v);
  if (stream !== undefined) return { kind: 'stream', ...stream, prefix, to };
  if (prefix !== '') c.fail(`${path}.prefix`, 'no prefix: it applies to stream imports ("to" maps a service import)', prefix, block);
  return { kind: 'service', ...service!, to };
}

function mapList<T>(c: Collector, path: string, v: unknown, parent: ConfMap, one: (c: Collector, path: string, v: unknown) => T): T[] {
  if (!Array.isArray(v)) c.fail(path, 'a list', v, parent);
  return (v as unknown[]).map((e, i) => one(c, `${path}[${i}]`, e));
}

/** An account's JetStream limit keys, with nats-server's spellings (opts.go parseJetStreamForAccount). */
const LIMIT_KEYS: Readonly<Record<string, [keyof AccountLimits, Conv<number> | Conv<boolean>]>> = {
  max_memory: ['max_memory', asSize],
  max_mem: ['max_memory', asSize],
  mem: ['max_memory', asSize],
  memory: ['max_memory', asSize],
  max_store: ['max_storage', asSize],
  max_file: ['max_storage', asSize],
  max_disk: ['max_storage', asSize],
  store: ['max_storage', asSize],
  disk: ['max_storage', asSize],
  max_streams: ['max_streams', asInt],
  streams: ['max_streams', asInt],
  max_consumers: ['max_consumers', asInt],
  consumers: ['max_consumers', asInt],
  max_bytes_required: ['max_bytes_required', asBool],
  max_stream_bytes: ['max_bytes_required', asBool],
  max_bytes: ['max_bytes_required', asBool],
  mem_max_stream_bytes: ['memory_max_stream_bytes', asSize],
  memory_max_stream_bytes: ['memory_max_stream_bytes', asSize],
  disk_max_stream_bytes: ['storage_max_stream_bytes', asSize],
  store_max_stream_bytes: ['storage_max_stream_bytes', asSize],
  max_ack_pending: ['max_ack_pending', asInt],
};

/**
 * `jetstream: enabled | disabled | true | false | { max_mem, max_file, ... }` of one account: a
 * limits block enables JetStream with those limits, the others -1 (none), as nats-server.
 */
function mapAccountJetStream(c: Collector, path: string, v: unknown, parent: ConfMap): { enabled: boolean; limits?: AccountLimits } {
  if (typeof v === 'boolean') return { enabled: v };
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'enabled' || s === 'enable') return { enabled: true };
    if (s === 'disabled' || s === 'disable') return { enabled: false };
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) c.fail(path, '"enabled", "disabled", true, false or a limits block { max_mem, max_file, ... }', v, parent);
  const block = asMap(c, path, v);
  const limits: AccountLimits = { ...NO_ACCOUNT_LIMITS };
  for (const [k, lv] of Object.entries(block)) {
    const key = LIMIT_KEYS[k.toLowerCase()];
    if (key === undefined) c.fail(`${path}.${k}`, `one of ${Object.keys(LIMIT_KEYS).join(', ')}`, lv, block);
    const [field, conv] = key;
    (limits as unknown as Record<string, unknown>)[field] = c.convert(conv as Conv<unknown>, `${path}.${k}`, lv, block);
  }
  return { enabled: true, limits };
}

function mapAccount(c: Collector, path: string, name: string, v: unknown, raw: RawLookup): { account: AccountConfig; users: UserConfig[] } {
  const block = asMap(c, path, v);
  let exports: ExportConfig[] = [];
  let imports: ImportConfig[] = [];
  let jetstream = false;
  let jetstreamLimits: AccountLimits | undefined;
  let users: UserConfig[] = [];
  let defaults: PermissionsConfig | undefined;
  for (const [k, sv] of Object.entries(block)) {
    const p = `${path}.${k}`;
    switch (k.toLowerCase()) {
      case 'users':
        users = mapUsers(c, p, sv, block, raw);
        break;
      case 'exports':
        exports = mapList(c, p, sv, block, mapExport);
        break;
      case 'imports':
        imports = mapList(c, p, sv, block, mapImport);
        break;
      case 'jetstream':
        ({ enabled: jetstream, limits: jetstreamLimits } = mapAccountJetStream(c, p, sv, block));
        break;
      case 'default_permissions':
        defaults = mapPermissions(c, p, sv, raw);
        break;
      default:
        // nkey, mappings, limits, msg_trace: nats-server features sluice does not have yet.
        c.unsupported(p, block);
    }
  }
  // Users without their own permissions get the account's defaults (nats-server's applyDefaultPermissions).
  const account: AccountConfig = { name, exports, imports, jetstream, ...(jetstreamLimits !== undefined ? { jetstreamLimits } : {}) };
  const problem = accountsRule([account]);
  if (problem !== undefined) c.fail(path, problem.replace(/^accounts\[0\]/, path), v);
  const withAccount = users.map((u) => ({ ...u, ...(u.permissions === undefined && defaults !== undefined ? { permissions: defaults } : {}), account: name }));
  return { account, users: withAccount };
}

/** `accounts { ... }` (or a list of names): sets the accounts option and adds their users. */
export function mapAccounts(c: Collector, key: string, v: unknown, parent: ConfMap, raw: RawLookup, isVariable: (map: ConfMap, key: string) => boolean): void {
  if (Array.isArray(v)) {
    const names = c.convert(asAccountNames, key, v, parent);
    c.set('accounts', names.map((name) => ({ name, exports: [], imports: [], jetstream: false })), key, v, parent);
    return;
  }
  const block = asMap(c, key, v);
  const accounts: AccountConfig[] = [];
  for (const [name, av] of Object.entries(block)) {
    if (isVariable(block, name)) continue;
    const { account, users } = mapAccount(c, `${key}.${name}`, name, av, raw);
    accounts.push(account);
    c.addUsers(users);
  }
  c.set('accounts', accounts, key, v, parent);
}
