import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../tests/helpers/virtual-clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { findHeaderValue } from '../../protocol/headers.ts';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { FakeBus } from '../testing.ts';
import { normalizeStreamConfig } from '../stream/config.ts';
import { Stream } from '../stream/stream.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { StreamStore } from '../store/types.ts';
import { onSteadyWork } from '../../runtime/steady-work.ts';
import { PUMP_BATCH, STEADY_BACKLOG, StreamSourcing } from './sourcing.ts';

const clock = new VirtualClock();
const bus = new FakeBus();
const deps = { bus, clock, logger: silentLogger };

function stream(body: Record<string, unknown>, store?: StreamStore): Stream {
  const r = normalizeStreamConfig(body);
  assert.ok(r.ok, r.ok ? '' : r.error.description);
  return new Stream(r.config as StreamConfig, store ?? new MemoryStore(String(body.name)), 1n, deps);
}

function publish(s: Stream, subject: string, n: number, hdr: string | null = null): void {
  for (let i = 0; i < n; i++) s.ingest(subject, '', hdr === null ? null : Buffer.from(hdr), Buffer.from(`${subject}#${i}`));
}

/** Lets every scheduled pump turn run (each is a setImmediate). */
async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

function sourceHeaders(s: Stream): string[] {
  const out: string[] = [];
  const st = s.store.state();
  for (let seq = st.firstSeq; seq <= st.lastSeq; seq++) {
    const m = s.store.get(seq);
    if (m?.hdr) out.push(findHeaderValue(m.hdr, 'Nats-Stream-Source') ?? '');
  }
  return out;
}

test('a catch-up of a long backlog tells the process owner that steady work starts; a short one does not', async (t) => {
  let told = 0;
  onSteadyWork(() => told++);
  t.after(() => onSteadyWork(undefined));
  const sourcing = new StreamSourcing({ clock, logger: silentLogger });
  t.after(() => sourcing.close());
  const short = stream({ name: 'SHORT', subjects: ['short'] });
  publish(short, 'short', 2 * PUMP_BATCH);
  sourcing.added(short);
  sourcing.added(stream({ name: 'M1', mirror: { name: 'SHORT' } }));
  await settle();
  assert.equal(told, 0, 'two turns are no steady work');
  const long = stream({ name: 'LONG', subjects: ['long'] });
  publish(long, 'long', STEADY_BACKLOG + PUMP_BATCH);
  sourcing.added(long);
  const m2 = stream({ name: 'M2', mirror: { name: 'LONG' } });
  sourcing.added(m2);
  await settle();
  assert.equal(m2.store.state().lastSeq, STEADY_BACKLOG + PUMP_BATCH);
  assert.ok(told >= 1, 'a backlog of STEADY_BACKLOG after a turn is');
});

test('a link copies in bounded turns and follows appends', async () => {
  const sourcing = new StreamSourcing({ clock, logger: silentLogger });
  const origin = stream({ name: 'O', subjects: ['o.>'] });
  publish(origin, 'o.a', PUMP_BATCH + 10);
  const mirror = stream({ name: 'M', mirror: { name: 'O' } });
  sourcing.added(origin);
  sourcing.added(mirror);
  await new Promise((r) => setImmediate(r));
  assert.equal(mirror.store.state().messages, PUMP_BATCH, 'one turn copies one batch');
  await settle();
  assert.equal(mirror.store.state().lastSeq, PUMP_BATCH + 10);
  publish(origin, 'o.b', 3);
  await settle();
  assert.equal(mirror.store.state().lastSeq, PUMP_BATCH + 13);
  assert.equal(sourcing.info('M').mirror?.lag, 0);
  sourcing.close();
});

test('a source resumes after the newest origin sequence its own messages record', async () => {
  const store = new MemoryStore('AGG');
  const a = stream({ name: 'A', subjects: ['a.>'] });
  const b = stream({ name: 'B', subjects: ['b.>'] });
  publish(a, 'a.x', 5);
  publish(b, 'b.x', 5);
  const cfg = { name: 'AGG', sources: [{ name: 'A' }, { name: 'B', filter_subject: 'b.x' }] };
  const first = new StreamSourcing({ clock, logger: silentLogger });
  const agg = stream(cfg, store);
  for (const s of [a, b, agg]) first.added(s);
  await settle();
  assert.equal(agg.store.state().messages, 10);
  first.close();

  // "Restart": new links over the same target store, with more origin messages meanwhile.
  publish(a, 'a.x', 2);
  publish(b, 'b.x', 1);
  const second = new StreamSourcing({ clock, logger: silentLogger });
  const agg2 = stream(cfg, store);
  for (const s of [agg2, a, b]) second.added(s);
  await settle();
  const headers = sourceHeaders(agg2);
  assert.equal(headers.length, 13, 'nothing copied twice');
  assert.deepEqual(headers.slice(10).sort(), ['A 6 > >', 'A 7 > >', 'B 6 b.x >']);
  second.close();
});

test('an origin deleted and made again is copied from its start; the other sources go on', async () => {
  const sourcing = new StreamSourcing({ clock, logger: silentLogger });
  const a = stream({ name: 'A', subjects: ['a.>'] });
  const b = stream({ name: 'B', subjects: ['b.>'] });
  const agg = stream({ name: 'AGG', sources: [{ name: 'A' }, { name: 'B' }] });
  publish(a, 'a.x', 3);
  publish(b, 'b.x', 3);
  for (const s of [a, b, agg]) sourcing.added(s);
  await settle();
  sourcing.removed(a);
  await a.drop();
  publish(b, 'b.x', 1);
  await settle();
  assert.equal(agg.store.state().messages, 7);
  clock.advance(1500);
  assert.equal(sourcing.info('AGG').sources?.[0]?.active, 1_500_000_000, 'ns since A was last seen');
  assert.equal(sourcing.info('AGG').sources?.[1]?.active, 0, 'B is attached');
  const a2 = stream({ name: 'A', subjects: ['a.>'] });
  publish(a2, 'a.new', 2);
  sourcing.added(a2);
  await settle();
  assert.deepEqual(sourceHeaders(agg).slice(7), ['A 1 > >', 'A 2 > >']);
  sourcing.close();
});

test('a mirror keeps its origin sequences, gaps and times, with filter and transforms', async () => {
  const sourcing = new StreamSourcing({ clock, logger: silentLogger });
  const origin = stream({ name: 'O', subjects: ['o.>'] });
  publish(origin, 'o.a.1', 2);
  publish(origin, 'o.b.1', 2);
  publish(origin, 'o.a.2', 1);
  const mirror = stream({ name: 'M', mirror: { name: 'O', subject_transforms: [{ src: 'o.a.*', dest: 'm.$1' }] } });
  sourcing.added(mirror);
  sourcing.added(origin);
  await settle();
  const got = [1, 2, 3, 4, 5].map((seq) => mirror.store.get(seq)?.subject);
  assert.deepEqual(got, ['m.1', 'm.1', undefined, undefined, 'm.2']);
  assert.equal(mirror.store.get(5)?.timeNs, origin.store.get(5)?.timeNs);
  sourcing.close();
});

test('sources added by an update start at their origin start; existing ones keep their place', async () => {
  const sourcing = new StreamSourcing({ clock, logger: silentLogger });
  const a = stream({ name: 'A', subjects: ['a.>'] });
  const b = stream({ name: 'B', subjects: ['b.>'] });
  publish(a, 'a.x', 2);
  publish(b, 'b.x', 2);
  const agg = stream({ name: 'AGG', sources: [{ name: 'A' }] });
  for (const s of [a, b, agg]) sourcing.added(s);
  await settle();
  const previous = agg.config;
  const next = normalizeStreamConfig({ name: 'AGG', sources: [{ name: 'A' }, { name: 'B', opt_start_seq: 2 }] });
  assert.ok(next.ok);
  agg.apply({ op: 'config', config: next.config });
  sourcing.updated(agg, previous);
  publish(a, 'a.x', 1);
  await settle();
  const headers = sourceHeaders(agg);
  assert.deepEqual(headers.slice(0, 2), ['A 1 > >', 'A 2 > >']);
  assert.deepEqual(headers.slice(2).sort(), ['A 3 > >', 'B 2 > >']);
  sourcing.close();
});

test('a catch-up of large messages copies fewer per turn and waits for the target to commit what it copied', async (t) => {
  const sourcing = new StreamSourcing({ clock, logger: silentLogger, maxUncommittedBytes: 64 * 1024, pumpTurnBytes: 16 * 1024 });
  t.after(() => sourcing.close());
  const origin = stream({ name: 'BIG', subjects: ['big'] });
  for (let i = 0; i < 40; i++) origin.ingest('big', '', null, Buffer.alloc(4096, i));
  const mirror = stream({ name: 'BIGM', mirror: { name: 'BIG' } });
  let waits = 0;
  const durable = mirror.durable.bind(mirror);
  mirror.durable = () => {
    waits++;
    return durable();
  };
  sourcing.added(origin);
  sourcing.added(mirror);
  await new Promise((r) => setImmediate(r));
  const first = mirror.store.state().messages;
  assert.ok(first >= 1 && first <= 4, `one turn copies about 16 KiB of 4 KiB messages, not a whole batch: ${first}`);
  await settle(200);
  assert.equal(mirror.store.state().lastSeq, 40);
  assert.equal(mirror.store.get(40)?.data[0], 39);
  // 160 KiB copied with a 64 KiB bound: the link waited for the target's commits at least twice.
  assert.ok(waits >= 2, `waited for the target's commits ${waits} times`);
});
