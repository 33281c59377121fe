// The reference Go nats-server (Debian package `nats-server`), started on a free port for
// side-by-side tests. Only tests/e2e use it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { waitFor } from './deadline.ts';

export function natsServerAvailable(): boolean {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface ReferenceServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startNatsServer(extraArgs: string[] = []): Promise<ReferenceServer> {
  if (!natsServerAvailable()) {
    // The e2e tier exists to compare with the reference server: missing it is a failure, not a skip.
    throw new Error('nats-server is not installed (apt-get install -y nats-server; .ci/run does this)');
  }
  const port = await freePort();
  const child: ChildProcess = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitFor(async () => {
    if (exited) throw new Error(`nats-server exited: ${stderr}`);
    return canConnect(port);
  }, 'nats-server to accept connections', 10_000);
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
