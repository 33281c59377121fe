// Decides who a client is from its CONNECT credentials, in nats-server's order:
//   1. nkey users, when the client presents an nkey (signature over this connection's nonce);
//   2. users with passwords, when users are configured (lookup by username);
//   3. the single token (--token);
//   4. the single user/password (--user/--pass).
// Anything else, when any of them is configured, is refused. The same rules apply on TCP and
// WebSocket: the transport plays no part here, except for a user JWT's allowed connection types.
// In operator mode (an OperatorMode given) only user JWTs are accepted (jwt-users.ts).

import { GLOBAL_ACCOUNT } from '../accounts/config.ts';
import type { OperatorMode } from '../accounts/operator.ts';
import { authenticateJwtUser, type ClientOrigin, type JwtIdentity } from './jwt-users.ts';
import type { ServerOptions } from '../options-types.ts';
import { verifyNonceSignature } from './nkeys.ts';
import type { PasswordChecker } from './passwords.ts';
import { compilePermissions, type Permissions } from './permissions.ts';
import type { UserConfig } from './users.ts';

export interface UserLimits {
  /** 0 = unlimited. */
  readonly maxConnections: number;
  /** 0 = the server's limit. */
  readonly maxSubscriptions: number;
  /** 0 = the server's limit. */
  readonly maxPayloadBytes: number;
}

/** An authenticated identity. Shared by all connections using the same credentials. */
export interface AuthUser {
  /** Stable key for per-user accounting: "user:alice", "nkey:UA...", "token", "user". */
  readonly key: string;
  /** For logs and monitoring. */
  readonly name: string;
  readonly permissions: Permissions | undefined;
  readonly limits: UserLimits;
  /** The account the connection belongs to (docs/accounts.md). */
  readonly account: string;
  /** When the connection must be closed because its user (or account) JWT expires. */
  readonly expires?: { readonly atMs: number; readonly what: 'user' | 'account' };
  /** A user JWT's details for monitoring (operator mode). */
  readonly jwt?: JwtIdentity;
  /** The account's limit on connections at once (an account JWT's `conn`; 0 = none allowed). */
  readonly accountConnections?: { readonly key: string; readonly max: number };
}

export interface Credentials {
  readonly user: string;
  readonly pass: string;
  readonly authToken: string;
  readonly nkey: string;
  readonly sig: string;
  /** A user JWT (operator mode); '' = none. */
  readonly jwt: string;
}

export type AuthOutcome = { readonly ok: true; readonly user: AuthUser | undefined } | { readonly ok: false; readonly reason: string };

const NO_LIMITS: UserLimits = { maxConnections: 0, maxSubscriptions: 0, maxPayloadBytes: 0 };

/** Credentials with nothing in them: what no_auth_user stands in for. */
function isAnonymous(c: Credentials): boolean {
  return c.user === '' && c.pass === '' && c.authToken === '' && c.nkey === '' && c.jwt === '';
}
const OPEN: AuthOutcome = { ok: true, user: undefined };
/** Callers that do not say where the client is from (tests): a plain TCP client of no known address. */
const UNKNOWN_ORIGIN: ClientOrigin = { kind: 'STANDARD', host: '' };

function refuse(reason: string): AuthOutcome {
  return { ok: false, reason };
}

interface PasswordUser {
  readonly password: string;
  readonly identity: AuthUser;
}

function identityOf(u: UserConfig, key: string, name: string): AuthUser {
  return {
    key,
    name,
    permissions: compilePermissions(u.permissions),
    limits: {
      maxConnections: u.maxConnections ?? 0,
      maxSubscriptions: u.maxSubscriptions ?? 0,
      maxPayloadBytes: u.maxPayloadBytes ?? 0,
    },
    account: u.account ?? GLOBAL_ACCOUNT,
  };
}

export class Authenticator {
  /** Every CONNECT is judged (auth is configured); the gate stays shut until it is. */
  readonly required: boolean;
  /**
   * INFO's auth_required: as `required`, except with a no_auth_user, whose identity a client
   * without credentials gets (nats-server then says false, so clients need not send any).
   */
  readonly advertised: boolean;
  /** Nkey users exist: INFO carries a per-connection nonce. */
  readonly usesNonce: boolean;
  private readonly nkeys = new Map<string, AuthUser>();
  private readonly users = new Map<string, PasswordUser>();
  private readonly token: string | undefined;
  private readonly single: { user: string; pass: string; identity: AuthUser } | undefined;
  private readonly passwords: PasswordChecker;
  /** The no_auth_user's identity, when one is configured. */
  private readonly anonymous: AuthUser | undefined;
  /** Operator mode: users are user JWTs signed by the accounts it trusts. */
  private readonly operator: OperatorMode | undefined;
  private readonly nowMs: () => number;

  constructor(
    o: Pick<ServerOptions, 'users' | 'token' | 'user' | 'pass'> & Partial<Pick<ServerOptions, 'noAuthUser'>>,
    passwords: PasswordChecker,
    operator?: OperatorMode,
    nowMs: () => number = Date.now,
  ) {
    this.passwords = passwords;
    this.operator = operator;
    this.nowMs = nowMs;
    for (const u of o.users) {
      if (u.nkey !== undefined) this.nkeys.set(u.nkey, identityOf(u, `nkey:${u.nkey}`, u.nkey));
      else if (u.user !== undefined) {
        this.users.set(u.user, { password: u.password ?? '', identity: identityOf(u, `user:${u.user}`, u.user) });
      }
    }
    this.token = o.token;
    this.single =
      o.user !== undefined
        ? { user: o.user, pass: o.pass ?? '', identity: { key: 'user', name: o.user, permissions: undefined, limits: NO_LIMITS, account: GLOBAL_ACCOUNT } }
        : undefined;
    this.usesNonce = this.nkeys.size > 0 || operator !== undefined;
    this.required = this.usesNonce || this.users.size > 0 || this.token !== undefined || this.single !== undefined;
    const anon = o.noAuthUser;
    this.anonymous = anon === undefined ? undefined : (this.users.get(anon)?.identity ?? this.nkeys.get(anon));
    this.advertised = this.required && this.anonymous === undefined;
  }

  /**
   * The outcome for these credentials, or a Promise of it when a bcrypt hash must be computed
   * (see PasswordChecker). `nonce` is the one sent in this connection's INFO; `origin` how and
   * from where the client came (a user JWT may allow only some connection types and addresses).
   */
  authenticate(c: Credentials, nonce: string, origin: ClientOrigin = UNKNOWN_ORIGIN): AuthOutcome | Promise<AuthOutcome> {
    if (!this.required) return OPEN;
    if (this.operator !== undefined) return authenticateJwtUser(this.operator, c, nonce, origin, this.nowMs());
    if (this.anonymous !== undefined && isAnonymous(c)) return { ok: true, user: this.anonymous };
    if (this.nkeys.size > 0 && c.nkey !== '') {
      const identity = this.nkeys.get(c.nkey);
      if (identity === undefined) return refuse(`unknown nkey ${c.nkey}`);
      if (!verifyNonceSignature(c.nkey, nonce, c.sig)) return refuse(`bad nonce signature for nkey ${c.nkey}`);
      return { ok: true, user: identity };
    }
    if (this.users.size > 0 && c.user !== '') {
      const entry = this.users.get(c.user);
      if (entry === undefined) return refuse(`unknown user ${JSON.stringify(c.user)}`);
      return this.withPassword(entry.password, c.pass, entry.identity, `wrong password for user ${JSON.stringify(c.user)}`);
    }
    if (this.token !== undefined) {
      return this.withPassword(this.token, c.authToken, TOKEN_USER, 'wrong or missing token');
    }
    if (this.single !== undefined) {
      if (c.user !== this.single.user) return refuse(`unknown user ${JSON.stringify(c.user)}`);
      return this.withPassword(this.single.pass, c.pass, this.single.identity, 'wrong password');
    }
    return refuse('no credentials that this server accepts');
  }

  private withPassword(stored: string, given: string, identity: AuthUser, reason: string): AuthOutcome | Promise<AuthOutcome> {
    const ok = this.passwords.check(stored, given);
    const outcome = (good: boolean): AuthOutcome => (good ? { ok: true, user: identity } : refuse(reason));
    return typeof ok === 'boolean' ? outcome(ok) : ok.then(outcome);
  }
}

const TOKEN_USER: AuthUser = { key: 'token', name: '', permissions: undefined, limits: NO_LIMITS, account: GLOBAL_ACCOUNT };

/** What connection counting reads of a user. */
type CountedUser = Pick<AuthUser, 'key' | 'limits'>;

/** Open connections per user, for UserLimits.maxConnections. */
export class UserConnectionCounts {
  private readonly counts = new Map<string, number>();

  /** Counts a connection in; false (and not counted) when the user is at its limit. */
  admit(user: CountedUser): boolean {
    const n = this.counts.get(user.key) ?? 0;
    const max = user.limits.maxConnections;
    if (max > 0 && n >= max) return false;
    this.counts.set(user.key, n + 1);
    return true;
  }

  release(user: CountedUser): void {
    const n = this.counts.get(user.key) ?? 0;
    if (n <= 1) this.counts.delete(user.key);
    else this.counts.set(user.key, n - 1);
  }

  count(user: CountedUser): number {
    return this.counts.get(user.key) ?? 0;
  }
}
