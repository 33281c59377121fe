// Operator mode (decentralized auth, docs/accounts.md "Operator mode"): the trusted operators'
// JWTs, the accounts of the memory resolver (resolver_preload) verified against them, and those
// accounts' exports, imports and JetStream mapped onto the account model of the config path
// (config.ts), so routers, bridges and JetStream work as for configured accounts. Users are
// judged in server/auth/jwt-users.ts. Built once from the options; pure apart from the clock
// reading in `build` (an expired account is a warning, not a start-up error, as in nats-server).

import { hasWildcard, isSubsetOf } from '../../protocol/subject.ts';
import { decodeClaims, expiresAtMs, outsideValidity, type AccountJwt, type ClaimsData, type JwtSigningKey, type OperatorJwt } from '../auth/jwt-claims.ts';
import type { AccountLimits } from '../../protocol/jetstream-api.ts';
import { accountsRule, findExport, type AccountConfig, type ExportConfig, type ImportConfig, type ResponseType } from './config.ts';

/** The only account resolver built so far: accounts given in the configuration. */
export const MEMORY_RESOLVER = 'MEMORY';

/** An account as its JWT describes it. */
export interface JwtAccount {
  /** The account's public key, which is also its name in this server (as in nats-server). */
  readonly publicKey: string;
  /** The JWT's name claim (nats-server's name_tag). */
  readonly nameTag: string;
  readonly jwt: string;
  /** The key that signed the account JWT (the operator or one of its signing keys). */
  readonly issuer: string;
  readonly claims: ClaimsData<AccountJwt>;
  /** Keys that may sign its users: the account itself (null) and its signing keys (a scope for scoped ones). */
  readonly signers: ReadonlyMap<string, JwtSigningKey | null>;
  /** ms since the epoch; undefined = never. */
  readonly expiresAtMs: number | undefined;
  /** Connections the account may have at once; -1 = no limit (absent in the JWT = 0, as in nats-server). */
  readonly maxConnections: number;
  readonly config: AccountConfig;
}

export interface OperatorModeOptions {
  readonly operators: readonly string[];
  readonly resolver: string | undefined;
  readonly resolverPreload: Readonly<Record<string, string>>;
  readonly systemAccount: string;
  readonly accounts: readonly unknown[];
  readonly users: readonly unknown[];
  readonly token?: string | undefined;
  readonly user?: string | undefined;
}

/** A problem with the options: the field to name and the one line to print. */
export type OperatorProblem = [field: string, message: string];

export class OperatorMode {
  /** Keys whose signature makes an account JWT trusted: the operators and their signing keys. */
  readonly trustedKeys: ReadonlySet<string>;
  readonly accounts: ReadonlyMap<string, JwtAccount>;
  /** The first operator's system account, when its JWT names one ('' = none). */
  readonly operatorSystemAccount: string;
  /** Imports dropped and accounts already expired, one line each, for the log. */
  readonly warnings: readonly string[];

  private constructor(trusted: Set<string>, accounts: Map<string, JwtAccount>, system: string, warnings: string[]) {
    this.trustedKeys = trusted;
    this.accounts = accounts;
    this.operatorSystemAccount = system;
    this.warnings = warnings;
  }

  /** The accounts in the shape of configured ones (their public keys as names). */
  accountConfigs(): AccountConfig[] {
    return [...this.accounts.values()].map((a) => a.config);
  }

  /**
   * Operator mode from the options: undefined without operators, a problem (one line naming the
   * field) when they are unusable, as nats-server's validateTrustedOperators and preload checks.
   */
  static build(o: OperatorModeOptions, nowMs: number): OperatorMode | OperatorProblem | undefined {
    if (o.operators.length === 0) {
      if (o.resolver !== undefined || Object.keys(o.resolverPreload).length > 0) {
        return ['resolver', 'invalid value for "resolver": an account resolver needs an operator ("operator": the operator JWT or its file)'];
      }
      return undefined;
    }
    if (o.resolver === undefined) return ['resolver', 'invalid value for "resolver": operators require an account resolver to be configured (resolver: MEMORY)'];
    if (o.resolver !== MEMORY_RESOLVER) return ['resolver', `invalid value for "resolver": expected MEMORY (the URL and nats resolvers are not built), got ${JSON.stringify(o.resolver)}`];
    if (o.accounts.length > 0) return ['accounts', 'invalid value for "accounts": operators do not allow accounts to be configured directly (they come from account JWTs)'];
    if (o.users.length > 0) return ['users', 'invalid value for "users": operators do not allow users to be configured directly (they connect with user JWTs)'];
    if (o.token !== undefined || o.user !== undefined) return [o.token !== undefined ? 'token' : 'user', `invalid value for "${o.token !== undefined ? 'token' : 'user'}": operators do not allow a token or a single user (users connect with user JWTs)`];

    const trusted = new Set<string>();
    let system = '';
    for (let i = 0; i < o.operators.length; i++) {
      const claims = decodeClaims(o.operators[i]!, 'operator');
      if (typeof claims === 'string') return ['operators', `invalid value for "operators[${i}]": ${claims}`];
      // An operator signs its own JWT (or with one of its signing keys).
      const keys = signingKeyList(claims.nats.signing_keys);
      if (claims.iss !== claims.sub && !keys.includes(claims.iss)) return ['operators', `invalid value for "operators[${i}]": operator ${claims.sub} is signed by ${claims.iss}, neither itself nor one of its signing keys`];
      const expired = outsideValidity(claims, nowMs);
      if (expired !== undefined) return ['operators', `invalid value for "operators[${i}]": operator JWT ${claims.sub} is ${expired}`];
      // strict_signing_key_usage: only the signing keys may sign accounts (nats-server's TrustedKeys).
      if ((claims.nats as { strict_signing_key_usage?: boolean }).strict_signing_key_usage !== true) trusted.add(claims.sub);
      for (const k of keys) trusted.add(k);
      if (i === 0) system = claims.nats.system_account ?? '';
    }

    const warnings: string[] = [];
    const decoded = new Map<string, { jwt: string; claims: ClaimsData<AccountJwt> }>();
    for (const [key, token] of Object.entries(o.resolverPreload)) {
      const at = `invalid value for "resolverPreload.${key}"`;
      if (typeof token !== 'string') return ['resolverPreload', `${at}: expected an account JWT string`];
      const claims = decodeClaims(token, 'account');
      if (typeof claims === 'string') return ['resolverPreload', `${at}: ${claims}`];
      if (claims.sub !== key) return ['resolverPreload', `${at}: the JWT is account ${claims.sub}'s, not this key's`];
      if (!trusted.has(claims.iss)) return ['resolverPreload', `${at}: account JWT not signed by a trusted operator (issuer ${claims.iss})`];
      const invalid = outsideValidity(claims, nowMs);
      if (invalid !== undefined) warnings.push(`account ${key} (${claims.name}): its JWT is ${invalid}; its users are refused`);
      const issue = validationIssue(claims.nats);
      if (issue !== undefined) {
        // nats-server's resolver refuses such an account ("account validation failed"): it does
        // not exist for users or importers.
        warnings.push(`account ${key} (${claims.name}) has validation issues and is not loaded: ${issue}`);
        continue;
      }
      decoded.set(key, { jwt: token.trim(), claims });
    }

    const configs = new Map<string, AccountConfig>();
    for (const [key, { claims }] of decoded) {
      const config = accountConfigOf(claims, decoded, warnings);
      const problem = accountsRule([config]);
      if (problem !== undefined) return ['resolverPreload', `invalid value for "resolverPreload.${key}": ${problem.replace(/^accounts\[0\]/, 'account')}`];
      configs.set(key, config);
    }
    const accounts = new Map<string, JwtAccount>();
    for (const [key, { jwt, claims }] of decoded) {
      accounts.set(key, {
        publicKey: key,
        nameTag: claims.name ?? '',
        jwt,
        issuer: claims.iss,
        claims,
        signers: signersOf(claims),
        expiresAtMs: expiresAtMs(claims),
        maxConnections: claims.nats.limits?.conn ?? 0,
        config: {
          ...withUsableImports(configs.get(key)!, configs, warnings),
          jwt: { token: jwt, issuerKey: claims.iss, nameTag: claims.name ?? '', tags: claims.nats.tags ?? [], expiresAtMs: expiresAtMs(claims) },
        },
      });
    }
    return new OperatorMode(trusted, accounts, system, warnings);
  }
}

/**
 * The account JWT's blocking validation issue, as nats-server's jwt library finds it
 * (AccountClaims.Validate): more imports or exports than its limits allow, or wildcard exports
 * without `wildcards`. Absent limits count as 0, as Go decodes them, so an account JWT needs
 * explicit limits (nsc writes -1, none) to import or export anything.
 */
function validationIssue(a: Partial<AccountJwt>): string | undefined {
  const limits = a.limits ?? {};
  const imports = a.imports ?? [];
  const exports = a.exports ?? [];
  const maxImports = limits.imports ?? 0;
  const maxExports = limits.exports ?? 0;
  if (maxImports !== -1 && imports.length > maxImports) return 'the account contains more imports than allowed by the operator';
  if (maxExports !== -1) {
    if (exports.length > maxExports) return 'the account contains more exports than allowed by the operator';
    if (limits.wildcards !== true && exports.some((e) => hasWildcard(e.subject))) return 'the account contains wildcard exports that are not allowed by the operator';
  }
  return undefined;
}

/** The imports whose export admits the importer; nats-server logs and skips the others. */
function withUsableImports(a: AccountConfig, all: ReadonlyMap<string, AccountConfig>, warnings: string[]): AccountConfig {
  const imports = a.imports.filter((i) => {
    const exporter = all.get(i.account);
    if (exporter !== undefined && i.account !== a.name && findExport(exporter, i.kind, i.subject, a.name) !== undefined) return true;
    const why = exporter === undefined ? 'no such account in resolver_preload' : `that account exports no ${i.kind} matching it to this one`;
    warnings.push(`account ${a.name}: ${i.kind} import ${JSON.stringify(i.subject)} from ${i.account} ignored: ${why}`);
    return false;
  });
  return imports.length === a.imports.length ? a : { ...a, imports };
}

function signingKeyList(keys: readonly (string | JwtSigningKey)[] | undefined): string[] {
  return (keys ?? []).map((k) => (typeof k === 'string' ? k : k.key));
}

function signersOf(claims: ClaimsData<AccountJwt>): Map<string, JwtSigningKey | null> {
  const signers = new Map<string, JwtSigningKey | null>([[claims.sub, null]]);
  for (const k of claims.nats.signing_keys ?? []) {
    if (typeof k === 'string') signers.set(k, null);
    else if (k.kind === 'user_scope' && typeof k.key === 'string') signers.set(k.key, k);
  }
  return signers;
}

const RESPONSE_TYPE: Readonly<Record<string, ResponseType>> = { Singleton: 'singleton', Stream: 'stream', Chunked: 'chunked' };

/**
 * nats-server enables an account's JetStream when its JWT gives it storage (mem_storage or
 * disk_storage other than 0, -1 = unlimited), directly or in a tier.
 */
export function jetstreamEnabled(limits: AccountJwt['limits']): boolean {
  if (limits === undefined) return false;
  const gives = (l: { mem_storage?: number; disk_storage?: number } | undefined): boolean => (l?.mem_storage ?? 0) !== 0 || (l?.disk_storage ?? 0) !== 0;
  return gives(limits) || gives(limits.tiered_limits?.R1) || gives(limits.tiered_limits?.R3);
}

/**
 * The account JWT's exports and imports in config.ts's shapes. A stream import's `to` is a prefix
 * and its `local_subject` the subject it appears on; a service import's `local_subject` is what
 * requesters use (without one, `subject` is, and `to` is the exporter's subject), as nats-server
 * reads them (accounts.go updateAccountClaimsWithRefresh). An export that requires a token admits
 * the importers whose import carries a valid activation token from it.
 */
function accountConfigOf(claims: ClaimsData<AccountJwt>, all: ReadonlyMap<string, { claims: ClaimsData<AccountJwt> }>, warnings: string[]): AccountConfig {
  const name = claims.sub;
  const exports: ExportConfig[] = (claims.nats.exports ?? []).map((e) => {
    const accounts = e.token_req === true ? importersWithToken(name, claims, e.subject, e.type, all, warnings) : undefined;
    const base = { subject: e.subject, ...(accounts !== undefined ? { accounts } : {}) };
    return e.type === 'service' ? { kind: 'service', ...base, responseType: RESPONSE_TYPE[e.response_type ?? 'Singleton'] ?? 'singleton' } : { kind: 'stream', ...base };
  });
  const imports: ImportConfig[] = (claims.nats.imports ?? []).map((i): ImportConfig => {
    if (i.type === 'service') {
      const local = i.local_subject ?? i.subject;
      const remote = i.local_subject !== undefined ? i.subject : (i.to ?? i.subject);
      return { kind: 'service', account: i.account, subject: remote, to: local === remote ? '' : local };
    }
    if (i.local_subject !== undefined) return { kind: 'stream', account: i.account, subject: i.subject, prefix: '', to: i.local_subject };
    return { kind: 'stream', account: i.account, subject: i.subject, prefix: (i.to ?? '').replace(/\.$/, ''), to: '' };
  });
  const jetstream = jetstreamEnabled(claims.nats.limits);
  return { name, exports, imports, jetstream, ...(jetstream ? { jetstreamLimits: jetstreamLimitsOf(claims.nats.limits!) } : {}) };
}

/**
 * The account JWT's JetStream limits in the config path's shape (streams/limits.ts enforces
 * them), read as nats-server 2.9 does (accounts.go updateAccountClaimsWithRefresh): storage and
 * counts as given (0 streams or consumers = no limit there), per-stream bytes and max_ack_pending
 * -1 unless positive. Tiered limits: the R1 tier's (a single server's streams).
 */
export function jetstreamLimitsOf(limits: NonNullable<AccountJwt['limits']>): AccountLimits {
  const plain = (limits.mem_storage ?? 0) !== 0 || (limits.disk_storage ?? 0) !== 0;
  const l = plain ? limits : (limits.tiered_limits?.R1 ?? limits.tiered_limits?.R3 ?? {});
  const unlimited = (n: number | undefined): number => (n !== undefined && n > 0 ? n : -1);
  return {
    max_memory: l.mem_storage ?? 0,
    max_storage: l.disk_storage ?? 0,
    max_streams: l.streams ?? 0,
    max_consumers: l.consumer ?? 0,
    max_ack_pending: unlimited(l.max_ack_pending),
    memory_max_stream_bytes: unlimited(l.mem_max_stream_bytes),
    storage_max_stream_bytes: unlimited(l.disk_max_stream_bytes),
    max_bytes_required: l.max_bytes_required === true,
  };
}

/** The accounts whose import of this export carries an activation token the exporter signed. */
function importersWithToken(
  exporter: string,
  claims: ClaimsData<AccountJwt>,
  subject: string,
  kind: 'stream' | 'service',
  all: ReadonlyMap<string, { claims: ClaimsData<AccountJwt> }>,
  warnings: string[],
): string[] {
  const signers = signersOf(claims);
  const admitted: string[] = [];
  for (const [importer, { claims: ic }] of all) {
    for (const i of ic.nats.imports ?? []) {
      if (i.account !== exporter || i.type !== kind || i.token === undefined || !isSubsetOf(i.subject, subject)) continue;
      const act = decodeClaims(i.token, 'activation');
      const why =
        typeof act === 'string'
          ? act
          : !signers.has(act.iss)
            ? 'not signed by the exporting account or its signing keys'
            : act.sub !== importer
              ? 'issued to another account'
              : act.nats.subject === undefined || !isSubsetOf(i.subject, act.nats.subject)
                ? 'for another subject'
                : undefined;
      if (why === undefined) admitted.push(importer);
      else warnings.push(`account ${importer}: activation token for ${kind} ${JSON.stringify(i.subject)} of ${exporter} ignored: ${why}`);
    }
  }
  return admitted;
}
