// /jsz: JetStream on this server, with nats-server's field names (its JSInfo): usage, the
// config, and, when clustered, the meta group (`meta_cluster`: its leader and members). With
// `accounts=1`, `streams=1` or `consumers=1` the one account's details follow, with its streams
// (and their consumers; `config=1` keeps each one's config, as nats-server does).

import type { JetStreamService } from '../../streams/index.ts';
import { GLOBAL_ACCOUNT } from '../router/router.ts';
import type { ServerOptions } from '../options-types.ts';
import { parseBool } from './query.ts';

export interface JszSource {
  readonly serverId: string;
  readonly options: ServerOptions;
  nowMs(): number;
  jetstream(): JetStreamService | undefined;
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
  const st = js.stats();
  const api = { total: js.api.stats.total, errors: js.api.stats.errors };
  // sluice sets no JetStream memory or storage limit: 0 where nats-server shows its computed one.
  const out: Record<string, unknown> = {
    ...base,
    config: { max_memory: 0, max_storage: 0, store_dir: src.options.storeDir ?? '', sync: src.options.jetstreamSync },
    memory: st.memory,
    storage: st.storage,
    reserved_memory: 0,
    reserved_storage: 0,
    accounts: 1,
    ha_assets: 0,
    api,
    streams: st.streams,
    consumers: st.consumers,
    messages: st.messages,
    bytes: st.bytes,
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
  if (withAccounts) {
    const account: Record<string, unknown> = {
      name: GLOBAL_ACCOUNT,
      id: GLOBAL_ACCOUNT,
      memory: st.memory,
      storage: st.storage,
      reserved_memory: 0,
      reserved_storage: 0,
      accounts: 0,
      ha_assets: 0,
      api,
    };
    if (withStreams) {
      const streams = streamDetails(js, withConsumers, withConfig);
      if (streams.length > 0) account.stream_detail = streams;
    }
    out.account_details = [account];
  }
  return out;
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
