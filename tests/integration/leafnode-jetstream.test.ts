// JetStream domains across a leaf link: a hub (domain "hub") and an edge (domain "edge1"), each
// with its own JetStream. A client on either side manages the other side's streams through
// `$JS.<domain>.API`, publishes into the other side's stream subjects and consumes from there;
// `$JS.API` without a domain stays with the client's own server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';
import { writeFileSync } from 'node:fs';

let dir: string;
let hub: ChildServer;
let edge: ChildServer;
const conns: NatsConnection[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-js-'));
  const leafPort = await freePort();
  writeFileSync(join(dir, 'hub.conf'), `jetstream { store_dir: "${join(dir, 'hub-store')}", domain: hub }\nleafnodes { port: ${leafPort} }\n`);
  writeFileSync(
    join(dir, 'edge.conf'),
    `jetstream { store_dir: "${join(dir, 'edge-store')}", domain: edge1 }\nleafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }\n`,
  );
  hub = await startChildServer({ portsDir: join(dir, 'ports'), name: 'hub', args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'hub.conf')] });
  edge = await startChildServer({ portsDir: join(dir, 'ports'), name: 'edge', args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'edge.conf')] });
  await waitFor(async () => {
    const z = (await (await fetch(`${hub.httpUrl}/leafz?subs=1`)).json()) as { leafs: { subscriptions_list?: string[] }[] };
    return z.leafs.some((l) => (l.subscriptions_list ?? []).includes('$JS.edge1.API.> _sluice_js_domain'));
  }, "the edge's domain API to be known at the hub", 15_000);
  await waitFor(async () => {
    const z = (await (await fetch(`${edge.httpUrl}/leafz?subs=1`)).json()) as { leafs: { subscriptions_list?: string[] }[] };
    return z.leafs.some((l) => (l.subscriptions_list ?? []).includes('$JS.hub.API.> _sluice_js_domain'));
  }, "the hub's domain API to be known at the edge", 15_000);
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  await edge?.kill();
  await hub?.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function client(server: ChildServer): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url });
  conns.push(nc);
  return nc;
}

test('each side manages the other side\'s streams by domain; $JS.API stays local', async () => {
  const onHub = await client(hub);
  const onEdge = await client(edge);
  await (await jetstreamManager(onHub, { domain: 'edge1' })).streams.add({ name: 'EDGE', subjects: ['sensor.>'] });
  await (await jetstreamManager(onEdge, { domain: 'hub' })).streams.add({ name: 'CENTRAL', subjects: ['central.>'] });
  const names = async (nc: NatsConnection): Promise<string[]> => {
    const out: string[] = [];
    for await (const n of (await jetstreamManager(nc)).streams.names()) out.push(n);
    return out;
  };
  assert.deepEqual(await names(onEdge), ['EDGE']);
  assert.deepEqual(await names(onHub), ['CENTRAL']);
});

test('publishes from the hub reach the edge\'s stream, and the hub consumes it by domain', async () => {
  const onHub = await client(hub);
  const onEdge = await client(edge);
  await jetstream(onEdge).publish('sensor.local', 'from the edge');
  // The stream's subjects are interest the edge announces, so a hub client's publish is stored there.
  await waitFor(async () => {
    const z = (await (await fetch(`${hub.httpUrl}/leafz?subs=1`)).json()) as { leafs: { subscriptions_list?: string[] }[] };
    return z.leafs.some((l) => (l.subscriptions_list ?? []).includes('sensor.>'));
  }, 'the stream subjects to reach the hub');
  const ack = await jetstream(onHub, { domain: 'edge1' }).publish('sensor.remote', 'from the hub');
  assert.equal(ack.stream, 'EDGE');
  const js = jetstream(onHub, { domain: 'edge1' });
  await (await jetstreamManager(onHub, { domain: 'edge1' })).consumers.add('EDGE', { durable_name: 'central', ack_policy: 'explicit' });
  const consumer = await js.consumers.get('EDGE', 'central');
  const got: string[] = [];
  const batch = await consumer.fetch({ max_messages: 2, expires: 5000 });
  for await (const m of batch) {
    got.push(m.string());
    m.ack();
  }
  assert.deepEqual(got, ['from the edge', 'from the hub']);
  await waitFor(async () => (await (await jetstreamManager(onEdge)).consumers.info('EDGE', 'central')).ack_floor.stream_seq === 2, 'the acks from the hub to reach the edge');
});

test('the domain is named where nats-server names it: INFO, PubAcks, account info, stream info', async () => {
  const onEdge = await client(edge);
  const onHub = await client(hub);
  assert.equal(domainOf(onEdge.info), 'edge1');
  assert.equal(domainOf(onHub.info), 'hub');
  await (await jetstreamManager(onEdge)).streams.add({ name: 'DOM', subjects: ['dom.>'] });
  // A client on the edge that names the edge's own domain, as official clients configured for a
  // domain do, and one on the hub reaching the edge by its domain: both get the edge's domain back.
  for (const nc of [onEdge, onHub]) {
    const ack = await jetstream(nc, { domain: 'edge1' }).publish('dom.a', 'x');
    assert.equal(ack.domain, 'edge1');
    assert.equal(ack.stream, 'DOM');
    const jsm = await jetstreamManager(nc, { domain: 'edge1' });
    assert.equal((await jsm.getAccountInfo()).domain, 'edge1');
    assert.equal(domainOf(await jsm.streams.info('DOM')), 'edge1');
  }
  // Without a domain the edge's own JetStream answers, still naming its domain.
  assert.equal((await jetstream(onEdge).publish('dom.b', 'y')).domain, 'edge1');
  // A duplicate's ack keeps nats-server's layout with the domain.
  const js = jetstream(onEdge, { domain: 'edge1' });
  await js.publish('dom.c', 'z', { msgID: 'once' });
  const dup = await js.publish('dom.c', 'z', { msgID: 'once' });
  assert.equal(dup.duplicate, true);
  assert.equal(dup.domain, 'edge1');
});

/** `domain` of an INFO or a StreamInfo (the client's types leave it out; the server sends it). */
function domainOf(o: object | undefined): unknown {
  return (o as { domain?: unknown } | undefined)?.domain;
}
