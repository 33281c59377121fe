// A fault loop for replicated streams, short enough for CI: a publisher keeps publishing (with
// msg ids, retrying until acked) into an R3 stream while servers are SIGKILLed and restarted one
// after another. At the end every replica, read through its own server with DIRECT.GET, holds
// exactly the acknowledged messages at their acknowledged sequences: nothing acked is lost, no
// sequence is used twice, and the replicas are identical. A durable pull consumer works through
// the same faults: it ends with every message acknowledged, and no message whose acknowledgement
// the server had confirmed (ackAck) is ever delivered again.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { seededRng } from '../../runtime/rng.ts';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/deadline.ts';

const SEED = Number(process.env.SLUICE_SEED ?? Date.now() % 100_000);
let cluster: TestCluster;
const conns: NatsConnection[] = [];

before(async () => {
  cluster = await startTestCluster(3, { jetstream: true, clusterName: 'fl' });
  await cluster.meshed();
  for (const m of cluster.members) await waitFor(async () => (await fetch(`${m.server.httpUrl}/healthz`)).status === 200, `${m.name} healthy`, 20_000);
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.close();
});

test(`R3 stream under repeated SIGKILLs and restarts keeps exactly what it acknowledged (seed ${SEED})`, async () => {
  const rng = seededRng(SEED);
  const urls = cluster.members.map((m) => m.server.url);
  const nc = await connect({ servers: urls, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  const jsm0 = await jetstreamManager(nc, { timeout: 10_000 });
  await jsm0.streams.add({ name: 'LOOP', subjects: ['loop.>'], num_replicas: 3, allow_direct: true });
  await jsm0.consumers.add('LOOP', { durable_name: 'worker', ack_policy: AckPolicy.Explicit, ack_wait: 2_000_000_000 });
  const js = jetstream(nc, { timeout: 1500 });

  // The consumer: what it got, and the acks the server confirmed.
  const delivered = new Map<number, string>();
  const confirmed = new Set<number>();
  const redeliveredAfterConfirm: number[] = [];
  let stopConsuming = false;
  const worker = (async () => {
    // Also ends when the connection is closed (after() does, should the test fail early).
    while (!stopConsuming && !nc.isClosed()) {
      try {
        const c = await js.consumers.get('LOOP', 'worker');
        for await (const m of await c.fetch({ max_messages: 50, expires: 1000 })) {
          if (confirmed.has(m.seq)) redeliveredAfterConfirm.push(m.seq);
          delivered.set(m.seq, m.string());
          if (await m.ackAck({ timeout: 1000 }).catch(() => false)) confirmed.add(m.seq);
        }
      } catch {
        // The consumer's leader moved: ask again.
      }
    }
  })();

  const acked = new Map<number, string>(); // seq -> data
  let next = 0;
  let stop = false;
  const publisher = (async () => {
    while (!stop) {
      const i = next++;
      const data = `m${i}`;
      const ack = await waitFor(
        async () => {
          try {
            return await js.publish(`loop.${i % 5}`, data, { msgID: `id-${i}` });
          } catch {
            return undefined;
          }
        },
        `publish ${i}`,
        30_000,
      );
      assert.ok(!acked.has(ack.seq) || acked.get(ack.seq) === data, `sequence ${ack.seq} acked for two messages`);
      acked.set(ack.seq, data);
    }
  })();

  for (let round = 0; round < 3; round++) {
    const victim = rng.int(cluster.members.length);
    const before = acked.size;
    await waitFor(() => acked.size >= before + 50, 'progress before the kill', 30_000);
    await cluster.kill(victim);
    const during = acked.size;
    await waitFor(() => acked.size >= during + 50, `progress with ${cluster.members[victim]!.name} down`, 30_000);
    await cluster.restart(victim);
    await cluster.meshed();
    await waitFor(async () => (await fetch(`${cluster.members[victim]!.server.httpUrl}/healthz`)).status === 200, 'the restarted server caught up', 30_000);
  }
  stop = true;
  await publisher;
  // The consumer works through to the end: every message acknowledged as far as the server is
  // concerned (an ack whose confirmation was lost with a leader may still have been taken), every
  // one delivered to the worker, none delivered again after its ack was confirmed.
  const lastAcked = Math.max(...acked.keys());
  try {
    await waitFor(async () => {
      const i = await jsm0.consumers.info('LOOP', 'worker').catch(() => undefined);
      return i !== undefined && i.ack_floor.stream_seq >= lastAcked && i.num_ack_pending === 0;
    }, 'the consumer to have every message acknowledged', 60_000);
  } finally {
    stopConsuming = true;
    await worker;
  }
  assert.deepEqual(redeliveredAfterConfirm, [], 'messages delivered again after their ack was confirmed');
  for (const [seq, data] of acked) assert.equal(delivered.get(seq), data, `the consumer got seq ${seq} as acked`);

  // Every replica, through its own server (DIRECT.GET prefers a local member of its queue group).
  const expected = [...acked.entries()].sort((a, b) => a[0] - b[0]);
  const lastSeq = expected.at(-1)![0];
  assert.equal(expected.length, lastSeq, 'the acknowledged sequences are 1..last with no gap');
  for (const m of cluster.members) {
    const c = await connect({ servers: m.server.url, reconnect: false });
    conns.push(c);
    const jsm = await jetstreamManager(c, { timeout: 5000 });
    await waitFor(async () => {
      const last = await jsm.direct.getMessage('LOOP', { seq: lastSeq }).catch(() => null);
      return last !== null;
    }, `${m.name} to hold the last message`, 20_000);
    for (const [seq, data] of expected) {
      const got = await jsm.direct.getMessage('LOOP', { seq });
      assert.equal(got?.string(), data, `${m.name} seq ${seq}`);
    }
  }
});
