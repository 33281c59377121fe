// Entry point of the `sluice` executable: built into dist/cli.js (package.json's bin); bin/sluice
// in a checkout runs that build, or this file through tsx while the build is stale.

import { tuneHeap } from './heap-tuning.ts';
import { runCli } from './program.ts';

tuneHeap();

// A closed stdout/stderr pipe (`sluice --help | head -1`) must not crash the process with an
// unhandled 'error' event; there is nobody left to tell, so drop the output.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

const exitCode = await runCli(process.argv);
// Exit explicitly: a stopped server may leave idle handles (keep-alive sockets, timers) that
// would otherwise keep the process up. Log lines go out as they are logged; one still queued for a
// slow stdout reader at this point is lost, like the lines the sink drops (server/log-sink.ts).
process.exit(exitCode);
