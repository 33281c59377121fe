// Operator mode with the official client over real sockets: the scenarios of operator-suite.ts
// against one sluice server (users from .creds files, isolation and imports from account JWTs,
// permissions from user JWTs and a scoped signing key, a user JWT expiring while connected,
// JetStream enabled by the account JWT, monitoring), and the configuration errors.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { resolveOptions } from '../../server/options.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import { startTestServer } from '../helpers/server.ts';
import { wsConnect } from '../helpers/ws.ts';
import { waitFor } from '../helpers/deadline.ts';
import {
  connectAs,
  expiryWhileConnected,
  isolationAndImports,
  jetstreamFromJwt,
  makeOperatorFixture,
  permissions,
  whoConnects,
  type OperatorFixture,
} from './operator-suite.ts';

function operatorOptions(f: OperatorFixture, storeDir: string): Partial<ServerOptions> {
  const loaded = loadConfigText(f.conf.replace('$STORE', storeDir), 'operator.conf');
  assert.deepEqual(loaded.warnings, []);
  return loaded.options;
}

const REFUSED = 'AuthorizationError Authorization Violation';

describe('operator mode on one server', () => {
  let dir: string;
  let f: OperatorFixture;
  let server: RunningServer;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-operator-'));
    f = await makeOperatorFixture(dir);
    server = await startTestServer({ ...operatorOptions(f, join(dir, 'store')), httpPort: 0, wsPort: 0 });
    url = server.clientUrl;
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('users with valid .creds connect; revoked, expired, forged, unknown-account, invalid-account, over-limit, wrong-type, wrong-address and out-of-hours users are refused', async () => {
    assert.deepEqual(await whoConnects(url, f), [
      'a: connected',
      'a_limited: connected',
      'b: connected',
      'bob: connected',
      'sys: ProtocolError maximum account active connections exceeded',
      `c: ${REFUSED}`,
      `revoked: ${REFUSED}`,
      `expired: ${REFUSED}`,
      `websocket_only: ${REFUSED}`,
      `forged: ${REFUSED}`,
      `stranger: ${REFUSED}`,
      'src_loopback: connected',
      `src_elsewhere: ${REFUSED}`,
      'times_now: connected',
      `times_later: ${REFUSED}`,
      'bearer: connected',
    ]);
  });

  test('a user JWT allowing only WEBSOCKET connects over WebSocket (and was refused over TCP above)', async () => {
    const nc = await wsConnect(server.wsUrl!, { authenticator: credsAuthenticator(readFileSync(f.creds.websocket_only!)), reconnect: false });
    await nc.flush();
    await nc.close();
  });

  test('accounts are isolated; stream, token-guarded and service imports from the account JWTs work', async () => {
    assert.deepEqual(await isolationAndImports(url, f), [
      'a shared from a',
      'b from_a.a.one 1',
      'b private.p guarded',
      'b shared from b',
      'b request: A answers svc.echo: hi',
    ]);
  });

  test('permissions come from the user JWT and from a scoped signing key template', async () => {
    assert.deepEqual(await permissions(url, f), [
      'a_limited: got a.ok; error Permissions Violation for Publish to "elsewhere"',
      'bob: got b.bob.ok; error Permissions Violation for Publish to "b.alice.x"',
      'a_responder: answers first',
    ]);
  });

  test('a user JWT expiring while connected closes the connection with User Authentication Expired', async () => {
    assert.deepEqual(await expiryWhileConnected(url, f), [
      'closed: UserAuthenticationExpiredError User Authentication Expired',
      'status errors: UserAuthenticationExpiredError',
    ]);
  });

  test('JetStream is enabled by the account JWT limits, which apply; B without storage gets 10039', async () => {
    assert.deepEqual(await jetstreamFromJwt(url, f), [
      'a: ok limits {"max_memory":-1,"max_storage":1048576,"max_streams":1,"max_consumers":-1,"max_ack_pending":100,"memory_max_stream_bytes":-1,"storage_max_stream_bytes":-1,"max_bytes_required":false}',
      'a first stream: ok',
      'a second stream: error 10027',
      'b: error 10039',
    ]);
  });

  test('a reload that changes the account JWTs is refused (they need a restart); a reload of other options keeps JWT users connected', async () => {
    const nc = await connectAs(url, f, 'a');
    try {
      // As the server was started (startTestServer's host and port, a monitoring port).
      const base = { ...operatorOptions(f, join(dir, 'store')), host: '127.0.0.1', port: 0, httpPort: 0, wsPort: 0 };
      const { [f.accounts.B]: _dropped, ...fewer } = base.resolverPreload!;
      const refused = server.reload(resolveOptions({ ...base, resolverPreload: fewer }));
      assert.deepEqual(refused.refused, ['resolverPreload']);
      const applied = server.reload(resolveOptions({ ...base, maxPayloadBytes: 512 * 1024 }));
      assert.deepEqual([applied.changed, applied.refused], [['maxPayloadBytes'], []]);
      assert.equal((await nc.request('$JS.API.INFO', '', { timeout: 2000 })).string().includes('"type":"io.nats.jetstream.api.v1.account_info_response"'), true);
    } finally {
      await nc.close();
    }
  });

  test('/connz names the user key and account; /accountz lists the JWT accounts with their JWTs', async () => {
    const nc = await connectAs(url, f, 'a');
    try {
      const connz = (await (await fetch(`${server.httpUrl}/connz?auth=1`)).json()) as { connections: Record<string, unknown>[] };
      const mine = connz.connections.find((c) => c.name === 'a');
      assert.equal(mine?.authorized_user, f.users.a);
      assert.equal(mine?.account, f.accounts.A);
      assert.equal(mine?.name_tag, 'a');
      assert.match(String(mine?.issuer_key), /^A/);
      const accountz = (await (await fetch(`${server.httpUrl}/accountz`)).json()) as { accounts: string[]; system_account: string };
      assert.equal(accountz.system_account, f.accounts.SYS);
      for (const k of Object.values(f.accounts)) assert.ok(accountz.accounts.includes(k), k);
      const detail = (await (await fetch(`${server.httpUrl}/accountz?acc=${f.accounts.B}`)).json()) as { account_detail: Record<string, unknown> };
      assert.equal(detail.account_detail.name_tag, 'B');
      assert.equal(detail.account_detail.expired, false);
      assert.match(String(detail.account_detail.jwt), /^eyJ/);
      assert.equal((detail.account_detail.imports as unknown[]).length, 3);
    } finally {
      await nc.close();
    }
  });
});

describe('operator mode configuration errors', () => {
  let dir: string;
  let f: OperatorFixture;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-operator-conf-'));
    f = await makeOperatorFixture(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const load = (text: string): Partial<ServerOptions> => loadConfigText(text, 'bad.conf').options;
  const refusal = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  test('an operator that is no JWT or file, a resolver other than MEMORY, a preload that is no account JWT: one line each', () => {
    const missing = refusal(() => load('operator: "/no/such/operator.jwt"\nresolver: MEMORY'));
    assert.match(missing, /^bad\.conf:1:1: invalid value for "operator": expected an operator JWT or a readable file holding one \(no such file\)/);
    const garbage = join(dir, 'garbage.jwt');
    writeFileSync(garbage, 'not a jwt');
    assert.match(refusal(() => load(`operator: "${garbage}"`)), /^bad\.conf:1:1: invalid value for "operator": expected an operator JWT \(this one is not a valid JWT/);
    assert.match(refusal(() => load('resolver: URL("http://localhost:9090/jwt/v1/accounts/")')), /^bad\.conf:1:1: invalid value for "resolver": expected MEMORY/);
    const notAccount = f.conf.replace(/(resolver_preload: \{\n\s+\S+: )"[^"]+"/, '$1"eyJhbGciOiJlZDI1NTE5LW5rZXkiLCJ0eXAiOiJKV1QifQ.e30.AAAA"');
    assert.match(refusal(() => load(notAccount)), /invalid value for "resolver_preload\.A\w+": expected an account JWT \(this one is not a valid JWT/);
    for (const msg of [missing]) assert.equal(msg.split('\n').length, 1);
  });

  test('operators without a resolver, with users, or a preload under the wrong key, or a foreign system account', () => {
    const base = load(f.conf.replace('$STORE', join(dir, 'store')));
    assert.match(refusal(() => resolveOptions({ ...base, resolver: undefined })), /^invalid value for "resolver": operators require an account resolver/);
    assert.match(refusal(() => resolveOptions({ ...base, users: [{ user: 'x', password: 'y' }] })), /^invalid value for "users": operators do not allow users/);
    const preload = base.resolverPreload!;
    const [k1, k2] = Object.keys(preload);
    assert.match(refusal(() => resolveOptions({ ...base, resolverPreload: { [k1!]: preload[k2!]! } })), /^invalid value for "resolverPreload\.A\w+": the JWT is account A\w+'s, not this key's/);
    assert.match(
      refusal(() => resolveOptions({ ...base, systemAccount: f.accounts.A })),
      /^invalid value for "systemAccount": system_account in config and operator JWT must be identical/,
    );
    const { [f.accounts.SYS]: _sys, ...withoutSys } = preload;
    assert.match(refusal(() => resolveOptions({ ...base, resolverPreload: withoutSys })), /^invalid value for "systemAccount": account A\w+ has no usable JWT in resolver_preload$/);
    // Without system_account in the config, the operator JWT's is taken.
    assert.equal(resolveOptions({ ...base, systemAccount: undefined }).systemAccount, f.accounts.SYS);
  });
});

describe('operator mode: a hub takes leaf nodes that log in with .creds', () => {
  let dir: string;
  let f: OperatorFixture;
  let hub: RunningServer;
  const edges: RunningServer[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-operator-leaf-'));
    f = await makeOperatorFixture(dir);
    hub = await startTestServer({ ...operatorOptions(f, join(dir, 'store')), httpPort: 0, leafnodes: { host: '127.0.0.1', port: 0, user: undefined, pass: undefined, account: '', remotes: [], reconnectMs: 100 } });
  });

  after(async () => {
    for (const e of edges) await e.close();
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function edge(credentials: string): Promise<RunningServer> {
    const url = `nats-leaf://127.0.0.1:${hub.ports.leafnode}`;
    const e = await startTestServer({
      leafnodes: { host: '', port: undefined, user: undefined, pass: undefined, account: '', reconnectMs: 100, remotes: [{ urls: [url], credentials, account: '', tls: undefined, denyImports: [], denyExports: [] }] },
    });
    edges.push(e);
    return e;
  }

  type Leafz = { leafs: { name: string; account: string }[] };
  const leafz = async (): Promise<Leafz> => (await (await fetch(`${hub.httpUrl}/leafz`)).json()) as Leafz;

  test("an edge with a user's .creds is bound to that user's account; forged creds are refused", async () => {
    const good = await edge(f.creds.a!);
    await edge(f.creds.forged!);
    const z = await waitFor(async () => ((await leafz()).leafs.length > 0 ? leafz() : undefined), 'the edge with good creds to connect', 10_000);
    assert.deepEqual(z.leafs.map((l) => l.account), [f.accounts.A]);
    // Messages of account A cross: a subscriber of A on the hub gets what a client of the edge publishes.
    const onHub = await connectAs(hub.clientUrl, f, 'a');
    const onEdge = await connect({ servers: good.clientUrl, reconnect: false });
    try {
      const got: string[] = [];
      onHub.subscribe('leaf.x', { callback: (_e, m) => void got.push(m.string()) });
      await onHub.flush();
      await waitFor(async () => {
        onEdge.publish('leaf.x', 'from the edge');
        await onEdge.flush();
        return got.length > 0;
      }, "the hub's subscriber to hear the edge", 10_000);
      assert.equal(got[0], 'from the edge');
      // The forged edge never joined: still one link.
      assert.equal((await leafz()).leafs.length, 1);
    } finally {
      await Promise.all([onHub.close(), onEdge.close()]);
    }
  });
});
