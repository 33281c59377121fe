// JetStream domains and cross-domain sourcing against nats-server 2.9.10:
// - a server with `jetstream { domain }` names its domain where nats-server does: the PubAck bytes,
//   INFO, account info and stream info, compared side by side on the same config text;
// - the IoT shape (a hub stream sourcing a same-named stream on each of two edges by domain, an
//   edge SIGKILLed and restarted meanwhile) with nats-server as the hub of sluice edges and with
//   a sluice hub of nats-server edges: the same messages once, in order, the same index names
//   (nats-server's hash of the API prefix) and the same StreamInfo sources.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nameHash } from '../../streams/sourcing/source-link.ts';
import { startChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort, startConfiguredNatsServer, type ConfiguredNatsServer } from '../helpers/nats-server.ts';

type TestServer = Pick<ConfiguredNatsServer, 'url' | 'httpUrl' | 'kill'>;

/** nats-server with a config file, on free client and monitoring ports. */
function natsServer(name: string, conf: string): Promise<TestServer> {
  return startConfiguredNatsServer(name, conf);
}

test('the domain fields: the same bytes and values as nats-server 2.9.10', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-domain-e2e-'));
  const servers: TestServer[] = [];
  const conns: NatsConnection[] = [];
  try {
    writeFileSync(join(dir, 'ns.conf'), `jetstream { store_dir: "${join(dir, 'ns-store')}", domain: edge1 }\n`);
    writeFileSync(join(dir, 'sl.conf'), `jetstream { store_dir: "${join(dir, 'sl-store')}", domain: edge1 }\n`);
    servers.push(await natsServer('ref', join(dir, 'ns.conf')));
    servers.push(await startChildServer({ portsDir: join(dir, 'ports'), name: 'ours', args: ['--host', '127.0.0.1', '--config', join(dir, 'sl.conf')] }));
    const seen: Record<string, unknown>[] = [];
    for (const s of servers) {
      const nc = await connect({ servers: s.url });
      conns.push(nc);
      const jsm = await jetstreamManager(nc, { domain: 'edge1' });
      await jsm.streams.add({ name: 'S', subjects: ['s.>'] });
      const ack = (await nc.request('s.a', 'x')).string();
      const h = headers();
      h.set('Nats-Msg-Id', 'once');
      await nc.request('s.b', 'y', { headers: h, timeout: 5000 });
      const dup = (await nc.request('s.b', 'y', { headers: h, timeout: 5000 })).string();
      const account = (await jsm.getAccountInfo()).domain;
      const info = domainOf(await jsm.streams.info('S'));
      seen.push({ infoDomain: domainOf(nc.info), ack, dup, account, info });
    }
    assert.deepEqual(seen[1], seen[0]);
    assert.equal(seen[0]!.ack, '{"stream":"S", "domain":"edge1", "seq":1}');
    assert.equal(seen[0]!.dup, '{"stream":"S", "domain":"edge1", "seq":2,"duplicate": true}');
  } finally {
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of servers) await s.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `domain` of an INFO or a StreamInfo (the client's types leave it out; the server sends it). */
function domainOf(o: object | undefined): unknown {
  return (o as { domain?: unknown } | undefined)?.domain;
}

// ---- cross-domain sourcing -----------------------------------------------------------------------

interface Flavour {
  hub(dir: string, leafPort: number): Promise<TestServer>;
  edge(dir: string, name: string, leafPort: number): Promise<TestServer>;
}

function hubConf(dir: string, leafPort: number): string {
  const file = join(dir, 'hub.conf');
  writeFileSync(file, `jetstream { store_dir: "${join(dir, 'hub-store')}", domain: hub }\nleafnodes { port: ${leafPort} }\n`);
  return file;
}

function edgeConf(dir: string, name: string, leafPort: number): string {
  const file = join(dir, `${name}.conf`);
  writeFileSync(file, `jetstream { store_dir: "${join(dir, `${name}-store`)}", domain: ${name} }\nleafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}" } ] }\n`);
  return file;
}

const sluice: Flavour = {
  hub: (dir, leafPort) => startChildServer({ portsDir: join(dir, 'ports'), name: 'hub', args: ['--host', '127.0.0.1', '--http-port', '0', '--config', hubConf(dir, leafPort)] }),
  edge: (dir, name, leafPort) => startChildServer({ portsDir: join(dir, 'ports'), name, args: ['--host', '127.0.0.1', '--http-port', '0', '--config', edgeConf(dir, name, leafPort)] }),
};

const reference: Flavour = {
  hub: (dir, leafPort) => natsServer('hub', hubConf(dir, leafPort)),
  edge: (dir, name, leafPort) => natsServer(name, edgeConf(dir, name, leafPort)),
};

async function publishOn(server: TestServer, edge: string, from: number, to: number): Promise<void> {
  const nc = await connect({ servers: server.url });
  try {
    const js = jetstream(nc);
    const acks = [];
    for (let i = from; i <= to; i++) acks.push(js.publish(`${edge}.temp`, `${edge}-${i}`));
    await Promise.all(acks);
  } finally {
    await nc.close();
  }
}

/**
 * The IoT shape with `hubKind` as the hub and `edgeKind` as the two edges (domains edge1, edge2,
 * each with a stream SENSORS): the hub's stream sources both by domain; edge1 is SIGKILLed and
 * restarted meanwhile. Returns what the hub stored and reported, for comparison.
 */
async function sourcingScenario(hubKind: Flavour, edgeKind: Flavour): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-xdomain-e2e-'));
  const leafPort = await freePort();
  const servers = new Map<string, TestServer>();
  const conns: NatsConnection[] = [];
  try {
    servers.set('hub', await hubKind.hub(dir, leafPort));
    for (const e of ['edge1', 'edge2']) servers.set(e, await edgeKind.edge(dir, e, leafPort));
    const hubNc = await connect({ servers: servers.get('hub')!.url });
    conns.push(hubNc);
    const hubJsm = await jetstreamManager(hubNc);
    // Each edge's JetStream is reachable from the hub once the link is up.
    for (const e of ['edge1', 'edge2']) {
      await waitFor(async () => {
        try {
          await (await jetstreamManager(hubNc, { domain: e, timeout: 1000 })).getAccountInfo();
          return true;
        } catch {
          return false;
        }
      }, `${e}'s JetStream reachable from the hub`, 20_000);
      const nc = await connect({ servers: servers.get(e)!.url });
      await (await jetstreamManager(nc)).streams.add({ name: 'SENSORS', subjects: [`${e}.>`] });
      await nc.close();
      await publishOn(servers.get(e)!, e, 1, 200);
    }
    await hubJsm.streams.add({ name: 'ALL', sources: [{ name: 'SENSORS', domain: 'edge1' }, { name: 'SENSORS', domain: 'edge2' }] });
    const count = async (): Promise<number> => (await hubJsm.streams.info('ALL')).state.messages;
    await waitFor(async () => (await count()) === 400, 'the hub to source 400 messages', 30_000);

    await servers.get('edge1')!.kill();
    await publishOn(servers.get('edge2')!, 'edge2', 201, 250);
    servers.set('edge1', await edgeKind.edge(dir, 'edge1', leafPort));
    await publishOn(servers.get('edge1')!, 'edge1', 201, 300);
    await waitFor(async () => (await count()) === 550, 'the hub to source 550 messages after edge1 restarted', 30_000);

    const info = await hubJsm.streams.info('ALL');
    const got: Record<string, string[]> = { edge1: [], edge2: [] };
    const sourceNames = new Set<string>();
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await hubJsm.streams.getMessage('ALL', { seq });
      assert.ok(m !== null);
      const data = m.string();
      got[data.split('-')[0]!]!.push(data);
      sourceNames.add(m.header.get('Nats-Stream-Source').split(' ')[0]!);
    }
    return {
      messages: info.state.messages,
      edge1: got.edge1,
      edge2: got.edge2,
      // The index names in Nats-Stream-Source: "SENSORS:<hash of the API prefix>" (2.9 and 2.10 alike).
      sourceNames: [...sourceNames].sort(),
      sources: (info.sources ?? []).map((s) => ({ name: s.name, external: (s as { external?: unknown }).external, lag: s.lag, heard: s.active >= 0 })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    };
  } finally {
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of servers.values()) await s.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('cross-domain sourcing: nats-server 2.9.10 as the hub of sluice edges, a sluice hub of nats-server edges, same results', async () => {
  const expected = {
    messages: 550,
    edge1: Array.from({ length: 300 }, (_, i) => `edge1-${i + 1}`),
    edge2: Array.from({ length: 250 }, (_, i) => `edge2-${i + 1}`),
    sourceNames: [`SENSORS:${nameHash('$JS.edge1.API')}`, `SENSORS:${nameHash('$JS.edge2.API')}`].sort(),
    sources: [
      { name: 'SENSORS', external: { api: '$JS.edge1.API', deliver: '' }, lag: 0, heard: true },
      { name: 'SENSORS', external: { api: '$JS.edge2.API', deliver: '' }, lag: 0, heard: true },
    ],
  };
  const refHub = await sourcingScenario(reference, sluice);
  assert.deepEqual(refHub, expected, 'nats-server hub, sluice edges');
  const ourHub = await sourcingScenario(sluice, reference);
  assert.deepEqual(ourHub, expected, 'sluice hub, nats-server edges');
});
