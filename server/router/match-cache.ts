// subject -> matching subscriptions, split into plain subscribers and queue groups. Measured worth
// 3-4x on the publish path. Invalidated wholesale whenever the trie's generation moves (any
// (un)subscribe), and cleared when it grows past its bound.

import { MATCH_CACHE_MAX_ENTRIES } from '../../protocol/limits.ts';
import type { Subscription } from './subscription.ts';

export interface MatchResult {
  readonly plain: readonly Subscription[];
  /** One array of members per queue group. */
  readonly queues: readonly (readonly Subscription[])[];
  /** The subject as bytes, shared by every MSG line written for it (null: not made). */
  readonly subjectBytes: Buffer | null;
  /** False when the subject cannot be published to (wildcard or empty tokens). */
  readonly publishable: boolean;
}

export class MatchCache {
  private readonly entries = new Map<string, MatchResult>();
  private generation = -1;
  private readonly maxEntries: number;

  constructor(maxEntries = MATCH_CACHE_MAX_ENTRIES) {
    this.maxEntries = maxEntries;
  }

  get(subject: string, generation: number): MatchResult | undefined {
    if (generation !== this.generation) {
      this.entries.clear();
      this.generation = generation;
      return undefined;
    }
    return this.entries.get(subject);
  }

  set(subject: string, result: MatchResult): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(subject, result);
  }

  get size(): number {
    return this.entries.size;
  }
}

export function splitMatches(matches: readonly Subscription[], subjectBytes: Buffer | null, publishable: boolean): MatchResult {
  const plain: Subscription[] = [];
  let groups: Map<string, Subscription[]> | undefined;
  for (const sub of matches) {
    if (sub.queue === '') {
      plain.push(sub);
      continue;
    }
    groups ??= new Map();
    const members = groups.get(sub.queue);
    if (members) members.push(sub);
    else groups.set(sub.queue, [sub]);
  }
  return { plain, queues: groups ? [...groups.values()] : [], subjectBytes, publishable };
}
