// Runs scenarios against a server that is already running (no spawning, no comparison):
//   node --import tsx benchmarks/run.ts --server 127.0.0.1:4222 [--scenarios pubsub,fanout] [--msgs N] [--requests N] [--pid PID]
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
  process.stdout.write('usage: run.ts --server HOST:PORT [--scenarios a,b] [--msgs N] [--requests N] [--pid SERVER_PID] [--repeat N] [--param key=value ...]\n');
  process.exit(0);
}
if (values.list) {
  process.stdout.write(`${listScenarios(SCENARIOS)}\n`);
  process.exit(0);
}

const [host, portText] = values.server.replace(/^nats:\/\//, '').split(':');
const scenarios = selectScenarios(values.scenarios.split(',').filter((s) => s !== ''));
for (const sc of scenarios) {
  const params = resolveParams(sc, { msgs: values.msgs, requests: values.requests }, values.param);
  for (let i = 0; i < Number(values.repeat); i++) {
    let m;
    try {
      m = await runOnce(sc, {
        server: {
          kind: 'external',
          host: host ?? '127.0.0.1',
          port: Number(portText ?? 4222),
          ...(values['ws-port'] !== undefined ? { wsPort: Number(values['ws-port']) } : {}),
        },
        pid: values.pid !== undefined ? Number(values.pid) : undefined,
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
