// Consumers on replicated streams, with real processes and the official nats.js clients: a durable
// pull consumer created and used through servers that do not lead its stream, its leader's process
// SIGKILLed mid-way: the new leader goes on from the acknowledged state (nothing acked comes back,
// nothing unacked is lost); workqueue retention removes messages on every replica; a KV watch on an
// R3 bucket; consumer stepdown.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type ConsumerInfo, type StreamInfo } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { startTestCluster, waitForMetaLeader, type TestCluster } from '../helpers/cluster.ts';
import type { ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';

let cluster: TestCluster;
const conns: NatsConnection[] = [];

before(async () => {
  cluster = await startTestCluster(3, { jetstream: true, clusterName: 'jsc' });
  await cluster.meshed();
  await waitForMetaLeader(cluster.members.map((m) => m.server), 3);
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.close();
});

async function client(servers: ChildServer[]): Promise<NatsConnection> {
  const nc = await connect({ servers: servers.map((s) => s.url), reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  return nc;
}

/** INFO answered by whoever leads now; undefined while nobody does (an election). */
async function streamInfo(nc: NatsConnection, name: string): Promise<StreamInfo | undefined> {
  return (await jetstreamManager(nc, { timeout: 2000 })).streams.info(name).catch(() => undefined);
}

async function consumerInfo(nc: NatsConnection, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  return (await jetstreamManager(nc, { timeout: 2000 })).consumers.info(stream, name).catch(() => undefined);
}

/** Fetches and double-acks (acks confirmed by the server) until `n` messages came, returning their stream sequences. */
async function takeAndAck(nc: NatsConnection, stream: string, consumer: string, n: number): Promise<number[]> {
  const seqs: number[] = [];
  await waitFor(async () => {
    try {
      const c = await jetstream(nc, { timeout: 2000 }).consumers.get(stream, consumer);
      const batch = await c.fetch({ max_messages: n - seqs.length, expires: 1000 });
      for await (const m of batch) {
        await m.ackAck({ timeout: 2000 });
        seqs.push(m.seq);
        if (seqs.length === n) break;
      }
    } catch {
      // The leader moved (or its reply was lost): ask again, the acked state holds.
    }
    return seqs.length >= n;
  }, `${n} messages from ${stream}/${consumer}`, 30_000);
  return seqs;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test('a durable pull consumer on an R3 stream goes on from its acknowledged state after its leader is SIGKILLed', async () => {
  const admin = await client([cluster.members[0]!.server]);
  const jsm = await jetstreamManager(admin, { timeout: 10_000 });
  const si = await jsm.streams.add({ name: 'JOBS', subjects: ['jobs.>'], num_replicas: 3 });
  const leader = si.cluster?.leader ?? '';
  const leaderIndex = cluster.members.findIndex((m) => m.name === leader);
  assert.ok(leaderIndex >= 0, `a leader in the CREATE reply: ${JSON.stringify(si.cluster)}`);

  // Everything below goes through the servers that do not lead: the leader answers cluster-wide.
  const followers = cluster.members.filter((m) => m.name !== leader).map((m) => m.server);
  const nc = await client(followers);
  const fjsm = await jetstreamManager(nc, { timeout: 5000 });
  const ci = await fjsm.consumers.add('JOBS', { durable_name: 'worker', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
  assert.equal(ci.name, 'worker');
  assert.equal(ci.cluster?.leader, leader, 'the consumer leads where its stream leads');
  assert.equal(ci.cluster?.replicas?.length, 2);

  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 100; i++) await js.publish(`jobs.${i % 5}`, `job ${i}`, { msgID: `job-${i}` });
  assert.deepEqual(await takeAndAck(nc, 'JOBS', 'worker', 40), range(1, 40));
  const before = await consumerInfo(nc, 'JOBS', 'worker');
  assert.equal(before?.ack_floor.stream_seq, 40);
  assert.equal(before?.num_pending, 60);
  assert.deepEqual((await fjsm.consumers.list('JOBS').next()).map((c) => c.name), ['worker'], 'LIST through a follower');
  assert.equal((await streamInfo(nc, 'JOBS'))?.state.consumer_count, 1);

  await cluster.kill(leaderIndex);
  const moved = await waitFor(async () => {
    const i = await consumerInfo(nc, 'JOBS', 'worker');
    return i !== undefined && i.cluster?.leader !== undefined && i.cluster.leader !== '' && i.cluster.leader !== leader ? i : undefined;
  }, 'the consumer under a new leader', 20_000);
  assert.equal(moved.ack_floor.stream_seq, 40, 'the acknowledged state survived');
  assert.equal(moved.num_pending, 60);

  // The rest, exactly once each: nothing acknowledged comes back, nothing is skipped.
  assert.deepEqual(await takeAndAck(nc, 'JOBS', 'worker', 60), range(41, 100));

  // The killed server comes back, catches up, and can lead the consumer again.
  await cluster.restart(leaderIndex);
  await cluster.meshed();
  await waitFor(async () => {
    const i = await streamInfo(nc, 'JOBS');
    return i?.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current && (r.lag ?? 0) === 0);
  }, 'the restarted replica to catch up', 20_000);
  for (let i = 101; i <= 110; i++) await js.publish(`jobs.${i % 5}`, `job ${i}`, { msgID: `job-${i}` });
  // Step the consumer down until the restarted server leads it: it serves from its own copy.
  await waitFor(async () => {
    const i = await consumerInfo(nc, 'JOBS', 'worker');
    if (i?.cluster?.leader === leader) return true;
    if (i !== undefined) await nc.request('$JS.API.CONSUMER.LEADER.STEPDOWN.JOBS.worker', '', { timeout: 2000 }).catch(() => undefined);
    return false;
  }, 'the restarted server to lead the consumer', 30_000);
  assert.deepEqual(await takeAndAck(nc, 'JOBS', 'worker', 10), range(101, 110));
  assert.equal((await consumerInfo(nc, 'JOBS', 'worker'))?.ack_floor.stream_seq, 110);
});

test('workqueue retention on an R3 stream removes acknowledged messages on every replica', async () => {
  const nc = await client(cluster.members.map((m) => m.server));
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  const si = await jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], num_replicas: 3, retention: 'workqueue' as never });
  await jsm.consumers.add('WQ', { durable_name: 'w', ack_policy: AckPolicy.Explicit });
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 20; i++) await js.publish('wq.task', `t${i}`);
  assert.deepEqual(await takeAndAck(nc, 'WQ', 'w', 20), range(1, 20));
  await waitFor(async () => (await streamInfo(nc, 'WQ'))?.state.messages === 0, 'the leader to remove acked work');

  // Another replica leads next: it removed them too (the removals went through the log).
  const first = si.cluster?.leader ?? '';
  await nc.request('$JS.API.STREAM.LEADER.STEPDOWN.WQ', '', { timeout: 5000 });
  const after = await waitFor(async () => {
    const i = await streamInfo(nc, 'WQ');
    return i !== undefined && i.cluster?.leader !== undefined && i.cluster.leader !== '' && i.cluster.leader !== first ? i : undefined;
  }, 'a new leader for WQ', 20_000);
  assert.equal(after.state.messages, 0);
  assert.equal(after.state.first_seq, 21);
  assert.equal(after.state.consumer_count, 1, 'the consumer moved with the stream');
});

test('a KV watch and a consumer DELETE on an R3 bucket through a server that does not lead it', async () => {
  const admin = await client([cluster.members[0]!.server]);
  const kv = await new Kvm(admin).create('profiles', { replicas: 3 });
  await kv.put('alice', '1');
  const info = await streamInfo(admin, 'KV_profiles');
  const leader = info?.cluster?.leader ?? '';
  const follower = cluster.members.find((m) => m.name !== leader && m.server !== undefined)!;
  const nc = await client([follower.server]);
  const kv2 = await new Kvm(nc).open('profiles');
  const watch = await kv2.watch();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of watch) {
      seen.push(`${e.key}=${e.string()}`);
      if (seen.length === 3) break;
    }
  })();
  await kv.put('bob', '2');
  await kv.put('alice', '3');
  // Well under the 60 s a watcher whose consumer is gone takes to notice (two missed heartbeats).
  await waitFor(() => seen.length === 3, `three watch updates (seen ${seen.join(', ')})`, 15_000);
  await done;
  assert.deepEqual(seen, ['alice=1', 'bob=2', 'alice=3']);

  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  await jsm.consumers.add('KV_profiles', { durable_name: 'gone', ack_policy: AckPolicy.Explicit });
  assert.equal(await jsm.consumers.delete('KV_profiles', 'gone'), true);
  await assert.rejects(jsm.consumers.info('KV_profiles', 'gone'), /consumer not found/);
});

test('ephemeral consumers of an R3 stream go on when its leadership moves: a KV watch, and a pull consumer from its acked state', async () => {
  const admin = await client(cluster.members.map((m) => m.server));
  const kv = await new Kvm(admin).create('settings', { replicas: 3, history: 5 });
  await kv.put('mode', 'a');
  const leader = (await waitFor(() => streamInfo(admin, 'KV_settings'), 'INFO of KV_settings')).cluster?.leader ?? '';
  const follower = cluster.members.find((m) => m.name !== leader)!;
  const nc = await client([follower.server]);

  const watch = await (await new Kvm(nc).open('settings')).watch();
  const seen: string[] = [];
  void (async () => {
    for await (const e of watch) seen.push(`${e.key}=${e.string()}`);
  })();
  await waitFor(() => seen.length === 1, 'the watch to deliver the current value', 15_000);

  // An ephemeral with explicit acks (a name, no durable_name): one message taken and acked.
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  await jsm.consumers.add('KV_settings', { name: 'eph', ack_policy: AckPolicy.Explicit, inactive_threshold: 120_000_000_000 });
  await kv.put('mode', 'b');
  assert.deepEqual(await takeAndAck(nc, 'KV_settings', 'eph', 1), [1]);

  await nc.request('$JS.API.STREAM.LEADER.STEPDOWN.KV_settings', '', { timeout: 5000 });
  await waitFor(async () => {
    const l = (await streamInfo(nc, 'KV_settings'))?.cluster?.leader;
    return l !== undefined && l !== '' && l !== leader;
  }, 'a new leader for KV_settings', 20_000);

  await kv.put('mode', 'c');
  // A watcher whose consumer is gone would notice after two missed heartbeats: 60 s.
  await waitFor(() => seen.length === 3, `the watch to go on under the new leader (seen ${seen.join(', ')})`, 15_000);
  assert.deepEqual(seen, ['mode=a', 'mode=b', 'mode=c']);
  watch.stop();

  const eph = await waitFor(() => consumerInfo(nc, 'KV_settings', 'eph'), 'INFO of the ephemeral under the new leader', 15_000);
  assert.equal(eph.ack_floor.stream_seq, 1, 'the acked state came along');
  assert.deepEqual(await takeAndAck(nc, 'KV_settings', 'eph', 2), [2, 3]);
});

test('PURGE and MSG.DELETE on an R3 stream through a server that does not lead it reach every replica', async () => {
  const admin = await client([cluster.members[0]!.server]);
  const si = await (await jetstreamManager(admin, { timeout: 10_000 })).streams.add({ name: 'LOGS', subjects: ['logs.>'], num_replicas: 3 });
  const first = si.cluster?.leader ?? '';
  const nc = await client(cluster.members.filter((m) => m.name !== first).map((m) => m.server));
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 30; i++) await js.publish(i % 2 === 0 ? 'logs.even' : 'logs.odd', `l${i}`);
  assert.equal(await jsm.streams.deleteMessage('LOGS', 3), true);
  await assert.rejects(jsm.streams.deleteMessage('LOGS', 3), /no message found/);
  assert.equal((await jsm.streams.purge('LOGS', { filter: 'logs.even' })).purged, 15);
  assert.equal((await jsm.streams.purge('LOGS', { seq: 11 })).purged, 4, 'odd 1, 5, 7, 9 (3 was deleted)');
  const expected = { messages: 10, first_seq: 11, last_seq: 30 };
  const state = (i: StreamInfo | undefined) => i && { messages: i.state.messages, first_seq: i.state.first_seq, last_seq: i.state.last_seq };
  assert.deepEqual(state(await streamInfo(nc, 'LOGS')), expected);

  // Every replica applied the same changes: each one, leading in turn, reports the same state.
  for (const i of await underEachLeader(nc, 'LOGS')) assert.deepEqual(state(i), expected, `state under ${i.cluster?.leader}`);
});

/** Steps the stream's leader down until every replica has led it; the INFO each one answered. */
async function underEachLeader(nc: NatsConnection, stream: string): Promise<StreamInfo[]> {
  const seen = new Map<string, StreamInfo>();
  const now = await waitFor(() => streamInfo(nc, stream), `INFO of ${stream}`);
  seen.set(now.cluster!.leader!, now);
  while (seen.size < 3) {
    const before = (await streamInfo(nc, stream))?.cluster?.leader ?? '';
    await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 5000 }).catch(() => undefined);
    const next = await waitFor(async () => {
      const i = await streamInfo(nc, stream);
      return i?.cluster?.leader !== undefined && i.cluster.leader !== '' && i.cluster.leader !== before ? i : undefined;
    }, `a new ${stream} leader`, 20_000);
    seen.set(next.cluster!.leader!, next);
  }
  return [...seen.values()];
}

test('UPDATE of an R3 stream through a server that does not lead it: new subjects and limits on every replica', async () => {
  const admin = await client([cluster.members[0]!.server]);
  const si = await (await jetstreamManager(admin, { timeout: 10_000 })).streams.add({ name: 'METRICS', subjects: ['cpu.>'], num_replicas: 3 });
  const nc = await client(cluster.members.filter((m) => m.name !== si.cluster?.leader).map((m) => m.server));
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 10; i++) await js.publish('cpu.load', `${i}`);
  await assert.rejects(js.publish('mem.used', 'x'), /not enabled|no responders/i, 'mem.> is not captured yet (no responders)');

  const updated = await jsm.streams.update('METRICS', { subjects: ['cpu.>', 'mem.>'], max_msgs: 4 });
  assert.deepEqual(updated.config.subjects, ['cpu.>', 'mem.>']);
  assert.equal(updated.config.max_msgs, 4);
  assert.equal(updated.state.messages, 4, 'the tighter limit applied at once');
  assert.equal((await js.publish('mem.used', '42')).seq, 11, 'the new subject is captured');
  await assert.rejects(jsm.streams.update('METRICS', { num_replicas: 1 }), /replicas/);
  await assert.rejects(jsm.streams.update('METRICS', { max_msgs_per_subject: -5 } as never), /max_msgs_per_subject|invalid/i);

  for (const i of await underEachLeader(nc, 'METRICS')) {
    assert.deepEqual([i.config.max_msgs, i.state.messages, i.state.first_seq, i.state.last_seq], [4, 4, 8, 11], `under ${i.cluster?.leader}`);
  }
  // The leaders that took over capture the new subject too.
  assert.equal((await js.publish('mem.used', '43')).seq, 12);
});

test('max_age on an R3 stream: the leader decides the expiry and every replica removes the same messages', async () => {
  const nc = await client(cluster.members.map((m) => m.server));
  const jsm = await jetstreamManager(nc, { timeout: 10_000 });
  await jsm.streams.add({ name: 'AGED', subjects: ['aged.>'], num_replicas: 3, max_age: 500_000_000 });
  const js = jetstream(nc, { timeout: 5000 });
  for (let i = 1; i <= 10; i++) await js.publish('aged.x', `a${i}`);
  await waitFor(async () => (await streamInfo(nc, 'AGED'))?.state.messages === 0, 'the messages to age out', 20_000);
  for (const i of await underEachLeader(nc, 'AGED')) {
    assert.deepEqual([i.state.messages, i.state.first_seq, i.state.last_seq], [0, 11, 10], `under ${i.cluster?.leader}`);
  }
  // A leader that took over expires what arrives under it.
  assert.equal((await js.publish('aged.x', 'late')).seq, 11);
  await waitFor(async () => (await streamInfo(nc, 'AGED'))?.state.messages === 0, 'the new leader to expire too', 20_000);
});

test('STREAM.LIST through every server: each replicated stream as its leader reports it', async () => {
  for (const m of cluster.members) {
    const nc = await client([m.server]);
    const list = await (await jetstreamManager(nc, { timeout: 5000 })).streams.list().next();
    const names = list.map((i) => i.config.name);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    for (const want of ['AGED', 'JOBS', 'KV_profiles', 'LOGS', 'METRICS', 'WQ']) assert.ok(names.includes(want), `${want} listed through ${m.name}: ${names.join(',')}`);
    for (const i of list) {
      assert.ok(i.cluster?.leader !== undefined && i.cluster.leader !== '', `${i.config.name} has its leader`);
      assert.equal((i as unknown as Record<string, unknown>).type, undefined);
    }
    assert.equal(list.find((i) => i.config.name === 'METRICS')?.state.messages, 4);
    const account = await (await jetstreamManager(nc)).getAccountInfo();
    assert.ok(account.streams >= 6, `$JS.API.INFO through ${m.name} counts the replicated streams: ${account.streams}`);
  }
});
