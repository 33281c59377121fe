// File storage on LMDB. Per stream, three named sub-databases of the server's one environment:
//   stream:<name>:m   u64 BE seq -> message record (codec.ts)
//   stream:<name>:i   u32 subject id + u64 seq -> 1 byte (per-subject order: next/prev/count)
//   stream:<name>:s   subject -> {id, count, last}; key 0 -> stream meta (counters)
// Writes are lmdb-js async puts: everything issued in one event-loop turn commits as one
// transaction (group commit), and the counters/subject summaries touched in that turn are written
// in the same transaction from the environment's beforecommit hook (lmdb-env.ts). So the state
// after a crash is exactly that of the last committed transaction, and opening a stream reads the
// meta record and one record per live subject, not every message.
//
// Reads are synchronous and must see uncommitted changes too, so the store keeps an overlay:
// `pending` holds records appended but not yet committed (keyed by seq, ascending) and `pendingDel`
// the sequences removed but not yet committed. Invariant used by every scan: all live messages with
// seq >= floor() (the smallest pending seq) are in `pending`, so LMDB is consulted only below it.

import { systemClock, type Clock } from '../../runtime/clock.ts';
import {
  MAX_SUBJECT_BYTES,
  decodeRecord,
  encodeMeta,
  encodeRecord,
  encodeSubject,
  fileStoreMsgSize,
  recordFileSize,
  recordSubject,
  subjectByteLength,
  writeIdxKey,
  writeSeq,
} from './codec.ts';
import {
  LINEAR_SCAN_MIN_SUBJECTS,
  MAX_MERGED_SUBJECTS,
  SubjectMatchCache,
  isLiteral,
  normalizeFilter,
  planPurge,
  subjectMatches,
} from './filter.ts';
import { LmdbIndex, META_KEY, loadStreamState, type SubjectInfo } from './lmdb-index.ts';
import { SyncMode, type BatchParticipant, type LmdbEnvironment } from './lmdb-env.ts';
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

const RESOLVED: Promise<void> = Promise.resolve();
const INDEX_VALUE = Buffer.from([1]); // shared: lmdb-js only reads it
const noop = (): void => {};

/** The changes of one lmdb-js batch (one transaction), forgotten from the overlay at commit. */
interface Batch {
  readonly appended: number[];
  readonly deleted: number[];
  readonly durable: Promise<void>;
}

export interface LmdbStoreOptions {
  /** Source of default append timestamps. */
  clock?: Clock;
}

export class LmdbStore implements StreamStore, BatchParticipant {
  readonly storage = StorageKind.File;
  readonly name: string;
  private readonly env: LmdbEnvironment;
  private readonly clock: Clock;
  private readonly ix: LmdbIndex;
  private readonly subjects: Map<string, SubjectInfo>;
  private readonly matchCache = new SubjectMatchCache<SubjectInfo>();
  private readonly dirtySubjects = new Set<string>();
  private readonly pending = new Map<number, Buffer>();
  private readonly pendingDel = new Set<number>();
  private batch: Batch | null = null;
  private lastDurable: Promise<void> = RESOLVED;
  private failure: Error | null = null;
  private closed = false;
  private dropped = false;
  private firstSeq: number;
  private lastSeq: number;
  private messages: number;
  private bytes: number;
  /** null = not known yet (read lazily from the first record). */
  private firstTimeNs: TimeNs | null;
  private lastTimeNs: TimeNs;
  private nextSubjectId: number;
  private readonly keyBuf = Buffer.allocUnsafe(8);
  private readonly idxBuf = Buffer.allocUnsafe(12);

  /** Use openLmdbStore(). */
  constructor(env: LmdbEnvironment, name: string, ix: LmdbIndex, opts: LmdbStoreOptions) {
    this.env = env;
    this.name = name;
    this.ix = ix;
    this.clock = opts.clock ?? systemClock;
    const st = loadStreamState(ix);
    this.subjects = st.subjects;
    this.firstSeq = st.meta.firstSeq;
    this.lastSeq = st.meta.lastSeq;
    this.messages = st.meta.messages;
    this.bytes = st.meta.bytes;
    this.firstTimeNs = st.meta.messages === 0 ? 0n : st.meta.firstTimeNs;
    this.lastTimeNs = st.meta.lastTimeNs;
    this.nextSubjectId = st.meta.nextSubjectId;
  }

  // ---- writes -----------------------------------------------------------------------------

  append(subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs?: TimeNs): number {
    this.checkWritable();
    const seq = this.lastSeq + 1;
    this.write(seq, subject, hdr, data, timeNs ?? this.clock.epochNs());
    return seq;
  }

  applyAppend(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
  ): void {
    this.checkWritable();
    if (!Number.isSafeInteger(seq) || seq <= this.lastSeq) {
      throw new StoreError(StoreErrorCode.BadSequence, `sequence ${seq} <= last ${this.lastSeq}`);
    }
    this.write(seq, subject, hdr, data, timeNs);
  }

  appendAsync(subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs?: TimeNs) {
    const seq = this.append(subject, hdr, data, timeNs);
    return { seq, durable: this.batch!.durable };
  }

  private write(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
  ): void {
    const slen = subjectByteLength(subject);
    if (slen > MAX_SUBJECT_BYTES) {
      throw new StoreError(StoreErrorCode.SubjectTooLong, `subject longer than ${MAX_SUBJECT_BYTES} bytes`);
    }
    const h = hdr !== null && hdr.length > 0 ? hdr : null;
    const rec = encodeRecord(subject, slen, h, data, timeNs);
    writeSeq(this.keyBuf, 0, seq);
    const batch = this.track(this.ix.msgs.put(this.keyBuf, rec));
    let info = this.subjects.get(subject);
    if (info === undefined) {
      info = { subject, id: this.nextSubjectId++, count: 0, last: 0 };
      this.subjects.set(subject, info);
      this.matchCache.invalidate();
    }
    info.count++;
    info.last = seq;
    this.dirtySubjects.add(subject);
    writeIdxKey(this.idxBuf, info.id, seq);
    this.ix.idx.put(this.idxBuf, INDEX_VALUE);
    this.pending.set(seq, rec);
    batch.appended.push(seq);
    if (this.messages === 0) {
      this.firstSeq = seq;
      this.firstTimeNs = timeNs;
    }
    this.messages++;
    this.bytes += fileStoreMsgSize(slen, h === null ? 0 : h.length, data.length);
    this.lastSeq = seq;
    this.lastTimeNs = timeNs;
  }

  /** Joins the current lmdb-js batch; `result` is the promise of a write just issued. */
  private track(result: Promise<unknown>): Batch {
    if (this.batch !== null) return this.batch;
    const committed = result;
    const flushed = (result as Promise<unknown> & { flushed?: Promise<unknown> }).flushed ?? result;
    const durable = (this.env.sync === SyncMode.Committed ? committed : flushed).then(noop);
    durable.catch(noop); // callers that care await it; an ignored failure must not crash node
    const batch: Batch = { appended: [], deleted: [], durable };
    committed.then(
      () => this.committed(batch),
      (err: unknown) => this.fail(err),
    );
    this.batch = batch;
    this.lastDurable = durable;
    this.env.markDirty(this);
    return batch;
  }

  /** The batch is in LMDB now: its records are readable there, so drop them from the overlay. */
  private committed(batch: Batch): void {
    for (const seq of batch.appended) this.pending.delete(seq);
    for (const seq of batch.deleted) this.pendingDel.delete(seq);
  }

  private fail(err: unknown): void {
    // The in-memory state ran ahead of what LMDB holds; refuse further writes rather than diverge.
    this.failure = err instanceof Error ? err : new Error(String(err));
  }

  /** lmdb-js is closing the batch: add our counters and subject summaries to it. */
  beforeCommit(): void {
    this.batch = null;
    if (this.dropped) return;
    for (const subject of this.dirtySubjects) {
      const info = this.subjects.get(subject);
      if (info === undefined) this.ix.subj.remove(subject);
      else this.ix.subj.put(subject, encodeSubject(info));
    }
    this.dirtySubjects.clear();
    this.ix.subj.put(
      META_KEY,
      encodeMeta({
        firstSeq: this.firstSeq,
        lastSeq: this.lastSeq,
        messages: this.messages,
        bytes: this.bytes,
        firstTimeNs: this.firstTime(),
        lastTimeNs: this.lastTimeNs,
        nextSubjectId: this.nextSubjectId,
      }),
    );
  }

  delete(seq: number, opts?: DeleteOptions): boolean {
    // Erase is best effort on LMDB (see DeleteOptions): the record is removed like any other; the
    // pending buffer must not be zeroed since lmdb-js may still be copying it.
    void opts;
    this.checkWritable();
    const rec = this.record(seq);
    if (rec === undefined) return false;
    this.remove(seq, recordSubject(rec), recordFileSize(rec), true);
    if (seq === this.firstSeq) this.advanceFirst(seq + 1);
    return true;
  }

  /** Removes one live message from LMDB, the overlay and the counters. */
  private remove(seq: number, subject: string, size: number, interior: boolean): void {
    const info = this.subjects.get(subject)!;
    writeSeq(this.keyBuf, 0, seq);
    const batch = this.track(this.ix.msgs.remove(this.keyBuf));
    writeIdxKey(this.idxBuf, info.id, seq);
    this.ix.idx.remove(this.idxBuf);
    this.pending.delete(seq);
    if (interior) {
      // Below firstSeq nothing needs hiding: every read starts at firstSeq.
      this.pendingDel.add(seq);
      batch.deleted.push(seq);
    }
    this.messages--;
    this.bytes -= size;
    info.count--;
    this.dirtySubjects.add(subject);
    if (info.count === 0) {
      this.subjects.delete(subject);
      this.matchCache.invalidate();
    } else if (info.last === seq) {
      info.last = this.prevSubjectSeq(info, seq);
    }
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
        const end = Math.min(plan.upToSeq, this.floor());
        const doomed: { seq: number; subject: string; size: number }[] = [];
        for (const { key, value } of this.ix.msgs.getRange({ start: key8(this.firstSeq), end: key8(end) })) {
          const seq = this.ix.seqOf(key as Buffer);
          if (this.pendingDel.has(seq)) continue;
          const rec = value as Buffer;
          doomed.push({ seq, subject: recordSubject(rec), size: recordFileSize(rec) });
        }
        for (const [seq, rec] of this.pending) {
          if (seq >= plan.upToSeq) break;
          doomed.push({ seq, subject: recordSubject(rec), size: recordFileSize(rec) });
        }
        for (const d of doomed) this.remove(d.seq, d.subject, d.size, false);
        this.advanceFirst(plan.upToSeq);
        return doomed.length;
      }
      case 'filtered': {
        let purged = 0;
        let from = this.firstSeq;
        while (purged < plan.limit) {
          const m = this.nextMatching(from, plan.filter);
          if (m === undefined || m.seq > plan.maxSeq) break;
          this.remove(m.seq, m.subject, fileStoreMsgSize(subjectByteLength(m.subject), m.hdr?.length ?? 0, m.data.length), true);
          purged++;
          from = m.seq + 1;
        }
        if (this.messages === 0 || this.record(this.firstSeq) === undefined) this.advanceFirst(this.firstSeq);
        return purged;
      }
    }
  }

  /** Empties the stream in O(1) writes; the next append gets `nextSeq`. */
  private clearAll(nextSeq: number): number {
    const purged = this.messages;
    this.track(this.ix.msgs.clearAsync());
    this.ix.idx.clearAsync();
    this.ix.subj.clearAsync(); // the meta key goes too; beforeCommit writes it again
    this.subjects.clear();
    this.dirtySubjects.clear();
    this.matchCache.invalidate();
    this.pending.clear();
    this.pendingDel.clear();
    this.messages = 0;
    this.bytes = 0;
    this.firstSeq = nextSeq;
    this.lastSeq = nextSeq - 1;
    this.firstTimeNs = 0n;
    return purged;
  }

  /** Moves firstSeq to the oldest live message at or after `from`, or past the end. */
  private advanceFirst(from: number): void {
    const next = this.messages === 0 ? undefined : this.nextLiveSeq(from, null);
    if (next === undefined) {
      this.firstSeq = this.lastSeq + 1;
      this.firstTimeNs = 0n;
    } else {
      this.firstSeq = next;
      this.firstTimeNs = null;
    }
  }

  // ---- reads ------------------------------------------------------------------------------

  get(seq: number): StoredMsg | undefined {
    this.checkOpen();
    const rec = this.record(seq);
    return rec === undefined ? undefined : decodeRecord(seq, rec);
  }

  /** The live record at seq, from the overlay or LMDB. */
  private record(seq: number): Buffer | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq || this.pendingDel.has(seq)) return undefined;
    const p = this.pending.get(seq);
    if (p !== undefined) return p;
    if (seq >= this.floor()) return undefined;
    writeSeq(this.keyBuf, 0, seq);
    return this.ix.msgs.getBinary(this.keyBuf) as Buffer | undefined;
  }

  /** Smallest uncommitted sequence: LMDB answers below it, the overlay at and above it. */
  private floor(): number {
    const first = this.pending.keys().next();
    return first.done === true ? Infinity : first.value;
  }

  /** The oldest live seq >= from, of one subject (info) or of any (null). */
  private nextLiveSeq(from: number, info: SubjectInfo | null): number | undefined {
    const start = Math.max(from, this.firstSeq);
    const floor = this.floor();
    const end = Math.min(floor, this.lastSeq + 1);
    if (start < end) {
      const seqs = info === null ? this.ix.msgSeqs(start, end, false) : this.ix.subjectSeqs(info.id, start, end, false);
      for (const seq of seqs) if (!this.pendingDel.has(seq)) return seq;
    }
    for (const [seq, rec] of this.pending) {
      if (seq >= start && (info === null || recordSubject(rec) === info.subject)) return seq;
    }
    return undefined;
  }

  /** The newest live seq of a subject below `before` (0 when none). */
  private prevSubjectSeq(info: SubjectInfo, before: number): number {
    let best = 0;
    for (const [seq, rec] of this.pending) {
      if (seq >= before) break;
      if (recordSubject(rec) === info.subject) best = seq;
    }
    if (best !== 0) return best;
    const end = Math.min(before, this.floor());
    for (const seq of this.ix.subjectSeqs(info.id, this.firstSeq, end, true)) {
      if (!this.pendingDel.has(seq)) return seq;
    }
    return 0;
  }

  lastBySubject(filter: string): StoredMsg | undefined {
    this.checkOpen();
    if (this.messages === 0) return undefined;
    const f = normalizeFilter(filter);
    if (f === null) {
      for (let seq = this.lastSeq; seq >= this.firstSeq; seq--) {
        const m = this.get(seq);
        if (m !== undefined) return m;
      }
      return undefined;
    }
    let best = 0;
    if (isLiteral(f)) best = this.subjects.get(f)?.last ?? 0;
    else for (const info of this.subjectsMatching(f)) if (info.last > best) best = info.last;
    return best === 0 ? undefined : this.get(best);
  }

  nextMatching(fromSeq: number, filter?: string): StoredMsg | undefined {
    this.checkOpen();
    const from = Math.max(fromSeq, this.firstSeq, 1);
    if (this.messages === 0 || from > this.lastSeq) return undefined;
    const f = normalizeFilter(filter);
    let seq: number | undefined;
    if (f === null) {
      seq = this.nextLiveSeq(from, null);
    } else if (isLiteral(f)) {
      const info = this.subjects.get(f);
      if (info !== undefined && from <= info.last) seq = this.nextLiveSeq(from, info);
    } else {
      return this.nextMatchingWildcard(from, f);
    }
    return seq === undefined ? undefined : this.get(seq);
  }

  private nextMatchingWildcard(from: number, f: string): StoredMsg | undefined {
    if (this.subjects.size <= LINEAR_SCAN_MIN_SUBJECTS) {
      const matched = this.matchCache.matching(f, this.subjects);
      if (matched.length === 0) return undefined;
      if (matched.length <= MAX_MERGED_SUBJECTS) {
        let best = Infinity;
        for (const info of matched) {
          if (from > info.last) continue;
          const seq = this.nextLiveSeq(from, info);
          if (seq !== undefined && seq < best) best = seq;
        }
        return best === Infinity ? undefined : this.get(best);
      }
    }
    // Many subjects: walk the messages and test each subject.
    const end = Math.min(this.floor(), this.lastSeq + 1);
    if (from < end) {
      for (const { key, value } of this.ix.msgs.getRange({ start: key8(from), end: key8(end) })) {
        const seq = this.ix.seqOf(key as Buffer);
        const rec = value as Buffer;
        if (!this.pendingDel.has(seq) && subjectMatches(f, recordSubject(rec))) return decodeRecord(seq, rec);
      }
    }
    for (const [seq, rec] of this.pending) {
      if (seq >= from && subjectMatches(f, recordSubject(rec))) return decodeRecord(seq, rec);
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
    if (opts?.deleted === true) {
      const deleted: number[] = [];
      if (numDeleted > 0) {
        let expect = this.firstSeq;
        for (const m of this.iterate(this.firstSeq)) {
          for (; expect < m.seq; expect++) deleted.push(expect);
          expect = m.seq + 1;
        }
        for (; expect <= this.lastSeq; expect++) deleted.push(expect);
      }
      st.deleted = deleted;
    }
    return st;
  }

  private firstTime(): TimeNs {
    if (this.firstTimeNs === null) {
      const rec = this.record(this.firstSeq);
      this.firstTimeNs = rec === undefined ? 0n : rec.readBigUInt64BE(1);
    }
    return this.firstTimeNs;
  }

  subjectsState(filter?: string): Record<string, number> {
    this.checkOpen();
    const f = normalizeFilter(filter);
    const out: [string, number][] = [];
    for (const [subject, info] of this.subjects) {
      if (f === null || subjectMatches(f, subject)) out.push([subject, info.count]);
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
      return this.countFrom(from, null);
    }
    if (isLiteral(f)) {
      const info = this.subjects.get(f);
      return info === undefined ? 0 : this.subjectCountFrom(info, from);
    }
    let n = 0;
    for (const info of this.subjectsMatching(f)) n += this.subjectCountFrom(info, from);
    return n;
  }

  private subjectCountFrom(info: SubjectInfo, from: number): number {
    if (from <= this.firstSeq) return info.count;
    if (from > info.last) return 0;
    if (from === info.last) return 1;
    return this.countFrom(from, info);
  }

  /** Live messages (of one subject, or all) with seq >= from: LMDB below floor plus the overlay. */
  private countFrom(from: number, info: SubjectInfo | null): number {
    const floor = this.floor();
    const end = Math.min(floor, this.lastSeq + 1);
    let n = 0;
    if (from < end) {
      n = info === null ? this.ix.countMsgs(from, end, this.pendingDel) : this.ix.countSubject(info.id, from, end, this.pendingDel);
    }
    for (const [seq, rec] of this.pending) {
      if (seq >= from && (info === null || recordSubject(rec) === info.subject)) n++;
    }
    return n;
  }

  private subjectsMatching(filter: string): Iterable<SubjectInfo> {
    if (this.subjects.size <= LINEAR_SCAN_MIN_SUBJECTS) return this.matchCache.matching(filter, this.subjects);
    const out: SubjectInfo[] = [];
    for (const [subject, info] of this.subjects) if (subjectMatches(filter, subject)) out.push(info);
    return out;
  }

  msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
    return fileStoreMsgSize(subjectByteLength(subject), hdr?.length ?? 0, data.length);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  flush(): Promise<void> {
    return this.batch?.durable ?? this.lastDurable;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      this.env.release(this.name);
    }
  }

  async drop(): Promise<void> {
    this.checkOpen();
    this.closed = true;
    this.dropped = true;
    try {
      await Promise.all([this.ix.msgs.drop(), this.ix.idx.drop(), this.ix.subj.drop()]);
    } finally {
      this.env.release(this.name);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(StoreErrorCode.Closed, `stream store ${this.name} is closed`);
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure !== null) {
      throw new StoreError(StoreErrorCode.WriteFailed, `stream store ${this.name} failed: ${this.failure.message}`);
    }
  }
}

function key8(seq: number): Buffer {
  const k = Buffer.allocUnsafe(8);
  writeSeq(k, 0, seq);
  return k;
}

/** Opens (or creates) the store of stream `name` in the environment. */
export async function openLmdbStore(
  env: LmdbEnvironment,
  name: string,
  opts: LmdbStoreOptions = {},
): Promise<LmdbStore> {
  env.claim(name);
  try {
    const ix = LmdbIndex.open(env, name);
    await ix.repairIfNeeded();
    return new LmdbStore(env, name, ix, opts);
  } catch (err) {
    env.release(name);
    throw err;
  }
}
