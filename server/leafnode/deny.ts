// The subjects a leaf link must not carry one way (deny_imports / deny_exports on a remote, and
// the deny_pub an edge sends in its CONNECT). Decisions on literal subjects are memoised: the
// message path pays one map lookup, as with user permissions.

import { isSubsetOf, subjectMatches } from '../../protocol/subject.ts';

/** Past this many remembered subjects the memo starts over (bounded, like every cache). */
const MAX_REMEMBERED = 1024;

export class SubjectDenyList {
  readonly patterns: readonly string[];
  private readonly memo = new Map<string, boolean>();

  constructor(patterns: readonly string[]) {
    this.patterns = patterns;
  }

  /** Is a message on this literal subject denied? */
  denies(subject: string): boolean {
    let d = this.memo.get(subject);
    if (d === undefined) {
      d = false;
      for (const p of this.patterns) {
        if (subjectMatches(p, subject)) {
          d = true;
          break;
        }
      }
      if (this.memo.size >= MAX_REMEMBERED) this.memo.clear();
      this.memo.set(subject, d);
    }
    return d;
  }

  /**
   * Is all of the interest in `subject` (which may have wildcards) denied? Interest only partly
   * denied is still announced; the messages on the denied subjects are then dropped one by one.
   */
  deniesAll(subject: string): boolean {
    for (const p of this.patterns) if (isSubsetOf(subject, p)) return true;
    return false;
  }
}

/**
 * Each side's own JetStream API never crosses a leaf link, either way: nats-server denies
 * `$JS.API.>` on every leaf connection of an account (and announces its own `$JS.API.>` interest
 * anyway, relying on the other side's deny). The other side's JetStream is reached by domain.
 * A character compare for every other subject, on the message path.
 */
export function isJetStreamApi(subject: string): boolean {
  return subject.charCodeAt(0) === 0x24 && subject.startsWith('$JS.API.');
}

/** A deny list, or null when there is nothing to deny (the common case costs one null check). */
export function denyList(patterns: readonly string[] | undefined): SubjectDenyList | null {
  return patterns === undefined || patterns.length === 0 ? null : new SubjectDenyList(patterns);
}
