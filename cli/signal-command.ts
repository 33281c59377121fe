// `sluice server --signal <command>[=<pid>|=<pid file>]` (also `-sl`, nats-server's spelling):
// sends a running server the signal behind the command and exits, without starting a server.
// The commands and their signals are nats-server's, so scripts written for it work unchanged.

import { readFileSync } from 'node:fs';
import { CliError } from './io.ts';

/** command -> the signal it sends (what the server does with each: docs/operations.md). */
export const SIGNAL_COMMANDS: Readonly<Record<string, NodeJS.Signals>> = {
  stop: 'SIGKILL',
  quit: 'SIGINT',
  term: 'SIGTERM',
  reopen: 'SIGUSR1',
  reload: 'SIGHUP',
  ldm: 'SIGUSR2',
};

const EXPECTED = `one of ${Object.keys(SIGNAL_COMMANDS).join(', ')}, followed by =<pid> or =<pid file>`;

export interface SignalRequest {
  readonly command: string;
  readonly signal: NodeJS.Signals;
  readonly pid: number;
}

function invalid(got: string, why = EXPECTED): CliError {
  return new CliError(`invalid value for --signal: expected ${why}, got ${JSON.stringify(got)}`);
}

/**
 * Parses `ldm=1234` or `reload=/var/run/sluice.pid`. nats-server also accepts a bare command and
 * looks the process up by name; sluice runs under node, whose process name says nothing, so the
 * pid (or the file `--pid` wrote) is required.
 */
export function parseSignalRequest(text: string, readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): SignalRequest {
  const eq = text.indexOf('=');
  const command = (eq < 0 ? text : text.slice(0, eq)).trim().toLowerCase();
  const signal = SIGNAL_COMMANDS[command];
  if (signal === undefined) throw invalid(text);
  const target = eq < 0 ? '' : text.slice(eq + 1).trim();
  if (target === '') throw invalid(text, `a process after "${command}=": a pid or a pid file`);
  let pidText = target;
  if (!/^\d+$/.test(target)) {
    try {
      pidText = readFile(target).trim();
    } catch (err) {
      throw new CliError(`--signal: cannot read pid file ${target}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (!/^\d+$/.test(pidText)) throw new CliError(`--signal: pid file ${target} does not hold a process id`);
  }
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw invalid(text, 'a positive process id');
  return { command, signal, pid };
}

/** Sends the signal; one clear line when the process is not there or not ours. */
export function sendSignal(req: SignalRequest, kill: (pid: number, signal: NodeJS.Signals) => void = (p, s) => process.kill(p, s)): void {
  try {
    kill(req.pid, req.signal);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new CliError(`--signal ${req.command}: no process with pid ${req.pid}`);
    if (code === 'EPERM') throw new CliError(`--signal ${req.command}: not allowed to signal pid ${req.pid}`);
    throw new CliError(`--signal ${req.command}: ${String(err)}`);
  }
}

/** nats-server's two-letter `-sl` is not a short flag commander can parse: spell it `--signal`. */
export function rewriteSignalFlag(args: readonly string[]): string[] {
  return args.map((a) => (a === '-sl' ? '--signal' : a.startsWith('-sl=') ? `--signal=${a.slice(4)}` : a));
}
