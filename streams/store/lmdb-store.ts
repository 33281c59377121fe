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
// Reads are synchronous and see uncommitted changes too: lmdb-view.ts overlays the appends and
// removals lmdb-js has not committed yet on what LMDB has.

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
import { LmdbView } from './lmdb-view.ts';
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

const INDEX_VALUE = Buffer.from([1]); // shared: lmdb-js only reads it

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
  private readonly view: LmdbView;
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
    this.view = new LmdbView(ix, env.sync !== SyncMode.Committed, () => env.markDirty(this), env.newRecordCache());
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
    return { seq, durable: this.view.durable() };
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
    const batch = this.view.join(this.ix.msgs.put(this.keyBuf, rec));
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
    this.view.addPending(seq, rec, info);
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

  /** lmdb-js is closing the batch: add our counters and subject summaries to it. */
  beforeCommit(): void {
    this.view.endBatch();
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
    const batch = this.view.join(this.ix.msgs.remove(this.keyBuf));
    writeIdxKey(this.idxBuf, info.id, seq);
    this.ix.idx.remove(this.idxBuf);
    // Below firstSeq nothing needs hiding (every read starts at firstSeq), so compactions
    // (interior = false) do not grow the hidden set.
    this.view.removed(seq, interior);
    if (interior) batch.deleted.push(seq);
    this.messages--;
    this.bytes -= size;
    info.count--;
    this.dirtySubjects.add(subject);
    if (info.count === 0) {
      this.subjects.delete(subject);
      this.matchCache.invalidate();
    } else if (info.last === seq) {
      info.last = this.view.prevLive(seq, this.firstSeq, info);
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
        const doomed = this.view.below(this.firstSeq, plan.upToSeq);
        for (const d of doomed) this.remove(d.seq, recordSubject(d.rec), recordFileSize(d.rec), false);
        this.advanceFirst(plan.upToSeq);
        return doomed.length;
      }
      case 'filtered': {
        let purged = 0;
        let from = this.firstSeq;
        while (purged < plan.limit) {
          const m = this.nextMatching(from, plan.filter);
          if (m === undefined || m.seq > plan.maxSeq) break;
          this.remove(m.seq, m.subject, this.msgSize(m.subject, m.hdr, m.data), true);
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
    this.view.join(this.ix.msgs.clearAsync());
    this.ix.idx.clearAsync();
    this.ix.subj.clearAsync(); // the meta key goes too; beforeCommit writes it again
    this.subjects.clear();
    this.dirtySubjects.clear();
    this.matchCache.invalidate();
    this.view.clear();
    this.messages = 0;
    this.bytes = 0;
    this.firstSeq = nextSeq;
    this.lastSeq = nextSeq - 1;
    this.firstTimeNs = 0n;
    return purged;
  }

  /** Moves firstSeq to the oldest live message at or after `from`, or past the end. */
  private advanceFirst(from: number): void {
    const next = this.messages === 0 ? undefined : this.view.nextLive(Math.max(from, this.firstSeq), this.lastSeq, null);
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
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    return this.view.record(seq);
  }

  lastBySubject(filter: string): StoredMsg | undefined {
    this.checkOpen();
    if (this.messages === 0) return undefined;
    const f = normalizeFilter(filter);
    if (f === null) {
      const last = this.record(this.lastSeq) !== undefined ? this.lastSeq : this.view.prevLive(this.lastSeq, this.firstSeq, null);
      return last === 0 ? undefined : this.get(last);
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
      seq = this.view.nextLive(from, this.lastSeq, null);
    } else if (isLiteral(f)) {
      const info = this.subjects.get(f);
      if (info !== undefined && from <= info.last) seq = this.view.nextLive(from, this.lastSeq, info);
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
          const seq = this.view.nextLive(from, this.lastSeq, info);
          if (seq !== undefined && seq < best) best = seq;
        }
        return best === Infinity ? undefined : this.get(best);
      }
    }
    // Many subjects: walk the messages and test each subject.
    const hit = this.view.scanMatching(from, this.lastSeq, f);
    return hit === undefined ? undefined : decodeRecord(hit.seq, hit.rec);
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
      return this.countFrom(from, null, this.messages);
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
    return this.countFrom(from, info, info.count);
  }

  /** Counts the shorter side of `from` (LMDB counting walks keys), given the total. */
  private countFrom(from: number, info: SubjectInfo | null, total: number): number {
    if (from - this.firstSeq < this.lastSeq - from) return total - this.view.countRange(this.firstSeq, from, info);
    return this.view.countRange(from, this.lastSeq + 1, info);
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
    return this.view.durable();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.view.dispose();
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
    this.view.dispose();
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
    const failure = this.view.failure;
    if (failure !== null) {
      throw new StoreError(StoreErrorCode.WriteFailed, `stream store ${this.name} failed: ${failure.message}`);
    }
  }
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
