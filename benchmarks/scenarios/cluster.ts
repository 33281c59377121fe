// cluster-pubsub and cluster-fanout: traffic that crosses routes between servers of a cluster.
// The runner starts a fresh full-mesh cluster of `servers` servers of each kind (sluice routes to
// sluice, nats-server to nats-server; server 1 is the seed, the others route to it and find each
// other by gossip) and passes every endpoint in ctx.cluster.
//
// - cluster-pubsub: 1 raw publisher on server 1 -> 1 raw subscriber on server 2 (2-server
//   cluster); every message crosses one route. Delivered msgs/s; checks order.
// - cluster-fanout: 1 raw publisher on server 1 -> one raw subscriber on each of 3 servers (one
//   local, two across routes). Delivered msgs/s over all subscribers (3 x published); checks
//   every subscriber gets every message in order.
//
// Before the clock starts, the subscribers' interest must have reached the publisher's server:
// its /routez?subs=1 is polled until the route from every subscriber's server lists the subject,
// so no message is dropped for lack of interest (a loss would fail the delivery check anyway).

import { setTimeout as sleep } from 'node:timers/promises';
import { routez } from '../lib/servers.ts';
import { parseCheck, runBroadcast } from './broadcast.ts';
import type { RunContext, Scenario, ServerTarget } from './types.ts';

const INTEREST_TIMEOUT_MS = 10_000;

function monitorPort(t: ServerTarget): number {
  if (t.httpPort === undefined) throw new Error(`cluster scenario: no monitoring port for ${t.name ?? `${t.host}:${t.port}`} (run.ts: --cluster host:port@httpPort,...)`);
  return t.httpPort;
}

/**
 * Resolves once `pubServer`'s routes from every server in `subServers` (other than itself) list
 * `subject` in subscriptions_list. Routes are matched by the peer's server_id (remote_id), which
 * both servers' /routez report; nats-server 2.9 has no remote_name.
 */
export async function waitForRouteInterest(pubServer: ServerTarget, subServers: readonly ServerTarget[], subject: string, timeoutMs = INTEREST_TIMEOUT_MS): Promise<number> {
  const t0 = Date.now();
  const pubId = (await routez(monitorPort(pubServer))).server_id;
  const ids = new Set<string>();
  for (const s of subServers) {
    const id = (await routez(monitorPort(s))).server_id;
    if (id !== pubId) ids.add(id);
  }
  let lacking: string[] = [...ids];
  while (Date.now() - t0 < timeoutMs) {
    const rz = await routez(monitorPort(pubServer), true);
    const have = new Set(rz.routes.filter((r) => (r.subscriptions_list ?? []).includes(subject)).map((r) => r.remote_id));
    lacking = [...ids].filter((id) => !have.has(id));
    if (lacking.length === 0) return Date.now() - t0;
    await sleep(10);
  }
  throw new Error(`interest in ${subject} from ${lacking.length} server(s) did not reach the publisher's server within ${timeoutMs} ms`);
}

function checkCluster(ctx: RunContext, size: number): void {
  if (ctx.cluster.length < size) throw new Error(`needs a cluster of ${size} servers, got ${ctx.cluster.length}`);
}

export function clusterPubsubScenario(msgs: number): Scenario {
  return twoServerPubsubScenario(msgs, {
    name: 'cluster-pubsub',
    group: 'cluster',
    description: '2-server cluster: 1 publisher on server 1 -> 1 subscriber on server 2, 16 B payload',
    subject: 'bench.cluster.pubsub',
    waitForInterest: (pubServer, subServer, subject) => waitForRouteInterest(pubServer, [subServer], subject),
  });
}

export interface TwoServerPubsub {
  readonly name: string;
  readonly group: string;
  readonly description: string;
  readonly subject: string;
  /** How the runner connects the two servers (default: a cluster). */
  readonly topology?: Scenario['topology'];
  /** Resolves once the subscriber's interest reached the publisher's server; returns the ms it took. */
  waitForInterest(pubServer: ServerTarget, subServer: ServerTarget, subject: string): Promise<number>;
}

/**
 * 1 raw publisher on ctx.cluster[0] -> 1 raw subscriber on ctx.cluster[1], 16 B payload, every
 * message crossing the link between them once (a route, a leaf connection). Delivered msgs/s;
 * checks order. The clock starts once the interest has crossed.
 */
export function twoServerPubsubScenario(msgs: number, o: TwoServerPubsub): Scenario {
  return {
    name: o.name,
    group: o.group,
    description: o.description,
    servers: 2,
    ...(o.topology !== undefined ? { topology: o.topology } : {}),
    params: { msgs, payloadBytes: 16, subject: o.subject, check: 'order', timeoutMs: 120_000 },
    countParam: 'msgs',
    bar: { op: '>=', ratio: 0.5 },
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'mbPerSec', label: 'payload MB/s', better: 'higher' },
      { key: 'pubMsgsPerSec', label: 'publish msgs/s', better: 'higher' },
    ],
    primary: 'msgsPerSec',
    async run(ctx) {
      checkCluster(ctx, 2);
      const p = ctx.params;
      const subject = String(p.subject);
      const [pubServer, subServer] = ctx.cluster;
      let interestMs = 0;
      const r = await runBroadcast(ctx, {
        subject,
        payloadBytes: Number(p.payloadBytes),
        msgs: Number(p.msgs),
        subscribers: 1,
        check: parseCheck(p.check),
        timeoutMs: Number(p.timeoutMs),
        pubServer,
        subServers: [subServer],
        beforePublish: async () => {
          interestMs = await o.waitForInterest(pubServer, subServer, subject);
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

export function clusterFanoutScenario(msgs: number): Scenario {
  return {
    name: 'cluster-fanout',
    group: 'cluster',
    description: '3-server cluster: 1 publisher on server 1 -> 1 subscriber on each of the 3 servers, 16 B payload',
    servers: 3,
    params: { msgs, payloadBytes: 16, subject: 'bench.cluster.fanout', check: 'order', timeoutMs: 120_000 },
    countParam: 'msgs',
    bar: { op: '>=', ratio: 0.5 },
    metrics: [
      { key: 'deliveredPerSec', label: 'delivered msgs/s', better: 'higher' },
      { key: 'msgsPerSec', label: 'published msgs/s', better: 'higher' },
    ],
    primary: 'deliveredPerSec',
    async run(ctx) {
      checkCluster(ctx, 3);
      const p = ctx.params;
      const subject = String(p.subject);
      const servers = ctx.cluster.slice(0, 3);
      let interestMs = 0;
      const r = await runBroadcast(ctx, {
        subject,
        payloadBytes: Number(p.payloadBytes),
        msgs: Number(p.msgs),
        subscribers: servers.length,
        check: parseCheck(p.check),
        timeoutMs: Number(p.timeoutMs),
        pubServer: servers[0],
        subServers: servers,
        beforePublish: async () => {
          interestMs = await waitForRouteInterest(servers[0], servers, subject);
        },
      });
      const sec = r.elapsedMs / 1000;
      return { deliveredPerSec: r.delivered / sec, msgsPerSec: Number(p.msgs) / sec, elapsedMs: r.elapsedMs, interestMs };
    },
  };
}
