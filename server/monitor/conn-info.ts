// One client connection as /connz shows it (nats-server's ConnInfo), taken from a live connection
// or kept after it closed. A snapshot is plain data: the closed-connection ring holds these, not
// the connections, so a closed connection's buffers and parser can be collected.

import type { JwtIdentity } from '../auth/jwt-users.ts';
import type { ClientConnection } from '../connection/client-connection.ts';

export interface SubSnapshot {
  readonly subject: string;
  /** '' for a plain subscription. */
  readonly queue: string;
  readonly sid: string;
  /** Messages delivered to it. */
  readonly msgs: number;
}

export interface ConnSnapshot {
  readonly cid: number;
  readonly transport: 'tcp' | 'ws';
  readonly ip: string;
  readonly port: number;
  readonly startMs: number;
  readonly lastActivityMs: number;
  readonly stopMs?: number;
  readonly reason?: string;
  /** Round trip of the last keepalive PING in ms, -1 when none was timed yet. */
  readonly rttMs: number;
  readonly pendingBytes: number;
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  readonly name: string;
  readonly lang: string;
  readonly version: string;
  /** The authenticated user's name, '' without one. */
  readonly user: string;
  /** A JWT user's JWT, its issuer, name and tags (operator mode). */
  readonly jwt?: JwtIdentity | undefined;
  readonly account: string;
  /** Omitted on live snapshots taken without subscriptions (connz without subs=1). */
  readonly subs: readonly SubSnapshot[];
  readonly subscriptionCount: number;
}

export function subsOf(conn: ClientConnection): SubSnapshot[] {
  const out: SubSnapshot[] = [];
  for (const s of conn.subscriptions()) out.push({ subject: s.subject, queue: s.queue, sid: s.sid, msgs: s.delivered });
  return out;
}

/** A live connection's figures now; `withSubs` also copies its subscriptions (else `subs` is empty). */
export function snapshotConnection(conn: ClientConnection, withSubs: boolean, stop?: { ms: number; reason: string }): ConnSnapshot {
  return {
    cid: conn.id,
    transport: conn.transport.kind,
    ip: conn.transport.remoteAddress,
    port: conn.transport.remotePort,
    startMs: conn.startMs,
    lastActivityMs: conn.lastActivityMs,
    ...(stop !== undefined ? { stopMs: stop.ms, reason: stop.reason } : {}),
    rttMs: conn.rttMs,
    pendingBytes: conn.closed ? 0 : conn.pendingBytes,
    inMsgs: conn.inMsgs,
    outMsgs: conn.outMsgs,
    inBytes: conn.inBytes,
    outBytes: conn.outBytes,
    name: conn.name,
    lang: conn.lang,
    version: conn.version,
    user: conn.auth.user?.name ?? '',
    jwt: conn.auth.user?.jwt,
    account: conn.account,
    subs: withSubs ? subsOf(conn) : [],
    subscriptionCount: conn.subscriptionCount,
  };
}
