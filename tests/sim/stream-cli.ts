// node --import tsx tests/sim/stream-cli.ts [--seeds N] [--start S] [--steps K] [--seed X [--trace]] [--mutation M]
// Runs the replicated-stream simulation (stream-sim.ts) over many seeds, or replays one.

import { runStreamSim, type StreamSimMutation } from './stream-sim.ts';

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const steps = Number(flag('--steps') ?? 600);
const mutation = flag('--mutation') as StreamSimMutation | undefined;
const one = flag('--seed');
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: Number(flag('--seeds') ?? 1000) }, (_, i) => i + Number(flag('--start') ?? 1));
let failed = 0;
for (const seed of seeds) {
  const r = runStreamSim({ seed, steps, ...(mutation !== undefined ? { mutation } : {}), ...(args.includes('--trace') ? { trace: (l: string) => console.log(l) } : {}) });
  if (!r.ok) {
    failed++;
    console.log(`FAIL seed ${seed} (${r.config}): ${r.violation}\n  replay: node --import tsx tests/sim/stream-cli.ts --seed ${seed} --steps ${steps} --trace`);
  } else if (one !== undefined) {
    console.log(`ok seed ${seed} (${r.config}): ${r.acked} acked, ${r.stored} stored`);
  }
}
console.log(`${seeds.length - failed}/${seeds.length} seeds passed`);
process.exit(failed === 0 ? 0 : 1);
