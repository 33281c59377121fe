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
  readonly exited: Promise<number | null>;
  /** SIGKILL and wait for the process to be gone. */
  kill(): Promise<void>;
}

export interface ChildServerOptions {
  storeDir: string;
  portsDir: string;
  name: string;
  /** More `sluice server` flags. */
  args?: readonly string[];
}

export async function startChildServer(opts: ChildServerOptions): Promise<ChildServer> {
  const args = ['--import', 'tsx', 'cli/main.ts', 'server', '--port', '0', '--store-dir', opts.storeDir];
  args.push('--ports-file-dir', opts.portsDir, '--name', opts.name, '--log-level', 'warn', ...(opts.args ?? []));
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      exitCode = code;
      r(code);
    }),
  );
  const portsFile = join(opts.portsDir, `${opts.name}_${proc.pid}.ports`);
  const port = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) before listening: ${stderr}`);
      try {
        const url = (JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] }).nats[0]!;
        return Number(new URL(url).port);
      } catch {
        return undefined;
      }
    },
    'the server to write its ports file',
    30_000,
  );
  return {
    proc,
    port,
    url: `nats://127.0.0.1:${port}`,
    exited,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await within(exited, 10_000, 'server process to die');
    },
  };
}
