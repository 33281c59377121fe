// Differential: the same client suite as tests/integration/client-core.test.ts, against the Go
// nats-server (Debian package `nats-server`), so sluice/client is proven against the reference.
// Plus what only the reference does today: auth (token, user/password, nkey) and permissions.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { AuthorizationError, connect, ErrorCode, PermissionsError, type NatsConnection } from '../../client/index.ts';
import { clientSuite, varzSubscriptions } from '../integration/client-suite.ts';
import { jetstreamSuite } from '../integration/client-suite-jetstream.ts';
import { freePort, startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';


describe('sluice/client against nats-server', () => {
  let server: ReferenceServer;
  let httpUrl: string;
  before(async () => {
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    server = await startNatsServer(['-m', String(httpPort)]);
  });
  after(async () => {
    await server.stop();
  });
  clientSuite(() => ({ url: server.url, subscriptions: () => varzSubscriptions(httpUrl) }));
});

describe('sluice/client JetStream and KV against nats-server -js', () => {
  let server: ReferenceServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-client-js-e2e-'));
    server = await startNatsServer(['-js', '-sd', dir]);
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  jetstreamSuite(() => server.url);
});

describe('sluice/client over WebSocket against nats-server', () => {
  let server: ReferenceServer;
  let dir: string;
  let wsUrl: string;
  let httpUrl: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-client-ws-'));
    const wsPort = await freePort();
    const httpPort = await freePort();
    wsUrl = `ws://127.0.0.1:${wsPort}`;
    httpUrl = `http://127.0.0.1:${httpPort}`;
    const conf = join(dir, 'ws.conf');
    writeFileSync(conf, `websocket {\n  host: 127.0.0.1\n  port: ${wsPort}\n  no_tls: true\n}\n`);
    server = await startNatsServer(['-c', conf, '-m', String(httpPort)]);
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  clientSuite(() => ({ url: wsUrl, subscriptions: () => varzSubscriptions(httpUrl) }));
});

describe('sluice/client auth and permissions against nats-server', () => {
  let server: ReferenceServer;
  let dir: string;
  const user = createUser();
  const nkeySeed = new TextDecoder().decode(user.getSeed());
  const open: NatsConnection[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-client-e2e-'));
    const conf = join(dir, 'auth.conf');
    writeFileSync(
      conf,
      `authorization {
  users = [
    { user: alice, password: secret }
    { user: limited, password: pw, permissions: { publish: { allow: ["ok.>", "_INBOX.>"] }, subscribe: { allow: ["ok.>", "_INBOX.>"] } } }
    { nkey: ${user.getPublicKey()} }
  ]
}
`,
    );
    server = await startNatsServer(['-c', conf]);
  });
  after(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('user/password and nkey seed authenticate; bad credentials are a typed AuthorizationError', async () => {
    const a = await connect({ servers: server.url, user: 'alice', pass: 'secret', reconnect: false });
    open.push(a);
    await a.flush();
    const n = await connect({ servers: server.url, nkeySeed, reconnect: false });
    open.push(n);
    await n.flush();
    const u = new URL(server.url);
    const viaUrl = await connect({ servers: `nats://alice:secret@${u.host}`, reconnect: false });
    open.push(viaUrl);
    await assert.rejects(connect({ servers: server.url, user: 'alice', pass: 'wrong', reconnect: false }), (e: unknown) => {
      assert.ok(e instanceof AuthorizationError, String(e));
      assert.equal(e.code, ErrorCode.AuthorizationViolation);
      return true;
    });
  });

  test('permission violations are parsed into typed PermissionsErrors; the connection stays up', async () => {
    const c = await connect({ servers: server.url, user: 'limited', pass: 'pw', reconnect: false });
    open.push(c);
    const statuses = c.status();
    const denied = c.subscribe('secret.stuff');
    const iterated = (async () => {
      for await (const _ of denied) void _;
    })();
    await assert.rejects(iterated, (e: unknown) => {
      assert.ok(e instanceof PermissionsError, String(e));
      assert.equal(e.operation, 'subscription');
      assert.equal(e.subject, 'secret.stuff');
      return true;
    });
    assert.ok((await denied.closed) instanceof PermissionsError);
    await assert.rejects(c.request('forbidden.svc', 'x', { timeoutMs: 3000 }), (e: unknown) => {
      assert.ok(e instanceof PermissionsError, String(e));
      assert.equal(e.operation, 'publish');
      assert.equal(e.subject, 'forbidden.svc');
      return true;
    });
    const first = await statuses.next();
    assert.equal(first.value?.type, 'error');
    const s = c.subscribe('ok.fine', { max: 1 });
    c.publish('ok.fine', 'yes');
    for await (const m of s) assert.equal(m.string(), 'yes');
    assert.equal(c.isClosed(), false);
    await statuses.return?.();
  });
});
