// The IoT shape: each edge keeps a local stream, the hub sources all of them across leaf node
// links by JetStream domain (`sources: [{ name, domain }]`, which the client sends as
// `external: { api: "$JS.<domain>.API" }`). Real processes and the official clients: a hub
// (domain hub) and two edges (domains edge1, edge2) whose streams share a name. The hub's stream
// gets every edge message once; an edge SIGKILLed and restarted, and the hub SIGKILLed and
// restarted, and the sourcing resumes with no gap and no duplicate. A hub mirror of one edge's
// stream keeps the origin's sequences. StreamInfo shows `external` and the lag.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';

let dir: string;
let leafPort: number;
const servers = new Map<string, ChildServer>();
const conns: NatsConnection[] = [];

function conf(name: string): string {
  const file = join(dir, `${name}.conf`);
  const js = `jetstream { store_dir: "${join(dir, `${name}-store`)}", domain: ${name} }\n`;
  const leaf = name === 'hub' ? `leafnodes { port: ${leafPort} }\n` : `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ], reconnect: "200ms" }\n`;
  writeFileSync(file, js + leaf);
  return file;
}

async function start(name: string): Promise<ChildServer> {
  const s = await startChildServer({ portsDir: join(dir, 'ports'), name, args: ['--host', '127.0.0.1', '--http-port', '0', '--config', conf(name)] });
  servers.set(name, s);
  return s;
}

/** Waits until `on` has learnt the domain API of `domain` over its leaf links. */
async function domainKnown(on: ChildServer, domain: string): Promise<void> {
  await waitFor(async () => {
    const z = (await (await fetch(`${on.httpUrl}/leafz?subs=1`)).json()) as { leafs: { subscriptions_list?: string[] }[] };
    return z.leafs.some((l) => (l.subscriptions_list ?? []).includes(`$JS.${domain}.API.> _sluice_js_domain`));
  }, `${domain}'s JetStream to be reachable`, 20_000);
}

async function client(name: string): Promise<NatsConnection> {
  const nc = await connect({ servers: servers.get(name)!.url });
  conns.push(nc);
  return nc;
}

async function publish(edge: string, from: number, to: number): Promise<void> {
  const nc = await client(edge);
  const js = jetstream(nc);
  const acks = [];
  for (let i = from; i <= to; i++) acks.push(js.publish(`${edge}.temp`, `${edge}-${i}`));
  await Promise.all(acks);
  await nc.close();
}

/** Every message of `stream` on the hub: [edge payload, origin sequence from Nats-Stream-Source]. */
async function hubMessages(jsm: JetStreamManager, stream: string): Promise<{ data: string; source: string }[]> {
  const n = (await jsm.streams.info(stream)).state.last_seq;
  const out: { data: string; source: string }[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    assert.ok(m !== null, `${stream} message ${seq}`);
    out.push({ data: m.string(), source: m.header.get('Nats-Stream-Source') });
  }
  return out;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-sourcing-'));
  leafPort = await freePort();
  const hub = await start('hub');
  await start('edge1');
  await start('edge2');
  await domainKnown(hub, 'edge1');
  await domainKnown(hub, 'edge2');
});
after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  for (const s of servers.values()) await s.kill();
  rmSync(dir, { recursive: true, force: true });
});

test('a hub stream sources same-named streams on two edges by domain: every message once, through edge and hub crashes', async () => {
  for (const edge of ['edge1', 'edge2']) {
    await (await jetstreamManager(await client(edge))).streams.add({ name: 'SENSORS', subjects: [`${edge}.>`] });
    await publish(edge, 1, 300);
  }
  const hubJsm = await jetstreamManager(await client('hub'));
  await hubJsm.streams.add({
    name: 'ALL',
    sources: [
      { name: 'SENSORS', domain: 'edge1' },
      { name: 'SENSORS', domain: 'edge2' },
    ],
  });
  await hubJsm.streams.add({ name: 'MIRROR1', mirror: { name: 'SENSORS', domain: 'edge1' } });
  const count = async (stream: string): Promise<number> => (await hubJsm.streams.info(stream)).state.messages;
  await waitFor(async () => (await count('ALL')) === 600, 'the hub to source 600 messages', 20_000);

  const info = await hubJsm.streams.info('ALL');
  assert.deepEqual(
    info.sources?.map((s) => [s.name, externalApi(s), s.lag]).sort(),
    [
      ['SENSORS', '$JS.edge1.API', 0],
      ['SENSORS', '$JS.edge2.API', 0],
    ],
  );
  assert.ok(info.sources!.every((s) => s.active >= 0 && s.active < 5e9), 'both origins heard from lately');

  // edge1 dies without a word and comes back; edge2 keeps publishing meanwhile.
  await servers.get('edge1')!.kill();
  await publish('edge2', 301, 400);
  await start('edge1');
  await domainKnown(servers.get('hub')!, 'edge1');
  assert.equal((await (await jetstreamManager(await client('edge1'))).streams.info('SENSORS')).state.messages, 300, 'the edge kept its stream');
  await publish('edge1', 301, 400);
  await waitFor(async () => (await count('ALL')) === 800, 'the hub to source 800 messages after the edge restart', 20_000);

  // The hub dies mid-stream and comes back; both edges publish while it is down.
  await servers.get('hub')!.kill();
  await publish('edge1', 401, 450);
  await publish('edge2', 401, 450);
  const hub = await start('hub');
  await domainKnown(hub, 'edge1');
  await domainKnown(hub, 'edge2');
  await publish('edge1', 451, 500);
  const jsm = await jetstreamManager(await client('hub'));
  await waitFor(async () => (await jsm.streams.info('ALL')).state.messages === 950, 'the hub to source 950 messages after its restart', 20_000);

  const all = await hubMessages(jsm, 'ALL');
  for (const [edge, n] of [['edge1', 500], ['edge2', 450]] as const) {
    const got = all.filter((m) => m.data.startsWith(`${edge}-`));
    assert.equal(got.length, n, `${edge}: every message once`);
    // In origin order, and the origin sequence in the header matches the payload.
    assert.deepEqual(got.map((m) => m.data), Array.from({ length: n }, (_, i) => `${edge}-${i + 1}`));
    assert.deepEqual(got.map((m) => Number(m.source.split(' ')[1])), Array.from({ length: n }, (_, i) => i + 1));
    assert.match(got[0]!.source, /^SENSORS:[0-9A-Za-z]{8} 1 > >$/);
  }
  assert.notEqual(all.find((m) => m.data.startsWith('edge1-'))!.source.split(' ')[0], all.find((m) => m.data.startsWith('edge2-'))!.source.split(' ')[0]);

  // The mirror holds edge1's stream at its own sequences.
  await waitFor(async () => (await jsm.streams.info('MIRROR1')).state.last_seq === 500, 'the mirror to follow edge1', 20_000);
  const mi = await jsm.streams.info('MIRROR1');
  assert.equal(mi.state.messages, 500);
  assert.equal(externalApi(mi.mirror), '$JS.edge1.API');
  assert.equal((await jsm.streams.getMessage('MIRROR1', { seq: 123 }))?.string(), 'edge1-123');
});

/** `external.api` of a StreamInfo source (the client's type leaves the field out). */
function externalApi(s: object | undefined): unknown {
  return (s as { external?: { api?: string } } | undefined)?.external?.api;
}
