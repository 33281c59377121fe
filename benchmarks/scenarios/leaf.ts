// leaf-pubsub: traffic over a leaf node connection. The runner starts an edge dialling a hub, both
// of one kind (sluice edge -> sluice hub, nats-server edge -> nats-server hub), and passes
// ctx.cluster = [edge, hub]. 1 raw publisher on the edge -> 1 raw subscriber on the hub: every
// message crosses the leaf link once. Delivered msgs/s; checks order.
//
// Before the clock starts, the subscriber's interest must have reached the edge: its /leafz?subs=1
// is polled until the link lists the subject (nats-server 2.9 and sluice both report it).

import { setTimeout as sleep } from 'node:timers/promises';
import { monitorJson } from '../lib/servers.ts';
import { twoServerPubsubScenario } from './cluster.ts';
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
  return twoServerPubsubScenario(msgs, {
    name: 'leaf-pubsub',
    group: 'leaf',
    description: 'edge -> hub over a leaf node link: 1 publisher on the edge -> 1 subscriber on the hub, 16 B payload',
    topology: 'leaf',
    subject: 'bench.leaf.pubsub',
    waitForInterest: (edge, _hub, subject) => waitForLeafInterest(edge, subject),
  });
}
