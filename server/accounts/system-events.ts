// The system account's events and requests, in nats-server's shapes (events.go): a client
// connecting or disconnecting is announced on `$SYS.ACCOUNT.<account>.CONNECT` / `.DISCONNECT`
// (with the account's connection count on `.SERVER.CONNS`), and `$SYS.REQ.SERVER.PING` (also
// `.PING.STATSZ`) is answered with the server's statistics. Everything is published in the system
// account's router, so only its users (and the servers of the cluster, over the routes) hear it.
// An event is built only when someone listens.

import { availableParallelism } from 'node:os';
import type { Clock } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { ClientConnection } from '../connection/client-connection.ts';
import type { Router } from '../router/router.ts';
import type { Bridge } from './bridge.ts';

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
  /** JetStream's block (/varz's `jetstream` shape, config and stats), when enabled. */
  jetstream(): Record<string, unknown> | undefined;
  /** Connections and totals of one account, for `.SERVER.CONNS`. */
  accountConnections(account: string): { conns: number; leafnodes: number; total: number };
}

const PING_SUBJECTS = ['$SYS.REQ.SERVER.PING', '$SYS.REQ.SERVER.PING.STATSZ'];

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function clientInfo(c: EventClient, stopMs?: number): Record<string, unknown> {
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
  private readonly undo: (() => void)[] = [];

  constructor(router: Router, server: EventServer, stats: StatsSource, clock: Clock) {
    this.router = router;
    this.server = server;
    this.stats = stats;
    this.clock = clock;
  }

  /**
   * Answers the server PING requests. `bridge` must take routed messages too: every server of a
   * cluster answers a PING (that is how a tool finds the servers), so the subscription is
   * announced and a peer's request reaches it.
   */
  serve(bridge: Bridge): void {
    for (const subject of PING_SUBJECTS) {
      this.undo.push(
        bridge.subscribe(this.router, subject, (_subject, reply) => {
          if (reply !== '') this.send(reply, { server: this.serverInfo(), statsz: this.statsz() });
          return 1;
        }),
      );
    }
  }

  close(): void {
    for (const u of this.undo.splice(0)) u();
  }

  connected(c: EventClient): void {
    const subject = `$SYS.ACCOUNT.${c.account}.CONNECT`;
    this.accountConnections(c.account);
    if (!this.heard(subject)) return;
    this.send(subject, { ...this.typed(CONNECT_EVENT_TYPE), server: this.serverInfo(), client: clientInfo(c) });
  }

  disconnected(c: EventClient, reason: string): void {
    const subject = `$SYS.ACCOUNT.${c.account}.DISCONNECT`;
    this.accountConnections(c.account);
    if (!this.heard(subject)) return;
    const now = this.clock.nowMs();
    this.send(subject, {
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
    const n = this.stats.accountConnections(account);
    this.send(subject, {
      ...this.typed(ACCOUNT_CONNS_EVENT_TYPE),
      server: this.serverInfo(),
      acc: account,
      conns: n.conns,
      leafnodes: n.leafnodes,
      total_conns: n.total,
    });
  }

  private heard(subject: string): boolean {
    const m = this.router.match(subject);
    return m.plain.length > 0 || m.queues.length > 0 || m.routes.length > 0;
  }

  private typed(type: string): Record<string, unknown> {
    return { type, id: newToken(), timestamp: iso(this.clock.nowMs()) };
  }

  private serverInfo(): Record<string, unknown> {
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
    return {
      start: iso(st.startMs),
      mem: mem.rss,
      cores: availableParallelism(),
      cpu: 0,
      connections: st.connections(),
      total_connections: st.totalConnections(),
      active_accounts: st.activeAccounts(),
      subscriptions: st.subscriptions(),
      sent: st.sent(),
      received: st.received(),
      slow_consumers: st.slowConsumers(),
      active_servers: st.activeServers(),
      ...(js !== undefined ? { jetstream: js } : {}),
    };
  }

  private send(subject: string, body: object): void {
    this.router.publish(subject, '', 0, Buffer.from(JSON.stringify(body)), -1);
  }
}
