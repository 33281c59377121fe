// fanout: 1 raw publisher -> 4 raw subscribers on the same subject. Reports delivered msgs/s
// (4 x published); checks that every subscriber gets every message in order.

import { parseCheck, runBroadcast } from './broadcast.ts';
import type { Scenario } from './types.ts';

export function fanoutScenario(subscribers: number, msgs: number): Scenario {
  return {
    name: 'fanout',
    group: 'fanout',
    description: `1 publisher -> ${subscribers} subscribers on one subject, 16 B payload`,
    params: { msgs, subscribers, payloadBytes: 16, subject: 'bench.fanout', check: 'order', timeoutMs: 120_000 },
    countParam: 'msgs',
    bar: { op: '>=', ratio: 0.5 },
    metrics: [
      { key: 'deliveredPerSec', label: 'delivered msgs/s', better: 'higher' },
      { key: 'msgsPerSec', label: 'published msgs/s', better: 'higher' },
    ],
    primary: 'deliveredPerSec',
    async run(ctx) {
      const p = ctx.params;
      const r = await runBroadcast(ctx, {
        subject: String(p.subject),
        payloadBytes: Number(p.payloadBytes),
        msgs: Number(p.msgs),
        subscribers: Number(p.subscribers),
        check: parseCheck(p.check),
        timeoutMs: Number(p.timeoutMs),
      });
      const sec = r.elapsedMs / 1000;
      return { deliveredPerSec: r.delivered / sec, msgsPerSec: Number(p.msgs) / sec, elapsedMs: r.elapsedMs };
    },
  };
}
