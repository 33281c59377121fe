// /leafz and the leaf parts of /varz (nats-server's Leafz/LeafInfo and LeafNodeOptsVarz field
// names and types; docs/leafnodes.md). `subs=1` lists each link's subscriptions (the interest the
// other side announced over it). Kept apart from the other endpoints: it reads only the links.

import type { LeafLink } from '../leafnode/link.ts';
import type { LeafNodeOptions } from '../options-types.ts';
import { formatRtt } from './routez.ts';

export interface LeafzSource {
  readonly serverId: string;
  nowMs(): number;
  /** Open leaf connections, accepted and dialled. */
  links(): readonly LeafLink[];
}

export function buildLeafz(src: LeafzSource, query: URLSearchParams): Record<string, unknown> {
  const withSubs = query.get('subs') === '1' || query.get('subs') === 'true';
  const account = query.get('acc') ?? '';
  const leafs = src
    .links()
    .filter((l) => account === '' || account === l.account)
    .map((l) => {
      const info: Record<string, unknown> = {
        name: l.remoteName,
        is_spoke: l.isSpoke,
        account: l.account,
        ip: l.remoteAddress,
        port: l.remotePort,
        rtt: formatRtt(l.rttMs),
        in_msgs: l.inMsgs,
        out_msgs: l.outMsgs,
        in_bytes: l.inBytes,
        out_bytes: l.outBytes,
        subscriptions: l.remoteSubs.size,
      };
      if (withSubs) info.subscriptions_list = [...l.remoteSubs.values()].map((s) => (s.queue === '' ? s.subject : `${s.subject} ${s.queue}`));
      return info;
    });
  return { server_id: src.serverId, now: new Date(src.nowMs()).toISOString(), leafnodes: leafs.length, leafs };
}

/** /varz's `leaf` block: the listener and the remotes, empty when leaf nodes are off. */
export function leafVarzBlock(o: LeafNodeOptions | undefined, boundPort: number | undefined, authTimeoutMs: number, clientHost: string): Record<string, unknown> {
  if (o === undefined) return {};
  return {
    ...(o.port !== undefined ? { host: o.host || clientHost, port: boundPort ?? o.port, auth_timeout: authTimeoutMs / 1000 } : {}),
    ...(o.remotes.length > 0
      ? {
          remotes: o.remotes.map((r) => ({
            local_account: r.account || '$G',
            urls: r.urls.map((u) => u.replace(/\/\/[^@/]*@/, '//')),
            ...(r.denyExports.length > 0 || r.denyImports.length > 0
              ? { deny: { ...(r.denyExports.length > 0 ? { exports: r.denyExports } : {}), ...(r.denyImports.length > 0 ? { imports: r.denyImports } : {}) } }
              : {}),
          })),
        }
      : {}),
  };
}
