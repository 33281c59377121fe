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

/** A nats-server with a name, a config file and a monitoring port, as the leaf node tests use it. */
export interface ConfiguredNatsServer {
  readonly url: string;
  readonly httpUrl: string;
  /** What it logged so far. */
  output(): string;
  /** SIGKILL and wait for the process to be gone. */
  kill(): Promise<void>;
}

/** nats-server named `name` with config file `conf`, on `clientPort` (a free one by default) and a free monitoring port. */
export async function startConfiguredNatsServer(name: string, conf: string, clientPort?: number): Promise<ConfiguredNatsServer> {
  if (!natsServerAvailable()) throw new Error('nats-server is not installed (apt-get install -y nats-server; .ci/run does this)');
  const port = clientPort ?? (await freePort());
  const httpPort = await freePort();
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-m', String(httpPort), '-n', name, '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  await waitFor(async () => {
    if (exited) throw new Error(`nats-server exited: ${log}`);
    return (await canConnect(port)) && (await canConnect(httpPort));
  }, `nats-server ${name} to accept connections`, 10_000);
  return {
    url: `nats://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    output: () => log,
    async kill() {
      if (!exited) child.kill('SIGKILL');
      await gone;
    },
  };
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
