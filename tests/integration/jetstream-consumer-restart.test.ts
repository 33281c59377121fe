// Durable consumer state across a crash: a broker in its own process serves two durable pull
// consumers of a 10,000-message stream and is SIGKILLed (no shutdown path runs). After a restart
// on the same store directory, the consumer that acknowledged 5,000 messages continues at 5,001,
// and the one that left 100 of its deliveries unacknowledged gets exactly those again (as
// redeliveries) and then the rest: nothing acknowledged comes back, nothing is lost.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';

const TOTAL = 10_000;
const work = mkdtempSync(join(tmpdir(), 'sluice-consumer-restart-'));
const dirs = { storeDir: join(work, 'store'), portsDir: join(work, 'ports'), name: 'crh' };
const children: ChildServer[] = [];
after(async () => {
  for (const c of children) await c.kill().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

async function fetch(js: JetStreamClient, name: string, count: number, onMsg: (m: JsMsg) => Promise<void> | void): Promise<JsMsg[]> {
  const c = await js.consumers.get('CR', name);
  const got: JsMsg[] = [];
  while (got.length < count) {
    for await (const m of await c.fetch({ max_messages: Math.min(500, count - got.length), expires: 5000 })) {
      got.push(m);
      await onMsg(m);
    }
  }
  return got;
}

test('durable consumers resume after SIGKILL: acked messages stay acked, unacked ones are redelivered', async () => {
  const first = await startChildServer(dirs);
  children.push(first);
  let nc: NatsConnection = await connect({ servers: first.url, reconnect: false });
  let jsm = await jetstreamManager(nc);
  let js = jetstream(nc);
  await jsm.streams.add({ name: 'CR', subjects: ['cr.>'] });
  for (let base = 0; base < TOTAL; base += 1000) {
    await Promise.all(Array.from({ length: 1000 }, (_, i) => js.publish(`cr.${(base + i) % 5}`, `m${base + i + 1}`)));
  }
  const cfg = { ack_policy: AckPolicy.Explicit, ack_wait: 1_000_000_000, max_ack_pending: 20_000 };
  await jsm.consumers.add('CR', { durable_name: 'acked', ...cfg });
  await jsm.consumers.add('CR', { durable_name: 'partial', ...cfg });

  // 'acked': 5,000 delivered and acknowledged; the last ack waits for its reply, which is sent
  // once the consumer state holding it (and every ack before it) is durable.
  await fetch(js, 'acked', 5000, async (m) => {
    if (m.seq === 5000) await m.ackAck();
    else m.ack();
  });
  // 'partial': 5,000 delivered, 4,900 acknowledged.
  await fetch(js, 'partial', 5000, async (m) => {
    if (m.seq === 4900) await m.ackAck();
    else if (m.seq < 4900) m.ack();
  });
  assert.equal((await jsm.consumers.info('CR', 'partial')).num_ack_pending, 100);
  await nc.close().catch(() => undefined);
  await first.kill();

  const second = await startChildServer(dirs);
  children.push(second);
  nc = await connect({ servers: second.url, reconnect: false });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);

  const a = await jsm.consumers.info('CR', 'acked');
  assert.deepEqual([a.ack_floor.stream_seq, a.delivered.stream_seq, a.num_ack_pending, a.num_pending], [5000, 5000, 0, 5000]);
  const rest = await fetch(js, 'acked', 5000, (m) => m.ack());
  assert.equal(rest[0]!.seq, 5001, 'resumes at 5,001');
  assert.deepEqual(
    rest.map((m) => m.seq),
    Array.from({ length: 5000 }, (_, i) => 5001 + i),
  );
  assert.ok(rest.every((m) => m.info.deliveryCount === 1));

  const p = await jsm.consumers.info('CR', 'partial');
  assert.deepEqual([p.ack_floor.stream_seq, p.delivered.stream_seq, p.num_ack_pending, p.num_pending], [4900, 5000, 100, 5000]);
  const got = await fetch(js, 'partial', 5100, (m) => m.ack());
  const seqs = got.map((m) => m.seq).sort((x, y) => x - y);
  assert.deepEqual(seqs, Array.from({ length: 5100 }, (_, i) => 4901 + i), 'each unacknowledged message once, nothing acknowledged');
  for (const m of got) assert.equal(m.info.deliveryCount, m.seq <= 5000 ? 2 : 1, `delivery count of ${m.seq}`);

  const done = await waitFor(async () => {
    const i = await jsm.consumers.info('CR', 'partial');
    return i.ack_floor.stream_seq === TOTAL ? i : undefined;
  }, 'every ack');
  assert.deepEqual([done.num_ack_pending, done.num_pending, done.num_redelivered], [0, 0, 0]);
  await nc.close();
  await second.kill();
});
