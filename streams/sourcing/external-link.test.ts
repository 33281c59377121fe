// The consumer protocol of a source or mirror in another domain, with the test playing the remote
// origin's server on a FakeBus: it answers `$JS.e1.API.CONSUMER.CREATE.O` and delivers as a push
// consumer would. The multi-process run over real leaf links is
// tests/integration/leafnode-sourcing.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../tests/helpers/virtual-clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { findHeaderValue } from '../../protocol/headers.ts';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { FakeBus, hdrs } from '../testing.ts';
import { normalizeStreamConfig } from '../stream/config.ts';
import { Stream } from '../stream/stream.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { StreamSourcing } from './sourcing.ts';
import { STALL_MS, parseDeliveryReply } from './external-link.ts';
import { nameHash } from './source-link.ts';

const API = '$JS.e1.API';

interface CreateReq {
  subject: string;
  reply: string;
  config: { deliver_subject: string; deliver_policy: string; opt_start_seq?: number; flow_control: boolean; idle_heartbeat: number; ack_policy: string; filter_subject?: string };
}

/** The remote origin's side: records consumer creates and answers them. */
function remoteOrigin(bus: FakeBus): { creates: CreateReq[]; answer(i: number, name: string): void } {
  const creates: CreateReq[] = [];
  bus.subscribe(`${API}.CONSUMER.CREATE.>`, (subject, reply, _h, data) => {
    creates.push({ subject, reply, config: (JSON.parse(data.toString()) as { config: CreateReq['config'] }).config });
  });
  return {
    creates,
    answer(i, name) {
      const c = creates[i]!;
      bus.publish(c.reply, '', null, Buffer.from(JSON.stringify({ type: 'io.nats.jetstream.api.v1.consumer_create_response', name, delivered: { stream_seq: 0 } })));
    },
  };
}

function deliver(bus: FakeBus, to: CreateReq, consumer: string, sseq: number, dseq: number, pending = 0): void {
  bus.publishAs(to.config.deliver_subject, `o.${sseq}`, `$JS.ACK.O.${consumer}.1.${sseq}.${dseq}.${1_700_000_000_000_000_000n + BigInt(sseq)}.${pending}`, null, Buffer.from(`m${sseq}`));
}

function setup(body: Record<string, unknown>): { bus: FakeBus; clock: VirtualClock; target: Stream; sourcing: StreamSourcing; origin: ReturnType<typeof remoteOrigin> } {
  const bus = new FakeBus();
  const clock = new VirtualClock();
  const origin = remoteOrigin(bus);
  const r = normalizeStreamConfig(body);
  assert.ok(r.ok, r.ok ? '' : r.error.description);
  const target = new Stream(r.config as StreamConfig, new MemoryStore('T'), 1n, { bus, clock, logger: silentLogger });
  const sourcing = new StreamSourcing({ clock, logger: silentLogger, bus });
  sourcing.added(target);
  return { bus, clock, target, sourcing, origin };
}

function payloads(s: Stream): string[] {
  const out: string[] = [];
  const st = s.store.state();
  for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) {
    const m = s.store.get(seq);
    if (m !== undefined) out.push(m.data.toString());
  }
  return out;
}

test('ack replies in both layouts are read; anything else is not a delivery', () => {
  assert.deepEqual(parseDeliveryReply('$JS.ACK.O.C.1.5.3.1700000000000000000.7'), { consumer: 'C', dc: 1, sseq: 5, dseq: 3, tsNs: 1700000000000000000n, pending: 7 });
  assert.equal(parseDeliveryReply('$JS.ACK.dom.HASH.O.C.2.5.3.17.0.rnd')?.dc, 2);
  assert.equal(parseDeliveryReply('$JS.ACK.O.C.1.5.3.17'), undefined);
  assert.equal(parseDeliveryReply('$JS.FC.O.C.x'), undefined);
  assert.equal(parseDeliveryReply('$JS.ACK.O.C.1.x.3.17.0'), undefined);
});

test('a source takes deliveries in order, once; a gap recreates the consumer after the last stored', () => {
  const { bus, clock, target, sourcing, origin } = setup({ name: 'T', sources: [{ name: 'O', external: { api: API } }] });
  assert.equal(origin.creates.length, 1);
  const first = origin.creates[0]!;
  assert.equal(first.subject, `${API}.CONSUMER.CREATE.O`);
  assert.equal(first.config.deliver_policy, 'all');
  assert.equal(first.config.ack_policy, 'none');
  assert.equal(first.config.flow_control, true);
  assert.equal(first.config.idle_heartbeat, 1_000_000_000);
  assert.match(first.config.deliver_subject, /^\$JS\.S\.[0-9A-Za-z]+$/);
  // Deliveries come before the create's answer, as on a real link.
  deliver(bus, first, 'C1', 1, 1, 2);
  origin.answer(0, 'C1');
  deliver(bus, first, 'C1', 2, 2, 1);
  deliver(bus, first, 'C1', 2, 2, 1); // a duplicate delivery
  deliver(bus, first, 'C1', 3, 3, 0);
  assert.deepEqual(payloads(target), ['m1', 'm2', 'm3']);
  const hdr = target.store.get(3)!.hdr!;
  assert.equal(findHeaderValue(hdr, 'Nats-Stream-Source'), `O:${nameHash(API)} 3 > >`);
  // Delivery 5 without 4: nothing is stored, and a new consumer starts after origin seq 3.
  deliver(bus, first, 'C1', 5, 5);
  assert.deepEqual(payloads(target), ['m1', 'm2', 'm3']);
  clock.advance(2000);
  assert.equal(origin.creates.length, 2);
  const second = origin.creates[1]!;
  assert.equal(second.config.deliver_policy, 'by_start_sequence');
  assert.equal(second.config.opt_start_seq, 4);
  assert.notEqual(second.config.deliver_subject, first.config.deliver_subject);
  deliver(bus, first, 'C1', 6, 6); // the old consumer's subject is no longer listened to
  deliver(bus, second, 'C2', 4, 1);
  deliver(bus, second, 'C2', 5, 2);
  assert.deepEqual(payloads(target), ['m1', 'm2', 'm3', 'm4', 'm5']);
  const info = sourcing.info('T').sources![0]!;
  assert.deepEqual(info.external, { api: API, deliver: '' });
  sourcing.close();
});

test('flow control is answered; a heartbeat that disagrees, or silence, recreates the consumer', () => {
  const { bus, clock, target, sourcing, origin } = setup({ name: 'T', sources: [{ name: 'O', external: { api: API } }] });
  const c = origin.creates[0]!;
  origin.answer(0, 'C1');
  deliver(bus, c, 'C1', 1, 1);
  // A header block that is not a status is no control message (and, without an ack reply, no delivery).
  bus.publish(c.config.deliver_subject, '$JS.FC.O.C1.abc', hdrs(['k', 'v']), Buffer.alloc(0));
  assert.deepEqual(payloads(target), ['m1']);
  bus.published.length = 0;
  // A flow-control request is a 100 status with a reply.
  bus.publish(c.config.deliver_subject, '$JS.FC.O.C1.xyz', Buffer.from('NATS/1.0 100 FlowControl Request\r\n\r\n'), Buffer.alloc(0));
  assert.ok(bus.published.some((p) => p.subject === '$JS.FC.O.C1.xyz'), 'flow control answered');
  // A heartbeat saying the consumer delivered 2 while we took 1: recreate from origin seq 2.
  clock.advance(2000);
  bus.publish(c.config.deliver_subject, '', Buffer.from('NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 2\r\nNats-Last-Stream: 2\r\n\r\n'), Buffer.alloc(0));
  assert.equal(origin.creates.length, 2);
  assert.equal(origin.creates[1]!.config.opt_start_seq, 2);
  origin.answer(1, 'C2');
  deliver(bus, origin.creates[1]!, 'C2', 2, 1);
  assert.deepEqual(payloads(target), ['m1', 'm2']);
  // Then nothing at all for longer than the stall time: another consumer from origin seq 3.
  clock.advance(STALL_MS + 1100);
  assert.equal(origin.creates.length, 3);
  assert.equal(origin.creates[2]!.config.opt_start_seq, 3);
  sourcing.close();
});

test('a mirror keeps the origin sequences and accepts a jump the delivery sequence vouches for', () => {
  const { bus, target, sourcing, origin } = setup({ name: 'T', mirror: { name: 'O', external: { api: API }, filter_subject: 'o.*' } });
  const c = origin.creates[0]!;
  assert.match(c.subject, new RegExp(`^\\$JS\\.e1\\.API\\.CONSUMER\\.CREATE\\.O\\.mirror-[0-9A-Za-z]+\\.o\\.\\*$`));
  assert.equal(c.config.filter_subject, 'o.*');
  assert.match(c.config.deliver_subject, /^\$JS\.M\./);
  origin.answer(0, 'C1');
  deliver(bus, c, 'C1', 1, 1);
  deliver(bus, c, 'C1', 4, 2); // 2 and 3 were deleted at the origin
  assert.deepEqual([target.store.state().firstSeq, target.store.state().lastSeq, target.store.state().messages], [1, 4, 2]);
  assert.equal(target.store.get(4)!.data.toString(), 'm4');
  sourcing.close();
});

test('nothing serving the API prefix: the create is retried every 2 s until someone answers', () => {
  const bus = new FakeBus();
  const clock = new VirtualClock();
  const r = normalizeStreamConfig({ name: 'T', sources: [{ name: 'O', external: { api: API } }] });
  assert.ok(r.ok);
  const target = new Stream(r.config as StreamConfig, new MemoryStore('T'), 1n, { bus, clock, logger: silentLogger });
  const sourcing = new StreamSourcing({ clock, logger: silentLogger, bus });
  sourcing.added(target);
  const creates = () => bus.published.filter((p) => p.subject === `${API}.CONSUMER.CREATE.O`).length;
  assert.equal(creates(), 1);
  clock.advance(2000);
  assert.equal(creates(), 2);
  const origin = remoteOrigin(bus);
  clock.advance(2000);
  assert.equal(origin.creates.length, 1);
  sourcing.close();
  clock.advance(10_000);
  assert.equal(origin.creates.length, 1, 'nothing after close');
});
