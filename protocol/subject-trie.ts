// SubjectTrie<T>: values stored under subject patterns, matched against literal subjects.
// Model: nats-server server/sublist.go — one node per token level with a literal map, a '*' slot
// and a '>' slot; matching walks the literal's tokens once and follows at most the literal child
// plus the '*' child per level, collecting the '>' slot's values on the way.
//
// Semantics:
// - Set semantics per (pattern, value): inserting the same value under the same pattern twice
//   stores it once; remove() takes it out.
// - Within one pattern, values come back in insertion order. Across patterns the order is the
//   walk order ('>' slots first, then '*' subtrees, then literal subtrees, level by level); callers
//   must not rely on it.
// - `generation` moves on every insert/remove that changes the contents (a duplicate insert or the
//   removal of an absent value does not), so a match cache keyed on it stays exact.
// - match() returns a fresh array, or the shared frozen EMPTY_MATCH when nothing matches. Callers
//   must not mutate results (the router caches them).

import { isValidSubject } from './subject.ts';

/** Up to this many literal children are found by comparing in place (no token string made). */
const SCAN_LITERALS = 4;

class TrieNode<T> {
  literals: Map<string, TrieNode<T>> | null = null;
  /** The literal keys and children while there are at most SCAN_LITERALS of them, else null. */
  scanKeys: string[] | null = null;
  scanKids: TrieNode<T>[] | null = null;
  star: TrieNode<T> | null = null;
  gt: TrieNode<T> | null = null;
  /** Values whose pattern ends at this node. */
  values: Set<T> | null = null;
  /** `values` in insertion order as an array: matching walks it without a Set iterator. */
  valueList: T[] = [];

  /** Rebuilds the scan arrays after the literal children changed. */
  literalsChanged(): void {
    const lits = this.literals;
    if (lits === null || lits.size === 0 || lits.size > SCAN_LITERALS) {
      this.scanKeys = null;
      this.scanKids = null;
      return;
    }
    this.scanKeys = [...lits.keys()];
    this.scanKids = [...lits.values()];
  }

  /** The literal child for subject[start, end), or undefined. */
  literal(subject: string, start: number, end: number): TrieNode<T> | undefined {
    const keys = this.scanKeys;
    if (keys !== null) {
      // Matching a subject seen once (an ack, a reply inbox) would otherwise slice and hash a new
      // string per level; comparing in place costs neither.
      const len = end - start;
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!;
        if (k.length === len && subject.startsWith(k, start)) return this.scanKids![i];
      }
      return undefined;
    }
    return this.literals === null ? undefined : this.literals.get(subject.slice(start, end));
  }

  isEmpty(): boolean {
    return (
      (this.values === null || this.values.size === 0) &&
      this.star === null &&
      this.gt === null &&
      (this.literals === null || this.literals.size === 0)
    );
  }
}

const EMPTY_MATCH: readonly never[] = Object.freeze([]);

export class SubjectTrie<T> {
  private root = new TrieNode<T>();
  private count = 0;
  private gen = 0;

  /** Shared result for "no match"; frozen. */
  static readonly EMPTY: readonly never[] = EMPTY_MATCH;

  /** Number of (pattern, value) pairs stored. */
  get size(): number {
    return this.count;
  }

  /** Every stored value, in no particular order (a walk of the whole trie: not for hot paths). */
  *values(): IterableIterator<T> {
    const stack: TrieNode<T>[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      yield* node.valueList;
      if (node.literals !== null) for (const child of node.literals.values()) stack.push(child);
      if (node.star !== null) stack.push(node.star);
      if (node.gt !== null) stack.push(node.gt);
    }
  }

  /** Changes whenever the contents change; match caches compare it. */
  get generation(): number {
    return this.gen;
  }

  /**
   * Store `value` under `pattern`. Throws on an invalid pattern (empty token, whitespace, '>' not
   * last): callers validate subjects before they reach the trie, so this is an assertion.
   */
  insert(pattern: string, value: T): void {
    if (!isValidSubject(pattern)) throw new Error(`SubjectTrie.insert: invalid subject '${pattern}'`);
    let node = this.root;
    let start = 0;
    const n = pattern.length;
    for (;;) {
      let end = pattern.indexOf('.', start);
      if (end < 0) end = n;
      node = childFor(node, pattern, start, end);
      if (end >= n) break;
      start = end + 1;
    }
    if (node.values === null) node.values = new Set();
    if (node.values.has(value)) return;
    node.values.add(value);
    node.valueList.push(value);
    this.count++;
    this.gen++;
  }

  /** Remove `value` from `pattern`; prunes nodes left empty. Returns whether it was present. */
  remove(pattern: string, value: T): boolean {
    if (pattern.length === 0) return false;
    // The path is short (one entry per token), so an array per remove is fine off the hot path.
    const path: TrieNode<T>[] = [];
    const keys: string[] = [];
    let node: TrieNode<T> | null = this.root;
    let start = 0;
    const n = pattern.length;
    for (;;) {
      let end = pattern.indexOf('.', start);
      if (end < 0) end = n;
      const tok = pattern.slice(start, end);
      path.push(node);
      keys.push(tok);
      node = tok === '*' ? node.star : tok === '>' ? node.gt : (node.literals?.get(tok) ?? null);
      if (node === null) return false;
      if (end >= n) break;
      start = end + 1;
    }
    if (node.values === null || !node.values.delete(value)) return false;
    node.valueList.splice(node.valueList.indexOf(value), 1);
    this.count--;
    this.gen++;
    // Prune upward while the child is empty.
    for (let k = path.length - 1; k >= 0 && node.isEmpty(); k--) {
      const parent = path[k];
      const tok = keys[k];
      if (tok === '*') parent.star = null;
      else if (tok === '>') parent.gt = null;
      else if (parent.literals?.delete(tok)) parent.literalsChanged();
      node = parent;
    }
    return true;
  }

  /** All values whose pattern matches the literal `subject`. Do not mutate the result. */
  match(subject: string): T[] {
    const out: T[] = [];
    if (subject.length > 0) collect(this.root, subject, 0, out);
    return out.length === 0 ? (EMPTY_MATCH as unknown as T[]) : out;
  }

  /** Append the matches of `subject` to `out`. */
  matchInto(subject: string, out: T[]): void {
    if (subject.length > 0) collect(this.root, subject, 0, out);
  }

  /** Whether any value matches `subject` (stops at the first). */
  hasMatch(subject: string): boolean {
    return subject.length > 0 && any(this.root, subject, 0);
  }

  clear(): void {
    if (this.count === 0 && this.root.isEmpty()) return;
    this.root = new TrieNode<T>();
    this.count = 0;
    this.gen++;
  }
}

function childFor<T>(node: TrieNode<T>, pattern: string, start: number, end: number): TrieNode<T> {
  if (end - start === 1) {
    const c = pattern.charCodeAt(start);
    if (c === 0x2a) return (node.star ??= new TrieNode<T>());
    if (c === 0x3e) return (node.gt ??= new TrieNode<T>());
  }
  const tok = pattern.slice(start, end);
  if (node.literals === null) node.literals = new Map();
  let child = node.literals.get(tok);
  if (child === undefined) {
    child = new TrieNode<T>();
    node.literals.set(tok, child);
    node.literalsChanged();
  }
  return child;
}

function pushValues<T>(node: TrieNode<T>, out: T[]): void {
  const values = node.valueList;
  for (let i = 0; i < values.length; i++) out.push(values[i]!);
}

/** `node` is the level of the token starting at `start`. */
function collect<T>(node: TrieNode<T>, subject: string, start: number, out: T[]): void {
  for (;;) {
    // '>' at this level matches this token and everything after it.
    if (node.gt !== null) pushValues(node.gt, out);
    let end = subject.indexOf('.', start);
    const last = end < 0;
    if (last) end = subject.length;
    if (node.star !== null) {
      if (last) pushValues(node.star, out);
      else collect(node.star, subject, end + 1, out);
    }
    const lit = node.literal(subject, start, end);
    if (lit === undefined) return;
    if (last) {
      pushValues(lit, out);
      return;
    }
    node = lit;
    start = end + 1;
  }
}

function hasValues<T>(node: TrieNode<T>): boolean {
  return node.values !== null && node.values.size > 0;
}

function any<T>(node: TrieNode<T>, subject: string, start: number): boolean {
  for (;;) {
    if (node.gt !== null && hasValues(node.gt)) return true;
    let end = subject.indexOf('.', start);
    const last = end < 0;
    if (last) end = subject.length;
    if (node.star !== null) {
      if (last ? hasValues(node.star) : any(node.star, subject, end + 1)) return true;
    }
    const lit = node.literal(subject, start, end);
    if (lit === undefined) return false;
    if (last) return hasValues(lit);
    node = lit;
    start = end + 1;
  }
}
