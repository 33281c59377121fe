// JetStream and KV through sluice/client, written once and run against a sluice server with a
// store (client-jetstream.test.ts) and against nats-server -js (tests/e2e/client-vs-nats-server).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  ErrorCode,
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  kv,
  NatsError,
  type JsMsg,
  type NatsConnection,
} from '../../client/index.ts';

export function jetstreamSuite(url: () => string): void {
  const open: NatsConnection[] = [];
  const nc = async (): Promise<NatsConnection> => {
    const c = await connect({ servers: url(), reconnect: false });
    open.push(c);
    return c;
  };
  after(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
  });

  test('streams: create, info, list, purge, delete; API errors carry err_code', async () => {
    const jsm = jetstreamManager(await nc());
    const si = await jsm.streams.add({ name: 'S1', subjects: ['s1.>'] });
    assert.equal(si.config.name, 'S1');
    assert.ok((await jsm.streams.names()).includes('S1'));
    assert.equal((await jsm.streams.info('S1')).state.messages, 0);
    await assert.rejects(jsm.streams.info('MISSING'), (e: unknown) => {
      assert.ok(e instanceof JetStreamApiError, String(e));
      assert.equal(e.errCode, 10059);
      assert.equal(e.status, 404);
      assert.equal(e.code, ErrorCode.JetStreamApi);
      return true;
    });
    await assert.rejects(jsm.streams.add({ name: 'S1B', subjects: ['s1.x'] }), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10065);
    assert.equal(await jsm.streams.delete('S1'), true);
  });

  test('publish: PubAck, msgID de-duplication, expectations as typed errors', async () => {
    const c = await nc();
    await jetstreamManager(c).streams.add({ name: 'PUB', subjects: ['pub.>'] });
    const js = jetstream(c);
    const a1 = await js.publish('pub.a', 'one', { msgID: 'm1' });
    assert.deepEqual([a1.stream, a1.seq, a1.duplicate ?? false], ['PUB', 1, false]);
    const dup = await js.publish('pub.a', 'one again', { msgID: 'm1' });
    assert.deepEqual([dup.seq, dup.duplicate], [1, true]);
    assert.equal((await js.publish('pub.b', 'two', { expect: { lastSequence: 1, streamName: 'PUB' } })).seq, 2);
    await assert.rejects(js.publish('pub.a', 'x', { expect: { lastSequence: 1 } }), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10071);
    await assert.rejects(js.publish('pub.a', 'x', { expect: { lastSubjectSequence: 0 } }), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10071);
    await assert.rejects(js.publish('pub.a', 'x', { expect: { streamName: 'OTHER' } }), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10060);
    await assert.rejects(js.publish('nostream.here', 'x'), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.NoResponders);
  });

  test('pull consumer: fetch, consume with re-pull, ack/nak/term, delivery info', async () => {
    const c = await nc();
    const jsm = jetstreamManager(c);
    await jsm.streams.add({ name: 'WORK', subjects: ['work.>'] });
    const js = jetstream(c);
    for (let i = 0; i < 30; i++) await js.publish('work.item', String(i));
    await jsm.consumers.add('WORK', { durable_name: 'w', ack_policy: 'explicit', ack_wait: 30_000_000_000 });
    const con = await js.consumers.get('WORK', 'w');

    const batch: JsMsg[] = [];
    for await (const m of con.fetch({ maxMessages: 5, expiresMs: 2000 })) batch.push(m);
    assert.deepEqual(batch.map((m) => m.string()), ['0', '1', '2', '3', '4']);
    const i0 = batch[0]!.info;
    assert.deepEqual([i0.stream, i0.consumer, i0.streamSequence, i0.deliverySequence, i0.deliveryCount, i0.pending], ['WORK', 'w', 1, 1, 1, 29]);
    batch[0]!.ack();
    batch[1]!.term();
    await batch[2]!.ackAck();
    batch[3]!.ack();
    batch[4]!.nak(); // redelivered below

    // consume pulls batches of 4 again and again until we stop.
    const seen: string[] = [];
    const it = con.consume({ maxMessages: 4, expiresMs: 5000 });
    for await (const m of it) {
      seen.push(`${m.string()}${m.redelivered ? 'r' : ''}`);
      m.ack();
      if (seen.length === 26) break;
    }
    assert.equal(seen.length, 26);
    assert.ok(seen.includes('4r'), `redelivered 4 in ${seen}`);
    assert.deepEqual(seen.filter((s) => !s.endsWith('r')), Array.from({ length: 25 }, (_, i) => String(i + 5)));
    await c.flush();

    // Nothing left: a fetch ends (empty) when its request expires.
    const empty: JsMsg[] = [];
    for await (const m of con.fetch({ maxMessages: 3, expiresMs: 300 })) empty.push(m);
    assert.equal(empty.length, 0);
    assert.equal(await con.next({ expiresMs: 200 }), null);
    const info = await con.info();
    assert.equal(info.num_pending, 0);
    assert.equal(info.num_ack_pending, 0);
  });

  test('ordered consumer delivers the stream in order from a start sequence', async () => {
    const c = await nc();
    await jetstreamManager(c).streams.add({ name: 'ORD', subjects: ['ord.*'] });
    const js = jetstream(c);
    for (let i = 1; i <= 20; i++) await js.publish(i % 2 === 0 ? 'ord.even' : 'ord.odd', String(i));
    const all = js.consumers.ordered('ORD').consume({ maxMessages: 7 });
    const got: number[] = [];
    for await (const m of all) {
      got.push(m.seq);
      if (got.length === 20) break;
    }
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => i + 1));
    const evens = js.consumers.ordered('ORD', { filterSubjects: 'ord.even', optStartSeq: 11 }).consume();
    const ev: string[] = [];
    for await (const m of evens) {
      ev.push(m.string());
      if (ev.length === 5) break;
    }
    assert.deepEqual(ev, ['12', '14', '16', '18', '20']);
  });

  test('KV: put/get/create/update/delete/purge/history/keys/watch', async () => {
    const c = await nc();
    const b = await kv(c, 'suite', { history: 5 });
    assert.equal(await b.put('a', '1'), 1);
    assert.equal(await b.put('a', '2'), 2);
    await b.put('x.y', 'deep');
    assert.equal((await b.get('a'))?.string(), '2');
    assert.equal((await b.get('a', { revision: 1 }))?.string(), '1');
    assert.equal(await b.get('missing'), null);
    await assert.rejects(b.create('a', 'no'), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10071);
    assert.equal(await b.update('a', '3', 2), 4);
    await assert.rejects(b.update('a', 'stale', 2), (e: unknown) => e instanceof JetStreamApiError && e.errCode === 10071);
    await b.delete('x.y');
    assert.equal(await b.get('x.y'), null);
    assert.ok((await b.create('x.y', 'back')) > 0, 'create over a delete marker');
    assert.deepEqual((await b.history('a')).map((e) => `${e.revision}:${e.string()}`), ['1:1', '2:2', '4:3']);
    assert.deepEqual((await b.keys()).sort(), ['a', 'x.y']);
    assert.throws(() => b.watch({ key: 'bad key' }), (e: unknown) => e instanceof NatsError);

    const w = b.watch();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of w) {
        seen.push(`${e.key}=${e.string()}:${e.operation}`);
        if (seen.length === 4) break;
      }
    })();
    await w.initialized;
    await b.put('later', 'L');
    await b.purge('a');
    await done;
    assert.deepEqual(seen, ['a=3:PUT', 'x.y=back:PUT', 'later=L:PUT', 'a=:PURGE']);
    assert.equal(await b.get('a'), null);
    assert.equal((await b.history('a')).length, 1);
    assert.equal((await b.status()).history, 5);
    assert.equal(await b.destroy(), true);
  });
}
