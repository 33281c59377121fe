// The client commands (pub, sub, req, reply, rtt, stream, consumer, kv, bench) and the connection
// flags they share, added to the program. program.ts imports this module only when the command
// line is not `sluice server`: a broker's start-up does not load the client, its codecs or the
// bench's progress bars (docs/adr/0011-shipping-javascript.md).

import type { Command } from 'commander';
import { createBenchCommand } from './bench-command.ts';
import { addConnectionFlags } from './connect.ts';
import { createConsumerCommand } from './consumer-command.ts';
import { createKvCommand } from './kv-command.ts';
import type { CliIo } from './io.ts';
import { createPubCommand, createReqCommand } from './pub-command.ts';
import { createRttCommand } from './rtt-command.ts';
import { createStreamCommand } from './stream-command.ts';
import { createReplyCommand, createSubCommand } from './sub-command.ts';

/** The connection flags on the program (visible in `sluice --help`) and every client command. */
export function addClientCommands(program: Command, io: CliIo): void {
  addConnectionFlags(program, true);
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
