// Two accounts, each with its own JetStream, in a 3-server cluster of real processes: both create
// an R3 stream of the same name, each account sees only its own messages on every server, and
// one account's stream keeps every acknowledged message through the SIGKILL of its leader while
// the other account's stream goes on serving (each account replicates on its own meta group and
// stream groups over the shared routes: streams/replication/account-networks.ts).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import type { ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';

const CONF = `
accounts {
  A: { jetstream: enabled, users: [ { user: a, password: a } ] }
  B: { jetstream: enabled, users: [ { user: b, password: b } ] }
  C: { jetstream: { max_streams: 2, max_file: 1MB }, users: [ { user: c, password: c } ] }
}
`;

let cluster: TestCluster;
const conns: NatsConnection[] = [];

before(async () => {
  cluster = await startTestCluster(3, { jetstream: true, clusterName: 'accjs', configText: CONF });
  await cluster.meshed();
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await cluster?.close();
});

async function client(servers: ChildServer | ChildServer[], user: string): Promise<NatsConnection> {
  const list = Array.isArray(servers) ? servers : [servers];
  const nc = await connect({ servers: list.map((s) => s.url), user, pass: user, reconnect: list.length > 1, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  return nc;
}

/** Creates the stream once that account's meta group has a leader (until then: 10008). */
async function createR3(nc: NatsConnection, name: string): Promise<StreamInfo> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  return waitFor(
    async () => {
      try {
        return await jsm.streams.add({ name, subjects: ['orders.>'], num_replicas: 3 });
      } catch {
        return undefined;
      }
    },
    `stream ${name} created`,
    30_000,
  );
}

async function info(nc: NatsConnection, name: string): Promise<StreamInfo | undefined> {
  try {
    return await (await jetstreamManager(nc, { timeout: 2000 })).streams.info(name);
  } catch {
    return undefined;
  }
}

test('two accounts replicate same-named R3 streams on their own, isolated on every server', async () => {
  const [s0, s1, s2] = cluster.members.map((m) => m.server) as [ChildServer, ChildServer, ChildServer];
  const a = await client(s0, 'a');
  const b = await client(s1, 'b');
  const createdA = await createR3(a, 'ORDERS');
  const createdB = await createR3(b, 'ORDERS');
  assert.equal(createdA.config.num_replicas, 3);
  assert.equal(createdB.cluster?.replicas?.length, 2, JSON.stringify(createdB.cluster));

  const jsA = jetstream(a, { timeout: 5000 });
  const jsB = jetstream(b, { timeout: 5000 });
  for (let i = 0; i < 100; i++) await jsA.publish(`orders.${i}`, `a-${i}`);
  for (let i = 0; i < 40; i++) await jsB.publish(`orders.${i}`, `b-${i}`);

  // Every server answers for both accounts, each with its own stream.
  for (const s of [s0, s1, s2]) {
    const ia = await waitFor(async () => (await info(await client(s, 'a'), 'ORDERS'))?.state.messages === 100 || undefined, `A's stream via ${s.url}`, 10_000);
    const ib = await waitFor(async () => (await info(await client(s, 'b'), 'ORDERS'))?.state.messages === 40 || undefined, `B's stream via ${s.url}`, 10_000);
    assert.ok(ia && ib);
  }
  const jsmB = await jetstreamManager(await client(s2, 'b'));
  const first = await jsmB.streams.getMessage('ORDERS', { seq: 1 });
  assert.equal(first?.string(), 'b-0');
  const jsmA = await jetstreamManager(await client(s2, 'a'));
  assert.equal((await jsmA.streams.getMessage('ORDERS', { seq: 100 }))?.string(), 'a-99');
});

test("killing the leader of A's stream: A fails over with nothing acknowledged lost, B keeps serving", async () => {
  const servers = cluster.members.map((m) => m.server);
  const a = await client(servers, 'a');
  const before = await waitFor(async () => await info(a, 'ORDERS'), "A's stream info", 10_000);
  const leader = before.cluster?.leader ?? '';
  const leaderIndex = cluster.members.findIndex((m) => m.name === leader);
  assert.ok(leaderIndex >= 0, `a leader for A's stream: ${JSON.stringify(before.cluster)}`);
  await cluster.kill(leaderIndex);

  const survivors = cluster.members.filter((_, i) => i !== leaderIndex).map((m) => m.server);
  const a2 = await client(survivors, 'a');
  const jsA = jetstream(a2, { timeout: 2000 });
  for (let i = 100; i < 150; i++) {
    await waitFor(async () => {
      try {
        return await jsA.publish(`orders.${i}`, `a-${i}`, { msgID: `a-${i}` });
      } catch {
        return undefined;
      }
    }, `publish ${i} after the leader's loss`, 20_000);
  }
  const after = await waitFor(async () => {
    const i = await info(a2, 'ORDERS');
    return i?.state.messages === 150 && i.cluster?.leader !== leader ? i : undefined;
  }, "A's stream under a new leader", 20_000);
  assert.equal(after.state.last_seq, 150);

  const b = await client(survivors, 'b');
  const ib = await waitFor(async () => await info(b, 'ORDERS'), "B's stream on the survivors", 20_000);
  assert.equal(ib.state.messages, 40);
  const jsB = jetstream(b, { timeout: 5000 });
  const ack = await waitFor(async () => {
    try {
      return await jsB.publish('orders.x', 'b-late');
    } catch {
      return undefined;
    }
  }, "a publish into B's stream", 20_000);
  assert.equal(ack.seq, 41);

  // The killed server comes back and catches up in both accounts.
  await cluster.restart(leaderIndex);
  const back = cluster.members[leaderIndex]!.server;
  await waitFor(async () => {
    const ia = await info(await client(back, 'a'), 'ORDERS');
    return ia !== undefined && ia.cluster?.replicas?.every((r) => r.current) === true && ia.state.messages === 150;
  }, 'A caught up on the restarted server', 30_000);
  // /healthz asks every account's JetStream; it is ok once both accounts are current there.
  await waitFor(async () => (await fetch(`${back.httpUrl}/healthz`)).status === 200, 'the restarted server healthy', 30_000);
});

/** An assert.rejects check: the official client's JetStreamApiError with this err_code. */
function errCode(code: number): (err: unknown) => boolean {
  return (err) => err instanceof JetStreamApiError && err.code === code;
}

test("the meta leader holds an account's replicated streams to its limits, whichever server is asked", async () => {
  const servers = cluster.members.map((m) => m.server);
  const jsm = await jetstreamManager(await client(servers, 'c'), { timeout: 5000 });
  const add = (name: string, maxBytes: number): Promise<unknown> => jsm.streams.add({ name, subjects: [`${name}.>`], num_replicas: 3, max_bytes: maxBytes });
  // The first create waits for C's meta group to have a leader.
  await waitFor(async () => {
    try {
      return await add('C1', 200_000);
    } catch {
      return undefined;
    }
  }, 'the first stream of C', 30_000);
  // 3 replicas x (200 + 400) KB = 1.8 MB reserved of 1 MB: over the account's max_file.
  await assert.rejects(add('C2', 400_000), errCode(10047));
  await add('C2', 100_000);
  await assert.rejects(add('C3', 1000), errCode(10027));
  // 3 x (200 + 100) KB = 900 KB reserved; growing C2 to 300 KB would need 1.5 MB.
  await assert.rejects(jsm.streams.update('C2', { max_bytes: 300_000 }), errCode(10047));
});
