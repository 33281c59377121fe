// Runs one scenario once against one server endpoint and adds CPU attribution: the server's CPU
// (from /proc, when its pid is known) and this generator process's CPU over the measured window,
// both as % of one core. A generator near 100 % means the number is capped by the load generator,
// not by the server. otherCpuPct is machine-wide busy time used by neither: other tenants, i.e. noise.

import { performance } from 'node:perf_hooks';
import { machineCpuSeconds, procCpuSeconds } from './servers.ts';
import type { Metrics, Params, RunContext, Scenario, ServerTarget } from '../scenarios/types.ts';

export interface RunOnceOptions {
  server: ServerTarget;
  /** Server process id, for CPU attribution; omit when unknown. */
  pid?: number;
  params: Params;
  log?: (line: string) => void;
}

export async function runOnce(scenario: Scenario, o: RunOnceOptions): Promise<Metrics> {
  let wallStart = 0;
  let wallEnd = 0;
  let genStart: NodeJS.CpuUsage | null = null;
  let genUsage: NodeJS.CpuUsage | null = null;
  let srvStart: number | null = null;
  let srvEnd: number | null = null;
  let machineStart: number | null = null;
  let machineEnd: number | null = null;
  const ctx: RunContext = {
    server: o.server,
    params: o.params,
    measureStart() {
      wallStart = performance.now();
      genStart = process.cpuUsage();
      srvStart = o.pid !== undefined ? procCpuSeconds(o.pid) : null;
      machineStart = machineCpuSeconds();
    },
    measureEnd() {
      wallEnd = performance.now();
      genUsage = genStart !== null ? process.cpuUsage(genStart) : null;
      srvEnd = o.pid !== undefined ? procCpuSeconds(o.pid) : null;
      machineEnd = machineCpuSeconds();
    },
    log: o.log ?? (() => undefined),
  };
  const metrics = await scenario.run(ctx);
  const wallSec = (wallEnd - wallStart) / 1000;
  if (wallSec > 0) {
    const g = genUsage as NodeJS.CpuUsage | null;
    if (g !== null) metrics.genCpuPct = ((g.user + g.system) / 1e6 / wallSec) * 100;
    if (srvStart !== null && srvEnd !== null) metrics.serverCpuPct = ((srvEnd - srvStart) / wallSec) * 100;
    // Busy time of the whole machine not spent in the server or in this process: other tenants.
    if (machineStart !== null && machineEnd !== null && metrics.genCpuPct !== undefined && metrics.serverCpuPct !== undefined) {
      const busyPct = ((machineEnd - machineStart) / wallSec) * 100;
      metrics.otherCpuPct = Math.max(0, busyPct - metrics.genCpuPct - metrics.serverCpuPct);
    }
  }
  return metrics;
}

export const CPU_METRICS = [
  { key: 'serverCpuPct', label: 'server CPU %', better: 'lower' },
  { key: 'genCpuPct', label: 'generator CPU %', better: 'lower' },
  { key: 'otherCpuPct', label: 'other CPU % (noise)', better: 'lower' },
] as const;
