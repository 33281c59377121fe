// Replicated streams with real processes and the official nats.js JetStream client: an R3 stream
// created through any server, 5,000 publishes acknowledged once a majority holds them, the leader's
// process SIGKILLed mid-way: a new leader takes over, publishing goes on, nothing acknowledged is
// lost, no sequence is used twice, and the restarted server catches up and, made leader, serves
// every message.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type PubAck, type StreamInfo } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { makeStreamLeader, startTestCluster, waitForMetaLeader, type TestCluster } from '../helpers/cluster.ts';
import type { ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';

let cluster: TestCluster;
const conns: NatsConnection[] = [];

before(async () => {
  cluster = await startTestCluster(3, { jetstream: true, clusterName: 'js' });
  await cluster.meshed();
  // The meta group is formed and has a leader everywhere.
  await waitForMetaLeader(cluster.members.map((m) => m.server), 3);
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.close();
});

async function client(s: ChildServer): Promise<NatsConnection> {
  const nc = await connect({ servers: s.url, reconnect: false });
  conns.push(nc);
  return nc;
}

async function info(nc: NatsConnection, name: string): Promise<StreamInfo> {
  return (await jetstreamManager(nc, { timeout: 2000 })).streams.info(name);
}

test('an R3 stream keeps every acknowledged message through the loss of its leader', async () => {
  const nc0 = await client(cluster.members[0]!.server);
  const jsm = await jetstreamManager(nc0, { timeout: 10_000 });
  const created = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], num_replicas: 3 });
  assert.equal(created.config.num_replicas, 3);
  const firstLeader = created.cluster?.leader ?? '';
  assert.ok(['s0', 's1', 's2'].includes(firstLeader), `a leader in the CREATE reply: ${JSON.stringify(created.cluster)}`);
  assert.equal(created.cluster?.replicas?.length, 2);

  // 5,000 publishes from servers that do not lead (the leader's capture is cluster-wide), eight
  // at a time; the leader is SIGKILLed after the first 1,000 acks. Publishes retry until they land
  // (same msg ids: a publish that did land and lost only its ack is not stored twice).
  const other = cluster.members.find((m) => m.name !== firstLeader)!;
  const pubNc = await connect({ servers: cluster.members.filter((m) => m.name !== firstLeader).map((m) => m.server.url), reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(pubNc);
  const js = jetstream(pubNc, { timeout: 2000 });
  const TOTAL = 5000;
  const acked: PubAck[] = [];
  const dataOf = new Map<number, string>();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < TOTAL) {
      const i = next++;
      const ack = await waitFor(async () => {
        try {
          return await js.publish(`orders.${i % 7}`, `m${i}`, { msgID: `id-${i}` });
        } catch {
          return undefined;
        }
      }, `publish ${i}`, 20_000);
      acked.push(ack);
      dataOf.set(ack.seq, `m${i}`);
    }
  };
  const publishing = Promise.all(Array.from({ length: 8 }, lane));
  await waitFor(() => acked.length >= 1000, 'the first 1,000 acks', 30_000);
  const leaderIndex = cluster.members.findIndex((m) => m.name === firstLeader);
  await cluster.kill(leaderIndex);
  await publishing;
  const seqs = acked.map((a) => a.seq);
  assert.equal(new Set(seqs).size, TOTAL, 'no sequence used twice');
  assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({ length: TOTAL }, (_, k) => k + 1), 'sequences 1..5000');
  const survivor = await client(other.server);
  const after = await waitFor(() => info(survivor, 'ORDERS').catch(() => undefined), 'INFO from the new leader');
  assert.notEqual(after.cluster?.leader, firstLeader, 'a new leader');
  assert.equal(after.state.messages, TOTAL, 'every acknowledged message is there');
  assert.equal(after.state.last_seq, Math.max(...seqs));

  // The killed server comes back and catches up from the leader's log.
  await cluster.restart(leaderIndex);
  await cluster.meshed();
  await waitFor(async () => {
    const i = await info(survivor, 'ORDERS').catch(() => undefined);
    if (i === undefined) return false;
    return i.cluster?.replicas?.every((r) => r.current && (r.lag ?? 0) === 0) === true && i.cluster.replicas.length === 2;
  }, 'the restarted replica to catch up', 20_000);

  // It serves every message as the leader once leadership is handed to it.
  await makeStreamLeader(survivor, 'ORDERS', firstLeader);
  // Creating a replicated consumer goes through the meta group and elects the consumer's own
  // group; on a loaded machine that can outlast one request's timeout, and a repeated create with
  // the same config is answered with the consumer that is there.
  const survivorJsm = await jetstreamManager(survivor, { timeout: 10_000 });
  const auditConfig = { name: 'audit', ack_policy: AckPolicy.None, inactive_threshold: 30_000_000_000 };
  const audit = await waitFor(() => survivorJsm.consumers.add('ORDERS', auditConfig).catch(() => undefined), 'the audit consumer', 40_000);
  assert.equal(audit.cluster?.leader, firstLeader);
  const read = new Map<number, string>();
  const c = await jetstream(survivor).consumers.get('ORDERS', 'audit');
  await waitFor(async () => {
    // Long expiry: the fetch's idle heartbeats (every half of it) must not be missed on a loaded
    // machine; a fetch that still fails is simply made again.
    await (async () => {
      for await (const m of await c.fetch({ max_messages: 1000, expires: 5000 })) read.set(m.seq, m.string());
    })().catch(() => undefined);
    return read.size >= TOTAL;
  }, 'every message from the restarted leader', 30_000);
  assert.deepEqual([...read.entries()].sort((a, b) => a[0] - b[0]), [...dataOf.entries()].sort((a, b) => a[0] - b[0]));
});

test('MSG.GET and DIRECT.GET through any server, a leader stepdown, and a KV bucket with three replicas', async () => {
  const nc = await client(cluster.members[1]!.server);
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const si = await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'], num_replicas: 3, allow_direct: true });
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 20; i++) await js.publish(`events.${i}`, `e${i}`);
  for (const m of cluster.members) {
    const c = await client(m.server);
    const jm = await jetstreamManager(c);
    assert.equal((await jm.streams.getMessage('EVENTS', { seq: 7 }))?.string(), 'e7', `MSG.GET through ${m.name}`);
    await waitFor(async () => (await jm.direct.getMessage('EVENTS', { last_by_subj: 'events.20' }))?.string() === 'e20', `DIRECT.GET through ${m.name}`);
  }

  // NAMES through every server lists the replicated streams (R1 streams only where they live).
  for (const m of cluster.members) {
    const c = await client(m.server);
    const names: string[] = [];
    for await (const n of (await jetstreamManager(c)).streams.names()) names.push(n);
    assert.deepEqual(names.sort(), ['EVENTS', 'ORDERS'], `NAMES through ${m.name}`);
  }

  const before = si.cluster?.leader ?? '';
  const res = await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.EVENTS`, '', { timeout: 5000 });
  assert.equal((res.json() as { success?: boolean }).success, true);
  // While the group elects, INFO has nobody to answer it: a timeout there just means "not yet".
  await waitFor(async () => {
    const i = await info(nc, 'EVENTS').catch(() => undefined);
    return i !== undefined && i.cluster?.leader !== undefined && i.cluster.leader !== '' && i.cluster.leader !== before;
  }, 'a new leader after the stepdown');
  assert.equal((await js.publish('events.21', 'e21')).seq, 21, 'publishing goes on under the new leader');

  const kvm = new Kvm(nc);
  const kv = await kvm.create('settings', { replicas: 3 });
  await kv.put('color', 'blue');
  await kv.put('color', 'green');
  const other = await client(cluster.members[2]!.server);
  const kv2 = await new Kvm(other).open('settings');
  await waitFor(async () => (await kv2.get('color'))?.string() === 'green', 'the latest value through another server');
});
