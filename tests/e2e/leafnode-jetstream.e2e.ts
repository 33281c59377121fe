// JetStream domains and cross-domain sourcing against nats-server 2.9.10:
// - a server with `jetstream { domain }` names its domain where nats-server does: the PubAck bytes,
//   INFO, account info and stream info, compared side by side on the same config text.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { canConnect, freePort, natsServerAvailable } from '../helpers/nats-server.ts';

export interface TestServer {
  readonly url: string;
  readonly httpUrl: string;
  kill(): Promise<void>;
}

/** nats-server with a config file, on free client and monitoring ports. */
export async function natsServer(name: string, conf: string): Promise<TestServer> {
  if (!natsServerAvailable()) throw new Error('nats-server is not installed (apt-get install -y nats-server; .ci/run does this)');
  const clientPort = await freePort();
  const httpPort = await freePort();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(clientPort), '-m', String(httpPort), '-n', name, '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  await waitFor(async () => {
    if (exited) throw new Error(`nats-server exited: ${log}`);
    return (await canConnect(clientPort)) && (await canConnect(httpPort));
  }, `nats-server ${name} to accept connections`, 10_000);
  return {
    url: `nats://127.0.0.1:${clientPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await gone;
    },
  };
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
