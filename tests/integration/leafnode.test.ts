// Leaf nodes between sluice processes on loopback (the scenarios are in leafnode-suite.ts; the
// same run against nats-server in tests/e2e/leafnode.e2e.ts), plus what only sluice reports (the
// names and roles of the links in /leafz), loop detection between two servers that dial each
// other, a second link from one edge replacing the first, and a sluice cluster as the hub: an
// edge's interest and messages cross the routes.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { startTestCluster, waitForRemoteInterest, type TestCluster } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';
import { leafnodeSuite, sluiceServers } from './leafnode-suite.ts';

leafnodeSuite('a sluice hub with two sluice edges', sluiceServers);
leafnodeSuite('a sluice hub with two sluice edges over its WebSocket port', sluiceServers, 'ws');

test('/leafz names the server at the other end and says which side dialled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leafz-'));
  const leafPort = await freePort();
  const hub = await sluiceServers.hub(dir, leafPort, await freePort());
  try {
    const edge = await sluiceServers.edge(dir, 'edge1', [{ url: `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}` }]);
    try {
      type Leafz = { leafs: { name: string; is_spoke: boolean; account: string }[] };
      const hz = await waitFor(async () => {
        const z = (await (await fetch(`${hub.httpUrl}/leafz`)).json()) as Leafz;
        return z.leafs.length === 1 ? z : undefined;
      }, 'the edge to connect');
      assert.deepEqual(hz.leafs.map((l) => [l.name, l.is_spoke, l.account]), [['edge1', false, '$G']]);
      const ez = (await (await fetch(`${edge.httpUrl}/leafz`)).json()) as Leafz;
      assert.deepEqual(ez.leafs.map((l) => [l.name, l.is_spoke]), [['hub', true]]);
    } finally {
      await edge.kill();
    }
  } finally {
    await hub.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two servers that dial each other detect the loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-loop-'));
  const [portA, portB] = [await freePort(), await freePort()];
  const servers: ChildServer[] = [];
  const start = (name: string, listen: number, dial: number): Promise<ChildServer> =>
    startChildServer({
      portsDir: join(dir, 'ports'),
      name,
      args: ['--host', '127.0.0.1', '--http-port', '0', '--leafnode-port', String(listen), '--leafnode-remote', `nats-leaf://127.0.0.1:${dial}`, '--log-level', 'error'],
    });
  try {
    servers.push(await start('loopA', portA, portB));
    servers.push(await start('loopB', portB, portA));
    await waitFor(() => servers.some((s) => /Loop detected/.test(s.output())), 'the loop to be detected', 15_000);
  } finally {
    for (const s of servers) await s.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an edge that dials again replaces its old link at the hub instead of looking like a loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-dup-'));
  const leafPort = await freePort();
  const hub = await sluiceServers.hub(dir, leafPort, await freePort());
  try {
    const remote = { url: `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}` };
    const edge = await sluiceServers.edge(dir, 'twice', [remote, remote]);
    try {
      await waitFor(() => /replacing the leafnode connection from the same server/.test(hub.output()), 'the older link to be replaced', 15_000);
      assert.doesNotMatch(edge.output(), /Loop detected/);
      const z = (await (await fetch(`${hub.httpUrl}/leafz`)).json()) as { leafnodes: number };
      assert.ok(z.leafnodes <= 1, 'one link per edge at the hub');
    } finally {
      await edge.kill();
    }
  } finally {
    await hub.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a sluice cluster as the hub', () => {
  let cluster: TestCluster;
  let edge: ChildServer;
  const conns: NatsConnection[] = [];
  const client = async (url: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: url });
    conns.push(nc);
    return nc;
  };
  const edgeKnows = async (entry: string): Promise<void> => {
    await waitFor(async () => {
      const z = (await (await fetch(`${edge.httpUrl}/leafz?subs=1`)).json()) as { leafs: { subscriptions_list?: string[] }[] };
      return z.leafs.some((l) => (l.subscriptions_list ?? []).includes(entry));
    }, `"${entry}" to reach the edge`, 15_000);
  };

  before(async () => {
    cluster = await startTestCluster(2, { extraArgs: ['--leafnode-port', '0'] });
    await cluster.meshed();
    const s0 = cluster.members[0]!.server;
    const varz = (await (await fetch(`${s0.httpUrl}/varz`)).json()) as { leaf: { port: number } };
    edge = await cluster.spawn('edge', ['--host', '127.0.0.1', '--http-port', '0', '--leafnode-remote', `nats-leaf://127.0.0.1:${varz.leaf.port}`]);
  });
  after(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await cluster?.close();
  });

  test('an edge on one server reaches subscribers on the other through the routes, and back', async () => {
    const s1 = cluster.members[1]!.server;
    const onS1 = await client(s1.url);
    const onEdge = await client(edge.url);
    const atS1: string[] = [];
    const atEdge: string[] = [];
    onS1.subscribe('c.x', { callback: (_e, m) => void atS1.push(m.string()) });
    onS1.subscribe('svc.c', { callback: (_e, m) => void m.respond(`from s1: ${m.string()}`) });
    onEdge.subscribe('e.x', { callback: (_e, m) => void atEdge.push(m.string()) });
    await onS1.flush();
    await onEdge.flush();
    await edgeKnows('c.x');
    await edgeKnows('svc.c');
    await waitForRemoteInterest(s1, 's0', 'e.x');
    for (let i = 0; i < 100; i++) onEdge.publish('c.x', String(i));
    for (let i = 0; i < 100; i++) onS1.publish('e.x', String(i));
    await waitFor(() => atS1.length === 100 && atEdge.length === 100, '100 messages each way', 15_000);
    assert.deepEqual(atS1, atEdge);
    assert.equal((await onEdge.request('svc.c', 'q', { timeout: 5000 })).string(), 'from s1: q');
  });
});

test('a server without a leafnode port refuses WebSocket upgrades at /leafnode (404) and stays up', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-ws-refuse-'));
  const wsPort = await freePort();
  const server = await startChildServer({ portsDir: join(dir, 'ports'), name: 'noleaf', args: ['--host', '127.0.0.1', '--ws-port', String(wsPort)] });
  try {
    const { WebSocket } = await import('ws');
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/leafnode`);
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('upgraded')));
      ws.once('error', () => undefined);
    });
    assert.equal(status, 404);
    const nc = await connect({ servers: server.url });
    await nc.flush();
    await nc.close();
    assert.match(server.output(), /not configured to accept leaf node connections/);
  } finally {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
