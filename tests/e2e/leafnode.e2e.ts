// Leaf nodes against nats-server 2.9.10, in both roles, with the scenarios of
// tests/integration/leafnode-suite.ts: nats-server as the hub of two sluice edges, and a sluice hub
// with two nats-server edges. Each server reads the same nats-server style config text.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../helpers/deadline.ts';
import { canConnect, freePort, natsServerAvailable } from '../helpers/nats-server.ts';
import { hubConf, leafnodeSuite, remotesConf, sluiceServers, type LeafTestServer } from '../integration/leafnode-suite.ts';

/** nats-server on the given client port with a config file and a monitoring port. */
async function natsServer(name: string, conf: string, clientPort: number): Promise<LeafTestServer> {
  if (!natsServerAvailable()) throw new Error('nats-server is not installed (apt-get install -y nats-server; .ci/run does this)');
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
    output: () => log,
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await gone;
    },
  };
}

leafnodeSuite('nats-server 2.9.10 as the hub of two sluice edges', {
  async hub(dir, leafPort, clientPort) {
    writeFileSync(join(dir, 'ns-hub.conf'), hubConf(leafPort));
    return natsServer('hub', join(dir, 'ns-hub.conf'), clientPort);
  },
  edge: sluiceServers.edge,
});

leafnodeSuite('a sluice hub with two nats-server 2.9.10 edges', {
  hub: sluiceServers.hub,
  async edge(dir, name, remotes) {
    writeFileSync(join(dir, `ns-${name}.conf`), remotesConf(remotes));
    return natsServer(name, join(dir, `ns-${name}.conf`), await freePort());
  },
});
