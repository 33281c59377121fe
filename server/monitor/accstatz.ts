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
      .map((a) => ({
        acc: a.name,
        conns: a.conns,
        leafnodes: a.leafnodes,
        total_conns: a.conns + a.leafnodes,
        sent: { msgs: a.outMsgs, bytes: a.outBytes },
        received: { msgs: a.inMsgs, bytes: a.inBytes },
        slow_consumers: a.slowConsumers,
      })),
  };
}
