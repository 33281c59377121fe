import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { createUser } from '@nats-io/nkeys';
import { Authenticator, UserConnectionCounts, type AuthOutcome, type Credentials } from './authenticator.ts';
import { isValidUserNkey, newNonce, verifyNonceSignature } from './nkeys.ts';
import { PasswordChecker, secretsEqual } from './passwords.ts';
import { checkUsers, isBcryptHash } from './users.ts';

const NONE: Credentials = { user: '', pass: '', authToken: '', nkey: '', sig: '', jwt: '' };
const creds = (c: Partial<Credentials>): Credentials => ({ ...NONE, ...c });
// Cost 4 keeps the tests fast; the check is the same at any cost.
const hash = (s: string): string => bcrypt.hashSync(s, 4);

const checker = new PasswordChecker();
after(() => checker.close());

async function outcome(a: Authenticator, c: Credentials, nonce = ''): Promise<AuthOutcome> {
  return a.authenticate(c, nonce);
}

function auth(o: Partial<{ users: never[]; token: string; user: string; pass: string }> & Record<string, unknown>): Authenticator {
  return new Authenticator({ users: [], token: undefined, user: undefined, pass: undefined, ...o } as never, checker);
}

describe('Authenticator', () => {
  test('no auth configured: everyone is in, anonymously', async () => {
    const a = auth({});
    assert.equal(a.required, false);
    assert.deepEqual(await outcome(a, NONE), { ok: true, user: undefined });
  });

  test('token: right in, wrong out, none out', async () => {
    const a = auth({ token: 's3cret' });
    assert.equal(a.required, true);
    assert.equal((await outcome(a, creds({ authToken: 's3cret' }))).ok, true);
    assert.equal((await outcome(a, creds({ authToken: 'nope' }))).ok, false);
    assert.equal((await outcome(a, NONE)).ok, false);
  });

  test('bcrypt token', async () => {
    const a = auth({ token: hash('tok') });
    const r = a.authenticate(creds({ authToken: 'tok' }), '');
    assert.ok(r instanceof Promise, 'a bcrypt check runs off the event loop');
    assert.equal((await r).ok, true);
    assert.equal((await outcome(a, creds({ authToken: 'tok2' }))).ok, false);
    // A verified secret is remembered: the second check answers synchronously.
    assert.deepEqual(a.authenticate(creds({ authToken: 'tok' }), ''), (await r));
  });

  test('single user/password', async () => {
    const a = auth({ user: 'admin', pass: 'pw' });
    assert.equal((await outcome(a, creds({ user: 'admin', pass: 'pw' }))).ok, true);
    assert.equal((await outcome(a, creds({ user: 'admin', pass: 'bad' }))).ok, false);
    assert.equal((await outcome(a, creds({ user: 'other', pass: 'pw' }))).ok, false);
    assert.equal((await outcome(a, NONE)).ok, false);
  });

  test('users with plain and bcrypt passwords, with their permissions and limits', async () => {
    const a = auth({
      users: [
        { user: 'plain', password: 'p1', maxConnections: 2 },
        { user: 'hashed', password: hash('p2'), permissions: { publish: { allow: ['a'] } } },
      ] as never,
    });
    const p = await outcome(a, creds({ user: 'plain', pass: 'p1' }));
    assert.ok(p.ok && p.user !== undefined);
    assert.equal(p.user.key, 'user:plain');
    assert.equal(p.user.limits.maxConnections, 2);
    const h = await outcome(a, creds({ user: 'hashed', pass: 'p2' }));
    assert.ok(h.ok && h.user?.permissions !== undefined);
    assert.equal(h.user.permissions.publishAllowed('a'), true);
    assert.equal((await outcome(a, creds({ user: 'hashed', pass: 'p1' }))).ok, false);
    assert.equal((await outcome(a, creds({ user: 'nobody', pass: 'p1' }))).ok, false);
    assert.equal((await outcome(a, NONE)).ok, false);
  });

  test('nkey users sign the nonce', async () => {
    const kp = createUser();
    const other = createUser();
    const a = auth({ users: [{ nkey: kp.getPublicKey() }] as never });
    assert.equal(a.usesNonce, true);
    const nonce = newNonce();
    const sign = (k: typeof kp, n: string): string => Buffer.from(k.sign(Buffer.from(n))).toString('base64url');
    assert.equal((await outcome(a, creds({ nkey: kp.getPublicKey(), sig: sign(kp, nonce) }), nonce)).ok, true);
    // Standard base64 with padding is accepted too (nats-server's fallback).
    const std = Buffer.from(kp.sign(Buffer.from(nonce))).toString('base64');
    assert.equal((await outcome(a, creds({ nkey: kp.getPublicKey(), sig: std }), nonce)).ok, true);
    assert.equal((await outcome(a, creds({ nkey: kp.getPublicKey(), sig: sign(kp, 'another') }), nonce)).ok, false, 'other nonce');
    assert.equal((await outcome(a, creds({ nkey: kp.getPublicKey(), sig: sign(other, nonce) }), nonce)).ok, false, 'other key');
    assert.equal((await outcome(a, creds({ nkey: other.getPublicKey(), sig: sign(other, nonce) }), nonce)).ok, false, 'unknown key');
    assert.equal((await outcome(a, creds({ nkey: kp.getPublicKey() }), nonce)).ok, false, 'no signature');
    assert.equal((await outcome(a, creds({ nkey: kp.getPublicKey(), sig: '!!!' }), nonce)).ok, false, 'garbage signature');
    assert.equal((await outcome(a, NONE, nonce)).ok, false);
  });
});

describe('helpers', () => {
  test('nonces are fresh 15-character base64url strings', () => {
    const a = newNonce();
    assert.match(a, /^[A-Za-z0-9_-]{15}$/);
    assert.notEqual(a, newNonce());
  });

  test('nkey validation and signature checks never throw', () => {
    const kp = createUser();
    assert.equal(isValidUserNkey(kp.getPublicKey()), true);
    assert.equal(isValidUserNkey('UBAD'), false);
    assert.equal(verifyNonceSignature('not a key', 'n', 'AAAA'), false);
  });

  test('bcrypt hashes are recognised as nats-server does', () => {
    assert.equal(isBcryptHash('$2a$11$abcdefghijklmnopqrstuv'), true);
    assert.equal(isBcryptHash('$2b$04$x'), true);
    assert.equal(isBcryptHash('$1$nothash'), false);
    assert.equal(isBcryptHash('plain'), false);
  });

  test('secretsEqual', () => {
    assert.equal(secretsEqual('a', 'a'), true);
    assert.equal(secretsEqual('a', 'ab'), false);
  });

  test('per-user connection counts', () => {
    const counts = new UserConnectionCounts();
    const u = { key: 'user:a', name: 'a', permissions: undefined, limits: { maxConnections: 2, maxSubscriptions: 0, maxPayloadBytes: 0 } };
    assert.equal(counts.admit(u), true);
    assert.equal(counts.admit(u), true);
    assert.equal(counts.admit(u), false);
    counts.release(u);
    assert.equal(counts.admit(u), true);
    assert.equal(counts.count(u), 2);
  });

  test('users list validation names the problem', () => {
    assert.equal(checkUsers([{ user: 'a', password: 'b' }, { nkey: createUser().getPublicKey() }]), undefined);
    assert.match(checkUsers([{ user: 'a' }, { user: 'a' }])!, /users\[1\] to be unique/);
    assert.match(checkUsers([{ nkey: 'UBAD' }])!, /users\[0\]\.nkey/);
    assert.match(checkUsers([{ user: 'a', nkey: createUser().getPublicKey() }])!, /either nkey or user/);
    assert.match(checkUsers([{ user: 'a', permissions: { publish: { allow: ['a..b'] } } }])!, /publish\.allow\[0\]/);
    assert.match(checkUsers([{ user: 'a', permissions: { subscribe: { allow: ['a q extra'] } } }])!, /subscribe\.allow\[0\]/);
    assert.match(checkUsers([{ user: 'a', maxConnections: -1 }])!, /maxConnections/);
    assert.match(checkUsers([{ user: 'a', bogus: 1 }])!, /no key "bogus"/);
  });
});
