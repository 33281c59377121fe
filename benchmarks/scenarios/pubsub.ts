// pubsub: 1 raw publisher -> 1 raw subscriber on one subject. Reports delivered msgs/s and payload
// MB/s; checks that all messages arrive in publish order.

import { parseCheck, runBroadcast } from './broadcast.ts';
import type { Scenario } from './types.ts';

export function pubsubScenario(label: string, payloadBytes: number, msgs: number): Scenario {
  return {
    name: `pubsub-${label}`,
    group: 'pubsub',
    description: `1 publisher -> 1 subscriber, ${label} payload`,
    params: { msgs, payloadBytes, subject: 'bench.pubsub', check: 'order', timeoutMs: 120_000 },
    countParam: 'msgs',
    bar: { op: '>=', ratio: 0.5 },
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'mbPerSec', label: 'payload MB/s', better: 'higher' },
      { key: 'pubMsgsPerSec', label: 'publish msgs/s', better: 'higher' },
    ],
    primary: 'msgsPerSec',
    async run(ctx) {
      const p = ctx.params;
      const r = await runBroadcast(ctx, {
        subject: String(p.subject),
        payloadBytes: Number(p.payloadBytes),
        msgs: Number(p.msgs),
        subscribers: 1,
        check: parseCheck(p.check),
        timeoutMs: Number(p.timeoutMs),
      });
      const sec = r.elapsedMs / 1000;
      return {
        msgsPerSec: r.delivered / sec,
        mbPerSec: (r.delivered * Number(p.payloadBytes)) / sec / 1e6,
        pubMsgsPerSec: Number(p.msgs) / (r.publishMs / 1000),
        elapsedMs: r.elapsedMs,
      };
    },
  };
}
