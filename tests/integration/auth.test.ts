// Authentication over TCP and WebSocket with the official clients: each method with the right
// credentials, wrong ones and none; the auth timeout; operations before CONNECT; per-user limits.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { createUser } from '@nats-io/nkeys';
import { connect, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { wsConnect } from '../helpers/ws.ts';
import { infoOf, rawPeer, type RawPeer, type TransportKind } from '../helpers/peer.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { RunningServer, ServerOptions } from '../../server/index.ts';

const KINDS: readonly TransportKind[] = ['tcp', 'ws'];

function client(kind: TransportKind, server: RunningServer, opts: Partial<ConnectionOptions>): Promise<NatsConnection> {
  return kind === 'tcp'
    ? connect({ servers: server.clientUrl, reconnect: false, ...opts })
    : wsConnect(server.wsUrl!, { reconnect: false, ...opts });
}

const userKp = createUser();
const strangerKp = createUser();

interface Method {
  name: string;
  options: Partial<ServerOptions>;
  right: Partial<ConnectionOptions>;
  wrong: Partial<ConnectionOptions>;
}

const METHODS: Method[] = [
  { name: 'token', options: { token: 't0ken' }, right: { token: 't0ken' }, wrong: { token: 'nope' } },
  { name: 'bcrypt token', options: { token: bcrypt.hashSync('t0ken', 4) }, right: { token: 't0ken' }, wrong: { token: 'nope' } },
  { name: 'single user', options: { user: 'admin', pass: 'pw' }, right: { user: 'admin', pass: 'pw' }, wrong: { user: 'admin', pass: 'bad' } },
  {
    name: 'users, plain password',
    options: { users: [{ user: 'alice', password: 'a1' }, { user: 'bob', password: 'b1' }] },
    right: { user: 'bob', pass: 'b1' },
    wrong: { user: 'bob', pass: 'a1' },
  },
  {
    name: 'users, bcrypt password',
    options: { users: [{ user: 'carol', password: bcrypt.hashSync('c1', 4) }] },
    right: { user: 'carol', pass: 'c1' },
    wrong: { user: 'carol', pass: 'c2' },
  },
  {
    name: 'nkey',
    options: { users: [{ nkey: userKp.getPublicKey() }] },
    right: { authenticator: nkeyAuthenticator(userKp.getSeed()) },
    wrong: { authenticator: nkeyAuthenticator(strangerKp.getSeed()) },
  },
];

for (const method of METHODS) {
  describe(`auth: ${method.name}`, () => {
    let server: RunningServer;
    before(async () => {
      server = await startTestServer({ wsPort: 0, ...method.options });
    });
    after(() => server.close());

    for (const kind of KINDS) {
      test(`${kind}: right credentials in, wrong out, none out`, async () => {
        const nc = await client(kind, server, method.right);
        const s = nc.subscribe('auth.echo', { max: 1 });
        nc.publish('auth.echo', 'ok');
        for await (const m of s) assert.equal(m.string(), 'ok');
        await nc.close();
        await assert.rejects(client(kind, server, method.wrong), /authorization violation/i);
        await assert.rejects(client(kind, server, {}), /authorization violation/i);
      });
    }
  });
}

describe('auth: the wire', () => {
  let server: RunningServer;
  const peers: RawPeer[] = [];
  const peer = async (kind: TransportKind): Promise<RawPeer> => {
    const p = await rawPeer(kind, server);
    peers.push(p);
    return p;
  };
  before(async () => {
    server = await startTestServer({
      wsPort: 0,
      authTimeoutMs: 300,
      users: [
        { user: 'slow', password: bcrypt.hashSync('pw', 6) },
        { user: 'plain', password: 'pw' },
        { nkey: userKp.getPublicKey() },
        // One user per test and transport: a closed connection is released asynchronously, and
        // must not count against the next test.
        { user: 'conns-tcp', password: 'pw', maxConnections: 2 },
        { user: 'conns-ws', password: 'pw', maxConnections: 2 },
        { user: 'limited', password: 'pw', maxSubscriptions: 2, maxPayloadBytes: 100 },
      ],
    });
  });
  after(async () => {
    for (const p of peers) p.close();
    await server.close();
  });

  for (const kind of KINDS) {
    test(`${kind}: INFO says auth_required and carries a fresh nonce for nkeys`, async () => {
      const a = await infoOf(await peer(kind));
      const b = await infoOf(await peer(kind));
      assert.equal(a.auth_required, true);
      assert.match(String(a.nonce), /^[A-Za-z0-9_-]{15}$/);
      assert.notEqual(a.nonce, b.nonce);
    });

    test(`${kind}: a client that never sends CONNECT gets Authentication Timeout`, async () => {
      const p = await peer(kind);
      await p.waitFor('INFO ');
      await p.waitFor("-ERR 'Authentication Timeout'\r\n", 3000);
      await p.waitClosed();
    });

    test(`${kind}: an operation before CONNECT is an Authorization Violation`, async () => {
      const p = await peer(kind);
      await p.waitFor('INFO ');
      p.send('SUB x 1\r\n');
      await p.waitFor("-ERR 'Authorization Violation'\r\n");
      await p.waitClosed();
    });

    test(`${kind}: operations pipelined behind a bcrypt CONNECT run after it, in order`, async () => {
      const observer = await peer(kind);
      await observer.waitFor('INFO ');
      observer.send('CONNECT {"verbose":false,"user":"plain","pass":"pw"}\r\nSUB pipe.> 1\r\nPING\r\n');
      await observer.waitFor('PONG\r\n');
      const p = await peer(kind);
      await p.waitFor('INFO ');
      p.send(
        'CONNECT {"verbose":false,"user":"slow","pass":"pw"}\r\nSUB pipe.self 7\r\nPUB pipe.self 1\r\na\r\nPUB pipe.self 1\r\nb\r\nPING\r\n',
      );
      const text = await p.waitFor('PONG\r\n');
      assert.ok(text.indexOf('MSG pipe.self 7 1\r\na') < text.indexOf('MSG pipe.self 7 1\r\nb'), text);
      await observer.waitFor('MSG pipe.self 1 1\r\nb\r\n');
    });

    test(`${kind}: a bcrypt CONNECT with the wrong password is refused and nothing behind it runs`, async () => {
      const observer = await peer(kind);
      await observer.waitFor('INFO ');
      observer.send('CONNECT {"verbose":false,"user":"plain","pass":"pw"}\r\nSUB leak 1\r\nPING\r\n');
      await observer.waitFor('PONG\r\n');
      const p = await peer(kind);
      await p.waitFor('INFO ');
      p.send('CONNECT {"verbose":false,"user":"slow","pass":"wrong"}\r\nPUB leak 1\r\nx\r\nPING\r\n');
      await p.waitFor("-ERR 'Authorization Violation'\r\n");
      await p.waitClosed();
      observer.send('PING\r\n');
      await observer.waitFor('PONG\r\nPONG\r\n');
      assert.ok(!observer.text.includes('MSG leak'), observer.text);
    });

    test(`${kind}: per-user max connections`, async () => {
      const login = `CONNECT {"verbose":false,"user":"conns-${kind}","pass":"pw"}\r\nPING\r\n`;
      const a = await peer(kind);
      const b = await peer(kind);
      for (const p of [a, b]) {
        p.send(login);
        await p.waitFor('PONG\r\n');
      }
      const c = await peer(kind);
      c.send(login);
      await c.waitFor("-ERR 'maximum connections exceeded'\r\n");
      await c.waitClosed();
      a.close();
      await waitFor(async () => {
        const d = await rawPeer(kind, server);
        d.send(login);
        const ok = await d.waitFor('\r\n', 2000).then(() => d.waitFor('PONG', 500).then(() => true, () => false));
        d.close();
        return ok;
      }, 'a slot after one connection closed');
      b.close();
    });

    test(`${kind}: per-user max subscriptions and max payload`, async () => {
      const p = await peer(kind);
      p.send('CONNECT {"verbose":false,"user":"limited","pass":"pw"}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPING\r\n');
      const text = await p.waitFor('PONG\r\n');
      assert.equal(text.split("-ERR 'maximum subscriptions exceeded'").length - 1, 1);
      p.send(`PUB a 100\r\n${'x'.repeat(100)}\r\nPING\r\n`);
      await p.waitFor('MSG a 1 100\r\n');
      p.send(`PUB a 101\r\n${'x'.repeat(101)}\r\n`);
      await p.waitFor("-ERR 'Maximum Payload Violation'\r\n");
      await p.waitClosed();
    });
  }
});
