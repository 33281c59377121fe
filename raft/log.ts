// The raft log as one node sees it: the stable part in Storage plus an unstable tail (entries,
// and possibly a snapshot, not yet persisted) held in memory until the Ready carrying them is
// advanced. Modelled on etcd-io/raft log.go / log_unstable.go.
//
//     storage:   [firstIndex-1 (dummy)] [firstIndex ............ storage.lastIndex]
//     unstable:                              [offset ............ lastIndex]
//
// The unstable tail may start at or before storage.lastIndex(): that is a pending truncation
// (a conflicting suffix replaced by the leader's entries); the storage discards it when the
// tail is saved. An unstable snapshot, when present, replaces everything up to its index.

import { assert } from '../runtime/assert.ts';
import { CompactedError, UnavailableError, limitEntries, type StorageReader } from './storage.ts';
import { entrySize, type Entry, type Snapshot } from './types.ts';

/** Returned by termAt for an index outside [firstIndex-1, lastIndex]. */
export const TERM_UNKNOWN = -1;

class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** Index of entries[0] (or where it would be). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0].index;
    const end = this.offset + this.entries.length;
    if (from === end) {
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
    } else if (from <= this.offset) {
      // Replaces the whole tail; storage entries >= from are discarded when this is saved.
      this.offset = from;
      this.entries = ents.slice();
    } else {
      assert(from < end, `unstable append leaves a gap: ${from} after ${end - 1}`);
      this.entries.length = from - this.offset;
      for (let i = 0; i < ents.length; i++) this.entries.push(ents[i]);
    }
  }

  /** The entries up to (index, term) were persisted: drop them from the tail. */
  stableTo(index: number, term: number): void {
    if (index < this.offset) return;
    const k = index - this.offset;
    if (k >= this.entries.length) return;
    // If the entry was overwritten since the Ready was produced, the persisted copy is stale.
    if (this.entries[k].term !== term) return;
    this.entries = this.entries.slice(k + 1);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) this.snapshot = null;
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1;
    this.entries = [];
    this.snapshot = snap;
  }
}

export class RaftLog {
  readonly storage: StorageReader;
  readonly unstable: Unstable;
  /** Highest index known committed. Invariant: applied <= committed <= lastIndex(). */
  committed: number;
  /** Highest index the application has applied (set by advance()). */
  applied: number;
  /** Bound on the bytes of committed entries handed out per Ready. */
  readonly maxApplyBytes: number;
  /** Called with every batch appended to the log (after truncation), for conf-change tracking. */
  onAppend: ((ents: readonly Entry[]) => void) | null = null;

  constructor(storage: StorageReader, maxApplyBytes: number) {
    this.storage = storage;
    this.maxApplyBytes = maxApplyBytes;
    this.unstable = new Unstable(storage.lastIndex() + 1);
    this.committed = storage.firstIndex() - 1;
    this.applied = storage.firstIndex() - 1;
  }

  firstIndex(): number {
    const s = this.unstable.snapshot;
    return s !== null ? s.metadata.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    const u = this.unstable;
    if (u.entries.length > 0) return u.offset + u.entries.length - 1;
    if (u.snapshot !== null) return u.snapshot.metadata.index;
    return this.storage.lastIndex();
  }

  /** Term at `index`, or TERM_UNKNOWN outside [firstIndex()-1, lastIndex()]. Never throws. */
  termAt(index: number): number {
    const u = this.unstable;
    if (index >= u.offset) {
      const k = index - u.offset;
      return k < u.entries.length ? u.entries[k].term : TERM_UNKNOWN;
    }
    if (u.snapshot !== null) {
      // Everything before the unstable snapshot is (about to be) replaced by it.
      return index === u.snapshot.metadata.index ? u.snapshot.metadata.term : TERM_UNKNOWN;
    }
    if (index < this.storage.firstIndex() - 1 || index > this.storage.lastIndex()) return TERM_UNKNOWN;
    return this.storage.term(index);
  }

  /** Like termAt, but distinguishes compacted (CompactedError) from missing (UnavailableError). */
  term(index: number): number {
    if (index < this.firstIndex() - 1) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    return this.termAt(index);
  }

  lastTerm(): number {
    return this.termAt(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.termAt(index) === term;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up-to-date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Index of the first entry of `ents` that is missing or has a different term, or 0. */
  findConflict(ents: readonly Entry[]): number {
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i];
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term: no entry after it can
   * match a log whose entry at `index` has term `term` (terms only grow along a log). Used on
   * both ends of the fast back-off. An unknown (compacted) position answers (index, 0).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.termAt(index);
      if (t === TERM_UNKNOWN) return { index, term: 0 };
      if (t <= term) return { index, term: t };
    }
    return { index: 0, term: 0 };
  }

  /**
   * Follower side of Append: if our entry at `index` has `logTerm`, append what is new in
   * `ents` (truncating a conflicting suffix), advance commit to min(`commit`, last new index),
   * and return the last new index; otherwise return -1 (reject).
   */
  maybeAppend(index: number, logTerm: number, commit: number, ents: readonly Entry[]): number {
    if (!this.matchTerm(index, logTerm)) return -1;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed ${this.committed}`);
      this.append(conflict === ents[0].index ? ents : ents.slice(conflict - ents[0].index));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Appends (truncating any suffix from ents[0].index). Returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    assert(ents[0].index > this.committed, `append at ${ents[0].index} would truncate committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    if (this.onAppend !== null) this.onAppend(ents);
    return this.lastIndex();
  }

  /** Entries from `lo` to the end, bounded by `maxBytes` (at least one). */
  entries(lo: number, maxBytes: number): Entry[] {
    const last = this.lastIndex();
    if (lo > last) return [];
    return this.slice(lo, last + 1, maxBytes);
  }

  /** Entries [lo, hi) bounded by `maxBytes` (at least one). Throws if lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    assert(lo <= hi, `slice: ${lo} > ${hi}`);
    if (lo < this.firstIndex()) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    if (lo === hi) return [];
    const u = this.unstable;
    let out: Entry[] = [];
    let bytes = 0;
    if (lo < u.offset) {
      const storedHi = Math.min(hi, u.offset);
      out = this.storage.entries(lo, storedHi, maxBytes);
      if (out.length < storedHi - lo) return out; // size limit reached inside storage
      for (let i = 0; i < out.length; i++) bytes += entrySize(out[i]);
    }
    if (hi > u.offset) {
      const from = Math.max(lo, u.offset) - u.offset;
      const to = hi - u.offset;
      if (out.length === 0) return limitEntries(u.entries, from, to, maxBytes);
      for (let i = from; i < to; i++) {
        const e = u.entries[i];
        bytes += entrySize(e);
        if (bytes > maxBytes) break;
        out.push(e);
      }
    }
    return out;
  }

  commitTo(index: number): void {
    if (index > this.committed) {
      assert(index <= this.lastIndex(), `commit ${index} is beyond last index ${this.lastIndex()}`);
      this.committed = index;
    }
  }

  /**
   * Leader commit rule (Raft §5.4.2): commit `index` only if our entry there is from `term`,
   * the current term. `anyTerm` disables the check — ONLY for the simulator's mutation test.
   */
  maybeCommit(index: number, term: number, anyTerm = false): boolean {
    if (index > this.committed && (anyTerm || this.termAt(index) === term)) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed, `applied ${index} beyond committed ${this.committed}`);
    if (index > this.applied) this.applied = index;
  }

  hasNextCommittedEnts(): boolean {
    return this.unstable.snapshot === null && this.committed > this.applied;
  }

  /** Committed entries not yet applied (bounded by maxApplyBytes); empty while a snapshot is pending. */
  nextCommittedEnts(): Entry[] {
    if (!this.hasNextCommittedEnts()) return [];
    const lo = this.applied + 1;
    assert(lo >= this.firstIndex(), `applied ${this.applied} is behind the compacted log (first ${this.firstIndex()})`);
    return this.slice(lo, this.committed + 1, this.maxApplyBytes);
  }

  /** The snapshot to send to a follower: the pending unstable one or the stored one. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot received from the leader: it replaces the log and is committed. */
  restore(snap: Snapshot): void {
    this.committed = snap.metadata.index;
    this.unstable.restore(snap);
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== null;
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }
}
