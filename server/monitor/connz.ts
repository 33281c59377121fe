// /connz: client connections, open and recently closed, with nats-server's field names, query
// parameters (offset, limit, sort, subs, auth, state, cid, user) and answers to bad queries
// (docs/monitoring.md).

import type { ConnSnapshot, SubSnapshot } from './conn-info.ts';
import { formatUptime, QueryError } from './http.ts';
import { page, parseBool, parseCount } from './query.ts';
import { formatRtt } from './routez.ts';
import { GLOBAL_ACCOUNT } from '../router/router.ts';

export interface ConnzSource {
  readonly serverId: string;
  nowMs(): number;
  /** Open connections; `withSubs` asks for their subscriptions too. */
  open(withSubs: boolean): ConnSnapshot[];
  /** Closed connections still remembered, oldest first. */
  closed(): ConnSnapshot[];
}

type Key = (c: ConnSnapshot, now: number) => number | string;

/** Sort options: the key and whether larger values come first (nats-server's orders). */
const SORTS: Record<string, { key: Key; descending: boolean; closedOnly?: boolean }> = {
  cid: { key: (c) => c.cid, descending: false },
  start: { key: (c) => c.startMs, descending: false },
  subs: { key: (c) => c.subscriptionCount, descending: true },
  pending: { key: (c) => c.pendingBytes, descending: true },
  msgs_to: { key: (c) => c.outMsgs, descending: true },
  msgs_from: { key: (c) => c.inMsgs, descending: true },
  bytes_to: { key: (c) => c.outBytes, descending: true },
  bytes_from: { key: (c) => c.inBytes, descending: true },
  last: { key: (c) => c.lastActivityMs, descending: true },
  idle: { key: (c, now) => (c.stopMs ?? now) - c.lastActivityMs, descending: true },
  uptime: { key: (c, now) => (c.stopMs ?? now) - c.startMs, descending: true },
  rtt: { key: (c) => c.rttMs, descending: true },
  stop: { key: (c) => c.stopMs ?? 0, descending: true, closedOnly: true },
  reason: { key: (c) => c.reason ?? '', descending: false, closedOnly: true },
};

export function buildConnz(src: ConnzSource, query: URLSearchParams): Record<string, unknown> {
  const now = src.nowMs();
  const state = (query.get('state') ?? 'open').toLowerCase();
  if (!['open', 'closed', 'any', 'all'].includes(state)) throw new QueryError(`invalid connection state: ${state}`);
  const sortName = query.get('sort') || 'cid';
  const sort = SORTS[sortName];
  if (sort === undefined) throw new QueryError(`invalid sorting option: ${sortName}`);
  if (sort.closedOnly === true && state !== 'closed') throw new QueryError(`sort by ${sortName} only valid on closed connections`);
  const subsParam = query.get('subs');
  const detail = subsParam === 'detail';
  const withSubs = detail || parseBool(query, 'subs');
  const auth = parseBool(query, 'auth');
  const cidParam = query.get('cid');
  const user = query.get('user') ?? '';
  const account = query.get('acc') ?? '';

  let conns: ConnSnapshot[] = [];
  if (state !== 'closed') conns.push(...src.open(withSubs));
  if (state !== 'open') conns.push(...src.closed());
  if (cidParam !== null && cidParam !== '') {
    const cid = parseCount(query, 'cid', 0);
    conns = conns.filter((c) => c.cid === cid);
  }
  if (user !== '') conns = conns.filter((c) => c.user === user);
  if (account !== '') conns = conns.filter((c) => c.account === account);

  const { key, descending } = sort;
  conns.sort((a, b) => {
    const ka = key(a, now);
    const kb = key(b, now);
    const order = ka < kb ? -1 : ka > kb ? 1 : a.cid - b.cid;
    return descending && ka !== kb ? -order : order;
  });
  const { items, offset, limit } = page(conns, query);
  return {
    server_id: src.serverId,
    now: new Date(now).toISOString(),
    num_connections: items.length,
    total: conns.length,
    offset,
    limit,
    connections: items.map((c) => connInfo(c, now, { subs: withSubs, detail, auth })),
  };
}

/** One ConnInfo, fields in nats-server's order; empty optional strings are left out (omitempty). */
export function connInfo(c: ConnSnapshot, now: number, opts: { subs: boolean; detail: boolean; auth: boolean }): Record<string, unknown> {
  const end = c.stopMs ?? now;
  const out: Record<string, unknown> = {
    cid: c.cid,
    kind: 'Client',
    type: c.transport === 'ws' ? 'websocket' : 'nats',
    ip: c.ip,
    port: c.port,
    start: new Date(c.startMs).toISOString(),
    last_activity: new Date(c.lastActivityMs).toISOString(),
  };
  if (c.stopMs !== undefined) {
    out.stop = new Date(c.stopMs).toISOString();
    out.reason = c.reason ?? '';
  }
  // Timed on the server's keepalive PINGs; until the first one, Go's zero duration.
  out.rtt = c.rttMs < 0 ? '0s' : formatRtt(c.rttMs);
  out.uptime = formatUptime(end - c.startMs);
  out.idle = formatUptime(end - c.lastActivityMs);
  out.pending_bytes = c.pendingBytes;
  out.in_msgs = c.inMsgs;
  out.out_msgs = c.outMsgs;
  out.in_bytes = c.inBytes;
  out.out_bytes = c.outBytes;
  out.subscriptions = c.subscriptionCount;
  if (c.name !== '') out.name = c.name;
  if (c.lang !== '') out.lang = c.lang;
  if (c.version !== '') out.version = c.version;
  if (opts.auth && c.user !== '') out.authorized_user = c.user;
  // nats-server names the account only when it is not the global one.
  if (opts.auth && c.account !== GLOBAL_ACCOUNT) out.account = c.account;
  if (opts.auth && c.jwt !== undefined) {
    out.jwt = c.jwt.jwt;
    out.issuer_key = c.jwt.issuerKey;
    if (c.jwt.nameTag !== '') out.name_tag = c.jwt.nameTag;
    if (c.jwt.tags.length > 0) out.tags = [...c.jwt.tags];
  }
  if (opts.subs && c.subs.length > 0) {
    if (opts.detail) out.subscriptions_list_detail = c.subs.map((s) => subDetail(s, c.cid, c.account));
    else out.subscriptions_list = c.subs.map((s) => s.subject);
  }
  return out;
}

/** nats-server's SubDetail (also /subsz's list entries). */
export function subDetail(s: SubSnapshot, cid: number, account: string): Record<string, unknown> {
  return {
    account,
    subject: s.subject,
    ...(s.queue !== '' ? { qgroup: s.queue } : {}),
    sid: s.sid,
    msgs: s.msgs,
    cid,
  };
}
