import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../runtime/clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { normalizeStreamConfig } from './config.ts';
import { Stream } from './stream.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { StoredMsg } from '../store/types.ts';
import { FakeBus, hdrs } from '../testing.ts';

function cfg(body: Record<string, unknown> = {}): StreamConfig {
  const r = normalizeStreamConfig({ name: 'S', subjects: ['s.>'], ...body });
  assert.ok(r.ok, r.ok ? '' : r.error.description);
  return r.config;
}

/** Lets the ack continuations (promise callbacks) run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(body: Record<string, unknown> = {}, clock = new ManualClock()) {
  const bus = new FakeBus();
  const store = new MemoryStore('S');
  const stream = new Stream(cfg(body), store, clock.epochNs(), { bus, clock, logger: silentLogger });
  stream.bindSubjects();
  return { bus, store, stream, clock };
}

test('captures published messages and acks with increasing sequences after the store is durable', async () => {
  const { bus, store } = setup();
  for (let i = 0; i < 3; i++) bus.publish('s.x', `_INBOX.${i}`, null, Buffer.from(`m${i}`));
  bus.publish('s.x', '', null, Buffer.from('no reply'));
  assert.equal(bus.jsonTo('_INBOX.0').length, 0, 'ack waits for durability');
  await settle();
  for (let i = 0; i < 3; i++) {
    const [ack] = bus.published.filter((p) => p.subject === `_INBOX.${i}`);
    assert.equal(ack!.data.toString(), `{"stream":"S", "seq":${i + 1}}`);
  }
  assert.equal(store.state().messages, 4);
});

test('no_ack streams store silently', async () => {
  const { bus, store } = setup({ no_ack: true });
  bus.publish('s.x', '_INBOX.a', null, Buffer.from('x'));
  await settle();
  assert.equal(bus.jsonTo('_INBOX.a').length, 0);
  assert.equal(store.state().messages, 1);
});

test('Nats-Msg-Id: duplicate inside the window, stored again after it', async () => {
  const { bus, store, clock } = setup({ duplicate_window: 1e9 });
  const h = hdrs(['Nats-Msg-Id', 'id-1']);
  bus.publish('s.x', 'r1', h, Buffer.from('a'));
  bus.publish('s.x', 'r2', h, Buffer.from('b'));
  await settle();
  assert.deepEqual(bus.jsonTo('r2'), [{ stream: 'S', seq: 1, duplicate: true }]);
  assert.equal(bus.published.find((p) => p.subject === 'r2')!.data.toString(), '{"stream":"S", "seq":1,"duplicate": true}');
  clock.advance(1001);
  bus.publish('s.x', 'r3', h, Buffer.from('c'));
  await settle();
  assert.deepEqual(bus.jsonTo('r3'), [{ stream: 'S', seq: 2 }]);
  assert.equal(store.state().messages, 2);
});

test('error acks carry the error, the stream and seq 0', async () => {
  const { bus } = setup({ max_msg_size: 4 });
  bus.publish('s.x', 'r1', null, Buffer.from('12345'));
  bus.publish('s.x', 'r2', hdrs(['Nats-Rollup', 'all']), Buffer.from('1'));
  bus.publish('s.x', 'r3', hdrs(['X', 'y'.repeat(70_000)]), Buffer.alloc(0));
  await settle();
  assert.deepEqual(bus.jsonTo('r1'), [
    { error: { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' }, stream: 'S', seq: 0 },
  ]);
  assert.deepEqual(bus.jsonTo('r2'), [
    { error: { code: 500, err_code: 10111, description: 'rollup not permitted' }, stream: 'S', seq: 0 },
  ]);
  assert.equal((bus.jsonTo('r3')[0] as { error: { err_code: number } }).error.err_code, 10054);
  const big = setup();
  big.bus.publish('s.x', 'r4', hdrs(['X', 'y'.repeat(70_000)]), Buffer.alloc(0));
  await settle();
  assert.equal((big.bus.jsonTo('r4')[0] as { error: { err_code: number } }).error.err_code, 10097);
});

test('sealed streams refuse publishes with 10109', async () => {
  const { bus } = setup({ sealed: true });
  bus.publish('s.x', 'r', null, Buffer.from('x'));
  await settle();
  assert.equal((bus.jsonTo('r')[0] as { error: { err_code: number } }).error.err_code, 10109);
});

test('age expiry runs on the clock and reads only the expired head of the stream', async () => {
  const clock = new ManualClock();
  const { bus, store } = setup({ max_age: 1e9 }, clock);
  let read = 0;
  const iterate = store.iterate.bind(store);
  store.iterate = function* (from: number, filter?: string): IterableIterator<StoredMsg> {
    for (const m of iterate(from, filter)) {
      read++;
      yield m;
    }
  };
  for (let i = 0; i < 5; i++) bus.publish('s.old', '', null, Buffer.from('x'));
  clock.advance(600);
  for (let i = 0; i < 100; i++) bus.publish('s.new', '', null, Buffer.from('y'));
  clock.advance(450); // the first five are now 1050 ms old
  assert.equal(store.state().messages, 100);
  assert.equal(store.state().firstSeq, 6);
  assert.ok(read <= 6, `expiry read ${read} messages for 5 expired`);
  clock.advance(600);
  assert.equal(store.state().messages, 0);
  assert.equal(store.state().lastSeq, 105);
});

test('interest retention without consumers only consumes sequences', async () => {
  const { bus, store, stream } = setup({ retention: 'interest' });
  bus.publish('s.x', 'r1', null, Buffer.from('x'));
  await settle();
  assert.deepEqual(bus.jsonTo('r1'), [{ stream: 'S', seq: 1 }]);
  assert.equal(store.state().messages, 0);
  stream.interest = (subject) => subject === 's.keep';
  bus.publish('s.keep', 'r2', null, Buffer.from('x'));
  bus.publish('s.drop', 'r3', null, Buffer.from('x'));
  await settle();
  assert.equal(store.state().messages, 1);
  assert.equal(store.state().lastSeq, 3);
});

test('observers hear about appends and removals', async () => {
  const { bus, stream } = setup({ max_msgs: 1 });
  const seen: string[] = [];
  stream.addObserver({ onAppend: (seq, subject) => seen.push(`+${seq}:${subject}`), onRemove: () => seen.push('-') });
  bus.publish('s.a', '', null, Buffer.from('1'));
  bus.publish('s.b', '', null, Buffer.from('2'));
  assert.deepEqual(seen, ['+1:s.a', '+2:s.b', '-']);
});

test('recover rebuilds the dedupe window and last msg id from stored headers', async () => {
  const clock = new ManualClock();
  const { bus, store } = setup({}, clock);
  bus.publish('s.x', '', hdrs(['Nats-Msg-Id', 'a']), Buffer.from('1'));
  clock.advance(200_000); // older than the 2 min window
  bus.publish('s.x', '', hdrs(['Nats-Msg-Id', 'b']), Buffer.from('2'));
  bus.publish('s.x', '', hdrs(['Nats-Msg-Id', 'c']), Buffer.from('3'));
  const again = new Stream(cfg(), store, 0n, { bus: new FakeBus(), clock, logger: silentLogger });
  again.recover();
  assert.equal(again.lastMsgId, 'c');
  assert.equal(again.dedupe.size, 2);
  assert.equal(again.dedupe.lookup('b', clock.epochNs()), 2);
  assert.equal(again.dedupe.lookup('a', clock.epochNs()), undefined);
});

test('a failing store answers 10077 instead of throwing into the bus', async () => {
  const { bus, store } = setup();
  await store.close();
  assert.doesNotThrow(() => bus.publish('s.x', 'r', null, Buffer.from('x')));
  const [ack] = bus.jsonTo('r') as { error: { code: number; err_code: number } }[];
  assert.deepEqual([ack!.error.code, ack!.error.err_code], [503, 10077]);
});

test('a replicated leader decides ahead of apply: sequences continue from its proposals, and an in-flight msg id is a duplicate', () => {
  const { stream } = setup();
  stream.proposedLastSeq = 41;
  const first = stream.decideAppend('s.x', hdrs(['Nats-Msg-Id', 'a']), Buffer.from('1'));
  assert.equal(first.kind, 'append');
  assert.equal(first.kind === 'append' ? first.op.seq : 0, 42);
  // Proposed, not applied yet: the dedupe window does not know it, the leader's pending map does.
  stream.pendingMsgId = (id) => (id === 'a' ? 42 : undefined);
  const retry = stream.decideAppend('s.x', hdrs(['Nats-Msg-Id', 'a']), Buffer.from('1'));
  assert.deepEqual(retry, { kind: 'duplicate', seq: 42 });
  const expectLast = stream.decideAppend('s.x', hdrs(['Nats-Expected-Last-Sequence', '41']), Buffer.from('2'));
  assert.equal(expectLast.kind, 'append', 'expected-last-sequence compares with the proposals too');
});

test('PubAcks are laid out byte for byte for any number of digits', async () => {
  const { bus } = setup();
  for (let i = 1; i <= 1234; i++) bus.publish('s.x', `_INBOX.${i}`, null, Buffer.from('m'));
  await settle();
  for (const seq of [1, 9, 10, 99, 100, 101, 999, 1000, 1234]) {
    const [ack] = bus.published.filter((p) => p.subject === `_INBOX.${seq}`);
    assert.equal(ack!.data.toString(), `{"stream":"S", "seq":${seq}}`);
  }
});
