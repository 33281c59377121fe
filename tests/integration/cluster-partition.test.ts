// Partitions between two sluice servers, with the route passing through a loopback TCP proxy the
// test controls: a cut link is redialled and interest rebuilt, a black-holed link is noticed by
// the keep-alive and dropped, and a queue group never gets a message twice across a heal.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { routez, startTestCluster, waitForRemoteInterest, type TestCluster } from '../helpers/cluster.ts';
import type { ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

describe('two servers whose only route runs through a proxy', () => {
  let cluster: TestCluster;
  let proxy: TcpProxy;
  let edge: ChildServer;
  const conns: NatsConnection[] = [];

  before(async () => {
    // One seed; the second server reaches it only through the proxy (it dials; the seed learns
    // of nobody else to dial, so no direct link bypasses the proxy). A short keep-alive makes a
    // black-holed link show within a second or two.
    cluster = await startTestCluster(1, { clusterName: 'p' });
    const seed = cluster.members[0]!.server;
    proxy = await startTcpProxy({ port: seed.clusterPort });
    const conf = join(cluster.dir, 'edge.conf');
    writeFileSync(conf, `cluster { name: p, ping_interval: "200ms", routes: ["${proxy.url('nats-route')}"] }\n`);
    edge = await cluster.spawn('edge', ['-c', conf, '--host', '127.0.0.1', '--http-port', '0', '--cluster-port', '0']);
    await waitFor(async () => (await routez(edge)).num_routes === 1, 'the route through the proxy', 15_000);
  });
  after(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await proxy?.close();
    await cluster?.close();
  });

  const client = async (s: ChildServer): Promise<NatsConnection> => {
    const nc = await connect({ servers: s.url, reconnect: false });
    conns.push(nc);
    return nc;
  };

  test('a cut route is redialled after the heal, interest comes back, and a queue group never gets a message twice', async () => {
    const seed = cluster.members[0]!.server;
    const [m1, m2, pub] = [await client(seed), await client(seed), await client(edge)];
    const got: string[] = [];
    for (const nc of [m1, m2]) nc.subscribe('work', { queue: 'workers', callback: (_e, m) => void got.push(m.string()) });
    await Promise.all([m1.flush(), m2.flush()]);
    await waitForRemoteInterest(edge, 's0', 'work workers');

    for (let i = 0; i < 200; i++) pub.publish('work', `before-${i}`);
    await pub.flush();
    await waitFor(() => got.length === 200, 'the messages before the cut');

    proxy.cut();
    // The edge drops the link, and with it the seed's interest: its publishes now go nowhere.
    await waitFor(async () => (await routez(edge)).num_routes === 0, 'the edge to notice the cut', 10_000);
    for (let i = 0; i < 50; i++) pub.publish('work', `during-${i}`);
    await pub.flush();

    proxy.heal();
    await waitFor(async () => (await routez(edge)).num_routes === 1, 'the edge to redial', 15_000);
    await waitForRemoteInterest(edge, 's0', 'work workers');
    for (let i = 0; i < 200; i++) pub.publish('work', `after-${i}`);
    await pub.flush();
    await waitFor(() => got.filter((g) => g.startsWith('after-')).length === 200, 'the messages after the heal', 10_000);

    assert.equal(new Set(got).size, got.length, 'no message twice');
    assert.deepEqual(
      got.filter((g) => g.startsWith('after-')).sort(),
      Array.from({ length: 200 }, (_, i) => `after-${i}`).sort(),
    );
    assert.equal(got.filter((g) => g.startsWith('during-')).length, 0, 'nothing was buffered across the partition');
  });

  test('a black-holed route is dropped by the keep-alive within a bounded time, and rejoins after the heal', async () => {
    const seed = cluster.members[0]!.server;
    const sub = await client(seed);
    sub.subscribe('probe', { callback: () => undefined });
    await sub.flush();
    await waitForRemoteInterest(edge, 's0', 'probe');

    proxy.drop('both');
    const started = Date.now();
    await waitFor(async () => (await routez(edge)).num_routes === 0, 'the keep-alive to drop the silent route', 10_000);
    // 200 ms pings, three unanswered: well under the deadline (no upper bound asserted on timing).
    assert.ok(Date.now() - started >= 400, 'not dropped before any PING could go unanswered');

    proxy.heal();
    await waitFor(async () => (await routez(edge)).num_routes === 1 && (await routez(seed)).num_routes === 1, 'one route again', 15_000);
    await waitForRemoteInterest(edge, 's0', 'probe');
  });
});
