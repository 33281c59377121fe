// Runs one scenario once against one server endpoint and adds CPU attribution: the server's CPU
// (from /proc, when its pid is known) and this generator process's CPU over the measured window,
// both as % of one core. A generator near 100 % means the number is capped by the load generator,
// not by the server. otherCpuPct is machine-wide busy time used by neither: other tenants, i.e. noise.
// For a cluster scenario the server CPU is summed over every server process of the cluster.

import { performance } from 'node:perf_hooks';
import { machineCpuSeconds, procCpuSeconds } from './servers.ts';
import type { Metrics, Params, RunContext, Scenario, ServerControl, ServerTarget } from '../scenarios/types.ts';

export interface RunOnceOptions {
  server: ServerTarget;
  /** Every server of a cluster scenario (server 1 first); default [server]. */
  cluster?: ServerTarget[];
  /** Server process id(s), for CPU attribution; omit when unknown. With several (a cluster),
   * serverCpuPct is their sum and serverCpuPct1..N are the servers' own shares. */
  pid?: number | number[];
  params: Params;
  log?: (line: string) => void;
  /** Kill/restart the servers (only the compare, which started them, can). */
  control?: ServerControl;
}

export async function runOnce(scenario: Scenario, o: RunOnceOptions): Promise<Metrics> {
  let wallStart = 0;
  let wallEnd = 0;
  let genStart: NodeJS.CpuUsage | null = null;
  let genUsage: NodeJS.CpuUsage | null = null;
  const pids = o.pid === undefined ? [] : Array.isArray(o.pid) ? o.pid : [o.pid];
  let srvStart: (number | null)[] = [];
  let srvEnd: (number | null)[] = [];
  let machineStart: number | null = null;
  let machineEnd: number | null = null;
  const ctx: RunContext = {
    server: o.server,
    cluster: o.cluster ?? [o.server],
    params: o.params,
    measureStart() {
      wallStart = performance.now();
      genStart = process.cpuUsage();
      srvStart = pids.map(procCpuSeconds);
      machineStart = machineCpuSeconds();
    },
    measureEnd() {
      wallEnd = performance.now();
      genUsage = genStart !== null ? process.cpuUsage(genStart) : null;
      srvEnd = pids.map(procCpuSeconds);
      machineEnd = machineCpuSeconds();
    },
    log: o.log ?? (() => undefined),
    control: o.control,
  };
  const metrics = await scenario.run(ctx);
  const wallSec = (wallEnd - wallStart) / 1000;
  if (wallSec > 0) {
    const g = genUsage as NodeJS.CpuUsage | null;
    if (g !== null) metrics.genCpuPct = ((g.user + g.system) / 1e6 / wallSec) * 100;
    const srvPct = pids.map((_, i) => {
      const a = srvStart[i];
      const b = srvEnd[i];
      return a !== null && a !== undefined && b !== null && b !== undefined ? ((b - a) / wallSec) * 100 : null;
    });
    if (srvPct.length > 0 && srvPct.every((v) => v !== null)) {
      metrics.serverCpuPct = srvPct.reduce<number>((sum, v) => sum + (v ?? 0), 0);
      if (srvPct.length > 1) srvPct.forEach((v, i) => (metrics[`serverCpuPct${i + 1}`] = v ?? 0));
    }
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
