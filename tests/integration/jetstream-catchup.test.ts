// A replica that lost its data: a server of a three-server cluster is SIGKILLed, its store
// directory deleted, and it is started again with the same name. Its stream's log was trimmed
// meanwhile (every 10,000 entries), so it cannot replay it: it copies the stream from the leader
// (streams/replication/catchup.ts) while publishing goes on, then follows the log. Made leader,
// it serves exactly what was acknowledged, without the deleted messages, with the durable
// consumer's acknowledgements.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { makeStreamLeader, startTestCluster, streamInfo as info, waitForMetaLeader, type TestCluster } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/deadline.ts';

let cluster: TestCluster;
const conns: NatsConnection[] = [];

before(async () => {
  cluster = await startTestCluster(3, { jetstream: true, clusterName: 'catchup' });
  await cluster.meshed();
  await waitForMetaLeader(cluster.members.map((m) => m.server), 3);
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.close();
});

test('a server whose store was wiped copies the stream from its leader and serves it exactly', async () => {
  const urls = cluster.members.map((m) => m.server.url);
  const nc = await connect({ servers: urls, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const created = await jsm.streams.add({ name: 'WIPE', subjects: ['wipe.>'], num_replicas: 3, duplicate_window: 60_000_000_000 });
  const leader = created.cluster!.leader!;
  const js = jetstream(nc, { timeout: 5000 });
  const expected = new Map<number, string>();
  let next = 0;
  const publish = async (until: number, lanes = 16): Promise<void> => {
    const lane = async (): Promise<void> => {
      while (next < until) {
        const i = next++;
        const ack = await waitFor(() => js.publish(`wipe.${i % 5}`, `m${i}`, { msgID: `w-${i}` }).catch(() => undefined), `publish ${i}`, 20_000);
        expected.set(ack.seq, `m${i}`);
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
  };

  // More than one trim interval, with a few deletes and a durable consumer's acks in the log.
  await publish(10_500);
  for (const seq of [3, 4_000, 10_100]) {
    assert.equal(await jsm.streams.deleteMessage('WIPE', seq, false), true);
    expected.delete(seq);
  }
  await jsm.consumers.add('WIPE', { durable_name: 'keeper', ack_policy: AckPolicy.Explicit, filter_subject: 'wipe.1' });
  const keeper = await js.consumers.get('WIPE', 'keeper');
  const acked: number[] = [];
  for await (const m of await keeper.fetch({ max_messages: 50, expires: 5000 })) {
    await m.ackAck();
    acked.push(m.seq);
  }
  assert.equal(acked.length, 50);

  // A follower loses everything.
  const victim = cluster.members.findIndex((m) => m.name !== leader);
  const name = cluster.members[victim]!.name;
  await cluster.kill(victim);
  rmSync(join(cluster.dir, 'store', name), { recursive: true, force: true });

  // Publishing goes on without it, and on while it copies.
  await publish(11_000);
  assert.equal(await jsm.streams.deleteMessage('WIPE', 10_600, false), true);
  expected.delete(10_600);
  await cluster.restart(victim);
  await publish(12_000, 4);

  const server = cluster.members[victim]!.server;
  await waitFor(
    async () => {
      const i = await info(nc, 'WIPE');
      const r = i?.cluster?.replicas?.find((x) => x.name === name);
      return r !== undefined && r.current && (r.lag ?? 0) === 0 && (await fetch(`${server.httpUrl}/healthz`)).status === 200;
    },
    'the wiped replica to copy the stream and catch up',
    60_000,
  );
  assert.match(server.output(), /copying the stream from its leader/, 'it copied (the log had been trimmed)');

  // Made leader, it serves exactly the acknowledged messages.
  const direct = await connect({ servers: server.url, reconnect: false });
  conns.push(direct);
  await makeStreamLeader(direct, 'WIPE', name);
  const state = (await info(direct, 'WIPE'))!.state;
  assert.equal(state.messages, expected.size);
  assert.equal(state.last_seq, 12_000);
  assert.equal(state.num_deleted, 4);

  const read = new Map<number, string>();
  const audit = await (await jetstreamManager(direct)).consumers.add('WIPE', { name: 'audit', ack_policy: AckPolicy.None, inactive_threshold: 30_000_000_000 });
  assert.equal(audit.cluster?.leader, name);
  const c = await jetstream(direct).consumers.get('WIPE', 'audit');
  await waitFor(async () => {
    // Long expiry: idle heartbeats must not be missed on a loaded machine; a failed fetch is made again.
    await (async () => {
      for await (const m of await c.fetch({ max_messages: 2000, expires: 5000 })) read.set(m.seq, m.string());
    })().catch(() => undefined);
    return read.size >= expected.size;
  }, 'every message from the copied replica', 30_000);
  assert.deepEqual([...read.entries()].sort((a, b) => a[0] - b[0]), [...expected.entries()].sort((a, b) => a[0] - b[0]));

  // The durable consumer came with it: the acknowledged messages are not delivered again.
  const k = await (await jetstreamManager(direct)).consumers.info('WIPE', 'keeper');
  assert.equal(k.cluster?.leader, name);
  assert.equal(k.ack_floor.stream_seq, Math.max(...acked));
  const again = await (await jetstream(direct).consumers.get('WIPE', 'keeper')).next({ expires: 5000 });
  assert.ok(again !== null && again.seq > Math.max(...acked), `the next delivery is after the acknowledged ones (got ${again?.seq})`);

  // Dedupe survived the copy: a retried publish within the window is a duplicate.
  const dup = await jetstream(direct).publish('wipe.0', 'again', { msgID: 'w-11999' });
  assert.equal(dup.duplicate, true);
});
