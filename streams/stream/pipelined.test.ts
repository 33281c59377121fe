// The decide step under the LMDB store's pipelined group commit (streams/store/commit-pipeline.ts):
// publishes decided while one batch commits and another is staged behind it must get exactly the
// sequences, expectation checks, duplicate answers and limits a store without pipelining gives.
// The same script of publishes and turns runs against a memory store and an LMDB store; the acks
// and the stored messages must be the same, and no ack may go out before its batch is committed.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock, systemClock } from '../../runtime/clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { openLmdbEnvironment, type LmdbEnvironment } from '../store/lmdb-env.ts';
import { openLmdbStore } from '../store/lmdb-store.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { StreamStore } from '../store/types.ts';
import { FakeBus, hdrs } from '../testing.ts';
import { normalizeStreamConfig } from './config.ts';
import { Stream } from './stream.ts';

const turn = (): Promise<void> => new Promise((r) => systemClock.setImmediate(r));

function newStream(store: StreamStore, bus: FakeBus, clock: ManualClock): Stream {
  const r = normalizeStreamConfig({ name: 'P', subjects: ['p.>'], duplicate_window: 60e9, max_msgs: 8, discard: 'new', storage: 'file' });
  assert.ok(r.ok);
  const stream = new Stream(r.config, store, clock.epochNs(), { bus, clock, logger: silentLogger });
  stream.bindSubjects();
  return stream;
}

type Step = { subject: string; reply: string; hdr?: [string, string][] } | 'turn';

/** Each turn's publishes; 'turn' lets lmdb-js close the batch (the next ones are then staged). */
const SCRIPT: Step[] = [
  { subject: 'p.a', reply: 'r1' },
  { subject: 'p.b', reply: 'r2', hdr: [['Nats-Msg-Id', 'id-2']] },
  'turn',
  // Decided while the batch above commits: they see its messages.
  { subject: 'p.a', reply: 'r3', hdr: [['Nats-Expected-Last-Sequence', '2'], ['Nats-Msg-Id', 'id-3']] },
  { subject: 'p.a', reply: 'r4', hdr: [['Nats-Expected-Last-Sequence', '2']] },
  { subject: 'p.b', reply: 'r5', hdr: [['Nats-Msg-Id', 'id-2']] },
  { subject: 'p.a', reply: 'r6', hdr: [['Nats-Expected-Last-Msg-Id', 'id-3']] },
  { subject: 'p.b', reply: 'r7', hdr: [['Nats-Expected-Last-Subject-Sequence', '2']] },
  { subject: 'p.c', reply: 'r8', hdr: [['Nats-Expected-Last-Subject-Sequence', '0']] },
  { subject: 'p.c', reply: 'r9', hdr: [['Nats-Msg-Id', 'id-3']] },
  'turn',
  { subject: 'p.a', reply: 'r10', hdr: [['Nats-Expected-Last-Sequence', '6']] },
  { subject: 'p.a', reply: 'r11' },
  { subject: 'p.a', reply: 'r12' },
  { subject: 'p.a', reply: 'r13' }, // max_msgs 8, discard new: refused
  { subject: 'p.b', reply: 'r14', hdr: [['Nats-Expected-Last-Msg-Id', 'nope']] },
];

const REPLIES = SCRIPT.flatMap((s) => (s === 'turn' ? [] : [s.reply]));

async function play(store: StreamStore, env: LmdbEnvironment | null): Promise<{ acks: string[]; msgs: string[]; staged: boolean }> {
  const bus = new FakeBus();
  const clock = new ManualClock();
  const stream = newStream(store, bus, clock);
  let staged = false;
  for (const step of SCRIPT) {
    if (step === 'turn') {
      await turn();
      if (env !== null) staged ||= env.pipeline.staging;
      continue;
    }
    bus.publish(step.subject, step.reply, step.hdr === undefined ? null : hdrs(...step.hdr), Buffer.from(step.reply));
  }
  // Acks of stored messages only once durable: collect until every reply has its answer.
  const deadline = Date.now() + 10_000;
  const answered = (): number => REPLIES.filter((r) => bus.published.some((p) => p.subject === r)).length;
  while (answered() < REPLIES.length) {
    assert.ok(Date.now() < deadline, `${answered()} of ${REPLIES.length} publishes answered`);
    await turn();
  }
  await stream.durable();
  const acks = REPLIES.map((r) => bus.published.filter((p) => p.subject === r).map((p) => p.data.toString()).join(' | '));
  const msgs = [...store.iterate(0)].map((m) => `${m.seq} ${m.subject} ${Buffer.from(m.data).toString()}`);
  await stream.close();
  return { acks, msgs, staged };
}

test('sequences, expectations, duplicates and limits are decided the same with batches committing and staged', async () => {
  const expected = await play(new MemoryStore('P'), null);
  assert.equal(expected.msgs.length, 8);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pipelined-'));
  let env = openLmdbEnvironment(dir);
  try {
    const got = await play(await openLmdbStore(env, 'P'), env);
    assert.equal(got.staged, true, 'the script published while a batch was committing');
    assert.deepEqual(got.acks, expected.acks);
    assert.deepEqual(got.msgs, expected.msgs);
    await env.close();
    env = openLmdbEnvironment(dir);
    const reopened = await openLmdbStore(env, 'P');
    assert.deepEqual([...reopened.iterate(0)].map((m) => `${m.seq} ${m.subject} ${Buffer.from(m.data).toString()}`), expected.msgs);
    await reopened.close();
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no PubAck goes out before the batch holding its message has committed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pipelined-'));
  const env = openLmdbEnvironment(dir);
  try {
    const bus = new FakeBus();
    const clock = new ManualClock();
    const store = await openLmdbStore(env, 'P');
    const stream = newStream(store, bus, clock);
    bus.publish('p.a', 'a1', null, Buffer.from('1'));
    const first = store.durable();
    await turn();
    assert.equal(env.pipeline.staging, true);
    bus.publish('p.a', 'a2', null, Buffer.from('2'));
    const second = store.durable();
    let firstDone = false;
    let secondDone = false;
    first.then(() => (firstDone = true));
    second.then(() => (secondDone = true));
    const deadline = Date.now() + 10_000;
    while (!secondDone) {
      // Each ack is out only if its batch is done, checked after every turn.
      if (bus.jsonTo('a1').length > 0) assert.ok(firstDone, 'a1 acked before its batch committed');
      if (bus.jsonTo('a2').length > 0) assert.ok(secondDone, 'a2 acked before its staged batch committed');
      assert.ok(Date.now() < deadline, 'staged batch never committed');
      await turn();
    }
    while (bus.jsonTo('a2').length === 0) {
      assert.ok(Date.now() < deadline, 'no ack for a2');
      await turn();
    }
    assert.deepEqual(bus.jsonTo('a1'), [{ stream: 'P', seq: 1 }]);
    assert.deepEqual(bus.jsonTo('a2'), [{ stream: 'P', seq: 2 }]);
    await stream.close();
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
