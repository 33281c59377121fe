// Changing a replicated stream's replica count on a four-server cluster (real processes, the
// official client): R3 -> R4 adds the fourth server to the stream's group, which catches up and,
// made leader, serves every message; R4 -> R3 removes a server again; shrinking to one replica or
// by more than the group can lose at once is refused with a clear error.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { makeStreamLeader, startTestCluster, streamInfo as info, waitForMetaLeader, type TestCluster } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/deadline.ts';
import { rejectsWithJsError } from '../helpers/js-api.ts';

let cluster: TestCluster;
const conns: NatsConnection[] = [];

before(async () => {
  cluster = await startTestCluster(4, { jetstream: true, clusterName: 'resize' });
  await cluster.meshed();
  await waitForMetaLeader(cluster.members.map((m) => m.server), 4);
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.close();
});

/** Every server named in the stream's group, once each replica is current. */
async function caughtUpGroup(nc: NatsConnection, name: string, size: number): Promise<string[]> {
  return waitFor(
    async () => {
      const i = await info(nc, name);
      const replicas = i?.cluster?.replicas ?? [];
      if (i?.cluster?.leader === undefined || replicas.length !== size - 1) return undefined;
      if (!replicas.every((r) => r.current && (r.lag ?? 0) === 0)) return undefined;
      return [i.cluster.leader, ...replicas.map((r) => r.name)].sort();
    },
    `a group of ${size}, every replica current`,
    30_000,
  );
}

test('R3 -> R4 -> R3: the added server catches up and serves every message; the removed one leaves', async () => {
  const nc = await connect({ servers: cluster.members.map((m) => m.server.url), reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const created = await jsm.streams.add({ name: 'GROW', subjects: ['grow.>'], num_replicas: 3 });
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 200; i += 20) await Promise.all(Array.from({ length: 20 }, (_, k) => js.publish(`grow.${(i + k) % 3}`, `g${i + k}`)));
  const before = await caughtUpGroup(nc, 'GROW', 3);
  const outsider = cluster.members.map((m) => m.name).find((n) => !before.includes(n))!;
  assert.ok(outsider !== undefined && created.cluster?.leader !== undefined);

  // Grow: the fourth server joins the group.
  const grown = await jsm.streams.update('GROW', { ...created.config, num_replicas: 4 });
  assert.equal(grown.config.num_replicas, 4);
  assert.deepEqual(await caughtUpGroup(nc, 'GROW', 4), cluster.members.map((m) => m.name).sort());

  // Made leader, the added server serves every message.
  const direct = await connect({ servers: cluster.members.find((m) => m.name === outsider)!.server.url, reconnect: false });
  conns.push(direct);
  await makeStreamLeader(direct, 'GROW', outsider);
  const c = await (await jetstreamManager(direct)).consumers.add('GROW', { name: 'all', ack_policy: AckPolicy.None, inactive_threshold: 30_000_000_000 });
  assert.equal(c.cluster?.leader, outsider);
  const read: string[] = [];
  const consumer = await jetstream(direct).consumers.get('GROW', 'all');
  await waitFor(async () => {
    // Long expiry: idle heartbeats must not be missed on a loaded machine; a failed fetch is made again.
    await (async () => {
      for await (const m of await consumer.fetch({ max_messages: 200, expires: 5000 })) read.push(m.string());
    })().catch(() => undefined);
    return read.length >= 200;
  }, 'every message from the added server');
  assert.deepEqual(read.sort(), Array.from({ length: 200 }, (_, k) => `g${k + 1}`).sort());
  assert.equal((await js.publish('grow.0', 'after')).seq, 201);

  // Refused: one replica, and losing more than the group can at once.
  await rejectsWithJsError(jsm.streams.update('GROW', { ...created.config, num_replicas: 1 }), 10069, /cannot become 1/);
  await rejectsWithJsError(jsm.streams.update('GROW', { ...created.config, num_replicas: 2 }), 10069, /no fewer than 3/);

  // Shrink back: one server leaves the group (not the leader), the stream goes on.
  const shrunk = await jsm.streams.update('GROW', { ...created.config, num_replicas: 3 });
  assert.equal(shrunk.config.num_replicas, 3);
  const after = await caughtUpGroup(nc, 'GROW', 3);
  assert.ok(after.includes(outsider), 'the leader stays');
  const removed = cluster.members.map((m) => m.name).find((n) => !after.includes(n))!;
  const gone = cluster.members.find((m) => m.name === removed)!.server;
  await waitFor(
    async () => ((await (await fetch(`${gone.httpUrl}/jsz`)).json()) as { streams: number }).streams === 0,
    `${removed} to drop its replica`,
  );
  assert.equal((await js.publish('grow.1', 'after shrink')).seq, 202);
  assert.equal((await info(nc, 'GROW'))?.state.messages, 202);
});
