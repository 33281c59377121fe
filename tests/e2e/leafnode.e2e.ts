// Leaf nodes against nats-server 2.9.10, in both roles, with the scenarios of
// tests/integration/leafnode-suite.ts: nats-server as the hub of two sluice edges, and a sluice hub
// with two nats-server edges. Each server reads the same nats-server style config text. Plus a
// sluice edge dialling a nats-server hub that requires TLS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { makeTestCerts } from '../helpers/certs.ts';
import { startChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort, startConfiguredNatsServer } from '../helpers/nats-server.ts';
import { hubConf, leafnodeSuite, remotesConf, sluiceServers, type LeafTestServer, type RemoteSpec } from '../integration/leafnode-suite.ts';

/** nats-server on the given client port with a config file and a monitoring port. */
function natsServer(name: string, conf: string, clientPort: number): Promise<LeafTestServer> {
  return startConfiguredNatsServer(name, conf, clientPort);
}

leafnodeSuite('nats-server 2.9.10 as the hub of two sluice edges', {
  async hub(dir, leafPort, clientPort, wsPort) {
    writeFileSync(join(dir, 'ns-hub.conf'), hubConf(leafPort, wsPort));
    return natsServer('hub', join(dir, 'ns-hub.conf'), clientPort);
  },
  edge: sluiceServers.edge,
});

const natsServerEdges = {
  hub: sluiceServers.hub,
  async edge(dir: string, name: string, remotes: readonly RemoteSpec[]) {
    writeFileSync(join(dir, `ns-${name}.conf`), remotesConf(remotes));
    return natsServer(name, join(dir, `ns-${name}.conf`), await freePort());
  },
};

leafnodeSuite('a sluice hub with two nats-server 2.9.10 edges', natsServerEdges);

leafnodeSuite('a sluice hub with two nats-server 2.9.10 edges dialling its WebSocket port', natsServerEdges, 'ws');

test('a sluice edge reaches a nats-server hub that requires TLS, checking the hub with its CA', async () => {
  const certs = makeTestCerts();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-tls-'));
  const leafPort = await freePort();
  writeFileSync(join(dir, 'hub.conf'), `leafnodes { port: ${leafPort}, tls { cert_file: "${certs.certFile}", key_file: "${certs.keyFile}" } }\n`);
  const hub = await natsServer('tls-hub', join(dir, 'hub.conf'), await freePort());
  const servers: LeafTestServer[] = [hub];
  try {
    // Trusting another CA, the edge must not connect; trusting the right one, it must.
    const wrong = `leafnodes { remotes: [ { url: "nats-leaf://127.0.0.1:${leafPort}", tls { ca_file: "${certs.otherCaFile}" } } ] }\n`;
    writeFileSync(join(dir, 'wrong.conf'), wrong);
    const untrusting = await startChildServer({ portsDir: join(dir, 'ports'), name: 'untrusting', args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'wrong.conf')] });
    servers.push(untrusting);
    writeFileSync(join(dir, 'edge.conf'), `leafnodes { remotes: [ { url: "nats-leaf://localhost:${leafPort}", tls { ca_file: "${certs.caFile}" } } ] }\n`);
    const edge = await startChildServer({ portsDir: join(dir, 'ports'), name: 'tls-edge', args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'edge.conf')] });
    servers.push(edge);
    const onHub = await connect({ servers: hub.url });
    const onEdge = await connect({ servers: edge.url });
    try {
      onHub.subscribe('svc.tls', { callback: (_e, m) => void m.respond('over tls') });
      await onHub.flush();
      const reply = await waitFor(async () => {
        try {
          return (await onEdge.request('svc.tls', '', { timeout: 1000 })).string();
        } catch {
          return undefined;
        }
      }, 'a reply over the TLS leaf link', 15_000);
      assert.equal(reply, 'over tls');
      const z = (await (await fetch(`${untrusting.httpUrl}/leafz`)).json()) as { leafnodes: number };
      assert.equal(z.leafnodes, 0, 'an edge that does not trust the hub certificate has no link');
    } finally {
      await onHub.close();
      await onEdge.close();
    }
  } finally {
    for (const s of servers) await s.kill();
    certs.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sluice edge reaches a nats-server hub over WebSocket (ws://host:port, path /leafnode)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-ws-'));
  const wsPort = await freePort();
  writeFileSync(join(dir, 'hub.conf'), `websocket { port: ${wsPort}, no_tls: true }\nleafnodes { port: ${await freePort()} }\n`);
  const hub = await natsServer('ws-hub', join(dir, 'hub.conf'), await freePort());
  const servers: LeafTestServer[] = [hub];
  try {
    writeFileSync(join(dir, 'edge.conf'), `leafnodes { remotes: [ { url: "ws://127.0.0.1:${wsPort}" } ] }\n`);
    const edge = await startChildServer({ portsDir: join(dir, 'ports'), name: 'ws-edge', args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'edge.conf')] });
    servers.push(edge);
    const onHub = await connect({ servers: hub.url });
    const onEdge = await connect({ servers: edge.url });
    try {
      onEdge.subscribe('svc.ws', { callback: (_e, m) => void m.respond('over websocket') });
      await onEdge.flush();
      const reply = await waitFor(async () => {
        try {
          return (await onHub.request('svc.ws', '', { timeout: 1000 })).string();
        } catch {
          return undefined;
        }
      }, 'a reply over the WebSocket leaf link', 15_000);
      assert.equal(reply, 'over websocket');
    } finally {
      await onHub.close();
      await onEdge.close();
    }
  } finally {
    for (const s of servers) await s.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
