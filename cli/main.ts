// Entry point of the `sluice` executable (bin/sluice loads it through tsx).

import { runCli } from './program.ts';

// A closed stdout/stderr pipe (`sluice --help | head -1`) must not crash the process with an
// unhandled 'error' event; there is nobody left to tell, so drop the output.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

const exitCode = await runCli(process.argv);
// Exit explicitly: a stopped server may leave idle handles (keep-alive sockets, timers) that
// would otherwise keep the process up. Buffered log output is flushed by pino on 'exit'.
process.exit(exitCode);
