// Key-value buckets through the official @nats-io/kv v3 client, unmodified, over real sockets:
// the bucket's stream, put/get/create/update with revision checks, delete, purge, history and its
// limit, keys, and watch (initial values, then updates while watching) — which run on ordered push
// consumers with last_per_subject / headers_only, flow control and heartbeats.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV, type KvEntry, type KvWatchEntry } from '@nats-io/kv';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor, within } from '../helpers/deadline.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

describe('KV buckets with the official client', () => {
  let srv: JsTestServer;
  let logger: MemoryLogger;
  let nc: NatsConnection;
  let kvm: Kvm;
  let jsm: JetStreamManager;

  before(async () => {
    logger = new MemoryLogger();
    srv = await startJsTestServer({ logger });
    nc = await connect({ servers: srv.clientUrl });
    kvm = new Kvm(nc);
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc?.close();
    await srv?.close();
    assert.deepEqual(logger.entries.filter((e) => e.level === 'error'), [], 'no errors logged');
  });

  async function wrongSequence(p: Promise<unknown>): Promise<void> {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof JetStreamApiError, String(err));
      assert.equal(err.code, 10071);
      assert.match(err.message, /wrong last sequence/);
      return true;
    });
  }

  async function collect<T>(it: AsyncIterable<T>, n = Infinity): Promise<T[]> {
    const out: T[] = [];
    for await (const v of it) {
      out.push(v);
      if (out.length >= n) break;
    }
    return out;
  }

  test('creating a bucket makes the KV_<bucket> stream the client asks for', async () => {
    await kvm.create('cfg', { history: 5 });
    const si = await jsm.streams.info('KV_cfg');
    const c = si.config;
    assert.deepEqual(c.subjects, ['$KV.cfg.>']);
    assert.deepEqual(
      [c.max_msgs_per_subject, c.allow_rollup_hdrs, c.allow_direct, c.discard, c.max_msg_size],
      [5, true, true, 'new', -1],
    );
    const opened = await kvm.open('cfg');
    assert.equal((await opened.status()).history, 5);
    const names: string[] = [];
    for await (const s of kvm.list()) names.push(s.bucket);
    assert.ok(names.includes('cfg'));
  });

  test('put, get, create, update with revisions, delete and purge', async () => {
    const kv = await kvm.create('ops', { history: 3 });
    const r1 = await kv.put('a', 'one');
    const e1 = await kv.get('a');
    assert.deepEqual([e1?.string(), e1?.revision, e1?.operation, e1?.key], ['one', r1, 'PUT', 'a']);
    assert.equal(await kv.get('missing'), null);

    await wrongSequence(kv.create('a', 'again'));
    const rb = await kv.create('b', 'first');
    assert.equal((await kv.get('b'))?.string(), 'first');

    const r2 = await kv.update('a', 'two', r1);
    await wrongSequence(kv.update('a', 'stale', r1));
    assert.deepEqual([(await kv.get('a'))?.string(), (await kv.get('a'))?.revision], ['two', r2]);
    assert.equal((await kv.get('a', { revision: r1 }))?.string(), 'one', 'an older revision');

    await kv.delete('b');
    const deleted = await kv.get('b');
    assert.equal(deleted?.operation, 'DEL');
    const rc = await kv.create('b', 'reborn');
    assert.ok(rc > rb, 'create over a delete marker');

    await kv.put('a', 'three');
    await kv.purge('a');
    const purged = await kv.get('a');
    assert.equal(purged?.operation, 'PURGE');
    const hist = await collect(await kv.history({ key: 'a' }));
    assert.deepEqual(
      hist.map((e) => e.operation),
      ['PURGE'],
      'a purge rolls the key up to its marker',
    );
  });

  test('history keeps at most `history` revisions per key', async () => {
    const kv = await kvm.create('hist', { history: 3 });
    for (let i = 1; i <= 6; i++) await kv.put('k', `v${i}`);
    await kv.put('other', 'x');
    const hist = await collect(await kv.history({ key: 'k' }));
    assert.deepEqual(
      hist.map((e) => e.string()),
      ['v4', 'v5', 'v6'],
    );
    const all = await collect(await kv.history());
    assert.equal(all.length, 4);
    assert.equal((await kv.status()).values, 4);
  });

  test('keys lists live keys, with a filter', async () => {
    const kv = await kvm.create('keys');
    for (const k of ['a.1', 'a.2', 'b.1', 'gone']) await kv.put(k, 'x');
    await kv.delete('gone');
    assert.deepEqual((await collect(await kv.keys())).sort(), ['a.1', 'a.2', 'b.1']);
    assert.deepEqual((await collect(await kv.keys('a.*'))).sort(), ['a.1', 'a.2']);
    const empty = await kvm.create('nokeys');
    assert.deepEqual(await collect(await empty.keys()), []);
  });

  test('watch delivers the current values, then every update while watching', async () => {
    const kv: KV = await kvm.create('watch', { history: 10 });
    await kv.put('x', 'x1');
    await kv.put('y', 'y1');
    await kv.put('x', 'x2');
    const seen: KvEntry[] = [];
    const w = await kv.watch();
    const reader = (async () => {
      for await (const e of w) {
        seen.push(e);
        if (seen.length === 5) break;
      }
    })();
    await waitFor(() => (seen.length >= 2 ? true : undefined), 'the initial values');
    assert.deepEqual(
      seen.map((e) => [e.key, e.string(), (e as KvWatchEntry).isUpdate]),
      [
        ['y', 'y1', false],
        // nats.js counts the initial values against num_pending at creation: the last one is
        // already flagged as an update.
        ['x', 'x2', true],
      ],
      'last value per key, in revision order',
    );
    await kv.put('z', 'z1');
    await kv.delete('y');
    await kv.put('x', 'x3');
    await within(reader, 5000, 'the updates');
    assert.deepEqual(
      seen.slice(2).map((e) => [e.key, e.operation, (e as KvWatchEntry).isUpdate]),
      [
        ['z', 'PUT', true],
        ['y', 'DEL', true],
        ['x', 'PUT', true],
      ],
    );

    const filtered = await kv.watch({ key: 'x', include: 'history' as never });
    const hx = await collect(filtered, 3);
    assert.deepEqual(
      hx.map((e) => e.string()),
      ['x1', 'x2', 'x3'],
    );
    const updates = await kv.watch({ include: 'updates' as never, headers_only: true });
    const next = collect(updates, 1);
    await kv.put('w', 'payload');
    const [u] = await within(next, 5000, 'an update');
    assert.deepEqual([u!.key, u!.length, u!.value.length], ['w', 7, 0], 'headers only: size without the value');
  });

  test('the bucket survives deleting and re-creating watchers (idempotent names)', async () => {
    const kv = await kvm.create('rewatch');
    await kv.put('a', '1');
    for (let i = 0; i < 5; i++) {
      const w = await kv.watch();
      const [e] = await collect(w, 1);
      assert.equal(e!.string(), '1');
    }
    await waitFor(async () => {
      let n = 0;
      for await (const _ of jsm.consumers.list('KV_rewatch')) n++;
      return n <= 5 ? true : undefined;
    }, 'watchers to stop');
  });
});
