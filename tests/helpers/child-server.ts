// `sluice server` in its own process (the CLI, as users run it) on a free port, for crash tests:
// it is found through its ports file, and can be SIGKILLed so that no shutdown path runs.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor, within } from './deadline.ts';

const root = resolve(import.meta.dirname, '../..');

export interface ChildServer {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** The ports file's other URLs (empty when the listener is off). */
  readonly clusterUrl: string;
  readonly clusterPort: number;
  readonly httpUrl: string;
  /** What the process wrote so far, stdout (its JSON log at the chosen level) and stderr. */
  output(): string;
  readonly exited: Promise<number | null>;
  /** SIGKILL and wait for the process to be gone. */
  kill(): Promise<void>;
}

export interface ChildServerOptions {
  /** JetStream store directory; JetStream is off without it. */
  storeDir?: string;
  portsDir: string;
  name: string;
  /** More `sluice server` flags. */
  args?: readonly string[];
}

export async function startChildServer(opts: ChildServerOptions): Promise<ChildServer> {
  const args = ['--import', 'tsx', 'cli/main.ts', 'server', '--port', '0'];
  if (opts.storeDir !== undefined) args.push('--store-dir', opts.storeDir);
  args.push('--ports-file-dir', opts.portsDir, '--name', opts.name, '--log-level', 'warn', ...(opts.args ?? []));
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      exitCode = code;
      r(code);
    }),
  );
  const portsFile = join(opts.portsDir, `${opts.name}_${proc.pid}.ports`);
  const ports = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) before listening: ${stderr}`);
      try {
        return JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[]; cluster?: string[]; monitoring?: string[] };
      } catch {
        return undefined;
      }
    },
    'the server to write its ports file',
    30_000,
  );
  const port = Number(new URL(ports.nats[0]!).port);
  const clusterUrl = ports.cluster?.[0] ?? '';
  return {
    proc,
    port,
    url: `nats://127.0.0.1:${port}`,
    clusterUrl,
    clusterPort: clusterUrl === '' ? 0 : Number(new URL(clusterUrl).port),
    httpUrl: ports.monitoring?.[0] ?? '',
    output: () => stderr,
    exited,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await within(exited, 10_000, 'server process to die');
    },
  };
}
