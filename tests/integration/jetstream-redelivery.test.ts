// Redelivery and the timed parts of consumers on virtual time (JetStream's clock is a VirtualClock,
// moved by the tests; sockets and the client stay real): ack_wait expiry, NAK with and without a
// delay, backoff steps, max_deliver with its advisory, TERM, +WPI, pull request expiry and
// heartbeats, no_wait and max_bytes statuses, push flow control and idle heartbeats, and reaping
// of inactive ephemerals. No test sleeps.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { VirtualClock } from '../helpers/virtual-clock.ts';
import { waitFor, within } from '../helpers/deadline.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

const SEC = 1_000_000_000;

describe('consumer timing on virtual time', () => {
  let srv: JsTestServer;
  let logger: MemoryLogger;
  let clock: VirtualClock;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    logger = new MemoryLogger();
    clock = new VirtualClock();
    srv = await startJsTestServer({ logger, jsClock: clock });
    nc = await connect({ servers: srv.clientUrl });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });
  after(async () => {
    await nc?.close();
    await srv?.close();
    assert.deepEqual(logger.entries.filter((e) => e.level === 'error'), [], 'no errors logged');
  });

  /** One message from a pull consumer (the request stays open on virtual time until served). */
  async function next(stream: string, name: string): Promise<JsMsg> {
    const c = await js.consumers.get(stream, name);
    const m = await within(c.next({ expires: 3_600_000 }), 10_000, 'a message');
    assert.ok(m !== null);
    return m;
  }

  /**
   * Starts waiting for one message; resolves once the request is queued at the server. (Wrapped:
   * an async function returning the promise itself would wait for the message.)
   */
  async function waiting(stream: string, name: string): Promise<{ msg: Promise<JsMsg | null> }> {
    const c = await js.consumers.get(stream, name);
    const msg = c.next({ expires: 3_600_000 });
    await waitFor(async () => ((await c.info()).num_waiting > 0 ? true : undefined), 'the pull request to be queued');
    return { msg };
  }

  /** A round trip: everything the server sent before (deliveries, statuses) has arrived. */
  async function settle(): Promise<void> {
    await nc.flush();
    await jsm.getAccountInfo();
  }

  async function isSettled(p: Promise<unknown>): Promise<boolean> {
    await settle();
    return Promise.race([p.then(() => true), Promise.resolve(false)]);
  }

  function advisories(subject: string): Record<string, unknown>[] {
    const got: Record<string, unknown>[] = [];
    nc.subscribe(subject, { callback: (_e, m) => void got.push(m.json()) });
    return got;
  }

  test('ack_wait expiry redelivers with the delivery count incremented', async () => {
    await jsm.streams.add({ name: 'AW', subjects: ['aw'] });
    await jsm.consumers.add('AW', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 2 * SEC });
    await js.publish('aw', 'x');
    const m1 = await next('AW', 'c');
    assert.deepEqual([m1.seq, m1.info.deliveryCount, m1.redelivered], [1, 1, false]);
    const { msg: p } = await waiting('AW', 'c');
    clock.advance(1_999);
    assert.equal(await isSettled(p), false, 'not before ack_wait');
    clock.advance(2);
    const m2 = await within(p, 5000, 'the redelivery');
    assert.deepEqual([m2!.seq, m2!.info.deliveryCount, m2!.redelivered, m2!.info.deliverySequence], [1, 2, true, 2]);
    let info = await jsm.consumers.info('AW', 'c');
    assert.deepEqual([info.num_redelivered, info.num_ack_pending], [1, 1]);
    await m2!.ackAck();
    info = await jsm.consumers.info('AW', 'c');
    assert.deepEqual([info.num_redelivered, info.num_ack_pending, info.ack_floor.stream_seq], [0, 0, 1]);
  });

  test('NAK redelivers at once; NAK with a delay after the delay', async () => {
    await jsm.streams.add({ name: 'NAK', subjects: ['nak'] });
    await jsm.consumers.add('NAK', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30 * SEC });
    const naks = advisories('$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.NAK.c');
    await js.publish('nak', 'x');
    const m1 = await next('NAK', 'c');
    m1.nak();
    const m2 = await next('NAK', 'c');
    assert.deepEqual([m2.seq, m2.info.deliveryCount], [1, 2]);
    m2.nak(5_000);
    const { msg: p } = await waiting('NAK', 'c');
    clock.advance(4_999);
    assert.equal(await isSettled(p), false, 'held for the delay');
    clock.advance(2);
    const m3 = await within(p, 5000, 'the delayed redelivery');
    assert.deepEqual([m3!.seq, m3!.info.deliveryCount], [1, 3]);
    await m3!.ackAck();
    await settle();
    assert.equal(naks.length, 2);
    assert.equal(naks[0]!.type, 'io.nats.jetstream.advisory.v1.nak');
  });

  test('backoff sets the wait of each delivery attempt', async () => {
    await jsm.streams.add({ name: 'BO', subjects: ['bo'] });
    await jsm.consumers.add('BO', { durable_name: 'c', ack_policy: AckPolicy.Explicit, backoff: [1 * SEC, 3 * SEC], max_deliver: 4 });
    await js.publish('bo', 'x');
    await next('BO', 'c'); // attempt 1 waits 1 s
    for (const [waitMs, dc] of [
      [1_000, 2], // attempt 2 waits 3 s
      [3_000, 3], // attempt 3 (and later) wait 3 s, the last step
      [3_000, 4],
    ] as const) {
      const { msg: p } = await waiting('BO', 'c');
      clock.advance(waitMs - 1);
      assert.equal(await isSettled(p), false, `attempt ${dc} not early`);
      clock.advance(2);
      const m = await within(p, 5000, `attempt ${dc}`);
      assert.equal(m!.info.deliveryCount, dc);
    }
  });

  test('max_deliver stops redelivery and publishes the max-deliveries advisory', async () => {
    await jsm.streams.add({ name: 'MD', subjects: ['md'] });
    await jsm.consumers.add('MD', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 1 * SEC, max_deliver: 2 });
    const adv = advisories('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.MD.c');
    await js.publish('md', 'x');
    await next('MD', 'c');
    const { msg: p } = await waiting('MD', 'c');
    clock.advance(1_001);
    assert.equal((await within(p, 5000, 'second attempt'))!.info.deliveryCount, 2);
    const { msg: q } = await waiting('MD', 'c');
    clock.advance(1_001);
    await settle();
    assert.equal(await isSettled(q), false, 'no third attempt');
    q.catch(() => undefined); // ends when the connection closes
    assert.equal(adv.length, 1);
    assert.deepEqual([adv[0]!.type, adv[0]!.stream, adv[0]!.consumer, adv[0]!.stream_seq, adv[0]!.deliveries], [
      'io.nats.jetstream.advisory.v1.max_deliver',
      'MD',
      'c',
      1,
      2,
    ]);
    const info = await jsm.consumers.info('MD', 'c');
    assert.deepEqual([info.num_ack_pending, info.num_redelivered, info.ack_floor.stream_seq], [0, 1, 1]);
    assert.equal((await jsm.streams.info('MD')).state.messages, 1, 'the message itself stays');
  });

  test('TERM stops redelivery and is advised with its reason', async () => {
    await jsm.streams.add({ name: 'TRM', subjects: ['trm'] });
    await jsm.consumers.add('TRM', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 1 * SEC });
    const adv = advisories('$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.TRM.c');
    await js.publish('trm', 'x');
    await js.publish('trm', 'y');
    const m = await next('TRM', 'c');
    m.term('poison');
    const m2 = await next('TRM', 'c');
    assert.equal(m2.seq, 2);
    await m2.ackAck();
    clock.advance(5_000);
    const info = await jsm.consumers.info('TRM', 'c');
    assert.deepEqual([info.num_ack_pending, info.num_redelivered, info.ack_floor.stream_seq], [0, 0, 2]);
    assert.equal(adv.length, 1);
    assert.deepEqual([adv[0]!.type, adv[0]!.stream_seq, adv[0]!.reason], ['io.nats.jetstream.advisory.v1.terminated', 1, 'poison']);
  });

  test('+WPI restarts the ack wait', async () => {
    await jsm.streams.add({ name: 'WPI', subjects: ['wpi'] });
    await jsm.consumers.add('WPI', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 2 * SEC });
    await js.publish('wpi', 'x');
    const m = await next('WPI', 'c');
    clock.advance(1_500);
    m.working();
    await settle();
    const { msg: p } = await waiting('WPI', 'c');
    clock.advance(1_500);
    assert.equal(await isSettled(p), false, 'the wait started over at 1.5 s');
    clock.advance(501);
    assert.equal((await within(p, 5000, 'redelivery'))!.info.deliveryCount, 2);
  });

  /** Raw pull request: collects every message sent to its reply subject. */
  function rawPull(stream: string, consumer: string, body: unknown): Msg[] {
    const inbox = createInbox();
    const got: Msg[] = [];
    nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
    nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, typeof body === 'string' ? body : JSON.stringify(body), { reply: inbox });
    return got;
  }

  const status = (m: Msg): string => `${m.headers?.code} ${m.headers?.description}`;

  test('pull requests: expiry (408 with pending headers), heartbeats, no_wait, max_bytes, limits', async () => {
    await jsm.streams.add({ name: 'PR', subjects: ['pr'] });
    await jsm.consumers.add('PR', { durable_name: 'c', ack_policy: AckPolicy.None, max_waiting: 2, max_batch: 100 });
    const expiring = rawPull('PR', 'c', { batch: 5, expires: 10 * SEC, idle_heartbeat: 2 * SEC });
    await settle();
    clock.advance(2_000);
    await settle();
    assert.deepEqual(expiring.map(status), ['100 Idle Heartbeat']);
    assert.equal(expiring[0]!.headers?.get('Nats-Last-Consumer'), '0');
    assert.equal(expiring[0]!.headers?.get('Nats-Last-Stream'), '0');
    clock.advance(8_000);
    await settle();
    assert.deepEqual(expiring.map(status), ['100 Idle Heartbeat', '100 Idle Heartbeat', '100 Idle Heartbeat', '100 Idle Heartbeat', '408 Request Timeout']);
    assert.equal(expiring[4]!.headers?.get('Nats-Pending-Messages'), '5');
    assert.equal(expiring[4]!.headers?.get('Nats-Pending-Bytes'), '0');

    const empty = rawPull('PR', 'c', { batch: 5, no_wait: true });
    await settle();
    assert.deepEqual(empty.map(status), ['404 No Messages']);

    await js.publish('pr', 'a');
    await js.publish('pr', 'b');
    const some = rawPull('PR', 'c', { batch: 5, no_wait: true });
    await settle();
    assert.deepEqual(some.map((m) => (m.headers?.code ? status(m) : m.string())), ['a', 'b', '404 No Messages']);
    assert.equal(some[0]!.subject, 'pr', 'the MSG subject is the stored subject');

    await js.publish('pr', 'this message is too large');
    const small = rawPull('PR', 'c', { batch: 5, max_bytes: 10, expires: 10 * SEC });
    await settle();
    assert.deepEqual(small.map(status), ['409 Message Size Exceeds MaxBytes']);
    const oneThenDone = rawPull('PR', 'c', { batch: 1, max_bytes: 4096, expires: 10 * SEC });
    await settle();
    assert.equal(oneThenDone.length, 2);
    assert.equal(status(oneThenDone[1]!), '409 Batch Completed');

    assert.deepEqual(rawPull('PR', 'c', { batch: 500 }).length, 0);
    const tooBig = rawPull('PR', 'c', { batch: 500, expires: SEC });
    await settle();
    assert.deepEqual(tooBig.map(status), ['409 Exceeded MaxRequestBatch of 100']);
    rawPull('PR', 'c', { batch: 1, expires: 60 * SEC });
    rawPull('PR', 'c', { batch: 1, expires: 60 * SEC });
    const third = rawPull('PR', 'c', { batch: 1, expires: 60 * SEC });
    await settle();
    assert.deepEqual(third.map(status), ['409 Exceeded MaxWaiting']);
    const bad = rawPull('PR', 'c', { batch: 1, expires: SEC, idle_heartbeat: SEC });
    await settle();
    assert.deepEqual(bad.map(status), ['400 Bad Request - heartbeat value too large']);
    clock.advance(61_000);
  });

  test('+NXT acknowledges and pulls in one message; deleting a consumer releases its requests', async () => {
    await jsm.streams.add({ name: 'NXT', subjects: ['nxt'] });
    for (const v of ['a', 'b', 'c', 'd']) await js.publish('nxt', v);
    await jsm.consumers.add('NXT', { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30 * SEC });
    const first = rawPull('NXT', 'c', { batch: 1, expires: 10 * SEC });
    await settle();
    assert.deepEqual(first.map((m) => m.string()), ['a']);
    const inbox = createInbox();
    const more: Msg[] = [];
    nc.subscribe(inbox, { callback: (_e, m) => void more.push(m) });
    nc.publish(first[0]!.reply!, '+NXT {"batch":2,"expires":10000000000}', { reply: inbox });
    await settle();
    assert.deepEqual(more.map((m) => m.string()), ['b', 'c']);
    const info = await jsm.consumers.info('NXT', 'c');
    assert.deepEqual([info.ack_floor.stream_seq, info.num_ack_pending], [1, 2]);
    await jsm.consumers.delete('NXT', 'c');
    const orphan = rawPull('NXT', 'gone', { batch: 1, expires: SEC });
    await jsm.consumers.add('NXT', { durable_name: 'd', ack_policy: AckPolicy.Explicit });
    const drained = rawPull('NXT', 'd', { batch: 10, no_wait: true });
    await settle();
    assert.deepEqual(drained.map((m) => m.string() || status(m)), ['a', 'b', 'c', 'd', '404 No Messages']);
    const waitingReq = rawPull('NXT', 'd', { batch: 1, expires: 60 * SEC });
    await settle();
    await jsm.consumers.delete('NXT', 'd');
    await settle();
    assert.deepEqual(waitingReq.map(status), ['409 Consumer Deleted']);
    assert.deepEqual(orphan, [], 'a pull for a consumer that does not exist gets no answer');
  });

  test('push consumers: flow control pauses delivery until answered; idle heartbeats', async () => {
    await jsm.streams.add({ name: 'FC', subjects: ['fc'] });
    const payload = new Uint8Array(100_000);
    for (let i = 0; i < 50; i++) await js.publish('fc', payload);
    await jsm.consumers.add('FC', { durable_name: 'c', deliver_subject: 'fc.deliver', flow_control: true, idle_heartbeat: SEC, ack_policy: AckPolicy.None });
    const data: Msg[] = [];
    const control: Msg[] = [];
    nc.subscribe('fc.deliver', { callback: (_e, m) => void (m.headers?.code === 100 ? control : data).push(m) });
    await settle();
    clock.advance(50); // the consumer notices the subscription
    await waitFor(() => control.some((m) => m.headers?.description === 'FlowControl Request') || undefined, 'a flow control request');
    await settle();
    const before = data.length;
    assert.ok(before > 10 && before < 50, `stalled part way (${before} of 50)`);
    const fc = control.find((m) => m.headers?.description === 'FlowControl Request')!;
    assert.match(fc.reply!, /^\$JS\.FC\.FC\.c\./);
    clock.advance(1_001);
    await settle();
    const hb = control.filter((m) => m.headers?.description === 'Idle Heartbeat');
    assert.ok(hb.length >= 1);
    assert.equal(hb[0]!.headers?.get('Nats-Consumer-Stalled'), fc.reply, 'the heartbeat names the unanswered request');
    fc.respond();
    await waitFor(() => (data.length === 50 ? true : undefined), 'delivery to resume', 10_000);
    // Answer any later request so nothing stays stalled.
    for (const m of control) if (m.reply) m.respond();
  });

  test('inactive ephemerals are reaped on virtual time', async () => {
    await jsm.streams.add({ name: 'INACT', subjects: ['inact'] });
    await jsm.consumers.add('INACT', { name: 'pull', ack_policy: AckPolicy.Explicit, inactive_threshold: 10 * SEC });
    await jsm.consumers.add('INACT', { name: 'push', deliver_subject: 'nobody.listens', inactive_threshold: 10 * SEC });
    clock.advance(9_000);
    assert.equal((await jsm.streams.info('INACT')).state.consumer_count, 2);
    clock.advance(2_500);
    await waitFor(async () => ((await jsm.streams.info('INACT')).state.consumer_count === 0 ? true : undefined), 'both reaped');
  });
});
