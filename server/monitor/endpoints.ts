// The monitoring port's endpoints, wired to the server: each path's answer is built by its own
// module from a narrow view of the server (docs/monitoring.md lists them and their parameters).

import type { Clock } from '../../runtime/clock.ts';
import type { JetStreamService } from '../../streams/index.ts';
import type { RouteLink } from '../cluster/route.ts';
import type { ClientConnection } from '../connection/client-connection.ts';
import type { ServerOptions } from '../options-types.ts';
import type { Router } from '../router/router.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { GLOBAL_ACCOUNT } from '../accounts/config.ts';
import type { ServerStats } from '../stats.ts';
import { buildAccountz } from './accountz.ts';
import { accountTraffic, buildAccstatz } from './accstatz.ts';
import type { ClosedConnections } from './closed-connections.ts';
import { snapshotConnection } from './conn-info.ts';
import { buildConnz } from './connz.ts';
import { dashboardEndpoints } from './dashboard.ts';
import { buildHealthz } from './healthz.ts';
import { CpuSampler, HttpAnswer, type EndpointHandler, type RequestCounts } from './http.ts';
import { buildJsz } from './jsz.ts';
import { buildLeafz, leafVarzBlock } from './leafz.ts';
import type { LeafLink } from '../leafnode/link.ts';
import { createMetrics } from './metrics.ts';
import { buildRoutez } from './routez.ts';
import { buildSubsz, sublistStats } from './subsz.ts';
import { buildVarz } from './varz.ts';

/** What the endpoints read from the server. */
export interface MonitorHost {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: ServerOptions;
  readonly stats: ServerStats;
  readonly startMs: number;
  readonly clock: Clock;
  /** The global account's router. */
  readonly router: Router;
  /** Every account (its router among them); undefined = $G only. */
  readonly accounts?: Accounts;
  readonly ports: { readonly client: number; readonly http?: number; readonly ws?: number; readonly cluster?: number };
  readonly closed: ClosedConnections;
  authRequired(): boolean;
  wsTls(): boolean;
  connections(): Iterable<ClientConnection>;
  connectionCount(): number;
  routes(): readonly RouteLink[];
  /** Open leaf node connections (none without leaf nodes). */
  leafs?(): readonly LeafLink[];
  /** The bound leafnode port, when listening for edges. */
  leafPort?(): number | undefined;
  jetstream(): JetStreamService | undefined;
  /** Every account's JetStream (/jsz); default `jetstream()`'s alone. */
  jetstreams?(): readonly { readonly account: string; readonly service: JetStreamService }[];
}

export interface Monitoring {
  readonly endpoints: Map<string, EndpointHandler>;
  readonly requestCounts: RequestCounts;
}

export async function monitorEndpoints(host: MonitorHost): Promise<Monitoring> {
  const requestCounts: RequestCounts = new Map();
  const cpu = new CpuSampler(host.clock);
  const nowMs = (): number => host.clock.nowMs();
  const routers = (): Router[] => host.accounts?.all().map((a) => a.router) ?? [host.router];
  const sublistOf = (rs: () => Router[]) => ({
    subscriptionCount: () => sum(rs(), (r) => r.subscriptionCount),
    inserts: () => sum(rs(), (r) => r.inserts),
    removes: () => sum(rs(), (r) => r.removes),
    cache: () => combinedCacheStats(rs()),
  });
  // The server-wide figures are those of every account's subject space together.
  const sublist = sublistOf(routers);
  const subscriptionCount = sublist.subscriptionCount;
  const jetstreamEnabled = (): boolean => host.jetstream() !== undefined;
  const metrics = createMetrics({
    serverId: host.serverId,
    serverName: host.serverName,
    stats: host.stats,
    startMs: host.startMs,
    nowMs,
    connectionCount: () => host.connectionCount(),
    subscriptionCount,
    pendingBytes: () => {
      let n = 0;
      for (const c of host.connections()) n += c.pendingBytes;
      return n;
    },
    closedByReason: () => host.closed.byReason,
    routes: () => host.routes(),
    jetstream: () => host.jetstream(),
  });

  const varz = (): unknown =>
    buildVarz({
      serverId: host.serverId,
      serverName: host.serverName,
      options: host.options,
      stats: host.stats,
      startMs: host.startMs,
      clientPort: host.ports.client,
      httpPort: host.ports.http ?? 0,
      authRequired: host.authRequired(),
      wsPort: host.ports.ws,
      wsTls: host.wsTls(),
      cpu,
      nowMs,
      connectionCount: () => host.connectionCount(),
      subscriptionCount,
      jetstreamEnabled,
      jetstreamStats: () => {
        const js = host.jetstream();
        const st = js?.stats();
        return { memory: st?.memory ?? 0, storage: st?.storage ?? 0, api: { total: js?.api.stats.total ?? 0, errors: js?.api.stats.errors ?? 0 } };
      },
      requestCounts,
      ...(host.ports.cluster !== undefined ? { clusterPort: host.ports.cluster } : {}),
      routeCount: () => host.routes().length,
      leafCount: () => host.leafs?.().length ?? 0,
      leafBlock: () => leafVarzBlock(host.options.leafnodes, host.leafPort?.(), host.options.authTimeoutMs, host.options.host),
    });

  const endpoints = new Map<string, EndpointHandler>([
    ...(await dashboardEndpoints()),
    ['/varz', varz],
    [
      '/connz',
      (q) =>
        buildConnz(
          {
            serverId: host.serverId,
            nowMs,
            open: (withSubs) => [...host.connections()].map((c) => snapshotConnection(c, withSubs)),
            closed: () => host.closed.list(),
          },
          q,
        ),
    ],
    [
      '/subsz',
      (q) => {
        // acc=<name>: that account's subject space only (nats-server's SubszOptions.Account).
        const acc = q.get('acc') ?? '';
        const of = acc === '' ? routers : () => routers().filter((r) => r.account === acc);
        return buildSubsz(
          {
            serverId: host.serverId,
            nowMs,
            ...(acc === '' ? sublist : sublistOf(of)),
            *subscriptions() {
              for (const router of of()) {
                for (const sub of router.localSubscriptions()) {
                  yield { sub: { subject: sub.subject, queue: sub.queue, sid: sub.sid, msgs: sub.delivered }, cid: sub.target.id, account: router.account };
                }
              }
            },
          },
          q,
        );
      },
    ],
    [
      '/routez',
      (q) =>
        buildRoutez(
          {
            serverId: host.serverId,
            serverName: host.serverName,
            nowMs,
            routes: () => host.routes(),
            configured: () => host.options.cluster?.routes ?? [],
          },
          q,
        ),
    ],
    ['/leafz', (q) => buildLeafz({ serverId: host.serverId, nowMs, links: () => host.leafs?.() ?? [] }, q)],
    ['/jsz', (q) => buildJsz({ serverId: host.serverId, options: host.options, nowMs, jetstream: () => host.jetstream(), ...(host.jetstreams !== undefined ? { jetstreams: host.jetstreams } : {}) }, q)],
    [
      '/healthz',
      (q) =>
        buildHealthz(
          {
            jetstreamEnabled,
            jetstreamHealth: (serverOnly) => {
              // Standalone JetStream is ready once started; clustered, it must have caught up, in
              // every account that has one (each replicates on its own).
              const all = host.jetstreams?.() ?? [{ account: GLOBAL_ACCOUNT, service: host.jetstream() }];
              for (const { account, service } of all) {
                const problem = service?.health(serverOnly) ?? '';
                if (problem !== '') return account === GLOBAL_ACCOUNT ? problem : `account ${account}: ${problem}`;
              }
              return '';
            },
          },
          q,
        ),
    ],
    [
      '/accountz',
      (q) =>
        buildAccountz(
          {
            serverId: host.serverId,
            startMs: host.startMs,
            nowMs,
            systemAccount: host.accounts?.configured === true ? host.accounts.system.name : undefined,
            accounts: () => {
              const all = host.accounts;
              // Without configured accounts, $G alone (the system account has nothing to show).
              const list = all === undefined || !all.configured ? [all?.global ?? { name: host.router.account, router: host.router, config: undefined }] : all.all();
              return list.map((a) => ({
                name: a.name,
                config: a.config,
                jetstreamEnabled: () => jetstreamEnabled() && (all === undefined || all.jetstreamAccounts().some((x) => x.name === a.name)),
                clientConnections: () => count(host.connections(), (c) => c.account === a.name),
                leafConnections: () => count(host.leafs?.() ?? [], (l) => l.account === a.name),
                subscriptionCount: () => a.router.subscriptionCount,
                sublistStats: () => sublistStats(sublistOf(() => [a.router])),
              }));
            },
          },
          q,
        ),
    ],
    [
      '/accstatz',
      (q) =>
        buildAccstatz(
          {
            serverId: host.serverId,
            nowMs,
            accounts: () => (host.accounts?.all() ?? []).map((a) => accountTraffic(a, host.connections(), host.leafs?.() ?? [])),
          },
          q,
        ),
    ],
    ['/metrics', async () => new HttpAnswer(200, await metrics.render(), metrics.contentType)],
  ]);
  return { endpoints, requestCounts };
}

function sum<T>(items: readonly T[], f: (t: T) => number): number {
  let n = 0;
  for (const t of items) n += f(t);
  return n;
}

function count<T>(items: Iterable<T>, f: (t: T) => boolean): number {
  let n = 0;
  for (const t of items) if (f(t)) n++;
  return n;
}

/** Match cache figures of several subject spaces together (entries summed, fan-outs weighted). */
function combinedCacheStats(routers: readonly Router[]): { entries: number; maxFanout: number; avgFanout: number } {
  let entries = 0;
  let max = 0;
  let total = 0;
  for (const r of routers) {
    const c = r.matchCacheStats();
    entries += c.entries;
    max = Math.max(max, c.maxFanout);
    total += c.avgFanout * c.entries;
  }
  return { entries, maxFanout: max, avgFanout: entries === 0 ? 0 : total / entries };
}
