// Cluster routes with real processes on loopback and the official nats.js client: three sluice
// servers in a full mesh; messages, wildcards, queue groups, request/reply and no-responders
// across servers; a SIGKILLed server rejoining; clients failing over through connect_urls.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { routez, startTestCluster, waitForRemoteInterest, type TestCluster } from '../helpers/cluster.ts';
import { waitFor, within } from '../helpers/deadline.ts';

describe('a three-server cluster', () => {
  let cluster: TestCluster;
  const conns: NatsConnection[] = [];
  const client = async (i: number, extra: Record<string, unknown> = {}): Promise<NatsConnection> => {
    const nc = await connect({ servers: cluster.members[i]!.server.url, ...extra });
    conns.push(nc);
    return nc;
  };

  before(async () => {
    cluster = await startTestCluster(3);
    await cluster.meshed();
  });
  after(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await cluster?.close();
  });

  test('the mesh forms from one seed, and /routez, /varz and INFO describe it', async () => {
    const [s0, s1, s2] = cluster.members.map((m) => m.server);
    const rz = await routez(s1!);
    assert.equal(rz.num_routes, 2);
    assert.deepEqual(rz.routes.map((r) => r.remote_name).sort(), ['s0', 's2']);
    const varz = (await (await fetch(`${s0!.httpUrl}/varz`)).json()) as Record<string, any>;
    assert.equal(varz.routes, 2);
    assert.equal(varz.cluster.name, 'test');
    assert.equal(varz.cluster.cluster_port, s0!.clusterPort);
    const nc = await client(2);
    assert.equal(nc.info?.cluster, 'test');
    assert.deepEqual(
      [...(nc.info?.connect_urls ?? [])].sort(),
      [s0!, s1!, s2!].map((s) => `127.0.0.1:${s.port}`).sort(),
    );
  });

  test('10,000 messages published on one server reach a subscriber on another, in order', async () => {
    const sub = await client(2);
    const pub = await client(1);
    const got: number[] = [];
    const done = new Promise<void>((resolve) => {
      sub.subscribe('orders.created', {
        callback: (_e, m) => {
          got.push(Number(m.string()));
          if (got.length === 10_000) resolve();
        },
      });
    });
    await sub.flush();
    await waitForRemoteInterest(cluster.members[1]!.server, 's2', 'orders.created');
    for (let i = 0; i < 10_000; i++) pub.publish('orders.created', String(i));
    await pub.flush();
    await within(done, 20_000, 'all 10,000 messages');
    assert.deepEqual(got, Array.from({ length: 10_000 }, (_, i) => i));
  });

  test('wildcards on several servers each get every message; a queue group spread over three servers gets each once', async () => {
    const [a, b, c] = [await client(0), await client(1), await client(2)];
    const star: string[] = [];
    const gt: string[] = [];
    a.subscribe('jobs.*', { callback: (_e, m) => void star.push(m.string()) });
    c.subscribe('jobs.>', { callback: (_e, m) => void gt.push(m.string()) });
    const byMember = new Map<string, string[]>();
    for (const [name, nc] of [['a', a], ['b', b], ['c', c]] as const) {
      byMember.set(name, []);
      nc.subscribe('jobs.*', { queue: 'workers', callback: (_e, m) => void byMember.get(name)!.push(m.string()) });
    }
    await Promise.all([a.flush(), b.flush(), c.flush()]);
    const pubServer = cluster.members[1]!.server;
    await waitForRemoteInterest(pubServer, 's0', 'jobs.*');
    await waitForRemoteInterest(pubServer, 's2', 'jobs.>');
    await waitForRemoteInterest(pubServer, 's0', 'jobs.* workers');
    await waitForRemoteInterest(pubServer, 's2', 'jobs.* workers');
    // Published from a server with a local member: local members are preferred.
    for (let i = 0; i < 500; i++) b.publish(`jobs.${i}`, String(i));
    // Published from a server whose member left: the group is served by the peers.
    const pub = await client(1);
    for (let i = 500; i < 1000; i++) pub.publish(`jobs.${i}`, String(i));
    await pub.flush();
    await b.flush();
    const all = Array.from({ length: 1000 }, (_, i) => String(i));
    await waitFor(() => star.length === 1000 && gt.length === 1000, 'both wildcard subscribers', 10_000);
    await waitFor(() => [...byMember.values()].reduce((n, l) => n + l.length, 0) >= 1000, 'the queue group', 10_000);
    assert.deepEqual(star, all);
    assert.deepEqual(gt, all);
    const delivered = [...byMember.values()].flat();
    assert.equal(delivered.length, 1000, 'each message once to the group');
    assert.deepEqual([...new Set(delivered)].sort(), [...all].sort());
    assert.equal(byMember.get('b')!.length, 1000, 'the publisher server had a member: it took them all');
  });

  test('queue members on other servers share the load when the publisher server has none', async () => {
    const [a, c, pub] = [await client(0), await client(2), await client(1)];
    const counts = { a: 0, c: 0 };
    a.subscribe('spread', { queue: 'q', callback: () => void counts.a++ });
    c.subscribe('spread', { queue: 'q', callback: () => void counts.c++ });
    await Promise.all([a.flush(), c.flush()]);
    await waitForRemoteInterest(cluster.members[1]!.server, 's0', 'spread q');
    await waitForRemoteInterest(cluster.members[1]!.server, 's2', 'spread q');
    for (let i = 0; i < 400; i++) pub.publish('spread', '');
    await pub.flush();
    await waitFor(() => counts.a + counts.c === 400, 'all 400 messages', 10_000);
    assert.ok(counts.a > 50 && counts.c > 50, `both servers' members get a share: ${JSON.stringify(counts)}`);
  });

  test('request/reply across servers; no responders anywhere answers 503', async () => {
    const [responder, requester] = [await client(2), await client(0)];
    responder.subscribe('svc.echo', { callback: (_e, m: Msg) => void m.respond(`echo:${m.string()}`) });
    await responder.flush();
    await waitForRemoteInterest(cluster.members[0]!.server, 's2', 'svc.echo');
    for (let i = 0; i < 20; i++) {
      const reply = await requester.request('svc.echo', `r${i}`, { timeout: 2000 });
      assert.equal(reply.string(), `echo:r${i}`);
    }
    await assert.rejects(requester.request('svc.nobody', 'x', { timeout: 2000 }), /no responders/i);
  });

  test('a client that dials the cluster port is told so and closed', async () => {
    const socket = net.connect(cluster.members[0]!.server.clusterPort, '127.0.0.1');
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.startsWith('INFO ') && text.includes('\r\n') && !text.includes('CONNECT-SENT')) {
        text += 'CONNECT-SENT';
        socket.write('CONNECT {"verbose":false,"lang":"test"}\r\nPING\r\n');
      }
    });
    await within(new Promise((r) => socket.once('close', r)), 5000, 'the route port to close the client');
    assert.match(text, /^INFO \{.*\}\r\n/);
    assert.match(text, /-ERR 'attempted to connect to route port'\r\n/);
  });

  test('a server from another cluster is refused, with a log line naming both clusters', async () => {
    const stranger = await cluster.spawn('stranger', [
      '--host', '127.0.0.1', '--http-port', '0', '--cluster-name', 'other', '--cluster-port', '0',
      '--routes', cluster.members[0]!.server.clusterUrl,
    ]);
    await waitFor(() => /refusing route from cluster \\"other\\": this server is in cluster \\"test\\"/.test(cluster.members[0]!.server.output()), 'the refusal in the seed log', 10_000);
    assert.equal((await routez(stranger)).num_routes, 0);
    assert.equal((await routez(cluster.members[0]!.server)).num_routes, 2);
    await stranger.kill();
  });

  test('a SIGKILLed server comes back: interest is rebuilt, traffic resumes, clients fail over through connect_urls', async () => {
    // The subscriber knows only s1's URL; connect_urls from INFO tell it about s0 and s2.
    const sub = await client(1, { reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const pub = await client(0);
    const got = new Set<string>();
    sub.subscribe('failover.>', { callback: (_e, m) => void got.add(m.string()) });
    await sub.flush();
    await waitForRemoteInterest(cluster.members[0]!.server, 's1', 'failover.>');
    pub.publish('failover.before', 'before');
    await waitFor(() => got.has('before'), 'a message before the crash');

    const s1Url = `127.0.0.1:${cluster.members[1]!.server.port}`;
    assert.ok(pub.info?.connect_urls?.includes(s1Url));
    await cluster.kill(1);
    // An async INFO tells the clients of the other servers that s1 is gone.
    await waitFor(() => pub.info?.connect_urls?.includes(s1Url) === false, 'an INFO without the dead server', 10_000);
    // The subscriber reconnects to s0 or s2 and resubscribes there; the publisher on s0 sees it.
    await waitFor(async () => {
      pub.publish('failover.during', 'during');
      await pub.flush();
      return got.has('during');
    }, 'the subscriber to fail over and receive again', 20_000);
    assert.notEqual(sub.getServer(), cluster.members[1]!.server.url.replace('nats://', ''));

    await cluster.restart(1);
    await cluster.meshed();
    // Interest on the restarted server reaches the others again.
    const late = await client(1);
    const lateGot: string[] = [];
    late.subscribe('after.restart', { callback: (_e, m) => void lateGot.push(m.string()) });
    await late.flush();
    await waitForRemoteInterest(cluster.members[0]!.server, 's1', 'after.restart');
    pub.publish('after.restart', 'hello again');
    await waitFor(() => lateGot.length === 1, 'traffic to the restarted server');
    assert.deepEqual(lateGot, ['hello again']);
  });
});
