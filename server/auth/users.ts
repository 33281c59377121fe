// Users as configured (options, config files): who may connect, with which credentials, what they
// may publish and subscribe to, and their limits. Pure data and validation; compiled forms live in
// permissions.ts and authenticator.ts.

import { isValidSubject } from '../../protocol/subject.ts';
import { isValidUserNkey } from './nkeys.ts';

/** One side (publish or subscribe) of a user's permissions. Absent `allow` = everything allowed. */
export interface SubjectPermissionConfig {
  allow?: string[];
  /** Deny overrides allow. */
  deny?: string[];
}

/**
 * allow_responses: a user may publish to the reply subject of a request it received, even without
 * a publish grant, at most `maxMsgs` times and within `expiresMs` of receiving it (nats-server's
 * defaults: 1 message, 2 minutes; a negative value means unlimited).
 */
export interface ResponsePermissionConfig {
  maxMsgs?: number;
  expiresMs?: number;
}

export interface PermissionsConfig {
  /** Entries are subjects with wildcards. */
  publish?: SubjectPermissionConfig;
  /** Entries are subjects with wildcards, optionally followed by a queue group: "jobs.> workers". */
  subscribe?: SubjectPermissionConfig;
  allowResponses?: boolean | ResponsePermissionConfig;
}

export interface UserConfig {
  /** Username (password users). Exactly one of `user` and `nkey` is set. */
  user?: string;
  /** Plain text, or a bcrypt hash ("$2a$11$..."). */
  password?: string;
  /** Public user nkey ("U..."): the client proves it holds the seed by signing the INFO nonce. */
  nkey?: string;
  permissions?: PermissionsConfig;
  /** Connections open at once with these credentials; 0/absent = unlimited. */
  maxConnections?: number;
  /** Subscriptions per connection; 0/absent = the server's limit. */
  maxSubscriptions?: number;
  /** Largest message a connection may publish; 0/absent = the server's limit. */
  maxPayloadBytes?: number;
  /** The account the user belongs to; absent = the global account ($G). */
  account?: string;
}

/** nats-server's test for a bcrypt hash: `$2a$`, `$2b$`, `$2x$` or `$2y$`, then a 2-digit cost. */
const BCRYPT = /^\$2[abxy]\$\d{2}\$/;

export function isBcryptHash(s: string): boolean {
  return BCRYPT.test(s);
}


// ---------------------------------------------------------------------------------------------
// Validation. Each check returns undefined when fine, else what was expected, naming the path.

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function checkSubjectList(v: unknown, path: string, allowQueue: boolean): string | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) return `${path} to be a list of subjects`;
  for (let i = 0; i < v.length; i++) {
    const entry: unknown = v[i];
    if (typeof entry !== 'string') return `${path}[${i}] to be a subject string`;
    const parts = entry.trim().split(/\s+/);
    const okShape = parts.length === 1 || (allowQueue && parts.length === 2);
    if (!okShape || !isValidSubject(parts[0]!) || (parts.length === 2 && !isValidSubject(parts[1]!))) {
      return `${path}[${i}] to be a valid subject${allowQueue ? ' (optionally followed by a queue group)' : ''}, not ${JSON.stringify(entry)}`;
    }
  }
  return undefined;
}

function checkSubjectPermission(v: unknown, path: string, allowQueue: boolean): string | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) return `${path} to be { allow, deny }`;
  for (const key of Object.keys(v)) {
    if (key !== 'allow' && key !== 'deny') return `${path} to have only "allow" and "deny", not ${JSON.stringify(key)}`;
  }
  return checkSubjectList(v.allow, `${path}.allow`, allowQueue) ?? checkSubjectList(v.deny, `${path}.deny`, allowQueue);
}

export function checkPermissions(v: unknown, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) return `${path} to be { publish, subscribe, allowResponses }`;
  for (const key of Object.keys(v)) {
    if (key !== 'publish' && key !== 'subscribe' && key !== 'allowResponses') {
      return `${path} to have only "publish", "subscribe" and "allowResponses", not ${JSON.stringify(key)}`;
    }
  }
  const r = v.allowResponses;
  if (r !== undefined && typeof r !== 'boolean') {
    if (!isObject(r)) return `${path}.allowResponses to be true, false or { maxMsgs, expiresMs }`;
    for (const [k, n] of Object.entries(r)) {
      if (k !== 'maxMsgs' && k !== 'expiresMs') return `${path}.allowResponses to have only "maxMsgs" and "expiresMs", not ${JSON.stringify(k)}`;
      if (n !== undefined && !Number.isSafeInteger(n)) return `${path}.allowResponses.${k} to be an integer`;
    }
  }
  return (
    checkSubjectPermission(v.publish, `${path}.publish`, false) ?? checkSubjectPermission(v.subscribe, `${path}.subscribe`, true)
  );
}

const LIMIT_KEYS = ['maxConnections', 'maxSubscriptions', 'maxPayloadBytes'] as const;
const USER_KEYS = new Set<string>(['user', 'password', 'nkey', 'permissions', 'account', ...LIMIT_KEYS]);

/** Validates a users list; also refuses duplicate usernames/nkeys, which would shadow each other. */
export function checkUsers(v: unknown): string | undefined {
  if (!Array.isArray(v)) return 'a list of users';
  const seen = new Set<string>();
  for (let i = 0; i < v.length; i++) {
    const u: unknown = v[i];
    const path = `users[${i}]`;
    if (!isObject(u)) return `${path} to be { user, password } or { nkey }`;
    for (const key of Object.keys(u)) if (!USER_KEYS.has(key)) return `${path} to have no key ${JSON.stringify(key)}`;
    const { user, password, nkey } = u;
    if (nkey !== undefined) {
      if (typeof nkey !== 'string' || !isValidUserNkey(nkey)) {
        return `${path}.nkey to be a user public nkey (56 characters starting with U, valid checksum)`;
      }
      if (user !== undefined || password !== undefined) return `${path} to have either nkey or user/password, not both`;
    } else {
      if (typeof user !== 'string' || user === '') return `${path}.user to be a non-empty name (or an nkey)`;
      if (password !== undefined && typeof password !== 'string') return `${path}.password to be a string`;
    }
    if (u.account !== undefined && (typeof u.account !== 'string' || u.account === '')) return `${path}.account to be an account name`;
    const id = nkey !== undefined ? `nkey ${String(nkey)}` : `user ${String(user)}`;
    if (seen.has(id)) return `${path} to be unique (${id} appears twice)`;
    seen.add(id);
    for (const key of LIMIT_KEYS) {
      const n = u[key];
      if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) return `${path}.${key} to be an integer >= 0`;
    }
    const problem = checkPermissions(u.permissions, `${path}.permissions`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}
