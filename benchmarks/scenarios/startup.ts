// startup: how fast a fresh server accepts clients and how much memory it holds doing nothing, with
// JetStream on (a fresh store directory). The runner starts every run's server itself, so the
// numbers come from that start: spawn -> the first TCP connection that receives INFO (probed every
// 2 ms), and VmRSS after the runner's settle time (--settle-ms, 500 ms by default) with no client
// connected. A client that retries every 100 ms while a server restarts sees about
// startupMs / 100 failed attempts. `cpuMs` is the CPU time (user + system, all threads) the server
// has used by then, start-up almost entirely: less sensitive to other tenants of the machine than
// the wall time.
//
// Nothing is sent; the scenario only reads what the runner measured, so it cannot be run against
// an already running server (run.ts --server).

import { procCpuSeconds, procRssKb } from '../lib/servers.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

export function startupScenario(): Scenario {
  return {
    name: 'startup',
    group: 'startup',
    description: 'spawn -> first accepted connection (INFO), and idle RSS, JetStream on',
    params: { starts: 1 },
    countParam: 'starts',
    metrics: [
      { key: 'startupMs', label: 'start-up ms', better: 'lower' },
      { key: 'idleRssMiB', label: 'idle RSS MiB', better: 'lower' },
      { key: 'cpuMs', label: 'CPU ms', better: 'lower' },
    ],
    primary: 'startupMs',
    needs: ['jetstream'],
    rounds: 7,
    async run(ctx: RunContext): Promise<Metrics> {
      const { startupMs, pid } = ctx.server;
      if (startupMs === undefined || pid === undefined) throw new Error('startup needs a server started by the compare (npm run bench)');
      const rssKb = procRssKb(pid);
      const cpuSec = procCpuSeconds(pid);
      if (rssKb === null || cpuSec === null) throw new Error(`server ${pid} is gone`);
      return { startupMs, idleRssMiB: rssKb / 1024, cpuMs: cpuSec * 1000 };
    },
  };
}
