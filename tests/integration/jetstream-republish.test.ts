// Stream subject transforms and republish through the official clients: publishes stored under
// the transformed subject, every stored message republished once with the Nats-* headers (and
// headers only with Nats-Msg-Size), KV buckets created with republish, and transform config
// errors answered as nats-server 2.10 answers them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { rejectsWithJsError } from '../helpers/js-api.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

describe('subject transforms and republish', () => {
  let srv: JsTestServer;
  let logger: MemoryLogger;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  before(async () => {
    logger = new MemoryLogger();
    srv = await startJsTestServer({ logger });
    nc = await connect({ servers: srv.clientUrl });
    jsm = await jetstreamManager(nc);
  });
  after(async () => {
    await nc?.close();
    await srv?.close();
    assert.deepEqual(logger.entries.filter((e) => e.level === 'error'), [], 'no errors logged');
  });

  function collect(subject: string): Msg[] {
    const got: Msg[] = [];
    nc.subscribe(subject, { callback: (_err, m) => void got.push(m) });
    return got;
  }

  test('a stream subject_transform stores publishes under the transformed subject', async () => {
    await jsm.streams.add({ name: 'TR', subjects: ['in.*.*'], subject_transform: { src: 'in.*.*', dest: 'stored.$2.{{wildcard(1)}}' } });
    const js = jetstream(nc);
    const ack = await js.publish('in.eu.42', 'x');
    assert.equal(ack.seq, 1);
    const m = await jsm.streams.getMessage('TR', { seq: 1 });
    assert.equal(m?.subject, 'stored.42.eu');
    const si = await jsm.streams.info('TR');
    assert.deepEqual(si.config.subject_transform, { src: 'in.*.*', dest: 'stored.$2.{{wildcard(1)}}' });
  });

  test('republish delivers every stored message once with the Nats-* headers', async () => {
    await jsm.streams.add({ name: 'RP', subjects: ['orders.>'], republish: { src: 'orders.*', dest: 'repub.$1' } });
    const got = collect('repub.>');
    await nc.flush();
    const js = jetstream(nc);
    const subjects = ['orders.a', 'orders.b', 'orders.x.y'];
    for (let i = 0; i < 60; i++) await js.publish(subjects[i % 3]!, `m${i}`, { headers: undefined });
    // orders.x.y does not match orders.* and is not republished.
    await waitFor(() => got.length === 40, 'republished messages');
    await nc.flush();
    assert.equal(got.length, 40);
    const lastOn = new Map<string, number>();
    for (const m of got) {
      const h = m.headers!;
      const seq = Number(h.get('Nats-Sequence'));
      const subject = h.get('Nats-Subject');
      assert.equal(h.get('Nats-Stream'), 'RP');
      assert.equal(m.subject, `repub.${subject.split('.')[1]}`);
      assert.equal(Number(h.get('Nats-Last-Sequence')), lastOn.get(subject) ?? 0, `gap detection header of ${seq}`);
      lastOn.set(subject, seq);
      const stored = await jsm.streams.getMessage('RP', { seq });
      assert.equal(stored?.subject, subject);
      assert.equal(m.string(), stored?.string());
      assert.equal(new Date(h.get('Nats-Time-Stamp')).getTime(), stored?.time.getTime());
    }
    assert.equal(new Set(got.map((m) => m.headers!.get('Nats-Sequence'))).size, 40, 'each once');
  });

  test('headers_only republish sends no payload but Nats-Msg-Size, keeping the publisher headers', async () => {
    await jsm.streams.add({ name: 'RPH', subjects: ['big.>'], republish: { src: '>', dest: 'meta.>', headers_only: true } });
    const got = collect('meta.>');
    await nc.flush();
    const js = jetstream(nc);
    const { headers } = await import('@nats-io/transport-node');
    const h = headers();
    h.set('App', 'one');
    await js.publish('big.file', new Uint8Array(1234), { headers: h });
    await waitFor(() => got.length === 1, 'republished message');
    const m = got[0]!;
    assert.equal(m.subject, 'meta.big.file');
    assert.equal(m.data.length, 0);
    assert.equal(m.headers!.get('Nats-Msg-Size'), '1234');
    assert.equal(m.headers!.get('App'), 'one');
    assert.equal(m.headers!.get('Nats-Sequence'), '1');
  });

  test('a KV bucket created with republish works with the KV client and pushes changes', async () => {
    const kvm = new Kvm(nc);
    const kv = await kvm.create('cfg', { history: 3, republish: { src: '$KV.cfg.>', dest: 'changes.>' } });
    const got = collect('changes.>');
    await nc.flush();
    await kv.put('a', 'one');
    await kv.put('a', 'two');
    await kv.delete('a');
    await kv.put('b', 'three');
    assert.equal((await kv.get('b'))?.string(), 'three');
    await waitFor(() => got.length === 4, 'republished changes');
    assert.deepEqual(
      got.map((m) => [m.subject, m.string(), m.headers?.get('KV-Operation') ?? '', m.headers!.get('Nats-Last-Sequence')]),
      [
        ['changes.a', 'one', '', '0'],
        ['changes.a', 'two', '', '1'],
        ['changes.a', '', 'DEL', '2'],
        ['changes.b', 'three', '', '0'],
      ],
    );
    const status = await kv.status();
    assert.deepEqual(status.streamInfo.config.republish, { src: '$KV.cfg.>', dest: 'changes.>' });
  });

  test('bad transforms are refused with nats-server codes and texts', async () => {
    await rejectsWithJsError(
      jsm.streams.add({ name: 'BAD1', subjects: ['b1.*'], subject_transform: { src: 'b1.*', dest: 'x.$2' } }),
      10049,
      "stream subject transform from 'b1.*' to 'x.$2': invalid mapping destination: wildcard index out of range in $2: [2]",
    );
    await rejectsWithJsError(
      jsm.streams.add({ name: 'BAD2', subjects: ['b2.>'], republish: { src: 'b2.>', dest: 'b2.x.>' } }),
      10052,
      'stream configuration for republish destination forms a cycle',
    );
  });
});
