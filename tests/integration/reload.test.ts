// Config reload on a running server (server/reload.ts): a permission change applies to the open
// connections' next operations without disconnecting them; a subscription the new permissions
// deny is removed with the subscription -ERR; a user removed from the config is disconnected; a
// change that needs a restart refuses the whole reload and the old configuration stays in force.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MemoryLogger } from '../../runtime/logger.ts';
import { resolveOptionsWithWarnings } from '../../server/options.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import type { RunningServer } from '../../server/index.ts';
import type { UserConfig } from '../../server/auth/users.ts';
import { startTestServer } from '../helpers/server.ts';
import { rawPeer, type RawPeer } from '../helpers/peer.ts';

const ALICE_BEFORE: UserConfig = {
  user: 'alice',
  password: 'pw',
  permissions: { publish: { allow: ['orders.>'] }, subscribe: { allow: ['updates.>', 'news'] } },
};
const ALICE_AFTER: UserConfig = {
  user: 'alice',
  password: 'pw',
  permissions: { publish: { allow: ['billing.>'] }, subscribe: { allow: ['updates.>'] } },
};
const BOB: UserConfig = { user: 'bob', password: 'pw' };
const CAROL: UserConfig = { user: 'carol', password: 'pw' };

describe('config reload', () => {
  let server: RunningServer;
  let base: ServerOptions;
  let admin: NatsConnection;
  const logger = new MemoryLogger();
  const peers: RawPeer[] = [];

  const login = async (user: string): Promise<RawPeer> => {
    const p = await rawPeer('tcp', server);
    peers.push(p);
    await p.waitFor('INFO ');
    p.send(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, protocol: 1, user, pass: 'pw' })}\r\nPING\r\n`);
    await p.waitFor('PONG\r\n');
    return p;
  };
  /** Sends `ops` then PING; resolves with what arrived for them. */
  const exchange = async (p: RawPeer, ops: string): Promise<string> => {
    const before = p.text.length;
    const pongs = p.text.split('PONG\r\n').length - 1;
    p.send(`${ops}PING\r\n`);
    for (;;) {
      const text = await p.waitFor('PONG\r\n');
      if (text.split('PONG\r\n').length - 1 > pongs) return text.slice(before);
      if (p.closed) throw new Error('closed while waiting for PONG');
      await new Promise<void>((r) => setImmediate(r));
    }
  };
  const reload = (users: UserConfig[], more: Partial<ServerOptions> = {}) =>
    server.reload(resolveOptionsWithWarnings({ ...base, users, ...more }).options);

  before(async () => {
    server = await startTestServer({ users: [ALICE_BEFORE, BOB, CAROL] }, logger);
    base = { ...(server as unknown as { options: ServerOptions }).options };
    admin = await connect({ servers: server.clientUrl, user: 'bob', pass: 'pw' });
  });
  after(async () => {
    for (const p of peers) p.close();
    await admin.close();
    await server.close();
  });

  test('new permissions apply to an open connection\'s next operations; it stays connected', async () => {
    const alice = await login('alice');
    const seen: string[] = [];
    const watch = admin.subscribe('>', { callback: (_e, m) => void seen.push(m.subject) });
    await admin.flush();
    assert.doesNotMatch(await exchange(alice, 'SUB news 1\r\nSUB updates.eu 2\r\nPUB orders.new 2\r\nhi\r\n'), /-ERR/);

    const plan = reload([ALICE_AFTER, BOB, CAROL]);
    assert.deepEqual(plan, { changed: ['users'], refused: [] });
    // The subscription the new rules deny is gone, with the error nats-server sends for it.
    const afterReload = await exchange(alice, 'PUB orders.new 2\r\nhi\r\nPUB billing.run 2\r\nhi\r\n');
    assert.match(afterReload, /-ERR 'Permissions Violation for Subscription to "news"'/);
    assert.match(afterReload, /-ERR 'Permissions Violation for Publish to "orders.new"'/);
    assert.doesNotMatch(afterReload, /billing\.run/);
    admin.publish('news', 'x');
    admin.publish('updates.eu', 'y');
    await admin.flush();
    const delivered = await exchange(alice, '');
    assert.match(delivered, /MSG updates\.eu 2 1\r\ny/);
    assert.doesNotMatch(delivered, /MSG news/);
    await admin.flush();
    watch.unsubscribe();
    assert.equal(seen.filter((s) => s === 'orders.new').length, 1, 'orders.new went through before the reload only');
    assert.equal(seen.filter((s) => s === 'billing.run').length, 1);
    assert.equal(alice.closed, false);
    reload([ALICE_BEFORE, BOB, CAROL]);
  });

  test('a user removed from the config is disconnected with an authorization violation', async () => {
    const carol = await login('carol');
    reload([ALICE_BEFORE, BOB]);
    await carol.waitClosed();
    assert.match(carol.text, /-ERR 'Authorization Violation'/);
    assert.ok(logger.entries.some((e) => e.msg.startsWith('authorization revoked by config reload') && e.fields.cid !== undefined));
    reload([ALICE_BEFORE, BOB, CAROL]);
  });

  test('the official client keeps its connection and sees the new rules', async () => {
    const nc = await connect({ servers: server.clientUrl, user: 'alice', pass: 'pw', maxReconnectAttempts: 0 });
    try {
      const errors: string[] = [];
      void (async () => {
        for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
      })();
      const got: string[] = [];
      const sub = nc.subscribe('updates.>', { callback: (_e, m) => void got.push(m.string()) });
      await nc.flush();
      reload([ALICE_AFTER, BOB, CAROL]);
      nc.publish('orders.new', 'denied now');
      await nc.flush();
      admin.publish('updates.x', 'still allowed');
      await admin.flush();
      await nc.flush();
      assert.deepEqual(got, ['still allowed']);
      assert.ok(errors.some((e) => /Permissions Violation for Publish to "orders.new"/i.test(e)), errors.join('; '));
      assert.equal(nc.isClosed(), false);
      sub.unsubscribe();
    } finally {
      await nc.close();
      reload([ALICE_BEFORE, BOB, CAROL]);
    }
  });

  test('a change that needs a restart refuses the whole reload: the old configuration stays', async () => {
    const before = logger.entries.length;
    const plan = reload([ALICE_AFTER, BOB, CAROL], { port: base.port + 1, maxPayloadBytes: 1000 });
    assert.deepEqual(plan.refused, ['port']);
    const alice = await login('alice');
    assert.doesNotMatch(await exchange(alice, 'PUB orders.new 2\r\nhi\r\n'), /-ERR/, 'old permissions still in force');
    const lines = logger.entries.slice(before).filter((e) => e.level === 'error');
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg, /config reload refused: "port" cannot change without a restart/);
  });

  test('limits apply to open connections: a lowered max_payload refuses the next larger message', async () => {
    const alice = await login('alice');
    reload([ALICE_BEFORE, BOB, CAROL], { maxPayloadBytes: 4 });
    await exchange(alice, 'PUB orders.a 4\r\nabcd\r\n');
    alice.send('PUB orders.a 5\r\nabcde\r\n');
    await alice.waitClosed();
    assert.match(alice.text, /-ERR 'Maximum Payload Violation'/);
    reload([ALICE_BEFORE, BOB, CAROL]);
  });
});
