// Memory storage: a Map by sequence (insertion order is sequence order, since sequences only grow)
// and, per subject, the sorted list of its sequences. Nothing is durable; flush() resolves at once.

import { systemClock, type Clock } from '../../runtime/clock.ts';
import { memStoreMsgSize, subjectByteLength } from './codec.ts';
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
  StorageKind,
  StoreError,
  StoreErrorCode,
  type DeleteOptions,
  type PurgeOptions,
  type StoreState,
  type StoredMsg,
  type StreamStore,
  type TimeNs,
} from './types.ts';

/** One subject's sequences, ascending; entries before `head` are dead (cheap front removal). */
interface SubjectSeqs {
  readonly subject: string;
  seqs: number[];
  head: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

function count(s: SubjectSeqs): number {
  return s.seqs.length - s.head;
}

/** Index in s.seqs of the first sequence >= seq (s.seqs.length when none). */
function lowerBound(s: SubjectSeqs, seq: number): number {
  let lo = s.head;
  let hi = s.seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.seqs[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function removeSeq(s: SubjectSeqs, seq: number): void {
  const seqs = s.seqs;
  if (seqs[s.head] === seq) {
    s.head++;
    // Compact once the dead prefix dominates, so memory tracks live messages.
    if (s.head >= 32 && s.head * 2 >= seqs.length) {
      s.seqs = seqs.slice(s.head);
      s.head = 0;
    }
  } else if (seqs[seqs.length - 1] === seq) {
    seqs.pop();
  } else {
    const i = lowerBound(s, seq);
    if (seqs[i] === seq) seqs.splice(i, 1);
  }
}

function copyBytes(src: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(src.length);
  b.set(src, 0);
  return b;
}

export interface MemoryStoreOptions {
  /** Source of default append timestamps. */
  clock?: Clock;
}

export class MemoryStore implements StreamStore {
  readonly storage = StorageKind.Memory;
  readonly name: string;
  private readonly clock: Clock;
  private readonly msgs = new Map<number, StoredMsg>();
  private readonly subjects = new Map<string, SubjectSeqs>();
  private readonly matchCache = new SubjectMatchCache<SubjectSeqs>();
  private firstSeq = 0;
  private lastSeq = 0;
  private messages = 0;
  private bytes = 0;
  private firstTimeNs: TimeNs = 0n;
  private lastTimeNs: TimeNs = 0n;
  private closed = false;

  constructor(name: string, opts: MemoryStoreOptions = {}) {
    this.name = name;
    this.clock = opts.clock ?? systemClock;
  }

  append(subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs?: TimeNs): number {
    this.checkOpen();
    const seq = this.lastSeq + 1;
    this.store(seq, subject, hdr, data, timeNs ?? this.clock.epochNs());
    return seq;
  }

  applyAppend(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
  ): void {
    this.checkOpen();
    if (!Number.isSafeInteger(seq) || seq <= this.lastSeq) {
      throw new StoreError(StoreErrorCode.BadSequence, `sequence ${seq} <= last ${this.lastSeq}`);
    }
    this.store(seq, subject, hdr, data, timeNs);
  }

  appendAsync(subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs?: TimeNs) {
    return { seq: this.append(subject, hdr, data, timeNs), durable: RESOLVED };
  }

  private store(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
  ): void {
    // Copies: the caller's bytes may be views of a reused read buffer. Separate small copies
    // (pooled by Buffer.allocUnsafe) measured cheaper than one copy plus two subarray views.
    const hlen = hdr === null ? 0 : hdr.length;
    const msg: StoredMsg = {
      seq,
      subject,
      timeNs,
      hdr: hlen > 0 ? copyBytes(hdr!) : null,
      data: copyBytes(data),
    };
    this.msgs.set(seq, msg);
    if (this.messages === 0) {
      this.firstSeq = seq;
      this.firstTimeNs = timeNs;
    }
    this.messages++;
    this.bytes += memStoreMsgSize(subjectByteLength(subject), hlen, data.length);
    this.lastSeq = seq;
    this.lastTimeNs = timeNs;
    let s = this.subjects.get(subject);
    if (s === undefined) {
      s = { subject, seqs: [], head: 0 };
      this.subjects.set(subject, s);
      this.matchCache.invalidate();
    }
    s.seqs.push(seq);
  }

  get(seq: number): StoredMsg | undefined {
    this.checkOpen();
    return this.msgs.get(seq);
  }

  lastBySubject(filter: string): StoredMsg | undefined {
    this.checkOpen();
    const f = normalizeFilter(filter);
    if (this.messages === 0) return undefined;
    if (f === null) {
      for (let seq = this.lastSeq; seq >= this.firstSeq; seq--) {
        const m = this.msgs.get(seq);
        if (m !== undefined) return m;
      }
      return undefined;
    }
    if (isLiteral(f)) {
      const s = this.subjects.get(f);
      return s === undefined ? undefined : this.msgs.get(s.seqs[s.seqs.length - 1]!);
    }
    let best = 0;
    for (const s of this.subjectsMatching(f)) {
      const last = s.seqs[s.seqs.length - 1]!;
      if (last > best) best = last;
    }
    return best === 0 ? undefined : this.msgs.get(best);
  }

  nextMatching(fromSeq: number, filter?: string): StoredMsg | undefined {
    this.checkOpen();
    const from = Math.max(fromSeq, this.firstSeq, 1);
    if (this.messages === 0 || from > this.lastSeq) return undefined;
    const f = normalizeFilter(filter);
    if (f === null) {
      for (let seq = from; seq <= this.lastSeq; seq++) {
        const m = this.msgs.get(seq);
        if (m !== undefined) return m;
      }
      return undefined;
    }
    if (isLiteral(f)) {
      const s = this.subjects.get(f);
      if (s === undefined) return undefined;
      const i = lowerBound(s, from);
      return i < s.seqs.length ? this.msgs.get(s.seqs[i]!) : undefined;
    }
    if (this.subjects.size <= LINEAR_SCAN_MIN_SUBJECTS) {
      const matched = this.matchCache.matching(f, this.subjects);
      if (matched.length === 0) return undefined;
      if (matched.length <= MAX_MERGED_SUBJECTS) {
        // Merge: the smallest next sequence over the matched subjects, O(k log n).
        let best = Infinity;
        for (const s of matched) {
          const i = lowerBound(s, from);
          if (i < s.seqs.length && s.seqs[i]! < best) best = s.seqs[i]!;
        }
        return best === Infinity ? undefined : this.msgs.get(best);
      }
    }
    for (let seq = from; seq <= this.lastSeq; seq++) {
      const m = this.msgs.get(seq);
      if (m !== undefined && subjectMatches(f, m.subject)) return m;
    }
    return undefined;
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

  delete(seq: number, opts?: DeleteOptions): boolean {
    this.checkOpen();
    const m = this.msgs.get(seq);
    if (m === undefined) return false;
    this.remove(m, opts?.erase === true);
    if (seq === this.firstSeq) this.advanceFirst();
    return true;
  }

  purge(opts?: PurgeOptions): number {
    this.checkOpen();
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
        let purged = 0;
        // Insertion order is ascending sequence order, so this visits only what it removes.
        for (const m of this.msgs.values()) {
          if (m.seq >= plan.upToSeq) break;
          this.remove(m, false);
          purged++;
        }
        this.advanceFirst();
        return purged;
      }
      case 'filtered': {
        let purged = 0;
        let from = this.firstSeq;
        while (purged < plan.limit) {
          const m = this.nextMatching(from, plan.filter);
          if (m === undefined || m.seq > plan.maxSeq) break;
          this.remove(m, false);
          purged++;
          from = m.seq + 1;
        }
        this.advanceFirst();
        return purged;
      }
    }
  }

  /** Empties the store; the next append gets `nextSeq` (never lower than lastSeq + 1). */
  private clearAll(nextSeq: number): number {
    const purged = this.messages;
    this.msgs.clear();
    this.subjects.clear();
    this.matchCache.invalidate();
    this.messages = 0;
    this.bytes = 0;
    this.firstSeq = nextSeq;
    this.lastSeq = nextSeq - 1;
    this.firstTimeNs = 0n;
    return purged;
  }

  private remove(m: StoredMsg, erase: boolean): void {
    this.msgs.delete(m.seq);
    this.messages--;
    this.bytes -= memStoreMsgSize(subjectByteLength(m.subject), m.hdr?.length ?? 0, m.data.length);
    const s = this.subjects.get(m.subject)!;
    removeSeq(s, m.seq);
    if (count(s) === 0) {
      this.subjects.delete(m.subject);
      this.matchCache.invalidate();
    }
    if (erase) {
      m.hdr?.fill(0);
      m.data.fill(0);
    }
  }

  /** Moves firstSeq to the oldest live message, or past the end when there is none. */
  private advanceFirst(): void {
    const oldest = this.msgs.values().next();
    if (oldest.done === true) {
      this.firstSeq = this.lastSeq + 1;
      this.firstTimeNs = 0n;
    } else {
      this.firstSeq = oldest.value.seq;
      this.firstTimeNs = oldest.value.timeNs;
    }
  }

  state(opts?: { deleted?: boolean }): StoreState {
    this.checkOpen();
    const numDeleted = this.messages === 0 ? 0 : this.lastSeq - this.firstSeq + 1 - this.messages;
    const st: StoreState = {
      messages: this.messages,
      bytes: this.bytes,
      firstSeq: this.firstSeq,
      firstTimeNs: this.firstTimeNs,
      lastSeq: this.lastSeq,
      lastTimeNs: this.lastTimeNs,
      numSubjects: this.subjects.size,
      numDeleted,
    };
    if (opts?.deleted === true) {
      const deleted: number[] = [];
      for (let seq = this.firstSeq; numDeleted > 0 && seq <= this.lastSeq; seq++) {
        if (!this.msgs.has(seq)) deleted.push(seq);
      }
      st.deleted = deleted;
    }
    return st;
  }

  subjectsState(filter?: string): Record<string, number> {
    this.checkOpen();
    const f = normalizeFilter(filter);
    const out: [string, number][] = [];
    for (const [subject, s] of this.subjects) {
      if (f === null || subjectMatches(f, subject)) out.push([subject, count(s)]);
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
      let below = 0;
      for (const seq of this.msgs.keys()) {
        if (seq >= from) break;
        below++;
      }
      return this.messages - below;
    }
    if (isLiteral(f)) {
      const s = this.subjects.get(f);
      return s === undefined ? 0 : s.seqs.length - lowerBound(s, from);
    }
    let n = 0;
    for (const s of this.subjectsMatching(f)) n += s.seqs.length - lowerBound(s, from);
    return n;
  }

  /** Subjects matching a wildcard filter; cached while the set of subjects is small. */
  private subjectsMatching(filter: string): Iterable<SubjectSeqs> {
    if (this.subjects.size <= LINEAR_SCAN_MIN_SUBJECTS) {
      return this.matchCache.matching(filter, this.subjects);
    }
    const out: SubjectSeqs[] = [];
    for (const [subject, s] of this.subjects) if (subjectMatches(filter, subject)) out.push(s);
    return out;
  }

  msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
    return memStoreMsgSize(subjectByteLength(subject), hdr?.length ?? 0, data.length);
  }

  flush(): Promise<void> {
    return RESOLVED;
  }

  close(): Promise<void> {
    this.closed = true;
    return RESOLVED;
  }

  drop(): Promise<void> {
    this.clearAll(this.lastSeq + 1);
    this.closed = true;
    return RESOLVED;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(StoreErrorCode.Closed, `stream store ${this.name} is closed`);
  }
}
