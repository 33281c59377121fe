// Operator mode scenarios (docs/accounts.md "Operator mode"), run against any server started with
// a fixture's config: sluice in tests/integration/operator.test.ts, sluice and nats-server side
// by side in tests/e2e/operator-vs-nats-server.e2e.ts (which compares the outcomes). The fixture
// makes an operator, a system account and accounts A and B with @nats-io/jwt and writes the users'
// .creds files; each scenario returns what its clients saw as plain data in a stable order.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  decode,
  encodeAccount,
  encodeActivation,
  encodeOperator,
  encodeUser,
  fmtCreds,
  newScopedSigner,
  type KeyPair,
  type User,
} from '@nats-io/jwt';
import { connect, credsAuthenticator, jwtAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '../helpers/deadline.ts';
import { Received } from './accounts-suite.ts';

export interface OperatorFixture {
  readonly dir: string;
  /** nats-server syntax; `$STORE` is replaced by a JetStream store directory. */
  readonly conf: string;
  readonly operatorFile: string;
  readonly accounts: { readonly A: string; readonly B: string; readonly SYS: string };
  /** The users' .creds files by name. */
  readonly creds: Readonly<Record<string, string>>;
  /** User public keys by name. */
  readonly users: Readonly<Record<string, string>>;
  /** A's key pair, for users made while a test runs (expiring ones). */
  readonly accountA: KeyPair;
  /** A user JWT without its seed: a bearer token (no nonce signature needed). */
  readonly bearerJwt: string;
}

/** The account limits nsc writes by default: none. */
const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

const nowSec = (): number => Math.floor(Date.now() / 1000);

async function writeCreds(dir: string, name: string, ukp: KeyPair, jwt: string): Promise<string> {
  const path = join(dir, `${name}.creds`);
  writeFileSync(path, fmtCreds(jwt, ukp));
  return path;
}

/** A user of A expiring `seconds` from now (JWT times are whole seconds), as creds text. */
export async function expiringUserCreds(f: OperatorFixture, seconds: number): Promise<Uint8Array> {
  const ukp = createUser();
  const jwt = await encodeUser('expiring', ukp, f.accountA, {}, { exp: nowSec() + seconds });
  return fmtCreds(jwt, ukp);
}

export async function makeOperatorFixture(dir: string): Promise<OperatorFixture> {
  const okp = createOperator();
  const sys = createAccount();
  const a = createAccount();
  const b = createAccount();
  const bScope = createAccount();
  const operatorJwt = await encodeOperator('OP', okp, { system_account: sys.getPublicKey() });
  const operatorFile = join(dir, 'operator.jwt');
  writeFileSync(operatorFile, operatorJwt);

  const creds: Record<string, string> = {};
  const users: Record<string, string> = {};
  const addUser = async (name: string, issuer: KeyPair | string, data: Partial<User> = {}, opts: Parameters<typeof encodeUser>[4] = {}): Promise<string> => {
    const ukp = createUser();
    const jwt = await encodeUser(name, ukp, issuer, data, opts);
    creds[name] = await writeCreds(dir, name, ukp, jwt);
    users[name] = ukp.getPublicKey();
    return jwt;
  };
  await addUser('a', a);
  await addUser('a_limited', a, { pub: { allow: ['a.>', '_INBOX.>'] }, sub: { allow: ['a.>', '_INBOX.>'] } });
  // May publish nothing but answers to requests it received (allow_responses, one each).
  await addUser('a_responder', a, { pub: { allow: ['nothing'] }, resp: { max: 1, ttl: 0 } });
  const revokedJwt = await addUser('revoked', a);
  await addUser('expired', a, {}, { exp: nowSec() - 60 });
  await addUser('websocket_only', a, { allowed_connection_types: ['WEBSOCKET'] });
  // Source addresses: tests connect over loopback.
  await addUser('src_loopback', a, { src: ['127.0.0.0/8', '::1/128'] });
  await addUser('src_elsewhere', a, { src: ['10.0.0.0/8'] });
  // Connect times (UTC): a range around now, and one that starts two hours from now.
  await addUser('times_now', a, { times: [{ start: utcClock(-3600, '00:00:00'), end: utcClock(3600, '23:59:59') }], locale: 'UTC' });
  await addUser('times_later', a, { times: [{ start: utcClock(7200), end: utcClock(10_800) }], locale: 'UTC' });
  // Claims account A but is signed by a key A never named: a forgery.
  await addUser('forged', a.getPublicKey(), {}, { signer: createAccount() });
  // Signed by an account the resolver does not have.
  await addUser('stranger', createAccount());
  await addUser('b', b);
  // A scoped signing key: its template, not the user JWT, says what the user may do.
  await addUser('bob', b.getPublicKey(), {}, { signer: bScope, scopedUser: true });
  // SYS's JWT has no limits: nats-server reads its conn limit as 0, so no user may connect.
  await addUser('sys', sys);
  // C exports without limits allowing exports: nats-server's resolver refuses the account.
  const c = createAccount();
  await addUser('c', c);
  const bearerUser = createUser();
  const bearerJwt = await encodeUser('bearer', bearerUser, a, { bearer_token: true });
  users.bearer = bearerUser.getPublicKey();

  const revokedAt = (decode(revokedJwt) as { iat: number }).iat;
  const activation = await encodeActivation('private', b, a, 'stream', { subject: 'private.>', kind: 'stream' });
  const aJwt = await encodeAccount(
    'A',
    a,
    {
      exports: [
        { name: 'a-stream', subject: 'a.>', type: 'stream' },
        { name: 'a-service', subject: 'svc.>', type: 'service' },
        { name: 'a-private', subject: 'private.>', type: 'stream', token_req: true },
      ],
      // nats-server reads absent limits as 0 (no imports, no exports allowed): nsc writes them all.
      limits: { ...UNLIMITED, mem_storage: -1, disk_storage: 1 << 20, streams: 1, consumer: -1, max_ack_pending: 100 },
      revocations: { [users.revoked!]: revokedAt },
    },
    { signer: okp },
  );
  const bJwt = await encodeAccount(
    'B',
    b,
    {
      imports: [
        { name: 'from-a', subject: 'a.>', account: a.getPublicKey(), type: 'stream', to: 'from_a' },
        { name: 'a-service', subject: 'svc.>', account: a.getPublicKey(), type: 'service', local_subject: 'asvc.>' },
        { name: 'a-private', subject: 'private.>', account: a.getPublicKey(), type: 'stream', token: activation },
      ],
      limits: UNLIMITED,
      signing_keys: [newScopedSigner(bScope, 'scoped', { pub: { allow: ['b.{{name()}}.>'] }, sub: { allow: ['b.>', '_INBOX.>'] } })],
    },
    { signer: okp },
  );
  const sysJwt = await encodeAccount('SYS', sys, {}, { signer: okp });
  const cJwt = await encodeAccount('C', c, { exports: [{ name: 'c', subject: 'c.>', type: 'stream' }] }, { signer: okp });
  const conf = `
jetstream { store_dir: "$STORE" }
operator: "${operatorFile}"
system_account: ${sys.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${a.getPublicKey()}: "${aJwt}"
  ${b.getPublicKey()}: "${bJwt}"
  ${sys.getPublicKey()}: "${sysJwt}"
  ${c.getPublicKey()}: "${cJwt}"
}
`;
  return { dir, conf, operatorFile, accounts: { A: a.getPublicKey(), B: b.getPublicKey(), SYS: sys.getPublicKey() }, creds, users, accountA: a, bearerJwt };
}

/** Connects as the user of a .creds file (nats.js credsAuthenticator: JWT + nonce signature). */
export function connectAs(url: string, f: OperatorFixture, user: string): Promise<NatsConnection> {
  return connect({ servers: url, name: user, authenticator: credsAuthenticator(readFileSync(f.creds[user]!)), reconnect: false });
}

/** How a connection attempt ended: "connected" or the client's error. */
/**
 * "HH:MM:SS" (UTC) of now + `offsetS`; `clampTo` instead when that moment falls on another day
 * (a range around now then stays within today, which nats-server's ranges need).
 */
function utcClock(offsetS: number, clampTo?: string): string {
  const now = new Date();
  const at = new Date(now.getTime() + offsetS * 1000);
  if (clampTo !== undefined && at.getUTCDate() !== now.getUTCDate()) return clampTo;
  return at.toISOString().slice(11, 19);
}

export async function connectOutcome(url: string, f: OperatorFixture, user: string): Promise<string> {
  try {
    const nc = await connectAs(url, f, user);
    await nc.close();
    return `${user}: connected`;
  } catch (e) {
    return `${user}: ${(e as Error).name} ${(e as Error).message}`;
  }
}

/** Every user the fixture made: the good ones connect, the others are refused. */
export async function whoConnects(url: string, f: OperatorFixture): Promise<string[]> {
  const out: string[] = [];
  for (const user of ['a', 'a_limited', 'b', 'bob', 'sys', 'c', 'revoked', 'expired', 'websocket_only', 'forged', 'stranger', 'src_loopback', 'src_elsewhere', 'times_now', 'times_later']) {
    out.push(await connectOutcome(url, f, user));
  }
  try {
    const nc = await connect({ servers: url, authenticator: jwtAuthenticator(f.bearerJwt), reconnect: false });
    await nc.close();
    out.push('bearer: connected');
  } catch (e) {
    out.push(`bearer: ${(e as Error).name} ${(e as Error).message}`);
  }
  return out;
}

/**
 * The same subject in A and B never crosses; A's stream export reaches B under the import's
 * prefix, the token-guarded export through the activation, and B's request on its local subject
 * reaches A's service and comes back.
 */
export async function isolationAndImports(url: string, f: OperatorFixture): Promise<string[]> {
  const a = await connectAs(url, f, 'a');
  const b = await connectAs(url, f, 'b');
  try {
    const r = new Received();
    a.subscribe('shared', { callback: r.add('a') });
    b.subscribe('shared', { callback: r.add('b') });
    b.subscribe('from_a.>', { callback: r.add('b') });
    b.subscribe('private.>', { callback: r.add('b') });
    a.subscribe('svc.>', { callback: (_e, m) => void m.respond(`A answers ${m.subject}: ${m.string()}`) });
    await Promise.all([a.flush(), b.flush()]);
    a.publish('shared', 'from a');
    b.publish('shared', 'from b');
    a.publish('a.one', '1');
    a.publish('private.p', 'guarded');
    const answer = (await b.request('asvc.echo', 'hi', { timeout: 2000 })).string();
    await Promise.all([a.flush(), b.flush()]);
    const lines = await r.settle(4, 'the two accounts and the imports');
    // A round trip on both: anything that crossed would be here by now.
    await Promise.all([a.flush(), b.flush()]);
    return [...lines, ...r.lines.slice(4), `b request: ${answer}`];
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** The user JWT's permissions: a_limited may not publish outside a.>; bob's scope allows only b.bob.>. */
export async function permissions(url: string, f: OperatorFixture): Promise<string[]> {
  const out: string[] = [];
  for (const [user, allowed, denied] of [
    ['a_limited', 'a.ok', 'elsewhere'],
    ['bob', 'b.bob.ok', 'b.alice.x'],
  ] as const) {
    const nc = await connectAs(url, f, user);
    try {
      const errors: string[] = [];
      const watching = (async () => {
        for await (const s of nc.status()) if (s.type === 'error') errors.push(String((s as { error?: Error }).error?.message));
      })();
      const got: string[] = [];
      nc.subscribe(allowed, { callback: (_e, m) => void got.push(m.subject) });
      nc.publish(allowed, 'x');
      nc.publish(denied, 'x');
      await waitFor(() => got.length === 1 && errors.length === 1, `${user}'s message and its permissions error`);
      out.push(`${user}: got ${got.join(',')}; error ${errors.join(',')}`);
      void watching;
    } finally {
      await nc.close();
    }
  }
  out.push(`a_responder: ${await respondOnly(url, f)}`);
  return out;
}

/** The user JWT's resp permission: the responder may answer a request once, and publish nowhere else. */
async function respondOnly(url: string, f: OperatorFixture): Promise<string> {
  const responder = await connectAs(url, f, 'a_responder');
  const a = await connectAs(url, f, 'a');
  try {
    responder.subscribe('q.>', {
      callback: (_e, m) => {
        m.respond('first');
        m.respond('second: over max');
        responder.publish('elsewhere', 'denied');
      },
    });
    await responder.flush();
    const replies: string[] = [];
    const inbox = a.subscribe('answers', { callback: (_e, m) => void replies.push(m.string()) });
    await a.flush();
    a.publish('q.1', 'x', { reply: 'answers' });
    await waitFor(() => replies.length >= 1, 'the answer');
    // A round trip through both: a second answer would be here by now.
    await responder.flush();
    await a.flush();
    inbox.unsubscribe();
    return `answers ${replies.join(',')}`;
  } finally {
    await Promise.all([responder.close(), a.close()]);
  }
}

/**
 * A user JWT that expires while connected: the server closes the connection and tells the client
 * why (nats.js: UserAuthenticationExpiredError through closed()).
 */
export async function expiryWhileConnected(url: string, f: OperatorFixture): Promise<string[]> {
  const nc = await connect({ servers: url, authenticator: credsAuthenticator(await expiringUserCreds(f, 2)), reconnect: false });
  const statuses: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') statuses.push(`${(s as { error?: Error }).error?.name}`);
  })();
  const err = await nc.closed();
  return [`closed: ${err?.name} ${err?.message}`, `status errors: ${statuses.join(',')}`];
}

/**
 * JetStream from the account JWT: A has it (its limits give storage) with the JWT's limits, as
 * INFO reports them and a second stream is refused (streams: 1); B answers 10039.
 */
export async function jetstreamFromJwt(url: string, f: OperatorFixture): Promise<string[]> {
  const a = await connectAs(url, f, 'a');
  const b = await connectAs(url, f, 'b');
  try {
    const api = async (nc: NatsConnection, subject: string, body: unknown = ''): Promise<Record<string, unknown>> =>
      JSON.parse((await nc.request(subject, body === '' ? '' : JSON.stringify(body), { timeout: 2000 })).string()) as Record<string, unknown>;
    const outcome = (r: Record<string, unknown>): string => {
      const err = r.error as { err_code?: number } | undefined;
      return err !== undefined ? `error ${err.err_code}` : 'ok';
    };
    const info = await api(a, '$JS.API.INFO');
    const stream = (name: string): Promise<string> => api(a, `$JS.API.STREAM.CREATE.${name}`, { name, subjects: [`js.${name}`], storage: 'file', max_bytes: 1000 }).then(outcome);
    const out = [`a: ${outcome(info)} limits ${JSON.stringify(info.limits)}`, `a first stream: ${await stream('ONE')}`, `a second stream: ${await stream('TWO')}`];
    out.push(`b: ${outcome(await api(b, '$JS.API.INFO'))}`);
    return out;
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}
