// The `sluice` program: one commander Command per file, registered here. Every failure reaches
// the user as ONE line on stderr, `sluice: <message>`, and exit code 1: no stack traces, no help
// dump, so scripts and humans can read what went wrong.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { createBenchCommand } from './bench-command.ts';
import { addConnectionFlags } from './connect.ts';
import { createConsumerCommand } from './consumer-command.ts';
import { createKvCommand } from './kv-command.ts';
import { CliError, errorLine, oneLine, processIo, type CliIo } from './io.ts';
import { createPubCommand, createReqCommand } from './pub-command.ts';
import { createRttCommand } from './rtt-command.ts';
import { createServerCommand } from './server-command.ts';
import { createStreamCommand } from './stream-command.ts';
import { createReplyCommand, createSubCommand } from './sub-command.ts';

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

export function buildProgram(io: CliIo = processIo): Command {
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

  addConnectionFlags(program, true);
  program.addCommand(createServerCommand().copyInheritedSettings(program));
  // One file per command group; each gets the connection flags at every level.
  const clientCommands = [
    createPubCommand(io),
    createSubCommand(io),
    createReqCommand(io),
    createReplyCommand(io),
    createRttCommand(io),
    createStreamCommand(io),
    createConsumerCommand(io),
    createKvCommand(io),
    createBenchCommand(io),
  ];
  for (const command of clientCommands) program.addCommand(withConnectionFlags(command, program));
  return program;
}

const CONNECTION_HELP = '\nConnection flags (-s/--server, --user, --password, --token, --nkey, --tlsca, --tlscert, --tlskey, --timeout) go before or after the command; see sluice --help.';

/** Output settings and (hidden) connection flags on `cmd` and every command below it. */
function withConnectionFlags(cmd: Command, program: Command): Command {
  cmd.copyInheritedSettings(program);
  addConnectionFlags(cmd, false);
  if (cmd.commands.length === 0) cmd.addHelpText('after', CONNECTION_HELP);
  for (const sub of cmd.commands) withConnectionFlags(sub, program);
  return cmd;
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
    io.stderr(errorLine(message, io.stderrIsTTY === true));
    return exitCode;
  }
}
