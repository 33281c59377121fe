// Operator mode's users (docs/accounts.md "Operator mode"): a client presents a user JWT and its
// signature of the INFO nonce (a .creds file holds both the JWT and the seed). Judged in
// nats-server's order (auth.go processClientOrLeafAuthentication): the JWT's signature and dates,
// its connection types, its account (known, trusted, not expired), the signer (the account's key
// or one of its signing keys, a scoped one supplying the permissions), bearer tokens, the nonce
// signature, and the account's revocations. Every refusal becomes the client's
// 'Authorization Violation'; the reason is for the log.

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { isValidSubject } from '../../protocol/subject.ts';
import type { JwtAccount, OperatorMode } from '../accounts/operator.ts';
import type { AuthOutcome, AuthUser, Credentials } from './authenticator.ts';
import { decodeClaims, expiresAtMs, outsideValidity, type ClaimsData, type JwtPermissions, type JwtUserPermissionsLimits, type UserJwt } from './jwt-claims.ts';
import { verifyNonceSignature } from './nkeys.ts';
import { compilePermissions } from './permissions.ts';
import type { PermissionsConfig } from './users.ts';

/** How the client reached this server, in the JWT's allowed_connection_types terms. */
export type ConnectionType = 'STANDARD' | 'WEBSOCKET' | 'LEAFNODE';

/** Where a connecting client comes from: how, and its IP address (a user JWT's `src`). */
export interface ClientOrigin {
  readonly kind: ConnectionType;
  readonly host: string;
}

/** The connection types nats-server 2.9 knows; a JWT that allows only others allows nothing here. */
const KNOWN_CONNECTION_TYPES = new Set(['STANDARD', 'WEBSOCKET', 'LEAFNODE', 'LEAFNODE_WS', 'MQTT', 'MQTT_WS']);

/** What monitoring shows of a JWT user (/connz auth=1), besides its key and account. */
export interface JwtIdentity {
  readonly jwt: string;
  /** The key that signed the user JWT (the account's or a signing key). */
  readonly issuerKey: string;
  readonly nameTag: string;
  readonly tags: readonly string[];
}

const refuse = (reason: string): AuthOutcome => ({ ok: false, reason });

/** Which revocation makes a user issued at `iat` invalid: its own or the account's '*' entry at or after it. */
function revoked(revocations: Readonly<Record<string, number>> | undefined, user: string, iat: number): boolean {
  if (revocations === undefined) return false;
  const own = revocations[user];
  const all = revocations['*'];
  return (own !== undefined && own >= iat) || (all !== undefined && all >= iat);
}

export function authenticateJwtUser(mode: OperatorMode, c: Credentials, nonce: string, origin: ClientOrigin, nowMs: number): AuthOutcome {
  const kind = origin.kind;
  const token = c.jwt;
  if (token === '') return refuse('a user JWT is required (operator mode)');
  const claims = decodeClaims(token, 'user');
  if (typeof claims === 'string') return refuse(`user JWT: ${claims}`);
  const user = claims.sub;
  const invalid = outsideValidity(claims, nowMs);
  if (invalid !== undefined) return refuse(`user JWT ${user} is ${invalid}`);
  const types = claims.nats.allowed_connection_types ?? [];
  if (types.length > 0) {
    const known = types.filter((t) => KNOWN_CONNECTION_TYPES.has(t));
    if (!known.includes(kind)) return refuse(`user ${user}: connection type ${kind} not allowed (${types.join(', ')})`);
  }
  const accountKey = claims.nats.issuer_account ?? claims.iss;
  const account = mode.accounts.get(accountKey);
  if (account === undefined) return refuse(`user ${user}: account ${accountKey} is not known`);
  if (!mode.trustedKeys.has(account.issuer)) return refuse(`user ${user}: account ${accountKey} not signed by a trusted operator`);
  if (!account.signers.has(claims.iss)) return refuse(`user ${user}: issuer ${claims.iss} is not account ${accountKey} nor one of its signing keys`);
  const scope = account.signers.get(claims.iss) ?? null;
  let limits: Partial<JwtUserPermissionsLimits> = claims.nats;
  if (scope !== null) {
    if (hasOwnPermissions(claims.nats)) return refuse(`user ${user}: a user of a scoped signing key may not carry permissions or limits`);
    const templated = applyTemplate(scope.template, claims, account);
    if (typeof templated === 'string') return refuse(`user ${user}: ${templated}`);
    limits = templated;
  }
  const accountInvalid = outsideValidity(account.claims, nowMs);
  if (accountInvalid !== undefined) return refuse(`user ${user}: account ${accountKey} JWT is ${accountInvalid}`);
  if (claims.nats.bearer_token === true) {
    if (account.claims.nats.limits?.disallow_bearer === true || account.claims.nats.disallow_bearer === true) {
      return refuse(`user ${user}: account ${accountKey} does not allow bearer tokens`);
    }
  } else if (!verifyNonceSignature(user, nonce, c.sig)) {
    return refuse(`user ${user}: ${c.sig === '' ? 'signature missing' : 'signature not verified'}`);
  }
  if (revoked(account.claims.nats.revocations, user, claims.iat)) return refuse(`user ${user}: revoked by account ${accountKey}`);
  // The user's own src and times, or its scoped key template's (nats-server checks the limits the
  // user ends up with).
  if (!allowedSource(limits.src, origin.host)) return refuse(`user ${user}: source address ${origin.host} not allowed`);
  const window = connectWindow(limits.times, limits.locale, nowMs);
  if (window === 'outside') return refuse(`user ${user}: outside its connect times`);
  return { ok: true, user: identityOf(claims, limits, account, token, window) };
}

/**
 * nats-server's validateSrc: no list allows every address; otherwise the client's IP must be in
 * one of the CIDR blocks (node's BlockList, which also matches an IPv4-mapped IPv6 address
 * against IPv4 blocks); a list nats-server could not parse admits nobody.
 */
export function allowedSource(src: readonly string[] | string | undefined, host: string): boolean {
  // Older JWTs carry src as one comma-separated string.
  const list = typeof src === 'string' ? src.split(',').map((x) => x.trim()).filter((x) => x !== '') : (src ?? []);
  if (list.length === 0) return true;
  const family = ipFamily(host);
  if (family === undefined) return false;
  const blocks = new BlockList();
  for (const cidr of list) {
    const slash = cidr.indexOf('/');
    const net = slash < 0 ? '' : cidr.slice(0, slash);
    const bits = Number(cidr.slice(slash + 1));
    const type = ipFamily(net);
    if (type === undefined || !Number.isInteger(bits)) return false;
    try {
      blocks.addSubnet(net, bits, type);
    } catch {
      return false; // a prefix length out of range
    }
  }
  return blocks.check(host, family);
}

function ipFamily(text: string): 'ipv4' | 'ipv6' | undefined {
  return isIPv4(text) ? 'ipv4' : isIPv6(text) ? 'ipv6' : undefined;
}

const DAY_SECONDS = 24 * 3600;

/**
 * nats-server's validateTimes: without `times` any moment will do (undefined); otherwise now, in
 * the JWT's `locale` (an IANA zone; the server's own zone when empty), must fall in one of the
 * "HH:MM:SS" ranges, and the connection may stay until that range ends (ms since the epoch). As in
 * nats-server, a range that ends the next day (start after end) counts from its start to its end
 * tomorrow, so the hours after midnight of yesterday's range do not admit anyone.
 */
export function connectWindow(times: readonly { start?: string; end?: string }[] | undefined, locale: string | undefined, nowMs: number): number | undefined | 'outside' {
  if (times === undefined || times.length === 0) return undefined;
  const nowS = secondsOfDay(nowMs, locale ?? '');
  if (nowS === undefined) return 'outside';
  for (const r of times) {
    const start = parseClock(r.start);
    const end = parseClock(r.end);
    if (start === undefined || end === undefined) return 'outside';
    const endS = start > end ? end + DAY_SECONDS : end;
    if (start < nowS && endS > nowS) return nowMs + (endS - nowS) * 1000;
  }
  return 'outside';
}

/** Seconds since midnight (fractional) of `nowMs` in zone `locale` ('' = the process's zone); undefined for an unknown zone. */
function secondsOfDay(nowMs: number, locale: string): number | undefined {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat('en-US', { hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit', ...(locale !== '' ? { timeZone: locale } : {}) }).formatToParts(nowMs);
  } catch {
    return undefined;
  }
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? NaN);
  const s = get('hour') * 3600 + get('minute') * 60 + get('second') + (nowMs % 1000) / 1000;
  return Number.isFinite(s) ? s : undefined;
}

/** "HH:MM:SS" as seconds since midnight (Go's "15:04:05" layout); undefined when malformed. */
function parseClock(t: string | undefined): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(t ?? '');
  if (m === null) return undefined;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return h < 24 && min < 60 && sec < 60 ? h * 3600 + min * 60 + sec : undefined;
}

/** A JWT user as the connection sees it: its key, account, permissions, limits and expiry. */
function identityOf(claims: ClaimsData<UserJwt>, lim: Partial<JwtUserPermissionsLimits>, account: JwtAccount, token: string, windowEndMs: number | undefined): AuthUser {
  const accountLimits = account.claims.nats.limits;
  // The end of its connect-time range closes the connection as its expiry would (setExpiration).
  const jwtExpiry = expiresAtMs(claims);
  const userExpiry = windowEndMs !== undefined && (jwtExpiry === undefined || windowEndMs < jwtExpiry) ? windowEndMs : jwtExpiry;
  const accountExpiry = account.expiresAtMs;
  // The connection is closed at the first of the two (nats-server: user timer, account timer).
  const expiry =
    userExpiry === undefined && accountExpiry === undefined
      ? undefined
      : accountExpiry !== undefined && (userExpiry === undefined || accountExpiry < userExpiry)
        ? { atMs: accountExpiry, what: 'account' as const }
        : { atMs: userExpiry!, what: 'user' as const };
  const jwt: JwtIdentity = { jwt: token, issuerKey: claims.iss, nameTag: claims.name ?? '', tags: claims.nats.tags ?? [] };
  return {
    key: `nkey:${claims.sub}`,
    name: claims.sub,
    permissions: compilePermissions(permissionsOf(lim) ?? permissionsOf(account.claims.nats.default_permissions ?? {})),
    limits: {
      maxConnections: 0,
      maxSubscriptions: tightest(lim.subs, accountLimits?.subs),
      maxPayloadBytes: tightest(lim.payload, accountLimits?.payload),
    },
    account: account.publicKey,
    ...(expiry !== undefined ? { expires: expiry } : {}),
    ...(account.maxConnections >= 0 ? { accountConnections: { key: `account:${account.publicKey}`, max: account.maxConnections } } : {}),
    jwt,
  };
}

/** A JWT limit (-1 or absent = none) as a UserLimits number (0 = none); the smaller of two. */
function tightest(a: number | undefined, b: number | undefined): number {
  const vals = [a, b].filter((n): n is number => n !== undefined && n > 0);
  return vals.length === 0 ? 0 : Math.min(...vals);
}

/** nats-server's buildPermissionsFromJwt: undefined when the JWT sets none. */
function permissionsOf(p: Partial<JwtPermissions>): PermissionsConfig | undefined {
  const out: PermissionsConfig = {};
  const side = (s: { allow?: string[]; deny?: string[] } | undefined): { allow?: string[]; deny?: string[] } | undefined => {
    const allow = s?.allow ?? [];
    const deny = s?.deny ?? [];
    if (allow.length === 0 && deny.length === 0) return undefined;
    return { ...(allow.length > 0 ? { allow: [...allow] } : {}), ...(deny.length > 0 ? { deny: [...deny] } : {}) };
  };
  const pub = side(p.pub);
  const sub = side(p.sub);
  if (pub !== undefined) out.publish = pub;
  if (sub !== undefined) out.subscribe = sub;
  // The JWT's ttl is a Go duration: nanoseconds.
  if (p.resp !== undefined) out.allowResponses = { maxMsgs: p.resp.max ?? 1, expiresMs: p.resp.ttl !== undefined ? Math.round(p.resp.ttl / 1e6) : 0 };
  return pub === undefined && sub === undefined && p.resp === undefined ? undefined : out;
}

function hasOwnPermissions(u: Partial<UserJwt>): boolean {
  const nonEmpty = (l: string[] | undefined): boolean => (l?.length ?? 0) > 0;
  const limited = (n: number | undefined): boolean => n !== undefined && n !== -1;
  return (
    nonEmpty(u.pub?.allow) || nonEmpty(u.pub?.deny) || nonEmpty(u.sub?.allow) || nonEmpty(u.sub?.deny) || u.resp !== undefined ||
    limited(u.subs) || limited(u.payload) || limited(u.data) || nonEmpty(u.src) || (u.times?.length ?? 0) > 0
  );
}

/**
 * A scoped signing key's template filled in for this user (nats-server's
 * processUserPermissionsTemplate): {{name()}}, {{subject()}}, {{account-name()}} and
 * {{account-subject()}}. Tag templates are not expanded: an allow entry using one is left out,
 * a deny entry refuses the user (as an unexpandable deny does in nats-server).
 */
function applyTemplate(t: Partial<JwtUserPermissionsLimits>, user: ClaimsData<UserJwt>, account: JwtAccount): Partial<JwtUserPermissionsLimits> | string {
  const values: Record<string, string> = {
    'name()': user.name ?? '',
    'subject()': user.sub,
    'account-name()': account.nameTag,
    'account-subject()': account.publicKey,
  };
  const fill = (list: string[] | undefined, strict: boolean): string[] | string => {
    const out: string[] = [];
    for (const entry of list ?? []) {
      const filled = entry
        .split('.')
        .map((tk) => (tk.startsWith('{{') && tk.endsWith('}}') ? (values[tk.slice(2, -2).toLowerCase()] ?? ' ') : tk))
        .join('.');
      if (isValidSubject(filled.split(' ')[0]!)) out.push(filled);
      else if (strict) return 'its signing key template generated an invalid subject';
    }
    return out;
  };
  const pubAllow = fill(t.pub?.allow, false);
  const pubDeny = fill(t.pub?.deny, true);
  const subAllow = fill(t.sub?.allow, false);
  const subDeny = fill(t.sub?.deny, true);
  if (typeof pubDeny === 'string') return pubDeny;
  if (typeof subDeny === 'string') return subDeny;
  // An allow list that expanded to nothing allows nothing (nats-server adds "deny >").
  const side = (wasGiven: boolean, allow: string[], deny: string[]): { allow: string[]; deny: string[] } => ({ allow, deny: wasGiven && allow.length === 0 ? [...deny, '>'] : deny });
  return {
    ...t,
    pub: side((t.pub?.allow?.length ?? 0) > 0, pubAllow as string[], pubDeny),
    sub: side((t.sub?.allow?.length ?? 0) > 0, subAllow as string[], subDeny),
  };
}
