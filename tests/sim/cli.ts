// Simulator entry point.
//
//   npm run sim -- --seeds 10000              soak: seeds 1..10000 (or --start S --seeds N)
//   npm run sim -- --seed 1234 [--trace]      replay one seed exactly (prints every event)
//   options: --steps N (default 3000), --nodes 3|5, --profile leader-churn,
//            --mutation commitByCountingAnyTerm|grantVoteToStaleLog|readIndexWithoutQuorum (repeatable),
//            --unsafe-send-before-persist (breaks the driver contract, to show the crash model
//            catches it), --stop-on-failure
//
// Exit status 1 if any seed violates an invariant; every failing seed is printed with its replay
// command.

import { PROFILES, formatResult, runSimulation, type ProfileName, type SimOptions } from './simulation.ts';
import type { UnsafeTestMutations } from '../../raft/raft.ts';

interface Args {
  seed: number | null;
  start: number;
  seeds: number;
  steps: number;
  nodes: 3 | 5 | undefined;
  trace: boolean;
  mutations: (keyof UnsafeTestMutations)[];
  profile: ProfileName | undefined;
  stopOnFailure: boolean;
  sendBeforePersist: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seed: null, start: 1, seeds: 100, steps: 3000, nodes: undefined, trace: false, mutations: [], profile: undefined, stopOnFailure: false, sendBeforePersist: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`missing value for ${k}`);
      return x;
    };
    const int = (): number => {
      const n = Number(v());
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${k} needs a non-negative integer`);
      return n;
    };
    switch (k) {
      case '--seed': a.seed = int(); break;
      case '--seeds': a.seeds = int(); break;
      case '--start': a.start = int(); break;
      case '--steps': a.steps = int(); break;
      case '--nodes': {
        const n = int();
        if (n !== 3 && n !== 5) throw new Error('--nodes must be 3 or 5');
        a.nodes = n;
        break;
      }
      case '--trace': a.trace = true; break;
      case '--stop-on-failure': a.stopOnFailure = true; break;
      case '--unsafe-send-before-persist': a.sendBeforePersist = true; break;
      case '--mutation': {
        const m = v();
        if (m !== 'commitByCountingAnyTerm' && m !== 'grantVoteToStaleLog' && m !== 'readIndexWithoutQuorum') throw new Error(`unknown mutation ${m}`);
        a.mutations.push(m);
        break;
      }
      case '--profile': {
        const p = v();
        if (!(p in PROFILES)) throw new Error(`unknown profile ${p} (known: ${Object.keys(PROFILES).join(', ')})`);
        a.profile = p as ProfileName;
        break;
      }
      default: throw new Error(`unknown argument ${k}`);
    }
  }
  return a;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const base = (seed: number): SimOptions => ({
    seed,
    steps: args.steps,
    profile: args.profile,
    ...(args.nodes !== undefined ? { clusterSize: args.nodes } : {}),
    mutations: args.mutations.length > 0 ? Object.fromEntries(args.mutations.map((m) => [m, true])) : undefined,
    unsafeSendBeforePersist: args.sendBeforePersist || undefined,
    trace: args.trace ? (line: string) => process.stdout.write(line + '\n') : undefined,
  });

  if (args.seed !== null) {
    const r = runSimulation(base(args.seed));
    console.log(formatResult(r));
    console.log(JSON.stringify(r.stats));
    process.exitCode = r.ok ? 0 : 1;
    return;
  }

  const started = performance.now();
  let failures = 0;
  let totalSteps = 0;
  let livenessSteps = 0;
  let maxLivenessTicks = 0;
  for (let s = args.start; s < args.start + args.seeds; s++) {
    const r = runSimulation(base(s));
    totalSteps += r.stats.steps;
    livenessSteps += r.stats.livenessSteps;
    if (r.stats.livenessTicks > maxLivenessTicks) maxLivenessTicks = r.stats.livenessTicks;
    if (!r.ok) {
      failures++;
      console.log(formatResult(r));
      if (args.stopOnFailure) break;
    }
    const done = s - args.start + 1;
    if (done % 500 === 0) console.log(`... ${done} seeds, ${failures} failing, ${((performance.now() - started) / 1000).toFixed(1)}s`);
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `${args.seeds} seeds (${args.start}..${args.start + args.seeds - 1}) × ${args.steps} steps: ${failures} failing; ` +
      `${totalSteps} fault steps + ${livenessSteps} liveness steps in ${secs.toFixed(1)}s; slowest recovery ${maxLivenessTicks} ticks`,
  );
  process.exitCode = failures === 0 ? 0 : 1;
}

main();
