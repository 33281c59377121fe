// leaf-pubsub: traffic over a leaf node connection. The runner starts an edge dialling a hub, both
// of one kind (sluice edge -> sluice hub, nats-server edge -> nats-server hub), and passes
// ctx.cluster = [edge, hub]. 1 raw publisher on the edge -> 1 raw subscriber on the hub: every
// message crosses the leaf link once. Delivered msgs/s; checks order.
//
// Before the clock starts, the subscriber's interest must have reached the edge: its /leafz?subs=1
// is polled until the link lists the subject (nats-server 2.9 and sluice both report it).

import { setTimeout as sleep } from 'node:timers/promises';
import { monitorJson } from '../lib/servers.ts';
import { parseCheck, runBroadcast } from './broadcast.ts';
import type { Scenario, ServerTarget } from './types.ts';

const INTEREST_TIMEOUT_MS = 10_000;

async function waitForLeafInterest(edge: ServerTarget, subject: string): Promise<number> {
  const t0 = Date.now();
  if (edge.httpPort === undefined) throw new Error('leaf-pubsub: the edge has no monitoring port');
  while (Date.now() - t0 < INTEREST_TIMEOUT_MS) {
    // The monitoring listener may start a moment after the client port answers.
    const z = (await monitorJson(edge.httpPort, '/leafz?subs=1').catch(() => ({}))) as { leafs?: { subscriptions_list?: string[] }[] };
    if ((z.leafs ?? []).some((l) => (l.subscriptions_list ?? []).includes(subject))) return Date.now() - t0;
    await sleep(10);
  }
  throw new Error(`interest in ${subject} did not reach the edge within ${INTEREST_TIMEOUT_MS} ms`);
}

export function leafPubsubScenario(msgs: number): Scenario {
  return {
    name: 'leaf-pubsub',
    group: 'leaf',
    description: 'edge -> hub over a leaf node link: 1 publisher on the edge -> 1 subscriber on the hub, 16 B payload',
    servers: 2,
    topology: 'leaf',
    params: { msgs, payloadBytes: 16, subject: 'bench.leaf.pubsub', check: 'order', timeoutMs: 120_000 },
    countParam: 'msgs',
    bar: { op: '>=', ratio: 0.5 },
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'mbPerSec', label: 'payload MB/s', better: 'higher' },
      { key: 'pubMsgsPerSec', label: 'publish msgs/s', better: 'higher' },
    ],
    primary: 'msgsPerSec',
    async run(ctx) {
      if (ctx.cluster.length < 2) throw new Error('leaf-pubsub needs an edge and a hub (ctx.cluster = [edge, hub])');
      const p = ctx.params;
      const subject = String(p.subject);
      const [edge, hub] = ctx.cluster;
      let interestMs = 0;
      const r = await runBroadcast(ctx, {
        subject,
        payloadBytes: Number(p.payloadBytes),
        msgs: Number(p.msgs),
        subscribers: 1,
        check: parseCheck(p.check),
        timeoutMs: Number(p.timeoutMs),
        pubServer: edge,
        subServers: [hub],
        beforePublish: async () => {
          interestMs = await waitForLeafInterest(edge, subject);
        },
      });
      const sec = r.elapsedMs / 1000;
      return {
        msgsPerSec: r.delivered / sec,
        mbPerSec: (r.delivered * Number(p.payloadBytes)) / sec / 1e6,
        pubMsgsPerSec: Number(p.msgs) / (r.publishMs / 1000),
        elapsedMs: r.elapsedMs,
        interestMs,
      };
    },
  };
}
