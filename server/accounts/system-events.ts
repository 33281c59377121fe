// The system account's events, in nats-server's shapes (events.go): a client connecting or
// disconnecting is announced on `$SYS.ACCOUNT.<account>.CONNECT` / `.DISCONNECT` (with the
// account's connection count on `.SERVER.CONNS`), and the server's statistics go out on
// `$SYS.SERVER.<id>.STATSZ` every few seconds (250 ms after start, doubling up to 30 s, as
// nats-server's heartbeat does). Everything is published in the system account's router, so only
// its users (and the servers of the cluster, over the routes) hear it. An event is built only when
// someone listens. The requests ($SYS.REQ.>) are answered by system-requests.ts.

import { availableParallelism } from 'node:os';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { ClientConnection } from '../connection/client-connection.ts';
import type { Router } from '../router/router.ts';
import { accountStat, type AccountTraffic } from '../monitor/accstatz.ts';
import { CpuSampler } from '../monitor/http.ts';

export const CONNECT_EVENT_TYPE = 'io.nats.server.advisory.v1.client_connect';
export const DISCONNECT_EVENT_TYPE = 'io.nats.server.advisory.v1.client_disconnect';
export const ACCOUNT_CONNS_EVENT_TYPE = 'io.nats.server.advisory.v1.account_connections';

/** The server as events name it (nats-server's ServerInfo). */
export interface EventServer {
  readonly name: string;
  readonly host: string;
  readonly id: string;
  readonly cluster: string;
  readonly domain: string;
  readonly version: string;
  jetstream(): boolean;
}

/** A client connection as events describe it (nats-server's ClientInfo and its counters). */
export interface EventClient {
  readonly startMs: number;
  readonly host: string;
  readonly cid: number;
  readonly account: string;
  readonly user: string;
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** Round trip in ms, -1 when not measured. */
  readonly rttMs: number;
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly transport: 'tcp' | 'ws';
}

/** A connection's figures for an event, taken now. */
export function eventClient(conn: ClientConnection): EventClient {
  return {
    startMs: conn.startMs,
    host: conn.transport.remoteAddress,
    cid: conn.id,
    account: conn.account,
    user: conn.auth.user?.name ?? '',
    name: conn.name,
    lang: conn.lang,
    version: conn.version,
    rttMs: conn.rttMs,
    inMsgs: conn.inMsgs,
    inBytes: conn.inBytes,
    outMsgs: conn.outMsgs,
    outBytes: conn.outBytes,
    transport: conn.transport.kind,
  };
}

/** What a statistics answer reads of the server (nats-server's ServerStats). */
export interface StatsSource {
  readonly startMs: number;
  connections(): number;
  totalConnections(): number;
  activeAccounts(): number;
  subscriptions(): number;
  sent(): { msgs: number; bytes: number };
  received(): { msgs: number; bytes: number };
  slowConsumers(): number;
  /** This server and the peers it has routes to. */
  activeServers(): number;
  /** Each route's traffic (nats-server's RouteStat: rid, name, sent, received, pending); none unclustered. */
  routes(): readonly Record<string, unknown>[];
  /** JetStream's block (/varz's `jetstream` shape, config and stats), when enabled. */
  jetstream(): Record<string, unknown> | undefined;
  /** One account's connections and traffic here, for `.SERVER.CONNS` (undefined: no such account). */
  accountTraffic(account: string): AccountTraffic | undefined;
}

/** nats-server's statsz heartbeat: the first 250 ms after start, doubling up to eventsHBInterval. */
const STATSZ_FIRST_MS = 250;
const STATSZ_MAX_MS = 30_000;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** nats-server's ClientInfo of a client (events, and the JetStream API audit); `stopMs` once closed. */
export function clientInfo(c: EventClient, stopMs?: number): Record<string, unknown> {
  return {
    start: iso(c.startMs),
    host: c.host,
    id: c.cid,
    acc: c.account,
    ...(c.user !== '' ? { user: c.user } : {}),
    ...(c.name !== '' ? { name: c.name } : {}),
    ...(c.lang !== '' ? { lang: c.lang } : {}),
    ...(c.version !== '' ? { ver: c.version } : {}),
    ...(stopMs !== undefined && c.rttMs > 0 ? { rtt: Math.round(c.rttMs * 1e6) } : {}),
    ...(stopMs !== undefined ? { stop: iso(stopMs) } : {}),
    kind: 'Client',
    client_type: c.transport === 'ws' ? 'websocket' : 'nats',
  };
}

export class SystemEvents {
  private readonly router: Router;
  private readonly server: EventServer;
  private readonly stats: StatsSource;
  private readonly clock: Clock;
  private seq = 0;
  private heartbeat: TimerHandle | undefined;
  /** The process's CPU use since the previous statistics message (nats-server's statsz.cpu). */
  private readonly cpu: CpuSampler;

  constructor(router: Router, server: EventServer, stats: StatsSource, clock: Clock) {
    this.router = router;
    this.server = server;
    this.stats = stats;
    this.clock = clock;
    this.cpu = new CpuSampler(clock);
  }

  /** Starts the periodic STATSZ; its timer does not keep the process alive and stops with close(). */
  start(): void {
    const subject = `$SYS.SERVER.${this.server.id}.STATSZ`;
    let delayMs = STATSZ_FIRST_MS;
    const beat = (): void => {
      delayMs = Math.min(delayMs * 2, STATSZ_MAX_MS);
      this.heartbeat = this.clock.setTimeout(beat, delayMs);
      if (this.heard(subject)) this.publish(subject, this.statszMessage());
    };
    this.heartbeat = this.clock.setTimeout(beat, delayMs);
  }

  close(): void {
    this.heartbeat?.cancel();
    this.heartbeat = undefined;
  }

  connected(c: EventClient): void {
    const subject = `$SYS.ACCOUNT.${c.account}.CONNECT`;
    this.accountConnections(c.account);
    if (!this.heard(subject)) return;
    this.publish(subject, { ...this.typed(CONNECT_EVENT_TYPE), server: this.serverInfo(), client: clientInfo(c) });
  }

  disconnected(c: EventClient, reason: string): void {
    const subject = `$SYS.ACCOUNT.${c.account}.DISCONNECT`;
    this.accountConnections(c.account);
    if (!this.heard(subject)) return;
    const now = this.clock.nowMs();
    this.publish(subject, {
      ...this.typed(DISCONNECT_EVENT_TYPE),
      server: this.serverInfo(),
      client: clientInfo(c, now),
      sent: { msgs: c.inMsgs, bytes: c.inBytes },
      received: { msgs: c.outMsgs, bytes: c.outBytes },
      reason,
    });
  }

  private accountConnections(account: string): void {
    const subject = `$SYS.ACCOUNT.${account}.SERVER.CONNS`;
    if (!this.heard(subject)) return;
    this.publish(subject, this.accountConnsEvent(account, true)!);
  }

  /**
   * The account's connection count event (nats-server's AccountNumConns); undefined when it has
   * no connection here and `always` is not set (an $SYS.REQ.ACCOUNT.<acc>.CONNS request).
   */
  accountConnsEvent(account: string, always = false): object | undefined {
    const t = this.stats.accountTraffic(account) ?? { name: account, conns: 0, leafnodes: 0, inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0 };
    if (t.conns + t.leafnodes === 0 && !always) return undefined;
    return { ...this.typed(ACCOUNT_CONNS_EVENT_TYPE), server: this.serverInfo(), ...accountStat(t) };
  }

  /** The server's statistics message ({server, statsz}), for STATSZ and the PING requests. */
  statszMessage(): object {
    return { server: this.serverInfo(), statsz: this.statsz() };
  }

  private heard(subject: string): boolean {
    const m = this.router.match(subject);
    return m.plain.length > 0 || m.queues.length > 0 || m.routes.length > 0;
  }

  private typed(type: string): Record<string, unknown> {
    return { type, id: newToken(), timestamp: iso(this.clock.nowMs()) };
  }

  /** The `server` block every event and answer carries (nats-server's ServerInfo), numbered. */
  serverInfo(): Record<string, unknown> {
    const s = this.server;
    return {
      name: s.name,
      host: s.host,
      id: s.id,
      ...(s.cluster !== '' ? { cluster: s.cluster } : {}),
      ...(s.domain !== '' ? { domain: s.domain } : {}),
      ver: s.version,
      seq: ++this.seq,
      jetstream: s.jetstream(),
      time: iso(this.clock.nowMs()),
    };
  }

  private statsz(): Record<string, unknown> {
    const st = this.stats;
    const mem = process.memoryUsage();
    const js = st.jetstream();
    const routes = st.routes();
    return {
      start: iso(st.startMs),
      mem: mem.rss,
      cores: availableParallelism(),
      cpu: this.cpu.sample(),
      connections: st.connections(),
      total_connections: st.totalConnections(),
      active_accounts: st.activeAccounts(),
      subscriptions: st.subscriptions(),
      sent: st.sent(),
      received: st.received(),
      slow_consumers: st.slowConsumers(),
      ...(routes.length > 0 ? { routes } : {}),
      active_servers: st.activeServers(),
      ...(js !== undefined ? { jetstream: js } : {}),
    };
  }

  /** Publishes `body` as JSON in the system account (or in `router`, an answer to another account). */
  publish(subject: string, body: object, router: Router = this.router): void {
    router.publish(subject, '', 0, Buffer.from(JSON.stringify(body)), -1);
  }
}
