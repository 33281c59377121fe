// The sluice CLI run in-process (runCli with a captured CliIo) or as a child process
// (`node --import tsx cli/main.ts ...`), for tests: stdout, stderr and the exit code.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { runCli } from '../../cli/program.ts';
import type { CliIo } from '../../cli/io.ts';
import { waitFor } from './deadline.ts';

const root = resolve(import.meta.dirname, '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InProcessOptions {
  /** Environment seen by the CLI (default: empty, so NATS_URL of the test machine does not leak in). */
  env?: Record<string, string>;
  stdin?: string;
  stdinIsTTY?: boolean;
  stdoutIsTTY?: boolean;
  stderrIsTTY?: boolean;
  signal?: AbortSignal;
}

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

/** A CLI run in this process whose output can be watched while it runs. */
export class LiveCli {
  stdout = '';
  stderr = '';
  readonly done: Promise<number>;
  private readonly abort = new AbortController();

  constructor(args: readonly string[], o: InProcessOptions = {}) {
    const io: CliIo = {
      stdout: (t) => void (this.stdout += t),
      stderr: (t) => void (this.stderr += t),
      stdin: o.stdin === undefined ? undefined : bytes(o.stdin),
      stdinIsTTY: o.stdinIsTTY ?? false,
      stdoutIsTTY: o.stdoutIsTTY ?? false,
      stderrIsTTY: o.stderrIsTTY ?? false,
      env: o.env ?? {},
      stopSignal: () => o.signal ?? this.abort.signal,
    };
    this.done = runCli(['node', 'sluice', ...args], io);
  }

  /** Waits until stderr (or stdout) matches. */
  async waitFor(pattern: RegExp, where: 'stdout' | 'stderr' = 'stderr', timeoutMs = 10_000): Promise<void> {
    await waitFor(() => pattern.test(this[where]), `${where} to match ${pattern}`, timeoutMs);
  }

  /** Ctrl-C. */
  stop(): void {
    this.abort.abort();
  }

  async result(): Promise<CliRun> {
    const code = await this.done;
    return { code, stdout: this.stdout, stderr: this.stderr };
  }
}

export function cli(args: readonly string[], o: InProcessOptions = {}): Promise<CliRun> {
  return new LiveCli(args, o).result();
}

/** The CLI as its own process (tsx start-up included: ~1 s). */
export async function cliProcess(args: readonly string[], env: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) child.stdin!.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

/** Exit code 1 and exactly one stderr line, `sluice: ...`, matching `pattern`. */
export function oneErrorLine(r: CliRun, pattern: RegExp): string {
  if (r.code !== 1) throw new Error(`expected exit code 1, got ${r.code} (stderr: ${JSON.stringify(r.stderr)})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1) throw new Error(`expected one stderr line, got ${JSON.stringify(r.stderr)}`);
  const line = lines[0]!;
  if (!line.startsWith('sluice: ') || !pattern.test(line)) throw new Error(`stderr line ${JSON.stringify(line)} does not match ${pattern}`);
  return line;
}
