// subject -> matching subscriptions, split into plain subscribers and queue groups. Measured worth
// 3-4x on the publish path. Invalidated wholesale whenever the trie's generation moves (any
// (un)subscribe), and cleared when it grows past its bound.

import { MATCH_CACHE_MAX_ENTRIES } from '../../protocol/limits.ts';
import type { RouteTarget, Subscription } from './subscription.ts';

/** The members of one queue group that match a subject. */
export interface QueueGroup {
  readonly name: string;
  /** This server's members. */
  readonly members: readonly Subscription[];
  /** Peers with members, one subscription each, carrying the peer's member count as `weight`. */
  readonly remotes: readonly Subscription[];
}

export interface MatchResult {
  /** This server's plain subscribers. */
  readonly plain: readonly Subscription[];
  readonly queues: readonly QueueGroup[];
  /** Peers with plain interest, each once however many of its subscriptions match. */
  readonly routes: readonly RouteTarget[];
  /** Any interest on other servers (routes, or remote queue members): the clustered fan-out. */
  readonly remote: boolean;
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

  /** The cached results (monitoring). */
  results(): IterableIterator<MatchResult> {
    return this.entries.values();
  }
}

const NO_ROUTES: readonly RouteTarget[] = [];

interface GroupBuilder {
  readonly name: string;
  readonly members: Subscription[];
  readonly remotes: Subscription[];
}

export function splitMatches(matches: readonly Subscription[], subjectBytes: Buffer | null, publishable: boolean): MatchResult {
  const plain: Subscription[] = [];
  let groups: Map<string, GroupBuilder> | undefined;
  let routes: RouteTarget[] | undefined;
  let remote = false;
  for (const sub of matches) {
    const route = sub.route;
    if (sub.queue === '') {
      if (route === null) plain.push(sub);
      else if (routes === undefined) routes = [route];
      else if (!routes.includes(route)) routes.push(route);
      continue;
    }
    groups ??= new Map();
    let g = groups.get(sub.queue);
    if (g === undefined) groups.set(sub.queue, (g = { name: sub.queue, members: [], remotes: [] }));
    if (route === null) {
      g.members.push(sub);
    } else {
      remote = true;
      // A peer announces each (subject, queue) once, but several of its subjects may match.
      const seen = g.remotes.findIndex((r) => r.route === route);
      if (seen === -1) g.remotes.push(sub);
      else if (sub.weight > g.remotes[seen]!.weight) g.remotes[seen] = sub;
    }
  }
  return {
    plain,
    queues: groups ? [...groups.values()] : [],
    routes: routes ?? NO_ROUTES,
    remote: remote || routes !== undefined,
    subjectBytes,
    publishable,
  };
}
