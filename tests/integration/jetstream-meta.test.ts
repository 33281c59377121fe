// The JetStream meta group over real processes: three JetStream servers in a cluster form one
// meta group (the seed forms it, the others are added), agree on its leader, elect a new one
// when the leader is SIGKILLed, and take the restarted server back as a member.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../helpers/cluster.ts';
import type { ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';

interface MetaCluster {
  leader?: string;
  cluster_size: number;
}

async function meta(s: ChildServer): Promise<MetaCluster | undefined> {
  const jsz = (await (await fetch(`${s.httpUrl}/jsz`)).json()) as { meta_cluster?: MetaCluster };
  return jsz.meta_cluster;
}

/** Resolves with the leader once every server in `servers` reports the same one (not `not`) and `size` members. */
async function agreedLeader(servers: ChildServer[], size: number, not = '', timeoutMs = 15_000): Promise<string> {
  return waitFor(
    async () => {
      const views = await Promise.all(servers.map(meta));
      const leader = views[0]?.leader;
      if (leader === undefined || leader === not || views.some((v) => v?.leader !== leader || v.cluster_size !== size)) return undefined;
      return leader;
    },
    `one meta leader known to ${servers.length} servers, ${size} members`,
    timeoutMs,
  );
}

let cluster: TestCluster;
before(async () => {
  cluster = await startTestCluster(3, { jetstream: true, clusterName: 'js' });
  await cluster.meshed();
});
after(async () => {
  await cluster?.close();
});

test('three JetStream servers form one meta group, fail over its leader, and take a restarted server back', async () => {
  const servers = () => cluster.members.map((m) => m.server);
  const leader = await agreedLeader(servers(), 3);
  assert.ok(['s0', 's1', 's2'].includes(leader));

  const i = cluster.members.findIndex((m) => m.name === leader);
  await cluster.kill(i);
  const survivors = servers().filter((_, k) => k !== i);
  const next = await agreedLeader(survivors, 3, leader);
  assert.notEqual(next, leader, 'a new leader among the survivors');

  await cluster.restart(i);
  await cluster.meshed();
  const after = await agreedLeader(servers(), 3);
  assert.ok(after !== '', 'the restarted server knows the leader');
  assert.equal((await meta(cluster.members[i]!.server))?.leader, after);
  // Caught up again: every /healthz says ok.
  for (const s of servers()) await waitFor(async () => (await fetch(`${s.httpUrl}/healthz`)).status === 200, `${s.url} healthy`);
});

test('/healthz is 503 while a clustered JetStream server has no meta group to join', async () => {
  // Its one configured route leads nowhere, so it never forms or joins the meta group.
  const lonely = await cluster.spawn('lonely', [
    '--host', '127.0.0.1', '--http-port', '0', '--cluster-name', 'js', '--cluster-port', '0',
    '--routes', 'nats-route://127.0.0.1:1', '--store-dir', `${cluster.dir}/lonely-store`,
  ]);
  const res = await fetch(`${lonely.httpUrl}/healthz`);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: 'unavailable', error: 'JetStream has not joined the meta group yet' });
  await lonely.kill();
});
