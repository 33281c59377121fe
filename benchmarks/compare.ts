// sluice vs nats-server, interleaved: `npm run bench [-- flags]`.
//
// For each selected scenario, N rounds of (sluice, nats-server), each run against a freshly started
// server on a free port that is killed afterwards (cluster scenarios: a fresh full-mesh cluster of
// `servers` servers of each kind, all killed afterwards). Prints per-run lines, then a table of medians per
// server with the ratio sluice / nats-server of each metric, the start-up time and idle RSS of both
// servers, and appends one NDJSON record per scenario to benchmarks/results/<group>.ndjson.
//
// Flags:
//   --scenarios a,b     groups or names (pubsub, pubsub-16B, fanout, queue, reqrep, reqrep-client...)
//   --rounds N          interleaved rounds (default: the scenario's own, else 3; startup has 7)
//   --msgs N            message count of the throughput scenarios (pubsub, fanout, queue)
//   --requests N        request count of the latency scenarios (reqrep-raw, reqrep-client)
//   --only sluice|nats  run one server only (no ratios)
//   --param key=value   override a scenario param (repeatable), e.g. --param payloadBytes=128
//   --settle-ms N       wait after start-up before reading idle RSS (default 500)
//   --wait-idle PCT     before each run, wait (up to 60 s) until the machine's busy CPU over 1 s is
//                       below PCT % of one core (other tenants' noise); off by default
//   --no-warmup         skip the discarded warm-up run of each scenario
//   --no-save           do not append to benchmarks/results/
//   --list              list scenarios and their params

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { listScenarios, resolveParams } from './lib/params.ts';
import { appendResult, collectMeta } from './lib/results.ts';
import { CPU_METRICS, runOnce } from './lib/runner.ts';
import { SERVER_LABEL, machineCpuSeconds, natsServerVersion, sluiceLaunch, sluiceUnavailableReason, startCluster, startLeafPair, startServer } from './lib/servers.ts';
import type { RunningServer, ServerKind } from './lib/servers.ts';
import { formatNumber, median, padTable } from './lib/stats.ts';
import { SCENARIOS, selectScenarios } from './scenarios/index.ts';
import type { Metrics, Params, Scenario } from './scenarios/types.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const resultsDir = path.join(repoRoot, 'benchmarks', 'results');

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: '' },
    rounds: { type: 'string' },
    msgs: { type: 'string' },
    requests: { type: 'string' },
    only: { type: 'string' },
    param: { type: 'string', multiple: true, default: [] },
    'settle-ms': { type: 'string', default: '500' },
    'wait-idle': { type: 'string' },
    'no-warmup': { type: 'boolean', default: false },
    'no-save': { type: 'boolean', default: false },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const out = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

if (values.help) {
  const header = (await import('node:fs')).readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n\nimport')[0];
  out(header.replace(/^\/\/ ?/gm, ''));
  process.exit(0);
}
if (values.list) {
  out(listScenarios(SCENARIOS));
  process.exit(0);
}

interface ServerSample {
  startupMs: number[];
  idleRssKb: number[];
}

interface ScenarioOutcome {
  scenario: Scenario;
  params: Params;
  runs: Record<ServerKind, Metrics[]>;
  failures: Record<ServerKind, string[]>;
  medians: Record<ServerKind, Metrics | null>;
  ratios: Record<string, number | null>;
  ratio: number | null;
  /** Median over rounds of (sluice / nats-server) on the compared metric, each pair run back to
   * back: less exposed to slow drifts in background load than the ratio of medians. */
  pairedRatio: number | null;
  /** With a `baseline`: per server kind, median over rounds of (this run / the baseline run of the
   * same round) on the compared metric. */
  baselineRatios?: Record<ServerKind, number | null>;
}

function fail(msg: string): never {
  process.stderr.write(`compare: ${msg}\n`);
  process.exit(2);
}

// ---- what to run --------------------------------------------------------------------------------
const roundsFlag = values.rounds === undefined ? null : Number(values.rounds);
if (roundsFlag !== null && (!Number.isInteger(roundsFlag) || roundsFlag < 1)) fail(`--rounds must be a positive integer (got ${values.rounds})`);
const roundsOf = (sc: Scenario): number => roundsFlag ?? sc.rounds ?? 3;
const settleMs = Number(values['settle-ms']);
const waitIdlePct = values['wait-idle'] === undefined ? null : Number(values['wait-idle']);
if (waitIdlePct !== null && !(waitIdlePct > 0)) fail(`--wait-idle must be a positive percentage (got ${values['wait-idle']})`);
let scenarios: Scenario[];
try {
  scenarios = selectScenarios(values.scenarios.split(',').filter((s) => s !== ''));
} catch (err) {
  fail((err as Error).message);
}

const natsVersion = natsServerVersion();
const sluiceProblem = sluiceUnavailableReason(repoRoot);
let kinds: ServerKind[] = [];
if (values.only !== undefined) {
  if (values.only !== 'sluice' && values.only !== 'nats') fail(`--only must be sluice or nats (got ${values.only})`);
  kinds = [values.only];
  if (values.only === 'nats' && natsVersion === null) fail('nats-server is not installed (apt-get install -y nats-server)');
  if (values.only === 'sluice' && sluiceProblem !== null) fail(`sluice cannot start: ${sluiceProblem}`);
} else {
  if (sluiceProblem === null) kinds.push('sluice');
  else out(`NOTE: sluice cannot start (${sluiceProblem}); running nats-server only, ratios are null.`);
  if (natsVersion !== null) kinds.push('nats');
  else out('NOTE: nats-server is not installed (apt-get install -y nats-server); running sluice only, ratios are null.');
  if (kinds.length === 0) fail('neither server can be started');
}

const meta = collectMeta(repoRoot, natsVersion);
out(`sluice benchmarks  ${meta.date}  commit ${meta.commit ?? '?'}${meta.dirty === true ? ' (dirty)' : ''}  node ${meta.node}  nats-server ${natsVersion ?? 'not installed'}`);
out(`machine: ${meta.cpus} x ${meta.cpuModel}; servers: ${kinds.map((k) => SERVER_LABEL[k]).join(', ')}; rounds: ${roundsFlag ?? 'per scenario (3 unless it says otherwise)'}`);
out(`sluice runs ${sluiceLaunch(repoRoot) === 'dist' ? 'from dist/' : 'its TypeScript through tsx'}${process.env.SLUICE_BENCH_LAUNCH !== undefined ? ' (SLUICE_BENCH_LAUNCH)' : sluiceLaunch(repoRoot) === 'dist' ? ' (a build of the current sources)' : ' (dist/ is missing or stale: npm run build)'}`);
out('Other processes on this machine share its cores: watch "other CPU %" per run for noise.');

// ---- running ------------------------------------------------------------------------------------
const serverSamples: Record<ServerKind, ServerSample> = {
  sluice: { startupMs: [], idleRssKb: [] },
  nats: { startupMs: [], idleRssKb: [] },
};

interface RunRecord {
  metrics: Metrics;
  /** Server 1's (for a cluster: the seed, started alone). */
  startupMs: number;
  idleRssKb: number | null;
  /** Cluster scenarios: spawn of the seed -> full mesh, and the idle RSS of every server. */
  meshMs?: number;
  clusterIdleRssKb?: (number | null)[];
}

/** Waits until the machine is quieter than --wait-idle, for at most 60 s; returns the last busy %. */
async function waitForIdle(): Promise<number | null> {
  if (waitIdlePct === null) return null;
  const deadline = Date.now() + 60_000;
  let busy = Number.POSITIVE_INFINITY;
  while (Date.now() < deadline) {
    const a = machineCpuSeconds();
    await sleep(1000);
    const b = machineCpuSeconds();
    if (a === null || b === null) return null;
    busy = (b - a) * 100;
    if (busy < waitIdlePct) break;
  }
  return busy;
}

async function runAgainst(kind: ServerKind, sc: Scenario, params: Params): Promise<RunRecord> {
  const busy = await waitForIdle();
  if (busy !== null && busy >= (waitIdlePct ?? 0)) out(`   (machine still ${busy.toFixed(0)}% busy after waiting 60 s; running anyway)`);
  const startOpts = {
    repoRoot,
    jetstream: sc.needs?.includes('jetstream') === true,
    websocket: sc.needs?.includes('websocket') === true,
    monitoring: sc.needs?.includes('monitoring') === true,
  };
  // A cluster scenario gets `servers` servers of this kind, meshed before the run starts.
  const size = sc.servers ?? 1;
  const cluster = sc.topology === 'leaf' ? await startLeafPair(kind, startOpts) : size > 1 ? await startCluster(kind, size, startOpts) : null;
  const srvs: RunningServer[] = cluster !== null ? cluster.servers : [await startServer(kind, startOpts)];
  const srv = srvs[0];
  try {
    await sleep(settleMs);
    const idleRss = srvs.map((s) => s.rssKb());
    const targets = srvs.map((s) => ({ kind, host: s.host, port: s.port, wsPort: s.wsPort, httpPort: s.httpPort, name: s.name, pid: s.pid, startupMs: s.startupMs }));
    const control = { pid: (i: number) => srvs[i].pid, kill: (i: number) => srvs[i].kill(), restart: (i: number) => srvs[i].restart() };
    const metrics = await runOnce(sc, { server: targets[0], cluster: targets, pid: srvs.length > 1 ? srvs.map((s) => s.pid) : srv.pid, params, control });
    for (const s of srvs) if (s.rssKb() === null) throw new Error(`${SERVER_LABEL[kind]}${s.name !== undefined ? ` ${s.name}` : ''} exited during the run\n${s.outputTail()}`);
    return {
      metrics,
      startupMs: srv.startupMs,
      idleRssKb: idleRss[0],
      ...(cluster !== null ? { meshMs: cluster.meshMs, clusterIdleRssKb: idleRss } : {}),
    };
  } finally {
    if (cluster !== null) await cluster.stop();
    else await srv.stop();
  }
}

const srvsLabel = (sc: Scenario): string => `${sc.servers ?? 1} servers`;

function describe(sc: Scenario, m: Metrics): string {
  const main = sc.metrics.map((spec) => `${spec.label} ${formatNumber(m[spec.key])}`).join(', ');
  // A cluster's server CPU is the sum over its servers; their own shares follow in parentheses.
  const each = Array.from({ length: sc.servers ?? 1 }, (_, i) => m[`serverCpuPct${i + 1}`]).filter((v) => v !== undefined);
  const cpu = CPU_METRICS.filter((c) => m[c.key] !== undefined)
    .map((c) => `${c.key.replace('CpuPct', '')} ${formatNumber(m[c.key])}%${c.key === 'serverCpuPct' && each.length > 1 ? ` (${each.map((v) => formatNumber(v)).join(' + ')})` : ''}`)
    .join(' ');
  return `${main}  [cpu: ${cpu}]`;
}

function mediansOf(runs: Metrics[]): Metrics | null {
  if (runs.length === 0) return null;
  const keys = new Set(runs.flatMap((r) => Object.keys(r)));
  const m: Metrics = {};
  for (const k of keys) m[k] = median(runs.map((r) => r[k]).filter((v) => v !== undefined));
  return m;
}

const med = (xs: number[]): number | null => (xs.length > 0 ? median(xs) : null);
const mbOrNull = (kb: number | null): number | null => (kb === null ? null : kb / 1024);

const outcomes: ScenarioOutcome[] = [];
for (const sc of scenarios) {
  const params = resolveParams(sc, { msgs: values.msgs, requests: values.requests }, values.param);
  out();
  out(`== ${sc.name}: ${sc.description}`);
  out(`   params: ${Object.entries(params).map(([k, v]) => `${k}=${String(v)}`).join(' ')}`);
  if (!values['no-warmup']) {
    // Discarded: warms this process's JIT for the scenario so the first measured run is not penalised.
    const warm = { ...params, [sc.countParam]: Math.max(1, Math.floor(Number(params[sc.countParam]) / 10)) };
    try {
      await runAgainst(kinds[0], sc, warm);
    } catch (err) {
      out(`   warm-up failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const runs: Record<ServerKind, Metrics[]> = { sluice: [], nats: [] };
  const failures: Record<ServerKind, string[]> = { sluice: [], nats: [] };
  const starts: Record<ServerKind, ServerSample> = { sluice: { startupMs: [], idleRssKb: [] }, nats: { startupMs: [], idleRssKb: [] } };
  const meshes: Record<ServerKind, { meshMs: number[]; clusterIdleRssKb: (number | null)[][] }> = { sluice: { meshMs: [], clusterIdleRssKb: [] }, nats: { meshMs: [], clusterIdleRssKb: [] } };
  const pairRatios: number[] = [];
  const baseline = sc.baseline === undefined ? undefined : SCENARIOS.find((b) => b.name === sc.baseline!.scenario);
  if (sc.baseline !== undefined && baseline === undefined) fail(`${sc.name}: unknown baseline scenario ${sc.baseline.scenario}`);
  const baselinePairs: Record<ServerKind, number[]> = { sluice: [], nats: [] };
  const baselineCpuPairs: Record<ServerKind, number[]> = { sluice: [], nats: [] };
  const rounds = roundsOf(sc);
  for (let r = 1; r <= rounds; r++) {
    const inRound: Partial<Record<ServerKind, Metrics>> = {};
    for (const kind of kinds) {
      const tag = `   round ${r} ${SERVER_LABEL[kind].padEnd(11)}`;
      try {
        const rec = await runAgainst(kind, sc, params);
        runs[kind].push(rec.metrics);
        inRound[kind] = rec.metrics;
        for (const target of [starts[kind], serverSamples[kind]]) {
          target.startupMs.push(rec.startupMs);
          if (rec.idleRssKb !== null) target.idleRssKb.push(rec.idleRssKb);
        }
        const idle = rec.idleRssKb === null ? '?' : (rec.idleRssKb / 1024).toFixed(1);
        let mesh = '';
        if (rec.meshMs !== undefined) {
          meshes[kind].meshMs.push(rec.meshMs);
          meshes[kind].clusterIdleRssKb.push(rec.clusterIdleRssKb ?? []);
          mesh = `, ${srvsLabel(sc)} meshed in ${rec.meshMs.toFixed(0)} ms`;
        }
        out(`${tag} ${describe(sc, rec.metrics)} [start ${rec.startupMs.toFixed(0)} ms, idle ${idle} MB${mesh}]`);
        if (baseline !== undefined) {
          // The same server kind without this scenario's needs, right after: the pair shares the round's load.
          const base = await runAgainst(kind, baseline, params);
          const ratio = rec.metrics[sc.primary]! / base.metrics[baseline.primary]!;
          baselinePairs[kind].push(ratio);
          // The same comparison per server CPU second (primary / server CPU): on a shared machine
          // the throughput of both runs swings with other tenants, the work per message much less.
          const perCpu = (m: Metrics, key: string): number => m[key]! / (m.serverCpuPct ?? Number.NaN);
          const cpuRatio = perCpu(rec.metrics, sc.primary) / perCpu(base.metrics, baseline.primary);
          if (Number.isFinite(cpuRatio)) baselineCpuPairs[kind].push(cpuRatio);
          out(`${' '.repeat(tag.length)} ${baseline.name}: ${describe(baseline, base.metrics)} -> ${sc.name}/${baseline.name} ${ratio.toFixed(3)}x (per server CPU second ${cpuRatio.toFixed(3)}x)`);
        }
      } catch (err) {
        const msg = (err as Error).message;
        failures[kind].push(msg);
        out(`${tag} FAILED: ${msg.split('\n').slice(0, 6).join('\n      ')}`);
      }
    }
    const a = inRound.sluice?.[sc.primary];
    const b = inRound.nats?.[sc.primary];
    if (a !== undefined && b !== undefined && b !== 0) pairRatios.push(a / b);
  }
  const medians = { sluice: mediansOf(runs.sluice), nats: mediansOf(runs.nats) };
  const ratios: Record<string, number | null> = {};
  for (const spec of [...sc.metrics, ...CPU_METRICS]) {
    const a = medians.sluice?.[spec.key];
    const b = medians.nats?.[spec.key];
    ratios[spec.key] = a !== undefined && b !== undefined && b !== 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : null;
  }
  const outcome: ScenarioOutcome = { scenario: sc, params, runs, failures, medians, ratios, ratio: ratios[sc.primary] ?? null, pairedRatio: pairRatios.length > 0 ? median(pairRatios) : null };
  if (baseline !== undefined) {
    outcome.baselineRatios = { sluice: med(baselinePairs.sluice), nats: med(baselinePairs.nats) };
    const b = sc.baseline!;
    for (const kind of kinds) {
      const r = outcome.baselineRatios[kind];
      const ok = r !== null && (b.op === '>=' ? r >= b.ratio : r <= b.ratio);
      const c = med(baselineCpuPairs[kind]);
      out(`   ${SERVER_LABEL[kind]}: ${sc.name} / ${baseline.name} = ${r === null ? '-' : `${r.toFixed(3)}x`} (median of per-round pairs; bar ${b.op} ${b.ratio}x ${r === null ? '?' : ok ? 'PASS' : 'FAIL'}); per server CPU second ${c === null ? '-' : `${c.toFixed(3)}x`}`);
    }
  }
  outcomes.push(outcome);

  const rows: string[][] = [['metric (median)', 'sluice', 'nats-server', 'sluice/nats']];
  for (const spec of [...sc.metrics, ...CPU_METRICS]) {
    const mark = spec.key === sc.primary ? ' *' : '';
    rows.push([
      `${spec.label}${mark}`,
      formatNumber(medians.sluice?.[spec.key]),
      formatNumber(medians.nats?.[spec.key]),
      ratios[spec.key] === null ? '-' : `${ratios[spec.key]?.toFixed(2)}x`,
    ]);
  }
  out(padTable(rows).replace(/^/gm, '   '));

  if (!values['no-save']) {
    const record = {
      date: meta.date,
      commit: meta.commit,
      dirty: meta.dirty,
      node: meta.node,
      natsServer: meta.natsServer,
      machine: { cpus: meta.cpus, cpuModel: meta.cpuModel },
      scenario: sc.name,
      group: sc.group,
      params,
      rounds,
      sluiceFrom: kinds.includes('sluice') ? sluiceLaunch(repoRoot) : undefined,
      primary: sc.primary,
      sluiceMedian: medians.sluice,
      natsMedian: medians.nats,
      ratio: outcome.ratio,
      pairedRatio: outcome.pairedRatio,
      pairRatios,
      ...(outcome.baselineRatios !== undefined ? { baseline: sc.baseline, baselineRatios: outcome.baselineRatios, baselinePairs, baselineCpuPairs } : {}),
      ratios,
      runs,
      servers: Object.fromEntries(
        kinds.map((k) => [
          k,
          {
            startupMsMedian: med(starts[k].startupMs),
            idleRssMbMedian: mbOrNull(med(starts[k].idleRssKb)),
            ...starts[k],
            ...((sc.servers ?? 1) > 1 ? { clusterSize: sc.servers, meshMsMedian: med(meshes[k].meshMs), ...meshes[k] } : {}),
          },
        ]),
      ),
      failures: failures.sluice.length + failures.nats.length > 0 ? failures : undefined,
    };
    appendResult(resultsDir, sc.group, record);
  }
}

// ---- summary ------------------------------------------------------------------------------------
out();
out('== summary (medians of the compared metric; paired = median of per-round ratios)');
const rows: string[][] = [['scenario', 'metric', 'sluice', 'nats-server', 'sluice/nats', 'paired', 'bar', 'runs ok']];
for (const o of outcomes) {
  const spec = o.scenario.metrics.find((m) => m.key === o.scenario.primary);
  const bar = o.scenario.bar;
  let verdict = '';
  if (bar !== undefined) {
    const okBar = o.ratio !== null && (bar.op === '>=' ? o.ratio >= bar.ratio : o.ratio <= bar.ratio);
    verdict = `${bar.op} ${bar.ratio}x ${o.ratio === null ? '?' : okBar ? 'PASS' : 'FAIL'}`;
  }
  rows.push([
    o.scenario.name,
    spec?.label ?? o.scenario.primary,
    formatNumber(o.medians.sluice?.[o.scenario.primary]),
    formatNumber(o.medians.nats?.[o.scenario.primary]),
    o.ratio === null ? '-' : `${o.ratio.toFixed(2)}x`,
    o.pairedRatio === null ? '-' : `${o.pairedRatio.toFixed(2)}x`,
    verdict,
    kinds.map((k) => `${o.runs[k].length}/${roundsOf(o.scenario)}`).join(' '),
  ]);
}
out(padTable(rows));

out();
const srow = (label: string, pick: (k: ServerKind) => number | null, unit: string): string[] => {
  const a = pick('sluice');
  const b = pick('nats');
  return [label, a === null ? '-' : `${formatNumber(a)} ${unit}`, b === null ? '-' : `${formatNumber(b)} ${unit}`, a !== null && b !== null ? `${(a / b).toFixed(2)}x` : '-'];
};
out(
  padTable([
    ['server (median of all starts)', 'sluice', 'nats-server', 'sluice/nats'],
    srow('start-up (spawn -> INFO)', (k) => med(serverSamples[k].startupMs), 'ms'),
    srow(`idle RSS (${settleMs} ms after start)`, (k) => mbOrNull(med(serverSamples[k].idleRssKb)), 'MB'),
  ]),
);
if (!values['no-save']) out(`\nresults appended to ${path.relative(process.cwd(), resultsDir) || '.'}/<group>.ndjson`);
const anyFailure = outcomes.some((o) => kinds.some((k) => o.failures[k].length > 0));
process.exit(anyFailure ? 1 : 0);
