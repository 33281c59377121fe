// The `sluice` program: one commander Command per file, registered here. Every failure reaches
// the user as ONE line on stderr, `sluice: <message>`, and exit code 1: no stack traces, no help
// dump, so scripts and humans can read what went wrong.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { createServerCommand } from './server-command.ts';

/** A user-facing failure: its message is printed as-is after "sluice: ". */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Where the program writes; tests pass their own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Folds a multi-line message (commander adds "(Did you mean ...?)" lines) into one line. */
export function oneLine(text: string): string {
  return text
    .replace(/^error:\s*/i, '')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join(' ');
}

export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('sluice')
    .description('A NATS-protocol message broker with persistent streams')
    .version(packageVersion(), '-v, --version', 'print the version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(`sluice: ${oneLine(s)}\n`),
    })
    // Throw instead of calling process.exit, so runCli decides the exit code in one place.
    .exitOverride();

  // One file per command. Later: pub, sub, req, reply, stream, consumer, kv, bench.
  for (const command of [createServerCommand()]) {
    program.addCommand(command.copyInheritedSettings(program));
  }
  return program;
}

/**
 * Parses `argv` (process.argv shape: node, script, args...) and runs the command. Resolves to the
 * exit code once the command is done (for `server`: after it has been shut down by a signal).
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Already printed through outputError (or help/version printed, exit code 0).
      return err.exitCode;
    }
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(`sluice: ${oneLine(message)}\n`);
    return exitCode;
  }
}
