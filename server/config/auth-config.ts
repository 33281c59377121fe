// The `authorization {}` block of a config file (nats-server syntax and JSON alike), mapped onto
// sluice's auth options: timeout, token, user/password, users (password or nkey) with
// permissions, default_permissions. Key names and value shapes follow nats-server (opts.go):
//   permissions { publish: "a.>" | ["a", "b"] | { allow: [...], deny: [...] }, subscribe: ...,
//                 allow_responses: true | { max: 1, expires: "2m" } }
// and a user entry may add sluice's per-user limits: max_connections, max_subscriptions,
// max_payload.

import type { PermissionsConfig, ResponsePermissionConfig, SubjectPermissionConfig, UserConfig } from '../auth/users.ts';
import {
  asDurationMs,
  asInt,
  asMap,
  asSize,
  asString,
  Bad,
  POSITIVE_DURATION_EXPECTED,
  type Collector,
  type Conv,
} from './convert.ts';
import type { ConfMap } from './nats-conf.ts';

/** The unquoted source text of a key's value (nats syntax), for durations such as `2m`. */
export type RawLookup = (map: ConfMap, key: string) => string | undefined;

const asSubjects: Conv<string[]> = (v) => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  return new Bad('a subject or a list of subjects');
};

function mapSubjectPermission(c: Collector, path: string, v: unknown, parent: ConfMap): SubjectPermissionConfig {
  // Old style: a subject or a list means "allow these, deny everything else".
  if (typeof v === 'string' || Array.isArray(v)) return { allow: c.convert(asSubjects, path, v, parent) };
  const block = asMap(c, path, v);
  const out: SubjectPermissionConfig = {};
  for (const [k, sv] of Object.entries(block)) {
    const key = k.toLowerCase();
    if (key === 'allow' || key === 'deny') out[key] = c.convert(asSubjects, `${path}.${k}`, sv, block);
    else c.fail(`${path}.${k}`, '"allow" or "deny" (the only keys of a subject permission)', sv, block);
  }
  return out;
}

function mapResponses(c: Collector, path: string, v: unknown, raw: RawLookup): boolean | ResponsePermissionConfig {
  if (typeof v === 'boolean') return v;
  const block = asMap(c, path, v);
  const out: ResponsePermissionConfig = {};
  for (const [k, sv] of Object.entries(block)) {
    switch (k.toLowerCase()) {
      case 'max':
      case 'max_msgs':
      case 'max_messages':
      case 'max_responses':
      case 'maxmsgs':
        out.maxMsgs = c.convert(asInt, `${path}.${k}`, sv, block);
        break;
      case 'expires':
      case 'expiration':
      case 'ttl':
      case 'expiresms':
        // expiresMs (sluice's JSON spelling) is milliseconds; the others are durations.
        out.expiresMs =
          k === 'expiresMs'
            ? c.convert(asInt, `${path}.${k}`, sv, block)
            : c.convert(asDurationMs, `${path}.${k}`, sv, block, raw(block, k));
        break;
      default:
        c.fail(`${path}.${k}`, '"max" or "expires"', sv, block);
    }
  }
  return out;
}

export function mapPermissions(c: Collector, path: string, v: unknown, raw: RawLookup): PermissionsConfig {
  const block = asMap(c, path, v);
  const out: PermissionsConfig = {};
  for (const [k, sv] of Object.entries(block)) {
    const p = `${path}.${k}`;
    switch (k.toLowerCase()) {
      case 'publish':
      case 'pub':
        out.publish = mapSubjectPermission(c, p, sv, block);
        break;
      case 'subscribe':
      case 'sub':
        out.subscribe = mapSubjectPermission(c, p, sv, block);
        break;
      case 'allow_responses':
      case 'publish_allow_responses':
      case 'allowresponses':
        out.allowResponses = mapResponses(c, p, sv, raw);
        break;
      default:
        c.fail(p, '"publish", "subscribe" or "allow_responses"', sv, block);
    }
  }
  return out;
}

function mapUser(c: Collector, path: string, v: unknown, raw: RawLookup): UserConfig {
  const block = asMap(c, path, v);
  const u: UserConfig = {};
  for (const [k, sv] of Object.entries(block)) {
    const p = `${path}.${k}`;
    switch (k.toLowerCase()) {
      case 'user':
      case 'username':
        u.user = c.convert(asString, p, sv, block);
        break;
      case 'pass':
      case 'password':
        u.password = c.convert(asString, p, sv, block);
        break;
      case 'nkey':
        u.nkey = c.convert(asString, p, sv, block);
        break;
      case 'permission':
      case 'permissions':
      case 'authorization':
        u.permissions = mapPermissions(c, p, sv, raw);
        break;
      case 'max_connections':
      case 'maxconnections':
        u.maxConnections = c.convert(asInt, p, sv, block);
        break;
      case 'max_subscriptions':
      case 'max_subs':
      case 'maxsubscriptions':
        u.maxSubscriptions = c.convert(asInt, p, sv, block);
        break;
      case 'max_payload':
      case 'maxpayloadbytes':
        u.maxPayloadBytes = c.convert(asSize, p, sv, block);
        break;
      case 'account':
        u.account = c.convert(asString, p, sv, block);
        break;
      default:
        // allowed_connection_types, ...: nats-server features sluice does not have.
        c.unsupported(p, block);
    }
  }
  return u;
}

export function mapUsers(c: Collector, path: string, v: unknown, parent: ConfMap, raw: RawLookup): UserConfig[] {
  if (!Array.isArray(v)) c.fail(path, 'a list of users [{ user, password } or { nkey }]', v, parent);
  return (v as unknown[]).map((u, i) => mapUser(c, `${path}[${i}]`, u, raw));
}

/** `authorization { ... }`: sets authTimeoutMs, token, user/pass and users. */
export function mapAuthorization(c: Collector, key: string, v: unknown, raw: RawLookup): void {
  const block = asMap(c, key, v);
  let users: UserConfig[] | undefined;
  let defaults: PermissionsConfig | undefined;
  for (const [sub, sv] of Object.entries(block)) {
    const path = `${key}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'timeout': {
        // nats-server: seconds, possibly fractional ("0.5"); a duration string works too.
        const ms = c.convert(asDurationMs, path, sv, block, raw(block, sub));
        c.set('authTimeoutMs', ms, path, sv, block, POSITIVE_DURATION_EXPECTED);
        break;
      }
      case 'token':
        c.set('token', c.convert(asString, path, sv, block), path, sv, block);
        break;
      case 'user':
      case 'username':
        c.set('user', c.convert(asString, path, sv, block), path, sv, block);
        break;
      case 'pass':
      case 'password':
        c.set('pass', c.convert(asString, path, sv, block), path, sv, block);
        break;
      case 'users':
        users = mapUsers(c, path, sv, block, raw);
        break;
      case 'default_permission':
      case 'default_permissions':
      case 'permissions':
        defaults = mapPermissions(c, path, sv, raw);
        break;
      default:
        c.unsupported(path, block);
    }
  }
  if (users !== undefined) {
    // Users without their own permissions get the defaults (nats-server's applyDefaultPermissions).
    const withDefaults = defaults === undefined ? users : users.map((u) => (u.permissions === undefined ? { ...u, permissions: defaults } : u));
    c.set('users', withDefaults, `${key}.users`, users, block);
  } else if (defaults !== undefined) {
    c.warn(`${JSON.stringify(`${key}.default_permissions`)} ignored: it applies to the users list, and there is none`, key);
  }
}
