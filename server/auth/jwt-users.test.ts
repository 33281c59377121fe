// Operator mode's user checks (jwt-users.ts) on JWTs made with @nats-io/jwt, and the expiry timer
// of ConnectionAuth on a manual clock. The socket-level behaviour (and the comparison with
// nats-server) is in tests/integration/operator.test.ts and tests/e2e/operator-vs-nats-server.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAccount, createOperator, createUser, encodeAccount, encodeOperator, encodeUser, type KeyPair } from '@nats-io/jwt';
import { ManualClock } from '../../runtime/clock.ts';
import { OperatorMode } from '../accounts/operator.ts';
import { ConnectionAuth } from '../connection/connection-auth.ts';
import { Authenticator, UserConnectionCounts, type AuthOutcome, type AuthUser, type Credentials } from './authenticator.ts';
import { allowedSource, authenticateJwtUser, connectWindow, type ConnectionType } from './jwt-users.ts';
import { PasswordChecker } from './passwords.ts';

const NONCE = 'abcdefghijklmno';
const nowSec = (): number => Math.floor(Date.now() / 1000);
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

function creds(jwt: string, ukp: KeyPair | undefined, nonce = NONCE): Credentials {
  const sig = ukp === undefined ? '' : Buffer.from(ukp.sign(Buffer.from(nonce))).toString('base64url');
  return { user: '', pass: '', authToken: '', nkey: ukp?.getPublicKey() ?? '', sig, jwt };
}

describe('user JWTs in operator mode', () => {
  let mode: OperatorMode;
  let a: KeyPair;
  let aSigner: KeyPair;
  let strict: KeyPair;
  const check = (c: Credentials, kind: ConnectionType = 'STANDARD', host = '127.0.0.1', nowMs = Date.now()): AuthOutcome => authenticateJwtUser(mode, c, NONCE, { kind, host }, nowMs);
  const reason = (o: AuthOutcome): string => (o.ok ? 'accepted' : o.reason);

  before(async () => {
    const okp = createOperator();
    a = createAccount();
    aSigner = createAccount();
    strict = createAccount();
    const aJwt = await encodeAccount('A', a, { limits: { ...UNLIMITED, conn: 5 }, signing_keys: [aSigner.getPublicKey()] }, { signer: okp, exp: nowSec() + 3600 });
    // Every user of STRICT issued up to now is revoked; bearer tokens are refused there.
    const strictJwt = await encodeAccount('STRICT', strict, { limits: { ...UNLIMITED, disallow_bearer: true }, revocations: { '*': nowSec() + 60 } }, { signer: okp });
    const built = OperatorMode.build(
      {
        operators: [await encodeOperator('OP', okp)],
        resolver: 'MEMORY',
        resolverPreload: { [a.getPublicKey()]: aJwt, [strict.getPublicKey()]: strictJwt },
        systemAccount: '$SYS',
        accounts: [],
        users: [],
      },
      Date.now(),
    );
    assert.ok(built instanceof OperatorMode, String(built));
    mode = built;
  });

  test('a user signed by a signing key of its account is accepted, with the account connection limit and the earlier expiry', async () => {
    const ukp = createUser();
    const jwt = await encodeUser('u', ukp, a.getPublicKey(), { resp: { max: 3, ttl: 5_000_000_000 } }, { signer: aSigner, exp: nowSec() + 7200 });
    const o = check(creds(jwt, ukp));
    assert.ok(o.ok, reason(o));
    const user = o.user as AuthUser;
    assert.equal(user.account, a.getPublicKey());
    assert.equal(user.name, ukp.getPublicKey());
    assert.deepEqual(user.accountConnections, { key: `account:${a.getPublicKey()}`, max: 5 });
    // The account expires in an hour, the user in two: the account's expiry closes it first.
    assert.equal(user.expires?.what, 'account');
    assert.equal(user.jwt?.issuerKey, aSigner.getPublicKey());
  });

  test('the nonce must be signed by the user key, unless a bearer token (and the account allows those)', async () => {
    const ukp = createUser();
    const jwt = await encodeUser('u', ukp, a);
    assert.match(reason(check(creds(jwt, ukp, 'another nonce'))), /signature not verified/);
    assert.match(reason(check(creds(jwt, undefined))), /signature missing/);
    const bearer = await encodeUser('b', createUser(), a, { bearer_token: true });
    assert.equal(reason(check(creds(bearer, undefined))), 'accepted');
    const strictBearer = await encodeUser('b', createUser(), strict, { bearer_token: true });
    assert.match(reason(check(creds(strictBearer, undefined))), /does not allow bearer tokens/);
  });

  test("an account's '*' revocation refuses every user issued before it", async () => {
    const ukp = createUser();
    assert.match(reason(check(creds(await encodeUser('u', ukp, strict), ukp))), /revoked by account/);
  });

  test('connection types: only the listed ones, and a list of unknown types allows nothing', async () => {
    const ukp = createUser();
    const ws = await encodeUser('u', ukp, a, { allowed_connection_types: ['WEBSOCKET'] });
    assert.match(reason(check(creds(ws, ukp), 'STANDARD')), /connection type STANDARD not allowed/);
    assert.equal(reason(check(creds(ws, ukp), 'WEBSOCKET')), 'accepted');
    const mqtt = await encodeUser('u', ukp, a, { allowed_connection_types: ['IN_PROCESS'] });
    assert.match(reason(check(creds(mqtt, ukp), 'WEBSOCKET')), /not allowed/);
  });

  test('dates: not yet valid and expired users are refused', async () => {
    const ukp = createUser();
    assert.match(reason(check(creds(await encodeUser('u', ukp, a, {}, { nbf: nowSec() + 600 }), ukp))), /not valid yet/);
    assert.match(reason(check(creds(await encodeUser('u', ukp, a, {}, { exp: nowSec() - 1 }), ukp))), /expired/);
  });

  test('no JWT, a tampered JWT, an account JWT in its place: refused', async () => {
    const ukp = createUser();
    const jwt = await encodeUser('u', ukp, a);
    assert.match(reason(check(creds('', ukp))), /user JWT is required/);
    const [h, body, sig] = jwt.split('.');
    const forged = Buffer.from(Buffer.from(body!, 'base64url').toString().replace('"name":"u"', '"name":"x"')).toString('base64url');
    assert.match(reason(check(creds(`${h}.${forged}.${sig}`, ukp))), /not a valid JWT/);
    assert.match(reason(check(creds(await encodeAccount('X', createAccount()), ukp))), /not a user JWT/);
  });

  test("src: the client's address must be in one of the user's CIDR blocks", async () => {
    const ukp = createUser();
    const jwt = await encodeUser('u', ukp, a, { src: ['10.1.0.0/16', '2001:db8::/32'] });
    assert.equal(reason(check(creds(jwt, ukp), 'STANDARD', '10.1.200.7')), 'accepted');
    assert.equal(reason(check(creds(jwt, ukp), 'STANDARD', '::ffff:10.1.0.1')), 'accepted', 'an IPv4-mapped address is its IPv4 one');
    assert.equal(reason(check(creds(jwt, ukp), 'STANDARD', '2001:db8:0:1::5')), 'accepted');
    assert.match(reason(check(creds(jwt, ukp), 'STANDARD', '10.2.0.1')), /source address 10.2.0.1 not allowed/);
    assert.match(reason(check(creds(jwt, ukp), 'STANDARD', '2001:db9::1')), /not allowed/);
    assert.match(reason(check(creds(jwt, ukp), 'STANDARD', '')), /not allowed/);
  });

  test('times: only inside a range in its locale, and the range end closes the connection', async () => {
    const ukp = createUser();
    const jwt = await encodeUser('u', ukp, a, { times: [{ start: '08:00:00', end: '17:00:00' }], locale: 'UTC' });
    // Moments of a day before the account JWT's expiry (an hour from now).
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const at = (hhmmss: string): number => Date.parse(`${day}T${hhmmss}Z`);
    const inside = check(creds(jwt, ukp), 'STANDARD', '127.0.0.1', at('16:00:00'));
    assert.ok(inside.ok, reason(inside));
    assert.deepEqual((inside.user as AuthUser).expires, { atMs: at('17:00:00'), what: 'user' });
    assert.match(reason(check(creds(jwt, ukp), 'STANDARD', '127.0.0.1', at('07:59:59'))), /outside its connect times/);
    assert.match(reason(check(creds(jwt, ukp), 'STANDARD', '127.0.0.1', at('17:00:01'))), /outside its connect times/);
    // In another zone the same range is other hours: 08:00-17:00 in Tokyo (UTC+9) is 23:00-08:00 UTC.
    const tokyo = await encodeUser('t', ukp, a, { times: [{ start: '08:00:00', end: '17:00:00' }], locale: 'Asia/Tokyo' });
    assert.equal(reason(check(creds(tokyo, ukp), 'STANDARD', '127.0.0.1', at('01:00:00'))), 'accepted');
    assert.match(reason(check(creds(tokyo, ukp), 'STANDARD', '127.0.0.1', at('12:00:00'))), /outside/);
    const badZone = await encodeUser('z', ukp, a, { times: [{ start: '00:00:00', end: '23:59:59' }], locale: 'Not/AZone' });
    assert.match(reason(check(creds(badZone, ukp), 'STANDARD', '127.0.0.1', at('12:00:00'))), /outside/);
  });
});

describe('src and times, the checks alone', () => {
  test('allowedSource: no list allows all; a malformed block admits nobody', () => {
    assert.ok(allowedSource(undefined, '1.2.3.4'));
    assert.ok(allowedSource([], ''));
    assert.ok(allowedSource('192.168.0.0/24, 10.0.0.0/8', '10.9.9.9'), 'the older comma-separated form');
    assert.ok(allowedSource(['0.0.0.0/0'], '8.8.8.8'));
    assert.ok(!allowedSource(['10.0.0.0/8'], 'not-an-ip'));
    assert.ok(!allowedSource(['10.0.0.0'], '10.0.0.1'), 'a block without a prefix length');
    assert.ok(!allowedSource(['10.0.0.0/33'], '10.0.0.1'));
    assert.ok(!allowedSource(['10.0.0.0/8'], '::1'), 'families do not mix');
    assert.ok(allowedSource(['::1/128'], '::1'));
  });

  test('connectWindow: a range past midnight counts from its start to its end the next day, as nats-server does', () => {
    const at = (hhmmss: string): number => Date.parse(`2026-12-07T${hhmmss}Z`);
    const night = [{ start: '22:00:00', end: '06:00:00' }];
    assert.equal(connectWindow(night, 'UTC', at('23:00:00')), Date.parse('2026-12-08T06:00:00Z'));
    assert.equal(connectWindow(night, 'UTC', at('02:00:00')), 'outside', "yesterday's range does not reach past midnight");
    assert.equal(connectWindow(undefined, 'UTC', at('02:00:00')), undefined);
    assert.equal(connectWindow([{ start: '8:00:00', end: '17:00:00' }], 'UTC', at('12:00:00')), 'outside', 'HH:MM:SS only');
    assert.equal(connectWindow([{ start: '01:00:00', end: '02:00:00' }, { start: '11:00:00', end: '13:00:00' }], 'UTC', at('12:00:00')), at('13:00:00'));
  });
});

describe('ConnectionAuth: a JWT expiring while connected', () => {
  const user = (expiresInMs: number): AuthUser => ({
    key: 'nkey:U1',
    name: 'U1',
    permissions: undefined,
    limits: { maxConnections: 0, maxSubscriptions: 0, maxPayloadBytes: 0 },
    account: 'A1',
    expires: { atMs: new ManualClock().nowMs() + expiresInMs, what: 'user' },
  });
  const services = () => ({ authenticator: new Authenticator({ users: [], token: undefined, user: undefined, pass: undefined }, new PasswordChecker()), userConnections: new UserConnectionCounts() });

  test('fires once at the expiry with nats-server\'s text', () => {
    const clock = new ManualClock();
    const auth = new ConnectionAuth(services(), clock);
    assert.equal(auth.admit(user(1000)), undefined);
    const fired: string[] = [];
    auth.watchExpiry((e) => fired.push(e));
    clock.advance(999);
    assert.deepEqual(fired, []);
    clock.advance(1);
    assert.deepEqual(fired, ['User Authentication Expired']);
  });

  test('an expiry beyond the 24.8 days a Node timer takes is reached in steps', () => {
    const clock = new ManualClock();
    const auth = new ConnectionAuth(services(), clock);
    const day = 86_400_000;
    auth.admit(user(40 * day));
    const fired: string[] = [];
    auth.watchExpiry((e) => fired.push(e));
    clock.advance(30 * day);
    assert.deepEqual(fired, []);
    clock.advance(10 * day);
    assert.deepEqual(fired, ['User Authentication Expired']);
  });

  test('release (the connection closed) clears the timer', () => {
    const clock = new ManualClock();
    const auth = new ConnectionAuth(services(), clock);
    auth.admit(user(1000));
    const fired: string[] = [];
    auth.watchExpiry((e) => fired.push(e));
    auth.release();
    clock.advance(5000);
    assert.deepEqual(fired, []);
  });

  test("an account's connection limit: 0 refuses, n admits n at once and frees a place on release", () => {
    const s = services();
    const limited = (max: number): AuthUser => ({ ...user(1000), accountConnections: { key: 'account:A1', max } });
    assert.equal(new ConnectionAuth(s, new ManualClock()).admit(limited(0)), 'account');
    const first = new ConnectionAuth(s, new ManualClock());
    assert.equal(first.admit(limited(1)), undefined);
    assert.equal(new ConnectionAuth(s, new ManualClock()).admit(limited(1)), 'account');
    first.release();
    assert.equal(new ConnectionAuth(s, new ManualClock()).admit(limited(1)), undefined);
  });
});
