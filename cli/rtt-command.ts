// `sluice rtt [iterations]`: round trips (PING/PONG) to the connected server, as `nats rtt`.

import { Command } from 'commander';
import { withContext } from './connect.ts';
import { humanDuration } from './format.ts';
import type { CliIo } from './io.ts';
import { intFlag } from './values.ts';

export function createRttCommand(io: CliIo): Command {
  return new Command('rtt')
    .description('measure the round-trip time to the server')
    .argument('[iterations]', 'how many round trips', '5')
    .option('-j, --json', 'print JSON')
    .action(async (iterationsText: string, f: { json?: boolean }, cmd: Command) => {
      const iterations = intFlag('iterations', iterationsText, 1, 10_000);
      await withContext(io, cmd, async (ctx) => {
        const nc = await ctx.connect();
        const rtts: number[] = [];
        for (let i = 0; i < iterations; i++) rtts.push(await nc.rtt());
        const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
        const server = nc.getServer();
        if (f.json === true) {
          ctx.out.json({ server, iterations, rtt_ns: rtts.map((ms) => Math.round(ms * 1e6)), average_ns: Math.round(avg * 1e6) });
          return;
        }
        ctx.out.line(`${server}:`);
        ctx.out.line();
        rtts.forEach((ms, i) => ctx.out.line(`  #${i + 1}: rtt=${humanDuration(ms)}`));
        ctx.out.line();
        ctx.out.line(`  average: ${humanDuration(avg)}`);
      });
    });
}
