// /accountz: without `acc` the names of the accounts, with `acc=<name>` that account's detail
// (connections, subscriptions, exports and imports), in nats-server's shape. Without configured
// accounts only $G is listed, as sluice always did; with them the system account too, as
// nats-server lists it (docs/monitoring.md).

import type { AccountConfig } from '../accounts/config.ts';
import { streamImportLocalSubject, serviceImportLocalSubject } from '../accounts/config.ts';
import { QueryError } from './http.ts';

export interface AccountzEntry {
  readonly name: string;
  readonly config: AccountConfig | undefined;
  jetstreamEnabled(): boolean;
  clientConnections(): number;
  leafConnections(): number;
  subscriptionCount(): number;
  /** /subsz's statistics block for this account's subject space. */
  sublistStats(): Record<string, unknown>;
}

export interface AccountzSource {
  readonly serverId: string;
  readonly startMs: number;
  nowMs(): number;
  /** The system account's name, when accounts are configured (it is then listed and named). */
  readonly systemAccount: string | undefined;
  accounts(): readonly AccountzEntry[];
}

const RESPONSE_TYPE_NAMES = { singleton: 'Singleton', stream: 'Streamed', chunked: 'Chunked' } as const;

function exportsOf(c: AccountConfig): Record<string, unknown>[] {
  return c.exports.map((e) => ({
    subject: e.subject,
    type: e.kind,
    ...(e.accounts !== undefined ? { approved_accounts: [...e.accounts] } : {}),
    ...(e.kind === 'service' ? { response_type: RESPONSE_TYPE_NAMES[e.responseType] } : {}),
  }));
}

function importsOf(c: AccountConfig): Record<string, unknown>[] {
  return c.imports.map((i) => {
    const flags = { type: i.kind, invalid: false, share: false, tracking: false };
    // nats-server names a service import by its local subject and the exported one as `to`.
    if (i.kind === 'service') return { subject: serviceImportLocalSubject(i), account: i.account, to: i.subject, ...flags };
    const local = streamImportLocalSubject(i);
    return { subject: i.subject, account: i.account, ...(local !== i.subject ? { local_subject: local } : {}), ...flags };
  });
}

export function buildAccountz(src: AccountzSource, query: URLSearchParams): Record<string, unknown> {
  const base = {
    server_id: src.serverId,
    now: new Date(src.nowMs()).toISOString(),
    ...(src.systemAccount !== undefined ? { system_account: src.systemAccount } : {}),
  };
  const all = src.accounts();
  const acc = query.get('acc') ?? '';
  if (acc === '') return { ...base, accounts: all.map((a) => a.name) };
  const a = all.find((x) => x.name === acc);
  if (a === undefined) throw new QueryError(`Account ${acc} does not exist`);
  const exports = a.config === undefined ? [] : exportsOf(a.config);
  const imports = a.config === undefined ? [] : importsOf(a.config);
  const jwt = a.config?.jwt;
  return {
    ...base,
    account_detail: {
      account_name: a.name,
      update_time: new Date(src.startMs).toISOString(),
      ...(src.systemAccount !== undefined && a.name === src.systemAccount ? { is_system: true } : {}),
      expired: jwt?.expiresAtMs !== undefined && jwt.expiresAtMs <= src.nowMs(),
      complete: true,
      jetstream_enabled: a.jetstreamEnabled(),
      leafnode_connections: a.leafConnections(),
      client_connections: a.clientConnections(),
      subscriptions: a.subscriptionCount(),
      ...(exports.length > 0 ? { exports } : {}),
      ...(imports.length > 0 ? { imports } : {}),
      // An account from a JWT (operator mode): the JWT and who signed it, as nats-server shows.
      ...(jwt !== undefined ? { jwt: jwt.token, issuer_key: jwt.issuerKey, ...(jwt.nameTag !== '' ? { name_tag: jwt.nameTag } : {}), ...(jwt.tags.length > 0 ? { tags: [...jwt.tags] } : {}) } : {}),
      sublist_stats: a.sublistStats(),
    },
  };
}
