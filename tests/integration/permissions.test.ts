// Per-user permissions over TCP and WebSocket: a table of allowed and denied publishes and
// subscriptions (wildcards, deny over allow, queue groups), allow_responses, $JS.API grants, and
// the guarantee that a denied operation delivers nothing.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { wsConnect } from '../helpers/ws.ts';
import { rawPeer, type RawPeer, type TransportKind } from '../helpers/peer.ts';
import { tempStoreDir } from '../helpers/jetstream-server.ts';
import { rmSync } from 'node:fs';
import type { RunningServer } from '../../server/index.ts';

const KINDS: readonly TransportKind[] = ['tcp', 'ws'];

const ALICE = {
  user: 'alice',
  password: 'pw',
  permissions: {
    publish: { allow: ['orders.>', 'svc.*', '$JS.API.INFO', '_INBOX.>'], deny: ['orders.secret'] },
    subscribe: { allow: ['orders.>', 'updates.*', '_INBOX.>', 'jobs.> workers'], deny: ['orders.private.>'] },
  },
};
const RESPONDER = { user: 'svc', password: 'pw', permissions: { subscribe: { allow: ['rpc.>'] }, allowResponses: true } };
const ADMIN = { user: 'admin', password: 'pw' };

const PUBLISH_TABLE: [subject: string, allowed: boolean][] = [
  ['orders.new', true],
  ['orders.eu.new', true],
  ['orders.secret', false], // deny overrides allow
  ['svc.echo', true],
  ['svc.echo.deep', false], // '*' is one token
  ['billing.run', false], // not granted
  ['$JS.API.INFO', true],
  ['$JS.API.STREAM.CREATE.ORDERS', false],
];

const SUBSCRIBE_TABLE: [subject: string, queue: string, allowed: boolean][] = [
  ['orders.*', '', true],
  ['orders.>', '', true], // overlaps the denied orders.private.>: allowed, filtered at delivery
  ['orders.private.x', '', false],
  ['orders.private.>', '', false],
  ['updates.eu', '', true],
  ['updates.>', '', false], // wider than updates.*
  ['>', '', false],
  ['jobs.run', '', false], // the jobs grant is for the workers queue only
  ['jobs.run', 'workers', true],
  ['jobs.run', 'others', false],
];

describe('permissions', () => {
  let server: RunningServer;
  let storeDir: string;
  let admin: NatsConnection;
  const peers: RawPeer[] = [];
  const open: NatsConnection[] = [];
  const login = async (kind: TransportKind, user: { user: string; password: string }): Promise<RawPeer> => {
    const p = await rawPeer(kind, server);
    peers.push(p);
    await p.waitFor('INFO ');
    p.send(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, user: user.user, pass: user.password })}\r\nPING\r\n`);
    await p.waitFor('PONG\r\n');
    return p;
  };
  /** Sends `ops` then PING; resolves with what arrived for them (everything after the last PONG). */
  const exchange = async (p: RawPeer, ops: string): Promise<string> => {
    const pongs = p.text.split('PONG\r\n').length - 1;
    p.send(`${ops}PING\r\n`);
    let text = '';
    for (;;) {
      text = await p.waitFor('PONG\r\n');
      if (text.split('PONG\r\n').length - 1 > pongs) break;
      if (p.closed) throw new Error(`closed while waiting for PONG: ${JSON.stringify(text.slice(-200))}`);
      await new Promise<void>((r) => setImmediate(r));
    }
    const parts = text.split('PONG\r\n');
    return parts[parts.length - 2]!;
  };

  before(async () => {
    storeDir = tempStoreDir('sluice-perm-js-');
    server = await startTestServer({ wsPort: 0, storeDir, users: [ALICE, RESPONDER, ADMIN] });
    admin = await connect({ servers: server.clientUrl, user: 'admin', pass: 'pw' });
  });
  after(async () => {
    for (const p of peers) p.close();
    await Promise.allSettled([admin.close(), ...open.map((c) => c.close())]);
    await server.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  for (const kind of KINDS) {
    test(`${kind}: publish table; denied publishes get the exact -ERR, deliver nothing, keep the connection`, async () => {
      const seen: string[] = [];
      const watch = admin.subscribe(`>`, { callback: (_e, m) => void (m.subject.startsWith('_INBOX') ? 0 : seen.push(m.subject)) });
      await admin.flush();
      const alice = await login(kind, ALICE);
      for (const [subject, allowed] of PUBLISH_TABLE) {
        const got = await exchange(alice, `PUB ${subject} 2\r\nhi\r\n`);
        const err = `-ERR 'Permissions Violation for Publish to "${subject}"'\r\n`;
        assert.equal(got.includes(err), !allowed, `${subject}: ${JSON.stringify(got)}`);
      }
      await admin.flush();
      watch.unsubscribe();
      const allowedSubjects = PUBLISH_TABLE.filter(([, a]) => a).map(([s]) => s);
      assert.deepEqual(seen.filter((s) => PUBLISH_TABLE.some(([t]) => t === s)), allowedSubjects);
      assert.equal(alice.closed, false);
    });

    test(`${kind}: subscribe table; denied subscriptions get the exact -ERR and receive nothing`, async () => {
      const alice = await login(kind, ALICE);
      for (const [i, [subject, queue, allowed]] of SUBSCRIBE_TABLE.entries()) {
        const got = await exchange(alice, `SUB ${subject}${queue ? ` ${queue}` : ''} ${i + 1}\r\n`);
        const err = queue
          ? `-ERR 'Permissions Violation for Subscription to "${subject}" using queue "${queue}"'\r\n`
          : `-ERR 'Permissions Violation for Subscription to "${subject}"'\r\n`;
        assert.equal(got.includes(err), !allowed, `${subject} ${queue}: ${JSON.stringify(got)}`);
      }
      // Publish to every subject of the table: only allowed subscriptions may deliver, and the
      // deny filter keeps orders.private.* away from the allowed orders.> subscription.
      for (const s of ['orders.private.x', 'orders.ok', 'updates.eu', 'updates.eu.deep', 'jobs.run', 'other']) admin.publish(s, 'm');
      await admin.flush();
      const got = await exchange(alice, '');
      const deliveries = [...got.matchAll(/MSG (\S+) (\d+)/g)].map((m) => `${m[1]}#${m[2]}`).sort();
      assert.deepEqual(deliveries, ['jobs.run#9', 'orders.ok#1', 'orders.ok#2', 'updates.eu#5']);
      assert.equal(alice.closed, false);
      // Leave the workers queue group, or the next transport's member would share its messages.
      await exchange(alice, 'UNSUB 9\r\n');
    });

    test(`${kind}: allow_responses lets a responder answer once, and nothing else`, async () => {
      const svc = await login(kind, RESPONDER);
      await exchange(svc, 'SUB rpc.echo 1\r\n');
      const reply = admin.request('rpc.echo', 'ping', { timeout: 3000 });
      const text = await svc.waitFor('MSG rpc.echo 1 ');
      const m = /MSG rpc\.echo 1 (\S+) 4\r\n/.exec(text);
      assert.ok(m, text);
      const inbox = m[1]!;
      const first = await exchange(svc, `PUB ${inbox} 4\r\npong\r\n`);
      assert.ok(!first.includes('-ERR'), first);
      assert.equal((await reply).string(), 'pong');
      const second = await exchange(svc, `PUB ${inbox} 4\r\npong\r\n`);
      assert.ok(second.includes(`-ERR 'Permissions Violation for Publish to "${inbox}"'`), second);
      const other = await exchange(svc, 'PUB rpc.other 1\r\nx\r\n');
      assert.ok(other.includes(`-ERR 'Permissions Violation for Publish to "rpc.other"'`), other);
    });

    test(`${kind}: the official client: JetStream API access follows the grants`, async () => {
      const nc =
        kind === 'tcp'
          ? await connect({ servers: server.clientUrl, user: 'alice', pass: 'pw' })
          : await wsConnect(server.wsUrl!, { user: 'alice', pass: 'pw' });
      open.push(nc);
      const info = (await nc.request('$JS.API.INFO', '', { timeout: 3000 })).json<Record<string, unknown>>();
      assert.equal(info.type, 'io.nats.jetstream.api.v1.account_info_response');
      await assert.rejects(
        nc.request('$JS.API.STREAM.CREATE.ORDERS', JSON.stringify({ name: 'ORDERS', subjects: ['orders.>'] }), { timeout: 3000 }),
        /permissions violation/i,
      );
      const check = (await admin.request('$JS.API.STREAM.INFO.ORDERS', '', { timeout: 3000 })).json<{ error?: { code: number } }>();
      assert.equal(check.error?.code, 404, 'the denied request created nothing');
      // Still connected and working.
      const s = nc.subscribe('orders.after', { max: 1 });
      nc.publish('orders.after', 'x');
      for await (const msg of s as AsyncIterable<Msg>) assert.equal(msg.string(), 'x');
    });
  }
});
