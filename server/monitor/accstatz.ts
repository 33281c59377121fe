// /accstatz: per account, its connections and leaf links here and the messages and bytes its
// clients sent and received since the server started (nats-server's AccountStatz). Accounts with
// no connection are left out unless `unused=1`.

import { parseBool } from './query.ts';

export interface AccountTraffic {
  readonly name: string;
  readonly conns: number;
  readonly leafnodes: number;
  /** From the account's clients (nats-server's `received`) and to them (`sent`), closed ones included. */
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
  readonly slowConsumers: number;
}

/** Counters of a connection, as an account sums them. */
interface Counted {
  readonly account: string;
  readonly inMsgs: number;
  readonly inBytes: number;
  readonly outMsgs: number;
  readonly outBytes: number;
}

/** An account's traffic now: what its closed connections left plus its open ones (and its leaf links). */
export function accountTraffic(
  a: { readonly name: string; readonly closedTraffic: Omit<AccountTraffic, 'name' | 'conns' | 'leafnodes'> },
  connections: Iterable<Counted>,
  leafs: Iterable<{ readonly account: string }>,
): AccountTraffic {
  const t = { ...a.closedTraffic, name: a.name, conns: 0, leafnodes: 0 };
  for (const c of connections) {
    if (c.account !== a.name) continue;
    t.conns++;
    t.inMsgs += c.inMsgs;
    t.inBytes += c.inBytes;
    t.outMsgs += c.outMsgs;
    t.outBytes += c.outBytes;
  }
  for (const l of leafs) if (l.account === a.name) t.leafnodes++;
  return t;
}

/** nats-server's AccountStat: an /accstatz entry, also the body of an account's CONNS event. */
export function accountStat(a: AccountTraffic): Record<string, unknown> {
  return {
    acc: a.name,
    conns: a.conns,
    leafnodes: a.leafnodes,
    total_conns: a.conns + a.leafnodes,
    sent: { msgs: a.outMsgs, bytes: a.outBytes },
    received: { msgs: a.inMsgs, bytes: a.inBytes },
    slow_consumers: a.slowConsumers,
  };
}

export interface AccstatzSource {
  readonly serverId: string;
  nowMs(): number;
  accounts(): readonly AccountTraffic[];
}

export function buildAccstatz(src: AccstatzSource, query: URLSearchParams): Record<string, unknown> {
  const unused = parseBool(query, 'unused');
  return {
    server_id: src.serverId,
    now: new Date(src.nowMs()).toISOString(),
    account_statz: src
      .accounts()
      .filter((a) => unused || a.conns > 0 || a.leafnodes > 0)
      .map(accountStat),
  };
}
