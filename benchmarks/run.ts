// Runs scenarios against a server that is already running (no spawning, no comparison):
//   node --import tsx benchmarks/run.ts --server 127.0.0.1:4222 [--scenarios pubsub,fanout] [--msgs N] [--requests N] [--pid PID]
// Cluster scenarios need every server with its monitoring port, server 1 first:
//   ... --cluster 127.0.0.1:4222@8222,127.0.0.1:4223@8223,127.0.0.1:4224@8224 --pid P1,P2,P3 --scenarios cluster
// Handy while developing a scenario or profiling a server started by hand.

import { parseArgs } from 'node:util';
import { listScenarios, resolveParams } from './lib/params.ts';
import { runOnce } from './lib/runner.ts';
import { formatNumber } from './lib/stats.ts';
import { SCENARIOS, selectScenarios } from './scenarios/index.ts';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: '127.0.0.1:4222' },
    'ws-port': { type: 'string' },
    cluster: { type: 'string' },
    scenarios: { type: 'string', default: '' },
    msgs: { type: 'string' },
    requests: { type: 'string' },
    pid: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    param: { type: 'string', multiple: true, default: [] },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    'usage: run.ts --server HOST:PORT [--cluster HOST:PORT@HTTPPORT,...] [--scenarios a,b] [--msgs N] [--requests N] [--pid SERVER_PID[,PID...]] [--repeat N] [--param key=value ...]\n',
  );
  process.exit(0);
}
if (values.list) {
  process.stdout.write(`${listScenarios(SCENARIOS)}\n`);
  process.exit(0);
}

const [host, portText] = values.server.replace(/^nats:\/\//, '').split(':');
// --cluster: every server of a running cluster as host:port@httpPort, server 1 first.
const cluster = values.cluster?.split(',').map((spec, i) => {
  const m = /^(?:nats:\/\/)?([^:@]+):(\d+)@(\d+)$/.exec(spec.trim());
  if (m === null) throw new Error(`--cluster: expected host:port@httpPort, got ${spec}`);
  return { kind: 'external', host: m[1], port: Number(m[2]), httpPort: Number(m[3]), name: `server-${i + 1}` };
});
const pids = values.pid?.split(',').map(Number);
const scenarios = selectScenarios(values.scenarios.split(',').filter((s) => s !== ''));
for (const sc of scenarios) {
  const params = resolveParams(sc, { msgs: values.msgs, requests: values.requests }, values.param);
  for (let i = 0; i < Number(values.repeat); i++) {
    let m;
    try {
      m = await runOnce(sc, {
        server: cluster?.[0] ?? {
          kind: 'external',
          host: host ?? '127.0.0.1',
          port: Number(portText ?? 4222),
          ...(values['ws-port'] !== undefined ? { wsPort: Number(values['ws-port']) } : {}),
        },
        cluster,
        pid: pids === undefined ? undefined : pids.length === 1 ? pids[0] : pids,
        params,
      });
    } catch (err) {
      process.stderr.write(`${sc.name}: FAILED: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const shown = Object.entries(m)
      .map(([k, v]) => `${k}=${formatNumber(v)}`)
      .join('  ');
    process.stdout.write(`${sc.name.padEnd(14)} ${shown}\n`);
  }
}
