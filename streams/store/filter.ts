// Subject filters as the stores use them, and the one purge decision both stores share so their
// semantics cannot drift apart.

import { hasWildcard, subjectMatches } from '../../protocol/subject.ts';
import type { PurgeOptions } from './types.ts';

export { subjectMatches };

/** undefined, '' and '>' all mean "every subject"; they normalise to null so callers test once. */
export function normalizeFilter(filter: string | undefined): string | null {
  if (filter === undefined || filter === '' || filter === '>') return null;
  return filter;
}

export function isLiteral(filter: string): boolean {
  return !hasWildcard(filter);
}

/**
 * Above this many live subjects a wildcard filter is answered by scanning messages rather than by
 * enumerating the subjects it matches (nats-server's memstore uses the same cut-off).
 */
export const LINEAR_SCAN_MIN_SUBJECTS = 256;

/** At most this many matched subjects are merged per lookup; beyond it, scan messages. */
export const MAX_MERGED_SUBJECTS = 16;

/**
 * Remembers which live subjects each wildcard filter matches, so a consumer calling nextMatching
 * per message does not re-match every subject each time. Any subject appearing or disappearing
 * bumps the generation and so invalidates every entry (cheap: a counter).
 */
export class SubjectMatchCache<T> {
  private generation = 0;
  private readonly entries = new Map<string, { generation: number; matched: T[] }>();

  constructor(private readonly maxEntries = 64) {}

  invalidate(): void {
    this.generation++;
  }

  /** The subjects (from `all`) matching the wildcard `filter`. */
  matching(filter: string, all: ReadonlyMap<string, T>): T[] {
    const hit = this.entries.get(filter);
    if (hit !== undefined && hit.generation === this.generation) return hit.matched;
    const matched: T[] = [];
    for (const [subject, value] of all) {
      if (subjectMatches(filter, subject)) matched.push(value);
    }
    if (hit === undefined && this.entries.size >= this.maxEntries) {
      // Bounded (docs/DESIGN.md principle 6): drop the oldest entry.
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(filter, { generation: this.generation, matched });
    return matched;
  }
}

export type PurgePlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'all' }
  /** Remove every message with seq < upToSeq (nats "Compact"). */
  | { readonly kind: 'compact'; readonly upToSeq: number }
  /** Remove up to `limit` messages matching `filter` with seq <= maxSeq, oldest first. */
  | { readonly kind: 'filtered'; readonly filter: string; readonly maxSeq: number; readonly limit: number };

const NONE: PurgePlan = { kind: 'none' };
const ALL: PurgePlan = { kind: 'all' };

/**
 * nats-server PurgeEx semantics, quirks included (clients compare against it):
 * - no filter: keep=0 and seq=0 purges everything; seq>1 compacts below seq (keep is ignored);
 *   keep>0 compacts below lastSeq-keep+1 (so interior gaps count toward "keep").
 * - filter: keep applies to the number of matching messages; seq>1 bounds the purge to seq-1
 *   (seq<=1 means no bound).
 * `matchingCount` is only consulted for filtered purges.
 */
export function planPurge(
  opts: PurgeOptions | undefined,
  state: { messages: number; lastSeq: number },
  matchingCount: (filter: string) => number,
): PurgePlan {
  const filter = normalizeFilter(opts?.subject);
  const upToSeq = Math.max(0, Math.floor(opts?.upToSeq ?? 0));
  const keep = Math.max(0, Math.floor(opts?.keep ?? 0));
  if (filter === null) {
    if (keep === 0 && upToSeq === 0) return ALL;
    if (upToSeq > 1) return { kind: 'compact', upToSeq };
    if (keep > 0) {
      if (keep >= state.messages) return NONE;
      return { kind: 'compact', upToSeq: state.lastSeq - keep + 1 };
    }
    return NONE;
  }
  const count = matchingCount(filter);
  if (count === 0) return NONE;
  let limit = count;
  if (keep > 0) {
    if (keep >= count) return NONE;
    limit = count - keep;
  }
  const maxSeq = upToSeq > 1 ? upToSeq - 1 : Number.MAX_SAFE_INTEGER;
  return { kind: 'filtered', filter, maxSeq, limit };
}
