// /accountz, minimal: sluice has one account (nats-server's global account, $G) and no system
// account. Without `acc` it lists the accounts; with `acc=$G` it describes that one.

import { GLOBAL_ACCOUNT } from '../router/router.ts';
import { QueryError } from './http.ts';

export interface AccountzSource {
  readonly serverId: string;
  readonly startMs: number;
  nowMs(): number;
  jetstreamEnabled(): boolean;
  connectionCount(): number;
  subscriptionCount(): number;
  /** /subsz's statistics block (nats-server repeats it per account). */
  sublistStats(): Record<string, unknown>;
}

export function buildAccountz(src: AccountzSource, query: URLSearchParams): Record<string, unknown> {
  const base = { server_id: src.serverId, now: new Date(src.nowMs()).toISOString() };
  const acc = query.get('acc') ?? '';
  if (acc === '') return { ...base, accounts: [GLOBAL_ACCOUNT] };
  if (acc !== GLOBAL_ACCOUNT) throw new QueryError(`Account ${acc} does not exist`);
  return {
    ...base,
    account_detail: {
      account_name: GLOBAL_ACCOUNT,
      update_time: new Date(src.startMs).toISOString(),
      expired: false,
      complete: true,
      jetstream_enabled: src.jetstreamEnabled(),
      leafnode_connections: 0,
      client_connections: src.connectionCount(),
      subscriptions: src.subscriptionCount(),
      sublist_stats: src.sublistStats(),
    },
  };
}
