// This server's interest as the cluster sees it: per account, subject and queue, how many local
// subscriptions there are. Peers only need to hear when a plain subject gains its first or loses
// its last subscriber, and a queue group's member count (its weight) whenever it changes.

import type { Subscription } from '../router/subscription.ts';

/** One change to announce: weight 0 means the interest is gone. */
export interface InterestChange {
  readonly account: string;
  readonly subject: string;
  readonly queue: string;
  readonly weight: number;
}

interface Entry {
  readonly account: string;
  readonly subject: string;
  readonly queue: string;
  count: number;
}

/** Keys interest by account, subject and queue; the separators cannot occur in any of them. */
export function interestKey(account: string, subject: string, queue: string): string {
  return `${account} ${subject} ${queue}`;
}

export class LocalInterest {
  private readonly entries = new Map<string, Entry>();

  /** Counts one subscription in or out; returns what peers must be told, or null for nothing. */
  change(account: string, sub: Subscription, added: boolean): InterestChange | null {
    const key = interestKey(account, sub.subject, sub.queue);
    let e = this.entries.get(key);
    if (added) {
      if (e === undefined) this.entries.set(key, (e = { account, subject: sub.subject, queue: sub.queue, count: 0 }));
      e.count++;
      // A plain subject is announced once; a queue group's weight every time it changes.
      if (sub.queue === '' && e.count > 1) return null;
      return { account, subject: e.subject, queue: e.queue, weight: e.count };
    }
    if (e === undefined) return null;
    e.count--;
    if (e.count <= 0) {
      this.entries.delete(key);
      return { account, subject: e.subject, queue: e.queue, weight: 0 };
    }
    return sub.queue === '' ? null : { account, subject: e.subject, queue: e.queue, weight: e.count };
  }

  /** Everything, for a peer that just connected (the full set, before any delta). */
  *all(): Iterable<InterestChange> {
    for (const e of this.entries.values()) yield { account: e.account, subject: e.subject, queue: e.queue, weight: e.count };
  }

  get size(): number {
    return this.entries.size;
  }
}
