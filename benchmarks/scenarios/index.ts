// The scenario registry. Default counts are sized so one run takes roughly 2-5 s against
// nats-server 2.9.10 on the 2-core benchmark machine; --msgs overrides them.

import { clientPubsubScenario, clientReqrepScenario } from './client-compare.ts';
import { clusterFanoutScenario, clusterPubsubScenario } from './cluster.ts';
import { fanoutScenario } from './fanout.ts';
import { jsConsumeScenario } from './js-consume.ts';
import { jsMirrorScenario } from './js-mirror.ts';
import { jsPubScenario, jsPubSyncScenario } from './js-pub.ts';
import { jsPubManyScenario, jsPubRefillScenario } from './js-pub-load.ts';
import { jsFailoverR3Scenario, jsPubR3Scenario } from './js-replicated.ts';
import { leafPubsubScenario } from './leaf.ts';
import { pubsubMonitoredScenario } from './monitored.ts';
import { pubsubScenario } from './pubsub.ts';
import { queueScenario } from './queue.ts';
import { reqrepClientScenario } from './reqrep-client.ts';
import { reqrepRawScenario } from './reqrep-raw.ts';
import { startupScenario } from './startup.ts';
import { stormScenarios } from './storm.ts';
import type { Scenario } from './types.ts';
import { wsIotScenario } from './ws-iot.ts';
import { wsPubsubScenario } from './ws-pubsub.ts';

export type { Scenario } from './types.ts';

export const SCENARIOS: readonly Scenario[] = [
  pubsubScenario('16B', 16, 6_000_000),
  pubsubScenario('1KiB', 1024, 2_000_000),
  pubsubMonitoredScenario(6_000_000),
  fanoutScenario(4, 3_000_000),
  queueScenario(4, 5_000_000),
  reqrepRawScenario(40_000),
  reqrepClientScenario(20_000),
  clientPubsubScenario(1_000_000),
  clientReqrepScenario(10_000),
  wsPubsubScenario(2_000_000),
  wsIotScenario(200, 1_000_000),
  jsConsumeScenario(200_000),
  jsMirrorScenario(200_000),
  jsPubScenario(600_000),
  jsPubSyncScenario(30_000),
  jsPubRefillScenario(300_000),
  jsPubManyScenario(100, 10, 300_000),
  jsPubManyScenario(1000, 1, 200_000),
  clusterPubsubScenario(2_000_000),
  clusterFanoutScenario(1_500_000),
  leafPubsubScenario(2_000_000),
  jsPubR3Scenario(100_000),
  jsFailoverR3Scenario(10),
  startupScenario(),
  ...stormScenarios(),
];

/** Selects by exact name or by group ('pubsub' selects pubsub-16B and pubsub-1KiB), in registry
 * order; throws on an unknown selector. An empty selection means all. */
export function selectScenarios(selectors: readonly string[]): Scenario[] {
  if (selectors.length === 0) return [...SCENARIOS];
  for (const sel of selectors) {
    if (!SCENARIOS.some((s) => s.name === sel || s.group === sel)) {
      const known = [...new Set(SCENARIOS.flatMap((s) => [s.group, s.name]))].join(', ');
      throw new Error(`unknown scenario '${sel}' (known: ${known})`);
    }
  }
  return SCENARIOS.filter((s) => selectors.includes(s.name) || selectors.includes(s.group));
}
