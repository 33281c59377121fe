// /jsz: JetStream on this server, with nats-server's field names (its JSInfo): usage, the
// config, and, when clustered, the meta group (`meta_cluster`: its leader and members).

import type { JetStreamService } from '../../streams/index.ts';
import type { ServerOptions } from '../options-types.ts';

export interface JszSource {
  readonly serverId: string;
  readonly options: ServerOptions;
  nowMs(): number;
  jetstream(): JetStreamService | undefined;
}

export function buildJsz(src: JszSource): Record<string, unknown> {
  const js = src.jetstream();
  const base: Record<string, unknown> = { server_id: src.serverId, now: new Date(src.nowMs()).toISOString() };
  if (js === undefined) return { ...base, disabled: true };
  const st = js.stats();
  const out: Record<string, unknown> = {
    ...base,
    config: { store_dir: src.options.storeDir, sync: src.options.jetstreamSync },
    memory: st.memory,
    storage: st.storage,
    accounts: 1,
    api: { total: js.api.stats.total, errors: js.api.stats.errors },
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
  return out;
}
