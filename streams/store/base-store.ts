// What the two stream stores share, written once so their semantics cannot drift apart: the
// counters, the live-subject summaries, and every query, purge and state report built on them.
// Each store supplies the primitives that depend on how it keeps messages (memory: a Map and
// per-subject sequence lists; LMDB: the database plus the uncommitted overlay) and its own point
// read `get`. The shared paths call those primitives directly on `this`, allocate nothing per
// message and keep the order of work each store had on its own.

import {
  LINEAR_SCAN_MIN_SUBJECTS,
  MAX_MERGED_SUBJECTS,
  SubjectMatchCache,
  isLiteral,
  normalizeFilter,
  planPurge,
  subjectMatches,
} from './filter.ts';
import {
  StoreError,
  StoreErrorCode,
  type DeleteOptions,
  type FrozenStore,
  type PurgeOptions,
  type StorageKind,
  type StoreState,
  type StoredMsg,
  type StreamStore,
  type TimeNs,
} from './types.ts';

/** What the shared queries read from a store's per-subject entry. */
export interface SubjectSummary {
  readonly subject: string;
  /** Live messages on the subject; never 0 (a subject leaves `subjects` with its last message). */
  readonly count: number;
  /** Newest live sequence on the subject. */
  readonly last: number;
}

export abstract class BaseStore<S extends SubjectSummary> implements StreamStore {
  abstract readonly storage: StorageKind;
  abstract readonly recordFormat: string | null;
  readonly name: string;
  /** Live subjects. */
  protected readonly subjects: Map<string, S>;
  protected readonly matchCache = new SubjectMatchCache<S>();
  protected firstSeq = 0;
  protected lastSeq = 0;
  protected messages = 0;
  protected bytes = 0;
  /** null = not known yet, read from the first message when asked, so moving firstSeq stays cheap. */
  protected firstTimeNs: TimeNs | null = 0n;
  protected lastTimeNs: TimeNs = 0n;
  protected closed = false;

  protected constructor(name: string, subjects: Map<string, S>) {
    this.name = name;
    this.subjects = subjects;
  }

  // ---- primitives each store provides -----------------------------------------------------
  // Removals update `messages`, `bytes` and `subjects`; firstSeq and the timestamps stay BaseStore's.

  abstract get(seq: number): StoredMsg | undefined;
  abstract msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number;
  abstract durable(): Promise<void>;
  abstract freeze(): FrozenStore;
  abstract close(): Promise<void>;
  abstract drop(): Promise<void>;

  /** Stores and indexes a message (seq > lastSeq, checked); returns its accounted size. */
  protected abstract write(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
    record: Uint8Array | undefined,
  ): number;
  /** Removes the message at `seq` (any number) if it is live; false when it is not. */
  protected abstract removeLive(seq: number, erase: boolean): boolean;
  /** Removes a live message a read just returned (a filtered purge). */
  protected abstract removeFound(m: StoredMsg): void;
  /** Removes every live message below `upToSeq` (<= lastSeq; the store may be empty); returns how many. */
  protected abstract removeBelow(upToSeq: number): number;
  /** Drops every message and index entry; clearAll resets `subjects` and the counters. */
  protected abstract removeAll(): void;
  /** Oldest live sequence (the store is not empty), given that nothing below `from` is live. */
  protected abstract oldestSeq(from: number): number | undefined;
  /** Newest live sequence (the store is not empty); 0 when none. */
  protected abstract newestSeq(): number;
  /** Timestamp of the message at `seq`; 0n when it is not live. */
  protected abstract timeOf(seq: number): TimeNs;

  // Reads: the store is not empty and firstSeq <= from <= lastSeq, unless noted.

  /** First live message with seq >= from. */
  protected abstract nextMsg(from: number): StoredMsg | undefined;
  /** First live sequence >= from on one subject. */
  protected abstract nextSeqOf(s: S, from: number): number | undefined;
  /** First live message with seq >= from whose subject matches the wildcard, found by scanning. */
  protected abstract scanMatching(from: number, filter: string): StoredMsg | undefined;
  /** Live messages with seq >= from, when firstSeq < from and there are interior gaps. */
  protected abstract countFrom(from: number): number;
  /** Live messages with seq >= from on one subject; here `from` may be below firstSeq. */
  protected abstract subjectCountFrom(s: S, from: number): number;

  // ---- writes -----------------------------------------------------------------------------

  applyAppend(seq: number, subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs: TimeNs, record?: Uint8Array): void {
    this.checkWritable();
    if (!Number.isSafeInteger(seq) || seq <= this.lastSeq) {
      throw new StoreError(StoreErrorCode.BadSequence, `sequence ${seq} <= last ${this.lastSeq}`);
    }
    const size = this.write(seq, subject, hdr, data, timeNs, record);
    if (this.messages === 0) {
      this.firstSeq = seq;
      this.firstTimeNs = timeNs;
    }
    this.messages++;
    this.bytes += size;
    this.lastSeq = seq;
    this.lastTimeNs = timeNs;
  }

  delete(seq: number, opts?: DeleteOptions): boolean {
    this.checkWritable();
    if (!this.removeLive(seq, opts?.erase === true)) return false;
    if (seq === this.firstSeq) this.advanceFirst(seq + 1);
    return true;
  }

  purge(opts?: PurgeOptions): number {
    this.checkWritable();
    const plan = planPurge(opts, { messages: this.messages, lastSeq: this.lastSeq }, (f) =>
      this.numPendingFrom(0, f),
    );
    switch (plan.kind) {
      case 'none':
        return 0;
      case 'all':
        return this.clearAll(this.lastSeq + 1);
      case 'compact': {
        if (plan.upToSeq > this.lastSeq) return this.clearAll(plan.upToSeq);
        const purged = this.removeBelow(plan.upToSeq);
        this.advanceFirst(plan.upToSeq);
        return purged;
      }
      case 'filtered': {
        const first = this.firstSeq;
        let removedFirst = false;
        let purged = 0;
        let from = first;
        while (purged < plan.limit) {
          const m = this.nextMatching(from, plan.filter);
          if (m === undefined || m.seq > plan.maxSeq) break;
          this.removeFound(m);
          if (m.seq === first) removedFirst = true;
          purged++;
          from = m.seq + 1;
        }
        if (removedFirst) this.advanceFirst(first + 1);
        return purged;
      }
    }
  }

  /** Empties the store; the next append gets `nextSeq` (never lower than lastSeq + 1). */
  protected clearAll(nextSeq: number): number {
    const purged = this.messages;
    this.removeAll();
    this.subjects.clear();
    this.matchCache.invalidate();
    this.messages = 0;
    this.bytes = 0;
    this.firstSeq = nextSeq;
    this.lastSeq = nextSeq - 1;
    this.firstTimeNs = 0n;
    return purged;
  }

  /** Moves firstSeq to the oldest live message at or after `from`, or past the end when none. */
  private advanceFirst(from: number): void {
    const next = this.messages === 0 ? undefined : this.oldestSeq(Math.max(from, this.firstSeq));
    if (next === undefined) {
      this.firstSeq = this.lastSeq + 1;
      this.firstTimeNs = 0n;
    } else {
      this.firstSeq = next;
      this.firstTimeNs = null;
    }
  }

  // ---- reads ------------------------------------------------------------------------------

  lastBySubject(filter: string): StoredMsg | undefined {
    this.checkOpen();
    if (this.messages === 0) return undefined;
    const f = normalizeFilter(filter);
    let best = 0;
    if (f === null) best = this.newestSeq();
    else if (isLiteral(f)) best = this.subjects.get(f)?.last ?? 0;
    else for (const s of this.subjectsMatching(f)) if (s.last > best) best = s.last;
    return best === 0 ? undefined : this.get(best);
  }

  nextMatching(fromSeq: number, filter?: string): StoredMsg | undefined {
    this.checkOpen();
    const from = Math.max(fromSeq, this.firstSeq, 1);
    if (this.messages === 0 || from > this.lastSeq) return undefined;
    const f = normalizeFilter(filter);
    if (f === null) return this.nextMsg(from);
    if (isLiteral(f)) {
      const s = this.subjects.get(f);
      const seq = s === undefined ? undefined : this.nextSeqOf(s, from);
      return seq === undefined ? undefined : this.get(seq);
    }
    if (this.subjects.size <= LINEAR_SCAN_MIN_SUBJECTS) {
      const matched = this.matchCache.matching(f, this.subjects);
      if (matched.length === 0) return undefined;
      if (matched.length <= MAX_MERGED_SUBJECTS) {
        // Merge: the smallest next sequence over the matched subjects.
        let best = Infinity;
        for (const s of matched) {
          const seq = this.nextSeqOf(s, from);
          if (seq !== undefined && seq < best) best = seq;
        }
        return best === Infinity ? undefined : this.get(best);
      }
    }
    // Many subjects: walk the messages and test each subject.
    return this.scanMatching(from, f);
  }

  /** Memory stores have no read cache to spare. */
  bulkAppends(on: boolean): void {
    void on;
  }

  /** By point reads; the LMDB store reads a run of committed records through one cursor instead. */
  visitRange(from: number, to: number, visit: (m: StoredMsg) => void): void {
    this.checkOpen();
    for (let seq = Math.max(from, this.firstSeq), end = Math.min(to, this.lastSeq); seq <= end; seq++) {
      const m = this.get(seq);
      if (m !== undefined) visit(m);
    }
  }

  *iterate(fromSeq: number, filter?: string): IterableIterator<StoredMsg> {
    let seq = fromSeq;
    for (;;) {
      const m = this.nextMatching(seq, filter);
      if (m === undefined) return;
      yield m;
      seq = m.seq + 1;
    }
  }

  state(opts?: { deleted?: boolean }): StoreState {
    this.checkOpen();
    const numDeleted = this.messages === 0 ? 0 : this.lastSeq - this.firstSeq + 1 - this.messages;
    const st: StoreState = {
      messages: this.messages,
      bytes: this.bytes,
      firstSeq: this.firstSeq,
      firstTimeNs: this.firstTime(),
      lastSeq: this.lastSeq,
      lastTimeNs: this.lastTimeNs,
      numSubjects: this.subjects.size,
      numDeleted,
    };
    if (opts?.deleted === true) st.deleted = numDeleted > 0 ? this.deletedSeqs() : [];
    return st;
  }

  /** The interior gaps, ascending: what lies between consecutive live messages. */
  private deletedSeqs(): number[] {
    const deleted: number[] = [];
    let expect = this.firstSeq;
    for (const m of this.iterate(this.firstSeq)) {
      for (; expect < m.seq; expect++) deleted.push(expect);
      expect = m.seq + 1;
    }
    for (; expect <= this.lastSeq; expect++) deleted.push(expect);
    return deleted;
  }

  protected firstTime(): TimeNs {
    if (this.firstTimeNs === null) this.firstTimeNs = this.timeOf(this.firstSeq);
    return this.firstTimeNs;
  }

  subjectsState(filter?: string): Record<string, number> {
    this.checkOpen();
    const f = normalizeFilter(filter);
    const out: [string, number][] = [];
    for (const [subject, s] of this.subjects) {
      if (f === null || subjectMatches(f, subject)) out.push([subject, s.count]);
    }
    return Object.fromEntries(out);
  }

  numPendingFrom(fromSeq: number, filter?: string): number {
    this.checkOpen();
    const from = Math.max(fromSeq, 1);
    if (this.messages === 0 || from > this.lastSeq) return 0;
    const f = normalizeFilter(filter);
    if (f === null) {
      if (from <= this.firstSeq) return this.messages;
      if (this.messages === this.lastSeq - this.firstSeq + 1) return this.lastSeq - from + 1;
      return this.countFrom(from);
    }
    if (isLiteral(f)) {
      const s = this.subjects.get(f);
      return s === undefined ? 0 : this.subjectCountFrom(s, from);
    }
    let n = 0;
    for (const s of this.subjectsMatching(f)) n += this.subjectCountFrom(s, from);
    return n;
  }

  /** Subjects matching a wildcard filter; cached while the set of subjects is small. */
  private subjectsMatching(filter: string): Iterable<S> {
    if (this.subjects.size <= LINEAR_SCAN_MIN_SUBJECTS) return this.matchCache.matching(filter, this.subjects);
    const out: S[] = [];
    for (const [subject, s] of this.subjects) if (subjectMatches(filter, subject)) out.push(s);
    return out;
  }

  // ---- lifecycle --------------------------------------------------------------------------

  protected checkOpen(): void {
    if (this.closed) throw new StoreError(StoreErrorCode.Closed, `stream store ${this.name} is closed`);
  }

  /** checkOpen, plus whatever else makes a store refuse writes (LMDB: a failed commit). */
  protected checkWritable(): void {
    this.checkOpen();
  }
}
