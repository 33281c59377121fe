// The `sluice` program: one commander Command per file, registered here. Every failure reaches
// the user as ONE line on stderr, `sluice: <message>`, and exit code 1: no stack traces, no help
// dump, so scripts and humans can read what went wrong.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, errorLine, oneLine, processIo, type CliIo } from './io.ts';
import { createServerCommand } from './server-command.ts';
import { rewriteSignalFlag } from './signal-command.ts';

export { CliError, oneLine, processIo };
export type { CliIo };

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * The program for `argv`. `sluice server ...` gets the server command only: a broker's start-up
 * (restarts under a supervisor, clients retrying meanwhile) skips loading the client commands
 * (client-commands.ts); any other command line gets them all.
 */
export async function buildProgram(io: CliIo = processIo, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('sluice')
    .description('A NATS-protocol message broker with persistent streams')
    .version(packageVersion(), '-v, --version', 'print the version')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(errorLine(s, io.stderrIsTTY === true)),
    })
    // Program options only before the command name: `sluice server --user x` stays the server's
    // --user. Client commands carry the connection flags themselves (connect.ts), so they are
    // accepted after the command name too.
    .enablePositionalOptions()
    // Throw instead of calling process.exit, so runCli decides the exit code in one place.
    .exitOverride();

  program.addCommand(createServerCommand().copyInheritedSettings(program));
  if (argv[2] === 'server') return program;
  const { addClientCommands } = await import('./client-commands.ts');
  addClientCommands(program, io);
  return program;
}

/**
 * Parses `argv` (process.argv shape: node, script, args...) and runs the command. Resolves to the
 * exit code once the command is done (for `server`: after it has been shut down by a signal).
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = await buildProgram(io, argv);
  try {
    await program.parseAsync(argv[2] === 'server' ? [...argv.slice(0, 3), ...rewriteSignalFlag(argv.slice(3))] : [...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Already printed through outputError (or help/version printed, exit code 0).
      return err.exitCode;
    }
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const message = err instanceof Error ? err.message : String(err);
    io.stderr(errorLine(message, io.stderrIsTTY === true));
    return exitCode;
  }
}
