// /subsz: the subscription table's statistics (nats-server's SublistStats) and, with subs=1, its
// subscriptions, optionally only those a message on `test` would reach, paged like /connz.

import { isValidPublishSubject, subjectMatches } from '../../protocol/subject.ts';
import type { SubSnapshot } from './conn-info.ts';
import { subDetail } from './connz.ts';
import { page, parseBool } from './query.ts';
import { QueryError } from './http.ts';

export interface SubszSource {
  readonly serverId: string;
  nowMs(): number;
  subscriptionCount(): number;
  inserts(): number;
  removes(): number;
  cache(): { entries: number; maxFanout: number; avgFanout: number };
  /** This server's own subscriptions (clients' and internal ones), with the owner's cid and account. */
  subscriptions(): Iterable<{ sub: SubSnapshot; cid: number; account: string }>;
}

/** nats-server's SublistStats: the subscription table's size, churn and match cache. */
export function sublistStats(src: Omit<SubszSource, 'serverId' | 'nowMs' | 'subscriptions'>): Record<string, unknown> {
  const cache = src.cache();
  return {
    num_subscriptions: src.subscriptionCount(),
    num_cache: cache.entries,
    num_inserts: src.inserts(),
    num_removes: src.removes(),
    // Matches are not counted: that would cost every publish a counter (docs/monitoring.md).
    num_matches: 0,
    cache_hit_rate: 0,
    max_fanout: cache.maxFanout,
    avg_fanout: cache.avgFanout,
  };
}

/** Without subs=1 only the statistics, as nats-server 2.9 answers; with it the page of subscriptions too. */
export function buildSubsz(src: SubszSource, query: URLSearchParams): Record<string, unknown> {
  const withSubs = parseBool(query, 'subs');
  const test = query.get('test') ?? '';
  if (test !== '' && !isValidPublishSubject(test)) throw new QueryError(`invalid test subject, must be valid publish subject: ${test}`);
  const stats = sublistStats(src);
  if (!withSubs) return stats;
  let all = [...src.subscriptions()];
  if (test !== '') all = all.filter((s) => subjectMatches(s.sub.subject, test));
  const { items, offset, limit } = page(all, query);
  return {
    server_id: src.serverId,
    now: new Date(src.nowMs()).toISOString(),
    ...stats,
    total: all.length,
    offset,
    limit,
    ...(items.length > 0 ? { subscriptions_list: items.map((s) => subDetail(s.sub, s.cid, s.account)) } : {}),
  };
}
