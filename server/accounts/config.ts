// Accounts as configured (options, config files): nats-server's `accounts {}` block in data form,
// and the checks that need all of it at once (an import must match an export that admits the
// importer, imports must not form a cycle, every user's account must exist). Pure data and
// validation; docs/accounts.md describes the behaviour, docs/adr/0015-accounts.md the model.

import type { AccountLimits } from '../../protocol/jetstream-api.ts';
import { hasWildcard, isSubsetOf, isValidPublishSubject, isValidSubject, subjectsCollide, tokenize } from '../../protocol/subject.ts';

/** The account of every connection that is given no other (nats-server's global account). */
export const GLOBAL_ACCOUNT = '$G';
/** nats-server's default name for the system account. */
export const DEFAULT_SYSTEM_ACCOUNT = '$SYS';

/** How many responses a service export's request may get (nats-server's response_type). */
export type ResponseType = 'singleton' | 'stream' | 'chunked';
export const RESPONSE_TYPES: readonly ResponseType[] = ['singleton', 'stream', 'chunked'];

export interface StreamExport {
  readonly kind: 'stream';
  readonly subject: string;
  /** Accounts allowed to import it; undefined = any (a public export). */
  readonly accounts?: readonly string[];
}

export interface ServiceExport {
  readonly kind: 'service';
  readonly subject: string;
  readonly accounts?: readonly string[];
  readonly responseType: ResponseType;
}

export type ExportConfig = StreamExport | ServiceExport;

/** Messages published in `account` on `subject` also appear here, on `prefix.<subject>` (or `to`). */
export interface StreamImport {
  readonly kind: 'stream';
  readonly account: string;
  readonly subject: string;
  /** Prepended with a '.' to every imported subject; '' = none. */
  readonly prefix: string;
  /** The subject the messages appear on here when there is no prefix; '' = `subject` itself. */
  readonly to: string;
}

/** Requests published here on `to` go to `account`'s `subject`; the responses come back. */
export interface ServiceImport {
  readonly kind: 'service';
  readonly account: string;
  readonly subject: string;
  /** The local subject requesters use; '' = `subject` itself. */
  readonly to: string;
}

export type ImportConfig = StreamImport | ServiceImport;

/** What /accountz shows of an account JWT (nats-server's AccountInfo jwt, issuer_key, name_tag, tags). */
export interface AccountJwtInfo {
  readonly token: string;
  readonly issuerKey: string;
  readonly nameTag: string;
  readonly tags: readonly string[];
  /** ms since the epoch; undefined = never. */
  readonly expiresAtMs: number | undefined;
}

export interface AccountConfig {
  readonly name: string;
  readonly exports: readonly ExportConfig[];
  readonly imports: readonly ImportConfig[];
  /** JetStream for this account (`jetstream: enabled` or a limits block). */
  readonly jetstream: boolean;
  /** The account JWT it came from (operator mode, operator.ts), for monitoring. */
  readonly jwt?: AccountJwtInfo;
  /**
   * Its JetStream limits (a config limits block or an account JWT's), -1 for none; undefined =
   * no limits. Enforced by streams/limits.ts.
   */
  readonly jetstreamLimits?: Readonly<AccountLimits>;
}

/** The local subject of a service import (its `to`, else the exported subject). */
export function serviceImportLocalSubject(i: ServiceImport): string {
  return i.to === '' ? i.subject : i.to;
}

/** The subject an imported stream's messages have here: prefixed, mapped by `to`, or unchanged. */
export function streamImportLocalSubject(i: StreamImport): string {
  if (i.prefix !== '') return `${i.prefix}.${i.subject}`;
  return i.to === '' ? i.subject : i.to;
}

// ---------------------------------------------------------------------------------------------
// Subject mapping between an import's two sides: the wildcard tokens of the source pattern fill
// the wildcards of the target pattern in order (nats-server's default $1, $2, ...).

/** Whether `from` can be mapped onto `to`: the same wildcards, in the same order. */
export function mappable(from: string, to: string): boolean {
  const wf = tokenize(from).filter((t) => t === '*' || t === '>');
  const wt = tokenize(to).filter((t) => t === '*' || t === '>');
  return wf.length === wt.length && wf.every((t, i) => t === wt[i]);
}

/**
 * `subject` (a literal matching `from`) rewritten onto `to`. Returns `to` itself when it has no
 * wildcards. Both patterns are assumed mappable().
 */
export function mapSubject(from: string, to: string, subject: string): string {
  if (from === to) return subject;
  if (!hasWildcard(to)) return to;
  const pf = tokenize(from);
  const s = tokenize(subject);
  const values: string[] = [];
  for (let i = 0; i < pf.length; i++) {
    if (pf[i] === '*') values.push(s[i]!);
    else if (pf[i] === '>') values.push(s.slice(i).join('.'));
  }
  let k = 0;
  return tokenize(to)
    .map((t) => (t === '*' || t === '>' ? values[k++]! : t))
    .join('.');
}

// ---------------------------------------------------------------------------------------------
// Validation. Each check returns undefined when fine, else what was expected, naming the path.

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Account names appear unquoted in route frames and monitoring: no whitespace, no dots. */
function isAccountName(v: unknown): v is string {
  return typeof v === 'string' && /^[^\s.*>]+$/.test(v);
}

function accountList(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every(isAccountName)) return `${path} to be a list of account names`;
  return undefined;
}

function exportRule(e: unknown, path: string): string | undefined {
  if (!isObject(e)) return `${path} to be { stream } or { service }`;
  if (e.kind !== 'stream' && e.kind !== 'service') return `${path}.kind to be "stream" or "service"`;
  if (typeof e.subject !== 'string' || !isValidSubject(e.subject)) return `${path}.subject to be a valid subject`;
  if (e.kind === 'service' && !(RESPONSE_TYPES as readonly unknown[]).includes(e.responseType)) {
    return `${path}.responseType to be one of ${RESPONSE_TYPES.join(', ')}`;
  }
  return accountList(e.accounts, `${path}.accounts`);
}

function importRule(i: unknown, path: string): string | undefined {
  if (!isObject(i)) return `${path} to be { stream: { account, subject } } or { service: { account, subject } }`;
  if (i.kind !== 'stream' && i.kind !== 'service') return `${path}.kind to be "stream" or "service"`;
  if (!isAccountName(i.account)) return `${path}.account to be an account name`;
  if (typeof i.subject !== 'string' || !isValidSubject(i.subject)) return `${path}.subject to be a valid subject`;
  if (typeof i.to !== 'string' || (i.to !== '' && !isValidSubject(i.to))) return `${path}.to to be a valid subject`;
  if (i.kind === 'stream') {
    if (typeof i.prefix !== 'string' || (i.prefix !== '' && !isValidPublishSubject(i.prefix))) {
      return `${path}.prefix to be a subject prefix without wildcards`;
    }
    if (i.prefix !== '' && i.to !== '') return `${path} to have a prefix or a "to", not both`;
  }
  const local = i.kind === 'stream' ? streamImportLocalSubject(i as unknown as StreamImport) : serviceImportLocalSubject(i as unknown as ServiceImport);
  if (i.kind === 'stream' && i.prefix !== '') return undefined;
  const [from, to] = i.kind === 'stream' ? [i.subject, local] : [local, i.subject];
  if (!mappable(from, to)) return `${path}.to to have the same wildcards as ${JSON.stringify(i.subject)}`;
  return undefined;
}

const LIMIT_SIZES = ['max_memory', 'max_storage', 'max_streams', 'max_consumers', 'max_ack_pending', 'memory_max_stream_bytes', 'storage_max_stream_bytes'] as const;

/** JetStream limits: whole numbers >= -1 and max_bytes_required a boolean. */
function jetstreamLimitsRule(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) return `${path} to be { max_memory, max_storage, max_streams, max_consumers, ... }`;
  for (const k of LIMIT_SIZES) {
    const n = v[k];
    if (!Number.isSafeInteger(n) || (n as number) < -1) return `${path}.${k} to be a whole number, -1 for no limit`;
  }
  if (typeof v.max_bytes_required !== 'boolean') return `${path}.max_bytes_required to be true or false`;
  return undefined;
}

/** The `accounts` option's own rule: shapes and names (references are crossChecked later). */
export function accountsRule(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'a list of accounts';
  const seen = new Set<string>();
  for (let a = 0; a < v.length; a++) {
    const acc: unknown = v[a];
    const path = `accounts[${a}]`;
    if (!isObject(acc)) return `${path} to be { name, exports, imports, jetstream }`;
    if (!isAccountName(acc.name)) return `${path}.name to be an account name without whitespace, dots or wildcards`;
    if (acc.name === GLOBAL_ACCOUNT) return `${path}.name to be other than ${GLOBAL_ACCOUNT} (a reserved account)`;
    if (seen.has(acc.name)) return `${path}.name to be unique (${acc.name} appears twice)`;
    seen.add(acc.name);
    if (typeof acc.jetstream !== 'boolean') return `${path}.jetstream to be true or false`;
    const limitsWhy = jetstreamLimitsRule(acc.jetstreamLimits, `${path}.jetstreamLimits`);
    if (limitsWhy !== undefined) return limitsWhy;
    if (!Array.isArray(acc.exports)) return `${path}.exports to be a list`;
    if (!Array.isArray(acc.imports)) return `${path}.imports to be a list`;
    for (let i = 0; i < acc.exports.length; i++) {
      const why = exportRule(acc.exports[i], `${path}.exports[${i}]`);
      if (why !== undefined) return why;
    }
    for (let i = 0; i < acc.imports.length; i++) {
      const why = importRule(acc.imports[i], `${path}.imports[${i}]`);
      if (why !== undefined) return why;
    }
  }
  return undefined;
}

/** The export of `exporter` that `importer` may import `subject` through, if any. */
export function findExport(exporter: AccountConfig, kind: 'stream' | 'service', subject: string, importer: string): ExportConfig | undefined {
  for (const e of exporter.exports) {
    if (e.kind !== kind || !isSubsetOf(subject, e.subject)) continue;
    if (e.accounts === undefined || e.accounts.includes(importer)) return e;
  }
  return undefined;
}

/**
 * A service import cycle: following service imports from `account` on `subject` comes back to an
 * account already visited (a request would be passed around forever). nats-server's
 * checkServiceImportsForCycles; stream imports are checked the same way on their local side.
 */
function formsCycle(byName: ReadonlyMap<string, AccountConfig>, kind: 'stream' | 'service', start: string, account: string, subject: string, visited: Set<string>): boolean {
  const acc = byName.get(account);
  if (acc === undefined) return false;
  for (const i of acc.imports) {
    if (i.kind !== kind) continue;
    // A service import forwards what is published on its local side to the exporter; a stream
    // import forwards what the exporter publishes to its local side, so walk the other way.
    if (kind === 'service') {
      if (!subjectsCollide(subject, serviceImportLocalSubject(i as ServiceImport))) continue;
      if (i.account === start || visited.has(i.account)) return true;
      visited.add(i.account);
      if (formsCycle(byName, kind, start, i.account, i.subject, visited)) return true;
    }
  }
  if (kind === 'stream') {
    for (const other of byName.values()) {
      for (const i of other.imports) {
        if (i.kind !== 'stream' || i.account !== account || !subjectsCollide(subject, i.subject)) continue;
        if (other.name === start || visited.has(other.name)) return true;
        visited.add(other.name);
        if (formsCycle(byName, kind, start, other.name, streamImportLocalSubject(i), visited)) return true;
      }
    }
  }
  return false;
}

/**
 * nats-server does not start JetStream when the accounts' byte limits add up to more than the
 * server's totals (jetstream.go sufficientResources; "insufficient storage resources available").
 */
function jetstreamTotalsProblem(o: AccountsContext): string | undefined {
  if (o.storeDir === undefined) return undefined;
  const sides = [
    ['max_memory', 'max_mem', o.jetstreamMaxMemory ?? -1],
    ['max_storage', 'max_file', o.jetstreamMaxStore ?? -1],
  ] as const;
  for (const [field, key, max] of sides) {
    if (max < 0) continue;
    const limited = o.accounts.filter((a) => a.jetstream && (a.jetstreamLimits?.[field] ?? -1) > 0);
    const sum = limited.reduce((n, a) => n + a.jetstreamLimits![field], 0);
    if (sum > max) {
      const each = limited.map((a) => `${a.name} ${a.jetstreamLimits![field]}`).join(', ');
      return `the accounts' JetStream limits (${each}) add up to more than jetstream ${key} ${max}: insufficient ${field === 'max_memory' ? 'memory' : 'storage'} resources available`;
    }
  }
  return undefined;
}

/** What the cross-checks read besides the accounts (a subset of ServerOptions). */
export interface AccountsContext {
  readonly accounts: readonly AccountConfig[];
  readonly users: readonly { readonly user?: string; readonly nkey?: string; readonly account?: string }[];
  readonly noAuthUser: string | undefined;
  readonly systemAccount: string;
  readonly cluster?: unknown;
  readonly storeDir?: string | undefined;
  /** The server's JetStream totals (`jetstream { max_mem, max_file }`), -1 = none. */
  readonly jetstreamMaxMemory?: number;
  readonly jetstreamMaxStore?: number;
  readonly leafnodes?: { readonly account: string; readonly remotes: readonly { readonly account: string }[] } | undefined;
}

/**
 * The checks that need the whole configuration; undefined when fine, else `[field, message]`
 * with a message that names the account, the import and what is wrong with it.
 */
const bad = (message: string): [string, string] => ['accounts', `invalid value for "accounts": ${message}`];

export function crossCheckAccounts(o: AccountsContext): [field: string, message: string] | undefined {
  const byName = new Map(o.accounts.map((a) => [a.name, a]));
  // $SYS exists without configuration only while it is the system account.
  const implicitSystem = o.systemAccount === DEFAULT_SYSTEM_ACCOUNT;
  const exists = (name: string): boolean => name === GLOBAL_ACCOUNT || (implicitSystem && name === DEFAULT_SYSTEM_ACCOUNT) || byName.has(name);
  for (const a of o.accounts) {
    for (const e of a.exports) {
      for (const n of e.accounts ?? []) {
        if (!exists(n)) return bad(`account ${a.name}: ${JSON.stringify(n)} account not defined for ${e.kind} export ${JSON.stringify(e.subject)}`);
      }
    }
    for (const i of a.imports) {
      const what = `account ${a.name}: ${i.kind} import ${JSON.stringify(i.subject)} from ${i.account}`;
      const exporter = byName.get(i.account);
      if (exporter === undefined) return bad(`${what}: ${JSON.stringify(i.account)} account not defined for ${i.kind} import`);
      if (i.account === a.name) return bad(`${what}: an account cannot import from itself`);
      if (findExport(exporter, i.kind, i.subject, a.name) === undefined) {
        return bad(`${what}: ${i.kind} import not authorized (${i.account} exports no ${i.kind} matching it to ${a.name})`);
      }
      const start = i.kind === 'service' ? a.name : i.account;
      const from = i.kind === 'service' ? i.subject : streamImportLocalSubject(i);
      const next = i.kind === 'service' ? i.account : a.name;
      if (formsCycle(byName, i.kind, start, next, from, new Set([next]))) return bad(`${what}: import forms a cycle`);
    }
  }
  for (let u = 0; u < o.users.length; u++) {
    const acc = o.users[u]!.account;
    if (acc !== undefined && !exists(acc)) return ['users', `invalid value for "users[${u}].account": account ${JSON.stringify(acc)} is not defined in "accounts"`];
  }
  const totals = jetstreamTotalsProblem(o);
  if (totals !== undefined) return bad(totals);
  const leafAccount = o.leafnodes?.account ?? '';
  if (leafAccount !== '' && !exists(leafAccount)) return ['leafnodes', `invalid value for "leafnodes.account": account ${JSON.stringify(leafAccount)} is not defined in "accounts"`];
  const remotes = o.leafnodes?.remotes ?? [];
  for (let r = 0; r < remotes.length; r++) {
    const acc = remotes[r]!.account;
    if (acc !== '' && !exists(acc)) return ['leafnodes', `invalid value for "leafnodes.remotes[${r}].account": account ${JSON.stringify(acc)} is not defined in "accounts"`];
  }
  if (o.noAuthUser !== undefined) {
    const found = o.users.some((u) => u.user === o.noAuthUser || u.nkey === o.noAuthUser);
    if (!found) return ['noAuthUser', `invalid value for "noAuthUser": ${JSON.stringify(o.noAuthUser)} is not a user (or nkey) of the authorization block or of an account`];
  }
  if (o.systemAccount !== DEFAULT_SYSTEM_ACCOUNT && !byName.has(o.systemAccount)) {
    return ['systemAccount', `invalid value for "systemAccount": account ${JSON.stringify(o.systemAccount)} is not defined in "accounts"`];
  }
  return undefined;
}
