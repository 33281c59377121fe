// queue: 1 raw publisher -> a queue group of 4 raw subscribers. Reports msgs/s through the group;
// checks that each message was delivered exactly once in total, and reports how evenly the server
// spread them (smallest member's share; 0.25 is perfectly even for 4 members).

import { parseCheck, runBroadcast } from './broadcast.ts';
import type { Scenario } from './types.ts';

export function queueScenario(members: number, msgs: number): Scenario {
  return {
    name: 'queue',
    group: 'queue',
    description: `1 publisher -> queue group of ${members}, 16 B payload, exactly-once check`,
    params: { msgs, members, payloadBytes: 16, subject: 'bench.queue', queue: 'workers', check: 'once', timeoutMs: 120_000 },
    countParam: 'msgs',
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'minShare', label: 'min member share', better: 'higher' },
    ],
    primary: 'msgsPerSec',
    async run(ctx) {
      const p = ctx.params;
      const r = await runBroadcast(ctx, {
        subject: String(p.subject),
        payloadBytes: Number(p.payloadBytes),
        msgs: Number(p.msgs),
        subscribers: Number(p.members),
        queue: String(p.queue),
        check: parseCheck(p.check),
        timeoutMs: Number(p.timeoutMs),
      });
      const minShare = Math.min(...r.perSubscriber) / r.delivered;
      return { msgsPerSec: r.delivered / (r.elapsedMs / 1000), minShare, elapsedMs: r.elapsedMs };
    },
  };
}
