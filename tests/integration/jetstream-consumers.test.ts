// JetStream consumers through the official client (@nats-io/jetstream v3) over real sockets: pull
// fetch/consume, every deliver policy and filter, ack policies, push with a queue group, ordered
// consumers, max_ack_pending, num_pending bookkeeping, retention on ack, idempotent re-creates,
// ephemeral reaping, and the JSON errors of bad requests. Timing-sensitive behaviour (ack_wait,
// NAK, backoff, heartbeats) is in jetstream-redelivery.test.ts on virtual time.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { jsApi, rejectsWithJsError } from '../helpers/js-api.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

describe('JetStream consumers with the official client', () => {
  let srv: JsTestServer;
  let logger: MemoryLogger;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    logger = new MemoryLogger();
    srv = await startJsTestServer({ logger });
    nc = await connect({ servers: srv.clientUrl });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });
  after(async () => {
    await nc?.close();
    await srv?.close();
    const errors = logger.entries.filter((e) => e.level === 'error');
    assert.deepEqual(errors, [], 'no errors logged');
  });

  const api = (subject: string, body: unknown = ''): Promise<Record<string, any>> => jsApi(nc, subject, body);

  const rejects = rejectsWithJsError;

  /** Publishes `n` messages to subjects picked by `subject(i)`, 500 in flight at a time. */
  async function fill(n: number, subject: (i: number) => string, payload = (i: number) => `m${i}`): Promise<void> {
    for (let base = 0; base < n; base += 500) {
      const batch = [];
      for (let i = base; i < Math.min(n, base + 500); i++) batch.push(js.publish(subject(i), payload(i)));
      await Promise.all(batch);
    }
  }

  /** Fetches until `count` messages arrived (each fetch asks for what is still missing). */
  async function fetchN(stream: string, name: string, count: number, onMsg: (m: JsMsg) => void | Promise<void> = (m) => m.ack()): Promise<JsMsg[]> {
    const c = await js.consumers.get(stream, name);
    const got: JsMsg[] = [];
    while (got.length < count) {
      const it = await c.fetch({ max_messages: Math.min(500, count - got.length), expires: 2000 });
      for await (const m of it) {
        got.push(m);
        await onMsg(m);
      }
    }
    return got;
  }

  test('pull consume with explicit acks delivers each of 10,000 messages exactly once', async () => {
    await jsm.streams.add({ name: 'PULL10K', subjects: ['pull10k.>'] });
    await fill(10_000, (i) => `pull10k.${i % 7}`);
    await jsm.consumers.add('PULL10K', { durable_name: 'w', ack_policy: AckPolicy.Explicit });
    const c = await js.consumers.get('PULL10K', 'w');
    const seen = new Uint8Array(10_001);
    let count = 0;
    let redelivered = 0;
    const it = await c.consume({ max_messages: 300 });
    for await (const m of it) {
      assert.equal(seen[m.seq], 0, `stream seq ${m.seq} delivered twice`);
      seen[m.seq] = 1;
      if (m.redelivered) redelivered++;
      assert.equal(m.subject, `pull10k.${(m.seq - 1) % 7}`);
      assert.equal(m.string(), `m${m.seq - 1}`);
      m.ack();
      if (++count === 10_000) break;
    }
    assert.equal(redelivered, 0);
    const info = await waitFor(async () => {
      const i = await c.info();
      return i.ack_floor.stream_seq === 10_000 ? i : undefined;
    }, 'every ack to be taken');
    assert.deepEqual(
      [info.num_pending, info.num_ack_pending, info.num_redelivered, info.delivered.stream_seq, info.delivered.consumer_seq],
      [0, 0, 0, 10_000, 10_000],
    );
  });

  test('fetch in batches with ackAck delivers each of 10,000 messages exactly once', async () => {
    await jsm.streams.add({ name: 'FETCH10K', subjects: ['fetch10k'] });
    await fill(10_000, () => 'fetch10k');
    await jsm.consumers.add('FETCH10K', { durable_name: 'f', ack_policy: AckPolicy.Explicit, max_ack_pending: 20_000 });
    const got = await fetchN('FETCH10K', 'f', 10_000, async (m) => {
      if (m.seq % 1000 === 0) await m.ackAck();
      else m.ack();
    });
    assert.deepEqual(
      got.map((m) => m.seq),
      Array.from({ length: 10_000 }, (_, i) => i + 1),
    );
    const info = await jsm.consumers.info('FETCH10K', 'f');
    assert.equal(info.ack_floor.stream_seq, 10_000);
    assert.equal(info.num_pending, 0);
  });

  test('every deliver policy starts where nats-server starts', async () => {
    await jsm.streams.add({ name: 'POL', subjects: ['pol.>'], max_msgs_per_subject: 10 });
    // a.1 a.2 b.1 a.3 b.2 c.1 (seqs 1..6).
    for (const s of ['a', 'a', 'b', 'a', 'b', 'c']) await js.publish(`pol.${s}`, s);
    // by_start_time from the stored time of seq 4 (the server's clock, not this process's).
    const cut = (await jsm.streams.getMessage('POL', { seq: 4 }))!.timestamp;
    const firstSeq = async (cfg: Partial<ConsumerConfig>, n: number): Promise<number[]> => {
      const ci = await jsm.consumers.add('POL', { ack_policy: AckPolicy.None, ...cfg });
      const got = n === 0 ? [] : (await fetchN('POL', ci.name, n)).map((m) => m.seq);
      const info = await jsm.consumers.info('POL', ci.name);
      assert.equal(info.num_pending, 0, `${JSON.stringify(cfg)} leaves nothing pending`);
      return got;
    };
    assert.deepEqual(await firstSeq({ name: 'all', deliver_policy: DeliverPolicy.All }, 6), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(await firstSeq({ name: 'last', deliver_policy: DeliverPolicy.Last }, 1), [6]);
    assert.deepEqual(await firstSeq({ name: 'lastf', deliver_policy: DeliverPolicy.Last, filter_subject: 'pol.a' }, 1), [4]);
    assert.deepEqual(await firstSeq({ name: 'seq', deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: 4 }, 3), [4, 5, 6]);
    assert.deepEqual(await firstSeq({ name: 'time', deliver_policy: DeliverPolicy.StartTime, opt_start_time: cut }, 3), [4, 5, 6]);
    assert.deepEqual(
      await firstSeq({ name: 'lps', deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: 'pol.>' }, 3),
      [4, 5, 6],
    );
    assert.deepEqual(
      await firstSeq({ name: 'lpsm', deliver_policy: DeliverPolicy.LastPerSubject, filter_subjects: ['pol.a', 'pol.b'] }, 2),
      [4, 5],
    );
    const ci = await jsm.consumers.add('POL', { name: 'new', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.New });
    assert.equal(ci.num_pending, 0);
    assert.equal(ci.delivered.stream_seq, 6);
    await js.publish('pol.d', 'd');
    assert.deepEqual((await fetchN('POL', 'new', 1)).map((m) => [m.seq, m.subject]), [[7, 'pol.d']]);
  });

  test('filter_subject and filter_subjects deliver only matching messages, num_pending counts them', async () => {
    await jsm.streams.add({ name: 'FILT', subjects: ['filt.>'] });
    await fill(30, (i) => ['filt.a', 'filt.b.x', 'filt.c'][i % 3]!);
    const one = await jsm.consumers.add('FILT', { durable_name: 'one', ack_policy: AckPolicy.Explicit, filter_subject: 'filt.b.*' });
    assert.equal(one.num_pending, 10);
    const many = await jsm.consumers.add('FILT', { durable_name: 'many', ack_policy: AckPolicy.Explicit, filter_subjects: ['filt.a', 'filt.c'] });
    assert.equal(many.num_pending, 20);
    const a = await fetchN('FILT', 'one', 10);
    assert.ok(a.every((m) => m.subject === 'filt.b.x'));
    const b = await fetchN('FILT', 'many', 20);
    assert.deepEqual(new Set(b.map((m) => m.subject)), new Set(['filt.a', 'filt.c']));
    assert.deepEqual(
      b.map((m) => m.seq),
      [...b.map((m) => m.seq)].sort((x, y) => x - y),
      'in stream order across filters',
    );
    await js.publish('filt.b.y', 'x');
    await js.publish('filt.zzz', 'x');
    assert.equal((await jsm.consumers.info('FILT', 'one')).num_pending, 1);
    assert.equal((await jsm.consumers.info('FILT', 'many')).num_pending, 0);
  });

  test('ack policy none keeps nothing pending; ack policy all acks everything below', async () => {
    await jsm.streams.add({ name: 'ACKP', subjects: ['ackp'] });
    await fill(10, () => 'ackp');
    await jsm.consumers.add('ACKP', { durable_name: 'none', ack_policy: AckPolicy.None });
    await fetchN('ACKP', 'none', 10, () => undefined);
    const none = await jsm.consumers.info('ACKP', 'none');
    assert.deepEqual([none.num_ack_pending, none.ack_floor.stream_seq, none.ack_floor.consumer_seq], [0, 10, 10]);

    await jsm.consumers.add('ACKP', { durable_name: 'all', ack_policy: AckPolicy.All });
    const got = await fetchN('ACKP', 'all', 10, () => undefined);
    assert.equal((await jsm.consumers.info('ACKP', 'all')).num_ack_pending, 10);
    await got[6]!.ackAck();
    const all = await jsm.consumers.info('ACKP', 'all');
    assert.deepEqual([all.num_ack_pending, all.ack_floor.stream_seq], [3, 7]);
    await got[9]!.ackAck();
    assert.equal((await jsm.consumers.info('ACKP', 'all')).num_ack_pending, 0);
  });

  test('a push consumer with a queue group delivers each message once across the group', async () => {
    await jsm.streams.add({ name: 'PUSHQ', subjects: ['pushq'] });
    await jsm.consumers.add('PUSHQ', {
      durable_name: 'pq',
      deliver_subject: 'deliver.pushq',
      deliver_group: 'workers',
      ack_policy: AckPolicy.Explicit,
    });
    const counts = [0, 0];
    const seen = new Set<number>();
    const members = await Promise.all([0, 1].map(() => js.consumers.getPushConsumer('PUSHQ', 'pq')));
    const iters = await Promise.all(members.map((m) => m.consume()));
    const done = Promise.all(
      iters.map(async (it, i) => {
        for await (const m of it) {
          assert.equal(seen.has(m.seq), false, `seq ${m.seq} delivered twice`);
          seen.add(m.seq);
          counts[i]!++;
          m.ack();
          if (seen.size === 1000) for (const x of iters) x.stop();
        }
      }),
    );
    await fill(1000, () => 'pushq');
    await done;
    assert.equal(seen.size, 1000);
    assert.ok(counts[0]! > 0 && counts[1]! > 0, `both members got messages: ${counts}`);
    const info = await waitFor(async () => {
      const i = await jsm.consumers.info('PUSHQ', 'pq');
      return i.num_ack_pending === 0 ? i : undefined;
    }, 'acks');
    assert.equal(info.ack_floor.stream_seq, 1000);
  });

  test('ordered consumers (pull and push) read 10,000 messages in order', async () => {
    await jsm.streams.add({ name: 'ORD', subjects: ['ord.>'] });
    await fill(10_000, (i) => `ord.${i % 3}`);
    for (const kind of ['pull', 'push'] as const) {
      const c = kind === 'pull' ? await js.consumers.get('ORD') : await js.consumers.getPushConsumer('ORD');
      const it = await c.consume();
      let expect = 1;
      for await (const m of it) {
        assert.equal(m.seq, expect, `${kind}: in order`);
        assert.equal(m.info.deliverySequence, expect);
        if (++expect > 10_000) break;
      }
      it.stop();
    }
  });

  test('max_ack_pending stops delivery until acks make room', async () => {
    await jsm.streams.add({ name: 'MAP', subjects: ['map'] });
    await fill(50, () => 'map');
    await jsm.consumers.add('MAP', { durable_name: 'm', ack_policy: AckPolicy.Explicit, max_ack_pending: 10 });
    const c = await js.consumers.get('MAP', 'm');
    const first: JsMsg[] = [];
    for await (const m of await c.fetch({ max_messages: 50, expires: 1000 })) first.push(m);
    assert.equal(first.length, 10);
    let info = await c.info();
    assert.deepEqual([info.num_ack_pending, info.num_pending], [10, 40]);
    for (const m of first.slice(0, 5)) await m.ackAck();
    const more: JsMsg[] = [];
    for await (const m of await c.fetch({ max_messages: 50, expires: 1000 })) more.push(m);
    assert.deepEqual(
      more.map((m) => m.seq),
      [11, 12, 13, 14, 15],
    );
    info = await c.info();
    assert.deepEqual([info.num_ack_pending, info.num_pending], [10, 35]);
  });

  test('num_pending stays exact through publishes, deliveries, deletes and purges', async () => {
    await jsm.streams.add({ name: 'NP', subjects: ['np.>'] });
    // np.even at the even sequences 2..100, np.odd at the odd ones.
    await fill(100, (i) => ((i + 1) % 2 === 0 ? 'np.even' : 'np.odd'));
    await jsm.consumers.add('NP', { durable_name: 'all', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('NP', { durable_name: 'even', ack_policy: AckPolicy.Explicit, filter_subject: 'np.even' });
    const pending = async (): Promise<[number, number]> => [
      (await jsm.consumers.info('NP', 'all')).num_pending,
      (await jsm.consumers.info('NP', 'even')).num_pending,
    ];
    assert.deepEqual(await pending(), [100, 50]);
    await fetchN('NP', 'all', 30);
    await fetchN('NP', 'even', 10);
    assert.deepEqual(await pending(), [70, 40]);
    await jsm.streams.deleteMessage('NP', 50); // even, not yet delivered to either
    await jsm.streams.deleteMessage('NP', 5); // odd, already delivered to 'all'
    assert.deepEqual(await pending(), [69, 39]);
    await jsm.streams.purge('NP', { filter: 'np.odd' });
    // 'all' has delivered seqs 1..30; undelivered left: evens 32..100 except 50 = 34.
    assert.deepEqual(await pending(), [34, 39]);
    await fill(10, () => 'np.even');
    assert.deepEqual(await pending(), [44, 49]);
    await jsm.streams.purge('NP', { seq: 91 });
    // seqs 91..110 remain: evens 91..100 (5) + 10 new.
    assert.deepEqual(await pending(), [15, 15]);
  });

  test('deleted and purged messages stop being pending', async () => {
    await jsm.streams.add({ name: 'GONE', subjects: ['gone.>'] });
    await fill(4, (i) => (i === 2 ? 'gone.b' : 'gone.a'));
    await jsm.consumers.add('GONE', { durable_name: 'g', ack_policy: AckPolicy.Explicit });
    await fetchN('GONE', 'g', 4, () => undefined);
    assert.equal((await jsm.consumers.info('GONE', 'g')).num_ack_pending, 4);
    await jsm.streams.deleteMessage('GONE', 2);
    await jsm.streams.purge('GONE', { filter: 'gone.b' });
    let info = await jsm.consumers.info('GONE', 'g');
    assert.deepEqual([info.num_ack_pending, info.ack_floor.stream_seq], [2, 0]);
    await jsm.streams.purge('GONE', { seq: 2 });
    info = await jsm.consumers.info('GONE', 'g');
    assert.deepEqual([info.num_ack_pending, info.ack_floor.stream_seq], [1, 3], 'the floor moves past what is gone');
  });

  test('headers_only delivers headers and Nats-Msg-Size without the payload', async () => {
    await jsm.streams.add({ name: 'HO', subjects: ['ho'] });
    const h = headers();
    h.set('X-Thing', 'yes');
    await js.publish('ho', 'hello world', { headers: h });
    await js.publish('ho', '12345');
    await jsm.consumers.add('HO', { durable_name: 'h', ack_policy: AckPolicy.None, headers_only: true });
    const [a, b] = await fetchN('HO', 'h', 2, () => undefined);
    assert.equal(a!.data.length, 0);
    assert.equal(a!.headers?.get('X-Thing'), 'yes');
    assert.equal(a!.headers?.get('Nats-Msg-Size'), '11');
    assert.equal(b!.headers?.get('Nats-Msg-Size'), '5');
  });

  test('workqueue retention removes acked messages and refuses overlapping consumers', async () => {
    await jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: 'workqueue' as never });
    await jsm.consumers.add('WQ', { durable_name: 'a', ack_policy: AckPolicy.Explicit, filter_subject: 'wq.a' });
    await rejects(jsm.consumers.add('WQ', { durable_name: 'b', ack_policy: AckPolicy.Explicit, filter_subject: 'wq.>' }), 10100);
    await rejects(jsm.consumers.add('WQ', { durable_name: 'c', ack_policy: AckPolicy.Explicit }), 10099);
    await rejects(jsm.consumers.add('WQ', { durable_name: 'd', ack_policy: AckPolicy.All, filter_subject: 'wq.d' }), 10098);
    await rejects(
      jsm.consumers.add('WQ', { durable_name: 'e', ack_policy: AckPolicy.Explicit, filter_subject: 'wq.e', deliver_policy: DeliverPolicy.Last }),
      10101,
    );
    await jsm.consumers.add('WQ', { durable_name: 'b', ack_policy: AckPolicy.Explicit, filter_subject: 'wq.b' });
    await fill(10, (i) => (i < 6 ? 'wq.a' : 'wq.b'));
    const got = await fetchN('WQ', 'a', 6, () => undefined);
    for (const m of got.slice(0, 4)) await m.ackAck();
    const si = await jsm.streams.info('WQ');
    assert.equal(si.state.messages, 6, '4 acked messages are gone');
  });

  test('interest retention keeps a message until every interested consumer acked it', async () => {
    await jsm.streams.add({ name: 'INT', subjects: ['int.>'], retention: 'interest' as never });
    await js.publish('int.x', 'before any consumer');
    assert.equal((await jsm.streams.info('INT')).state.messages, 0, 'no interest: not kept');
    await jsm.consumers.add('INT', { durable_name: 'a', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.add('INT', { durable_name: 'b', ack_policy: AckPolicy.Explicit, filter_subject: 'int.b' });
    await js.publish('int.x', '1');
    await js.publish('int.b', '2');
    assert.equal((await jsm.streams.info('INT')).state.messages, 2);
    for (const m of await fetchN('INT', 'a', 2, () => undefined)) await m.ackAck();
    assert.equal((await jsm.streams.info('INT')).state.messages, 1, 'int.x only interested a');
    for (const m of await fetchN('INT', 'b', 1, () => undefined)) await m.ackAck();
    assert.equal((await jsm.streams.info('INT')).state.messages, 0);
    await js.publish('int.b', '3');
    await jsm.consumers.delete('INT', 'b');
    await jsm.consumers.delete('INT', 'a');
    assert.equal((await jsm.streams.info('INT')).state.messages, 0, 'nobody left who needs it');
  });

  test('re-creating a consumer with the same config succeeds and keeps its state', async () => {
    await jsm.streams.add({ name: 'IDEM', subjects: ['idem'] });
    await fill(5, () => 'idem');
    const cfg = { durable_name: 'same', ack_policy: AckPolicy.Explicit, filter_subject: 'idem' };
    await jsm.consumers.add('IDEM', cfg);
    for (const m of await fetchN('IDEM', 'same', 3, () => undefined)) await m.ackAck();
    const again = await jsm.consumers.add('IDEM', cfg);
    assert.deepEqual([again.ack_floor.stream_seq, again.num_pending], [3, 2]);
    await rejects(jsm.consumers.add('IDEM', { ...cfg, max_ack_pending: 7 }), 10148, 'consumer already exists');
    const updated = await jsm.consumers.update('IDEM', 'same', { max_ack_pending: 7, description: 'now' });
    assert.deepEqual([updated.config.max_ack_pending, updated.config.description, updated.ack_floor.stream_seq], [7, 'now', 3]);
    const changed = await api('$JS.API.CONSUMER.CREATE.IDEM.same', {
      stream_name: 'IDEM',
      config: { ...cfg, deliver_policy: 'new' },
      action: 'update',
    });
    assert.deepEqual(changed.error, { code: 500, err_code: 10012, description: 'deliver policy can not be updated' });
    // Ephemerals too (the KV watcher pattern re-creates by name).
    const eph = { name: 'eph', ack_policy: AckPolicy.None, deliver_subject: 'eph.inbox' };
    await jsm.consumers.add('IDEM', eph);
    await jsm.consumers.add('IDEM', eph);
    const names: string[] = [];
    for await (const n of jsm.consumers.list('IDEM')) names.push(n.name);
    assert.deepEqual(names, ['eph', 'same']);
  });

  test('ephemeral consumers are reaped after inactive_threshold; durables stay', async () => {
    await jsm.streams.add({ name: 'REAP', subjects: ['reap'] });
    await jsm.consumers.add('REAP', { name: 'pull-eph', ack_policy: AckPolicy.Explicit, inactive_threshold: 300_000_000 });
    await jsm.consumers.add('REAP', { name: 'push-eph', deliver_subject: 'reap.in', inactive_threshold: 300_000_000 });
    await jsm.consumers.add('REAP', { durable_name: 'keep', ack_policy: AckPolicy.Explicit });
    assert.equal((await jsm.streams.info('REAP')).state.consumer_count, 3);
    await waitFor(async () => ((await jsm.streams.info('REAP')).state.consumer_count === 1 ? true : undefined), 'ephemerals to be reaped', 10_000);
    await rejects(jsm.consumers.info('REAP', 'pull-eph'), 10014, 'consumer not found');
    assert.equal((await jsm.consumers.info('REAP', 'keep')).name, 'keep');
  });

  test('bad requests get nats-server JSON errors', async () => {
    await jsm.streams.add({ name: 'BAD', subjects: ['bad.>'] });
    await rejects(jsm.consumers.info('BAD', 'nope'), 10014, 'consumer not found');
    await rejects(jsm.consumers.delete('BAD', 'nope'), 10014);
    await rejects(jsm.consumers.info('NOSTREAM', 'x'), 10059, 'stream not found');
    await rejects(jsm.consumers.add('NOSTREAM', { durable_name: 'x', ack_policy: AckPolicy.Explicit }), 10059);
    await rejects(jsm.consumers.update('BAD', 'missing', { description: 'x' }), 10014);
    const upd = await api('$JS.API.CONSUMER.CREATE.BAD.missing', { stream_name: 'BAD', config: { name: 'missing' }, action: 'update' });
    assert.equal(upd.error.err_code, 10149);
    await rejects(
      jsm.consumers.add('BAD', { durable_name: 'p', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.StartSequence }),
      10094,
      'consumer delivery policy is deliver by start sequence, but optional start sequence is not set',
    );
    await rejects(jsm.consumers.add('BAD', { durable_name: 'p', deliver_policy: DeliverPolicy.LastPerSubject }), 10094);
    await rejects(jsm.consumers.add('BAD', { durable_name: 'p', deliver_policy: DeliverPolicy.All, opt_start_seq: 3 }), 10094);
    await rejects(jsm.consumers.add('BAD', { durable_name: 'p', deliver_subject: 'x', flow_control: true }), 10108);
    await rejects(jsm.consumers.add('BAD', { durable_name: 'p', ack_policy: AckPolicy.Explicit, max_deliver: 2, backoff: [1e9, 2e9, 3e9] }), 10116);

    const raw = async (subject: string, body: unknown): Promise<number> => (await api(subject, body)).error?.err_code;
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD', { stream_name: 'OTHER', config: {} }), 10056);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD', { stream_name: 'BAD', config: { durable_name: 'd' } }), 10020);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD.c', { stream_name: 'BAD', config: { durable_name: 'd' } }), 10017);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD.c.bad.x', { stream_name: 'BAD', config: { filter_subject: 'bad.y' } }), 10131);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD.c.bad.x', { stream_name: 'BAD', config: { filter_subjects: ['bad.x'] } }), 10137);
    assert.equal(await raw('$JS.API.CONSUMER.DURABLE.CREATE.BAD.d', { stream_name: 'BAD', config: {} }), 10018);
    assert.equal(await raw('$JS.API.CONSUMER.DURABLE.CREATE.BAD.d', { stream_name: 'BAD', config: { durable_name: 'e' } }), 10017);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD', { stream_name: 'BAD', config: { ack_wait: 'soon' } }), 10025);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD', '{"stream_name":'), 10025);
    assert.equal(await raw('$JS.API.CONSUMER.CREATE.BAD', { stream_name: 'BAD', config: {}, action: 'maybe' }), 10025);

    // Pull on a push consumer: a 409 status to the request's reply, not JSON.
    await jsm.consumers.add('BAD', { durable_name: 'pushy', deliver_subject: 'pushy.in' });
    const r = await nc.request('$JS.API.CONSUMER.MSG.NEXT.BAD.pushy', '{"batch":1}', { timeout: 2000 });
    assert.equal(r.headers?.code, 409);
    assert.equal(r.headers?.description, 'Consumer is push based');
    await assert.rejects((async () => (await js.consumers.get('BAD', 'pushy')).fetch())(), /not a pull consumer/);
  });

  test('names and list page through consumers; stream info counts them', async () => {
    await jsm.streams.add({ name: 'LST', subjects: ['lst'] });
    for (const n of ['c', 'a', 'b']) await jsm.consumers.add('LST', { durable_name: n, ack_policy: AckPolicy.Explicit });
    const names = await api('$JS.API.CONSUMER.NAMES.LST', {});
    assert.deepEqual([names.total, names.limit, names.consumers], [3, 1024, ['a', 'b', 'c']]);
    const page = await api('$JS.API.CONSUMER.LIST.LST', { offset: 1 });
    assert.deepEqual([page.total, page.offset, page.limit, page.consumers.map((c: { name: string }) => c.name)], [3, 1, 256, ['b', 'c']]);
    assert.equal((await jsm.streams.info('LST')).state.consumer_count, 3);
    assert.ok((await jsm.getAccountInfo()).consumers >= 3);
    const missing = await api('$JS.API.CONSUMER.NAMES.NOPE', {});
    assert.equal(missing.error.err_code, 10059);
    assert.deepEqual(missing.consumers, []);
    await jsm.consumers.delete('LST', 'b');
    assert.equal((await jsm.streams.info('LST')).state.consumer_count, 2);
    await jsm.streams.delete('LST');
    await jsm.streams.add({ name: 'LST', subjects: ['lst'] });
    assert.equal((await jsm.streams.info('LST')).state.consumer_count, 0, 'consumers went with the stream');
  });
});
