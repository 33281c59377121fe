// The authentication side of one client connection: the INFO nonce, the auth timer, the gate that
// keeps every operation out until CONNECT's credentials are accepted, and the operations held
// while a bcrypt check runs on the worker. The connection asks; this module decides.
//
// Gate states:
//   OPEN      - the server needs no auth, or this client passed: operations flow.
//   AWAITING  - auth required, no CONNECT yet: any other operation is an Authorization Violation.
//   CHECKING  - CONNECT arrived and its password is being hashed: reading is paused and the rest
//               of the current input chunk is held (copied), then replayed in order.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { ClientErr } from '../../protocol/errors.ts';
import type { AuthOutcome, AuthUser, Authenticator, Credentials, UserConnectionCounts } from '../auth/authenticator.ts';
import type { ClientOrigin } from '../auth/jwt-users.ts';
import { newNonce } from '../auth/nkeys.ts';
import { ConnectionPermissions } from '../auth/permissions.ts';

export const Gate = { Open: 0, Awaiting: 1, Checking: 2 } as const;
export type Gate = (typeof Gate)[keyof typeof Gate];

/** Held operations beyond this while a password is checked: the client is flooding; refuse it. */
const MAX_HELD_OPS = 10_000;

/** A server limit narrowed by a user's; 0 means unlimited on either side. */
export function tighten(serverLimit: number, userLimit: number): number {
  if (userLimit <= 0) return serverLimit;
  return serverLimit <= 0 ? userLimit : Math.min(serverLimit, userLimit);
}

/** What the server provides to every connection for authentication. */
export interface AuthServices {
  /** Replaced when a config reload changes the users (server/reload.ts). */
  authenticator: Authenticator;
  readonly userConnections: UserConnectionCounts;
}

const NO_CREDENTIALS: Credentials = { user: '', pass: '', authToken: '', nkey: '', sig: '', jwt: '' };

/** Node's timers take at most 2^31-1 ms (~24.8 days); a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** nats-server's errors when a JWT expires under a connection (client.go authExpired, accountAuthExpired). */
const EXPIRED_ERR = { user: ClientErr.UserAuthenticationExpired, account: ClientErr.AccountAuthenticationExpired } as const;

export class ConnectionAuth {
  gate: Gate;
  /** The nonce sent in INFO ('' when no nkey users are configured). */
  readonly nonce: string;
  user: AuthUser | undefined = undefined;
  /** Permissions of the authenticated user, with this connection's reply grants. */
  permissions: ConnectionPermissions | undefined = undefined;
  private readonly services: AuthServices;
  private readonly clock: Clock;
  private timer: TimerHandle | undefined;
  /** Fires when the user's (or its account's) JWT expires. */
  private expiryTimer: TimerHandle | undefined;
  private held: (() => void)[] = [];
  private counted = false;
  /** The account's connection count this connection is in (an account JWT's conn limit). */
  private accountCounted: { key: string; limits: AuthUser['limits'] } | undefined;
  /** What CONNECT presented: a config reload judges the connection again by it. */
  private credentials: Credentials = NO_CREDENTIALS;
  private origin: ClientOrigin = { kind: 'STANDARD', host: '' };

  constructor(services: AuthServices, clock: Clock) {
    this.services = services;
    this.clock = clock;
    const a = services.authenticator;
    this.gate = a.required ? Gate.Awaiting : Gate.Open;
    this.nonce = a.usesNonce ? newNonce() : '';
  }

  get required(): boolean {
    return this.services.authenticator.required;
  }

  /** Starts the auth timer (when auth is required); `onTimeout` closes the connection. */
  startTimer(timeoutMs: number, onTimeout: () => void): void {
    if (this.gate === Gate.Open) return;
    this.timer = this.clock.setTimeout(() => {
      if (this.gate !== Gate.Open) onTimeout();
    }, timeoutMs);
  }

  /**
   * Checks CONNECT's credentials. `done` gets the outcome, synchronously when it is known at once,
   * or later (the gate is CHECKING meanwhile; see hold()).
   */
  check(c: Credentials, origin: ClientOrigin, done: (outcome: AuthOutcome) => void): void {
    // The client answered in time; how long the server takes to judge it (a bcrypt hash on a busy
    // worker) is not the client's delay, so the timer stops at CONNECT.
    this.timer?.cancel();
    this.timer = undefined;
    this.credentials = { user: c.user, pass: c.pass, authToken: c.authToken, nkey: c.nkey, sig: c.sig, jwt: c.jwt };
    this.origin = origin;
    const r = this.services.authenticator.authenticate(c, this.nonce, origin);
    if (!(r instanceof Promise)) {
      done(r);
      return;
    }
    this.gate = Gate.Checking;
    r.then(done, () => done({ ok: false, reason: 'credential check failed' }));
  }

  /**
   * Admits an authenticated user: counts it against its connection limit and its account's (an
   * account JWT's), and opens the gate. Returns which limit refused it, undefined when admitted.
   */
  admit(user: AuthUser | undefined): 'user' | 'account' | undefined {
    if (user !== undefined) {
      const acc = user.accountConnections;
      if (acc !== undefined) {
        const counted = { key: acc.key, limits: { maxConnections: acc.max, maxSubscriptions: 0, maxPayloadBytes: 0 } };
        if (acc.max === 0 || !this.services.userConnections.admit(counted)) return 'account';
        this.accountCounted = counted;
      }
      if (!this.services.userConnections.admit(user)) {
        this.releaseAccount();
        return 'user';
      }
      this.counted = true;
      this.user = user;
      if (user.permissions !== undefined) {
        const clock = this.clock;
        this.permissions = new ConnectionPermissions(user.permissions, () => clock.nowMs());
      }
    }
    this.gate = Gate.Open;
    this.timer?.cancel();
    this.timer = undefined;
    return undefined;
  }

  private releaseAccount(): void {
    if (this.accountCounted !== undefined) this.services.userConnections.release(this.accountCounted);
    this.accountCounted = undefined;
  }

  /**
   * After a config reload: the connection's CONNECT credentials judged by the new authenticator.
   * `done` gets the outcome (maybe later, after a bcrypt check); on success the user and its
   * permissions are replaced, so the connection's next operations follow the new rules.
   */
  recheck(done: (outcome: AuthOutcome) => void): void {
    const apply = (outcome: AuthOutcome): void => {
      if (outcome.ok) this.replaceUser(outcome.user);
      done(outcome);
    };
    const r = this.services.authenticator.authenticate(this.credentials, this.nonce, this.origin);
    if (r instanceof Promise) r.then(apply, () => apply({ ok: false, reason: 'credential check failed' }));
    else apply(r);
  }

  private replaceUser(user: AuthUser | undefined): void {
    if (this.counted && this.user !== undefined && this.user.key !== user?.key) {
      this.services.userConnections.release(this.user);
      this.counted = false;
    }
    // A lowered limit does not close a connection already in; admit() then leaves it uncounted.
    if (user !== undefined && !this.counted) this.counted = this.services.userConnections.admit(user);
    this.user = user;
    const clock = this.clock;
    this.permissions = user?.permissions !== undefined ? new ConnectionPermissions(user.permissions, () => clock.nowMs()) : undefined;
  }

  /**
   * Calls `onExpired` with nats-server's error text when the user's JWT (or its account's)
   * expires while connected. The timer does not keep the process alive and stops at release().
   */
  watchExpiry(onExpired: (err: string) => void): void {
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    const expires = this.user?.expires;
    if (expires === undefined) return;
    const arm = (): void => {
      const left = expires.atMs - this.clock.nowMs();
      if (left <= 0) {
        this.expiryTimer = undefined;
        onExpired(EXPIRED_ERR[expires.what]);
        return;
      }
      this.expiryTimer = this.clock.setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  }

  /** Keeps an operation (with its bytes already copied) for replay; false = too many held. */
  hold(op: () => void): boolean {
    if (this.held.length >= MAX_HELD_OPS) return false;
    this.held.push(op);
    return true;
  }

  /** The held operations, in arrival order, handed over once (the list is emptied). */
  takeHeld(): (() => void)[] {
    const ops = this.held;
    this.held = [];
    return ops;
  }

  /** Releases what the connection holds (timer, per-user count). Idempotent. */
  release(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    this.held = [];
    if (this.counted && this.user !== undefined) this.services.userConnections.release(this.user);
    this.counted = false;
    this.releaseAccount();
  }
}
