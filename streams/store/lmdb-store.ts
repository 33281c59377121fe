// File storage on LMDB. Per stream, three named sub-databases of the server's one environment:
//   stream:<name>:m   u64 BE seq -> message record (codec.ts)
//   stream:<name>:i   u32 subject id + u64 base seq -> a run of the subject's sequences
//                     (per-subject order: next/prev/count; subject-runs.ts)
//   stream:<name>:s   subject -> {id, count, last}; key 0 -> stream meta (counters)
// Writes are lmdb-js async puts: everything issued in one event-loop turn commits as one
// transaction (group commit), and the counters/subject summaries and index runs touched in that
// turn are written in the same transaction from the environment's beforecommit hook
// (lmdb-env.ts). So the state after a crash is exactly that of the last committed transaction,
// and opening a stream reads the meta record and one record per live subject, not every message.
// While a transaction holding store writes commits, writes are staged here instead and written
// together once it is done (commit-pipeline.ts): the next transaction holds everything that
// arrived meanwhile.
//
// Reads are synchronous and see uncommitted changes too: lmdb-view.ts overlays the appends and
// removals lmdb-js has not committed yet on what LMDB has. Queries, purges and state reports are
// BaseStore's (base-store.ts); this file holds the primitives and the batch bookkeeping.

import {
  MAX_SUBJECT_BYTES,
  RECORD_FORMAT,
  decodeRecord,
  encodeMeta,
  encodeRecord,
  encodeSubject,
  readSeq,
  seqKey,
  fileStoreMsgSize,
  recordFileSize,
  recordSubject,
  recordTimeNs,
  subjectByteLength,
  writeSeq,
} from './codec.ts';
import { BaseStore } from './base-store.ts';
import { LmdbIndex, META_KEY, loadStreamState, type SubjectInfo } from './lmdb-index.ts';
import type { CommitPipeline, CommitPromise, PipelineMember } from './commit-pipeline.ts';
import { SyncMode, type BatchParticipant, type LmdbEnvironment } from './lmdb-env.ts';
import { LmdbView, type Batch } from './lmdb-view.ts';
import { FrozenLmdb } from './frozen.ts';
import { SubjectRunWriter } from './subject-runs.ts';
import { StorageKind, StoreError, StoreErrorCode, type FrozenStore, type StoredMsg, type TimeNs } from './types.ts';

/** Staged arrays longer than this are let go after their batch (a burst's need, not the norm). */
const MAX_KEPT_STAGED = 65_536;

/** Kinds of staged writes. */
const PUT = 0;
const DEL = 1;
const CLEAR = 2;

export class LmdbStore extends BaseStore<SubjectInfo> implements BatchParticipant, PipelineMember {
  readonly storage = StorageKind.File;
  readonly recordFormat = RECORD_FORMAT;
  private readonly env: LmdbEnvironment;
  private readonly ix: LmdbIndex;
  private readonly dirtySubjects = new Set<string>();
  private readonly view: LmdbView;
  private dropped = false;
  /** StreamStore.bulkAppends: appends now are not kept in the record cache. */
  private bulk = false;
  private nextSubjectId: number;
  private readonly keyBuf = Buffer.allocUnsafe(8);
  /** The open batch's changes to the per-subject index, written at its beforecommit. */
  private readonly runs: SubjectRunWriter;
  private readonly pipeline: CommitPipeline;
  /**
   * Writes staged while a commit is in flight, in order: kind, seq, record (PUT), subject id. The
   * arrays keep their capacity between batches (`staged` counts the live part): emptying an array
   * by setting its length frees its storage, and refilling it regrew it every batch.
   */
  private readonly stagedKind: number[] = [];
  private readonly stagedSeq: number[] = [];
  private readonly stagedRec: (Buffer | null)[] = [];
  private readonly stagedId: number[] = [];
  private staged = 0;

  /** Use openLmdbStore(). */
  constructor(env: LmdbEnvironment, name: string, ix: LmdbIndex) {
    const st = loadStreamState(ix);
    super(name, st.subjects);
    this.env = env;
    this.ix = ix;
    this.runs = new SubjectRunWriter(ix);
    this.pipeline = env.pipeline;
    // A batch begun while staging is marked dirty when its writes are made (flushStaged): its
    // metadata must go into the transaction that holds them, not into one that closes earlier.
    const onNewBatch = (): void => {
      if (!this.pipeline.staging) env.markDirty(this);
    };
    this.view = new LmdbView(ix, env.sync !== SyncMode.Committed, onNewBatch, env.newRecordCache());
    this.firstSeq = st.meta.firstSeq;
    this.lastSeq = st.meta.lastSeq;
    this.messages = st.meta.messages;
    this.bytes = st.meta.bytes;
    this.firstTimeNs = st.meta.messages === 0 ? 0n : st.meta.firstTimeNs;
    this.lastTimeNs = st.meta.lastTimeNs;
    this.nextSubjectId = st.meta.nextSubjectId;
  }

  // ---- writes -----------------------------------------------------------------------------

  protected write(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
    record: Uint8Array | undefined,
  ): number {
    const slen = subjectByteLength(subject);
    if (slen > MAX_SUBJECT_BYTES) {
      throw new StoreError(StoreErrorCode.SubjectTooLong, `subject longer than ${MAX_SUBJECT_BYTES} bytes`);
    }
    const h = hdr !== null && hdr.length > 0 ? hdr : null;
    // A record read from another LMDB store (a mirror's copy) is already these bytes: keeping
    // it saves encoding each message again (~1 µs of a mirror's copy). decodeRecord always
    // returns a record nobody else writes to, so lmdb-js and the overlay may hold it.
    const rec = record !== undefined ? (record as Buffer) : encodeRecord(subject, slen, h, data, timeNs);
    let info = this.subjects.get(subject);
    if (info === undefined) {
      info = { subject, id: this.nextSubjectId++, count: 0, last: 0 };
      this.subjects.set(subject, info);
      this.matchCache.invalidate();
    }
    const batch = this.pipeline.staging ? this.stage(PUT, seq, rec, info.id) : this.view.join(this.putNow(seq, rec, info.id));
    info.count++;
    info.last = seq;
    this.dirtySubjects.add(subject);
    this.view.addPending(seq, rec, info);
    batch.appended.push(seq);
    if (this.bulk) batch.cache = false;
    return fileStoreMsgSize(slen, h === null ? 0 : h.length, data.length);
  }

  /** The record into the open lmdb-js batch (its index run at beforecommit); the commit promise. */
  private putNow(seq: number, rec: Buffer, subjectId: number): CommitPromise {
    writeSeq(this.keyBuf, 0, seq);
    const p = this.ix.msgs.put(this.keyBuf, rec);
    this.runs.appendedSeq(subjectId, seq);
    this.pipeline.wrote(p);
    return p;
  }

  private removeNow(seq: number, subjectId: number): CommitPromise {
    writeSeq(this.keyBuf, 0, seq);
    const p = this.ix.msgs.remove(this.keyBuf);
    this.runs.removedSeq(subjectId, seq);
    this.pipeline.wrote(p);
    return p;
  }

  private clearNow(): CommitPromise {
    const p = this.ix.msgs.clearAsync();
    this.runs.clear();
    this.ix.idx.clearAsync();
    this.ix.subj.clearAsync(); // the meta key goes too; beforeCommit writes it again
    this.pipeline.wrote(p);
    return p;
  }

  /** A commit is in flight: keep the write for the next batch; the batch it will be in. */
  private stage(kind: number, seq: number, rec: Buffer | null, subjectId: number): Batch {
    const batch = this.view.join(this.pipeline.stage(this));
    const i = this.staged++;
    this.stagedKind[i] = kind;
    this.stagedSeq[i] = seq;
    this.stagedRec[i] = rec;
    this.stagedId[i] = subjectId;
    return batch;
  }

  override bulkAppends(on: boolean): void {
    this.bulk = on;
  }

  /** The commit in flight is done: write what was staged, in order, into the batch now open. */
  flushStaged(): void {
    const n = this.staged;
    try {
      if (this.dropped) return;
      for (let i = 0; i < n; i++) {
        const kind = this.stagedKind[i];
        if (kind === PUT) this.putNow(this.stagedSeq[i]!, this.stagedRec[i]!, this.stagedId[i]!);
        else if (kind === DEL) this.removeNow(this.stagedSeq[i]!, this.stagedId[i]!);
        else this.clearNow();
      }
      // Its metadata goes into the same transaction (beforeCommit).
      if (n > 0) this.env.markDirty(this);
    } catch (err) {
      // Part of the batch may be written: memory is ahead of LMDB, so stop writing.
      this.view.failure = err instanceof Error ? err : new Error(String(err));
    } finally {
      this.dropStaged();
    }
  }

  dropStaged(): void {
    const n = this.staged;
    this.staged = 0;
    if (n > MAX_KEPT_STAGED) {
      this.stagedKind.length = 0;
      this.stagedSeq.length = 0;
      this.stagedRec.length = 0;
      this.stagedId.length = 0;
      return;
    }
    this.stagedRec.fill(null, 0, n); // the records are lmdb-js's and the overlay's now
  }

  /** lmdb-js is closing the batch: add our index runs, counters and subject summaries to it. */
  beforeCommit(): void {
    this.view.endBatch();
    if (this.dropped) return;
    this.runs.write();
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

  protected removeLive(seq: number, erase: boolean): boolean {
    // Erase is best effort on LMDB (see DeleteOptions): the record is removed like any other; the
    // pending buffer must not be zeroed since lmdb-js may still be copying it.
    void erase;
    const rec = this.record(seq);
    if (rec === undefined) return false;
    this.remove(seq, recordSubject(rec), recordFileSize(rec), true);
    return true;
  }

  protected removeFound(m: StoredMsg): void {
    this.remove(m.seq, m.subject, this.msgSize(m.subject, m.hdr, m.data), true);
  }

  protected removeBelow(upToSeq: number): number {
    const doomed = this.view.below(this.firstSeq, upToSeq);
    for (const d of doomed) this.remove(d.seq, recordSubject(d.rec), recordFileSize(d.rec), false);
    return doomed.length;
  }

  /** Removes one live message from LMDB, the overlay and the counters. */
  private remove(seq: number, subject: string, size: number, interior: boolean): void {
    const info = this.subjects.get(subject)!;
    const batch = this.pipeline.staging ? this.stage(DEL, seq, null, info.id) : this.view.join(this.removeNow(seq, info.id));
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

  /** Empties the stream in O(1) writes. */
  protected removeAll(): void {
    if (this.pipeline.staging) this.stage(CLEAR, 0, null, 0);
    else this.view.join(this.clearNow());
    this.dirtySubjects.clear();
    this.view.clear();
  }

  // ---- reads ------------------------------------------------------------------------------

  get(seq: number): StoredMsg | undefined {
    this.checkOpen();
    const rec = this.record(seq);
    return rec === undefined ? undefined : decodeRecord(seq, rec);
  }

  override visitRange(from: number, to: number, visit: (m: StoredMsg) => void): void {
    this.checkOpen();
    const lo = Math.max(from, this.firstSeq);
    const hi = Math.min(to, this.lastSeq);
    if (lo <= hi) this.view.forEachRecord(lo, hi + 1, (seq, rec) => visit(decodeRecord(seq, rec)));
  }

  /** The live record at seq, from the overlay or LMDB. */
  private record(seq: number): Buffer | undefined {
    if (seq < this.firstSeq || seq > this.lastSeq) return undefined;
    return this.view.record(seq);
  }

  protected oldestSeq(from: number): number | undefined {
    return this.view.nextLive(from, this.lastSeq, null);
  }

  protected newestSeq(): number {
    return this.record(this.lastSeq) !== undefined ? this.lastSeq : this.view.prevLive(this.lastSeq, this.firstSeq, null);
  }

  protected timeOf(seq: number): TimeNs {
    const rec = this.record(seq);
    return rec === undefined ? 0n : recordTimeNs(rec);
  }

  protected nextMsg(from: number): StoredMsg | undefined {
    const seq = this.view.nextLive(from, this.lastSeq, null);
    return seq === undefined ? undefined : this.get(seq);
  }

  protected nextSeqOf(info: SubjectInfo, from: number): number | undefined {
    return from <= info.last ? this.view.nextLive(from, this.lastSeq, info) : undefined;
  }

  protected scanMatching(from: number, filter: string): StoredMsg | undefined {
    const hit = this.view.scanMatching(from, this.lastSeq, filter);
    return hit === undefined ? undefined : decodeRecord(hit.seq, hit.rec);
  }

  protected countFrom(from: number): number {
    return this.countShorterSide(from, null, this.messages);
  }

  protected subjectCountFrom(info: SubjectInfo, from: number): number {
    if (from <= this.firstSeq) return info.count;
    if (from > info.last) return 0;
    if (from === info.last) return 1;
    return this.countShorterSide(from, info, info.count);
  }

  /** Counts the shorter side of `from` (LMDB counting walks keys), given the total. */
  private countShorterSide(from: number, info: SubjectInfo | null, total: number): number {
    if (from - this.firstSeq < this.lastSeq - from) return total - this.view.countRange(this.firstSeq, from, info);
    return this.view.countRange(from, this.lastSeq + 1, info);
  }

  msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
    return fileStoreMsgSize(subjectByteLength(subject), hdr?.length ?? 0, data.length);
  }

  // ---- lifecycle --------------------------------------------------------------------------

  durable(): Promise<void> {
    return this.view.durable();
  }

  /** A read transaction: with nothing uncommitted (see StreamStore.freeze) it sees the live store. */
  freeze(): FrozenStore {
    if (this.closed) throw new StoreError(StoreErrorCode.Closed, 'store is closed');
    if (this.view.pending.size > 0 || this.view.deleted.size > 0 || this.staged > 0) {
      throw new StoreError(StoreErrorCode.WriteFailed, 'freeze needs every change committed first');
    }
    const txn = this.env.root.useReadTransaction();
    const msgs = this.ix.msgs;
    return new FrozenLmdb({
      state: this.state(),
      txn,
      *keys(from, to, limit) {
        for (const key of msgs.getKeys({ start: seqKey(from), end: seqKey(to + 1), limit, transaction: txn })) yield readSeq(key as Buffer, 0);
      },
      *records(from) {
        for (const { key, value } of msgs.getRange({ start: seqKey(from), transaction: txn })) {
          yield decodeRecord(readSeq(key as Buffer, 0), value as Buffer);
        }
      },
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.view.dispose();
    try {
      await this.durable();
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

  protected override checkWritable(): void {
    this.checkOpen();
    const failure = this.view.failure;
    if (failure !== null) {
      throw new StoreError(StoreErrorCode.WriteFailed, `stream store ${this.name} failed: ${failure.message}`);
    }
  }
}

/** Opens (or creates) the store of stream `name` in the environment. */
export async function openLmdbStore(env: LmdbEnvironment, name: string): Promise<LmdbStore> {
  env.claim(name);
  try {
    const ix = LmdbIndex.open(env, name);
    await ix.repairIfNeeded();
    return new LmdbStore(env, name, ix);
  } catch (err) {
    env.release(name);
    throw err;
  }
}
