// /jsz: JetStream on this server, with nats-server's field names (its JSInfo): usage of every
// account's JetStream together, the config, and, when clustered, the meta group (`meta_cluster`:
// its leader and members). With `accounts=1`, `streams=1` or `consumers=1` each account's details
// follow, with its streams (and their consumers; `config=1` keeps each one's config, as
// nats-server does); `acc=<name>` gives that account's alone.

import type { JetStreamService } from '../../streams/index.ts';
import { GLOBAL_ACCOUNT } from '../router/router.ts';
import type { ServerOptions } from '../options-types.ts';
import { parseBool } from './query.ts';

export interface JszSource {
  readonly serverId: string;
  readonly options: ServerOptions;
  nowMs(): number;
  jetstream(): JetStreamService | undefined;
  /** Every account's JetStream (default: `jetstream()`'s, as $G's). */
  jetstreams?(): readonly { readonly account: string; readonly service: JetStreamService }[];
}

const ZERO_USAGE = { memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 0 };

export function buildJsz(src: JszSource, query: URLSearchParams = new URLSearchParams()): Record<string, unknown> {
  const withConsumers = parseBool(query, 'consumers');
  const withStreams = withConsumers || parseBool(query, 'streams');
  const withAccounts = withStreams || parseBool(query, 'accounts');
  const withConfig = parseBool(query, 'config');
  const js = src.jetstream();
  const base: Record<string, unknown> = { server_id: src.serverId, now: new Date(src.nowMs()).toISOString() };
  if (js === undefined) {
    return {
      ...base,
      disabled: true,
      config: { max_memory: 0, max_storage: 0 },
      ...ZERO_USAGE,
      accounts: 0,
      ha_assets: 0,
      api: { total: 0, errors: 0 },
      streams: 0,
      consumers: 0,
      messages: 0,
      bytes: 0,
    };
  }
  const all = src.jetstreams?.() ?? [{ account: GLOBAL_ACCOUNT, service: js }];
  const total = { memory: 0, storage: 0, reserved_memory: 0, reserved_storage: 0, total: 0, errors: 0, streams: 0, consumers: 0, messages: 0, bytes: 0 };
  for (const { service } of all) {
    const st = service.stats();
    const reserved = service.limits.reserved();
    total.memory += st.memory;
    total.storage += st.storage;
    total.reserved_memory += reserved.memory;
    total.reserved_storage += reserved.storage;
    total.total += service.api.stats.total;
    total.errors += service.api.stats.errors;
    total.streams += st.streams;
    total.consumers += st.consumers;
    total.messages += st.messages;
    total.bytes += st.bytes;
  }
  // Without jetstream { max_mem, max_file } sluice has no total: 0 where nats-server shows its computed one.
  const configured = (n: number): number => (n >= 0 ? n : 0);
  const out: Record<string, unknown> = {
    ...base,
    config: {
      max_memory: configured(src.options.jetstreamMaxMemory),
      max_storage: configured(src.options.jetstreamMaxStore),
      store_dir: src.options.storeDir ?? '',
      sync: src.options.jetstreamSync,
    },
    memory: total.memory,
    storage: total.storage,
    reserved_memory: total.reserved_memory,
    reserved_storage: total.reserved_storage,
    accounts: all.length,
    ha_assets: 0,
    api: { total: total.total, errors: total.errors },
    streams: total.streams,
    consumers: total.consumers,
    messages: total.messages,
    bytes: total.bytes,
  };
  const meta = js.meta;
  if (meta !== null && src.options.cluster !== undefined) {
    const raft = meta.raft;
    const leader = meta.leader;
    const members = raft?.members ?? [];
    const self = raft?.selfName ?? '';
    out.meta_cluster = {
      name: src.options.cluster.name,
      ...(leader !== '' ? { leader } : {}),
      cluster_size: members.length,
      replicas: members
        .filter((m) => m !== self)
        .map((name) => {
          const p = raft?.progressOf(name);
          // Known on the leader only: a replica is current when its log reaches the commit index.
          return { name, current: p !== undefined && p.recentActive && p.match >= (raft?.committed ?? 0) };
        }),
    };
  }
  // nats-server: `acc` selects one account (when it has JetStream), else `accounts` lists them all.
  const acc = query.get('acc') ?? '';
  const one = all.find((a) => a.account === acc);
  const shown = one !== undefined ? [one] : withAccounts ? [...all].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0)) : [];
  if (shown.length > 0) out.account_details = shown.map(({ account, service }) => accountDetail(account, service, withStreams, withConsumers, withConfig));
  return out;
}

/**
 * One account's entry: its usage and API counts; nats-server shows its limits as the reserved
 * figures (a limit of -1, which it shows as 2^64-1, is 0 here).
 */
function accountDetail(name: string, js: JetStreamService, withStreams: boolean, withConsumers: boolean, withConfig: boolean): Record<string, unknown> {
  const st = js.stats();
  const { max_memory, max_storage } = js.limits.limits;
  const account: Record<string, unknown> = {
    name,
    id: name,
    memory: st.memory,
    storage: st.storage,
    reserved_memory: Math.max(0, max_memory),
    reserved_storage: Math.max(0, max_storage),
    accounts: 0,
    ha_assets: 0,
    api: { total: js.api.stats.total, errors: js.api.stats.errors },
  };
  if (withStreams) {
    const streams = streamDetails(js, withConsumers, withConfig);
    if (streams.length > 0) account.stream_detail = streams;
  }
  return account;
}

function streamDetails(js: JetStreamService, withConsumers: boolean, withConfig: boolean): Record<string, unknown>[] {
  return js.streamInfos().map((info) => {
    const detail: Record<string, unknown> = { name: info.config.name, created: info.created };
    if (info.cluster !== undefined) detail.cluster = info.cluster;
    if (withConfig) detail.config = info.config;
    detail.state = info.state;
    if (withConsumers) {
      const consumers = js.consumerInfos(info.config.name).map((c) => {
        // nats-server's consumer_detail: CONSUMER.INFO without its timestamp, config only if asked.
        const { ts: _ts, ...withCfg } = c as typeof c & { ts?: string };
        if (withConfig) return withCfg;
        const { config: _config, ...rest } = withCfg;
        return rest;
      });
      if (consumers.length > 0) detail.consumer_detail = consumers;
    }
    return detail;
  });
}
