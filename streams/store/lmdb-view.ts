// The read side of the LMDB store: the live messages are what LMDB has committed, minus the
// removals not yet committed (`deleted`), plus the appends not yet committed (`pending`). Reads are
// synchronous and must see every change at once, while lmdb-js commits a turn's writes later.
//
// Invariant every query relies on: every live message with seq >= floor() (the smallest pending
// seq) is in `pending`. Appends get increasing sequences and batches commit in order, so below the
// floor LMDB is complete and above it the overlay is. A batch's appends leave `pending` and its
// removals leave `deleted` only once that batch has committed (forget()).

import { recordSubject, seqKey, writeSeq } from './codec.ts';
import { subjectMatches } from './filter.ts';
import { readCopy } from './lmdb-env.ts';
import type { LmdbIndex, SubjectInfo } from './lmdb-index.ts';
import { PendingRun } from './pending-run.ts';
import type { RecordCache } from './record-cache.ts';

/** The changes of one lmdb-js batch (one transaction), forgotten from the overlay at commit. */
export interface Batch {
  readonly appended: number[];
  readonly deleted: number[];
  /** Resolves when the batch is durable (per the sync mode); shared by all its writes. */
  readonly durable: Promise<void>;
  /** Its appends go to the record cache at commit; false once a bulk append joined it. */
  cache: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

export class LmdbView {
  /** Appended records lmdb-js has not committed yet, with their subjects, ascending by seq. */
  readonly pending = new PendingRun();
  readonly deleted = new Set<number>();
  private floorValue = Infinity;
  private floorStale = false;
  private readonly keyBuf = Buffer.allocUnsafe(8);
  /** Hands a committed append to the record cache (null: no cache). */
  private readonly toCache: ((seq: number, rec: Buffer) => void) | null;
  private batch: Batch | null = null;
  private lastDurable: Promise<void> = RESOLVED;
  /** Set when a commit failed: memory ran ahead of LMDB, so the store must stop writing. */
  failure: Error | null = null;

  /**
   * @param waitForFlush durability means fdatasync'ed (else: committed)
   * @param onNewBatch called when this stream first writes in a new batch
   * @param cache keeps committed appends in memory for point reads (null: none)
   */
  constructor(
    private readonly ix: LmdbIndex,
    private readonly waitForFlush: boolean,
    private readonly onNewBatch: () => void,
    private readonly cache: RecordCache | null,
  ) {
    this.toCache = cache === null ? null : (seq, rec) => cache.add(seq, rec);
  }

  /**
   * The current batch, given the promise lmdb-js returned for a write just issued (every
   * unconditional write of one batch returns that batch's commit promise, carrying `.flushed`).
   */
  join(result: Promise<unknown>): Batch {
    if (this.batch !== null) return this.batch;
    const flushed = (result as Promise<unknown> & { flushed?: Promise<unknown> }).flushed ?? result;
    const durable = (this.waitForFlush ? flushed : result).then(noop);
    durable.catch(noop); // callers that care await it; an ignored failure must not crash node
    const batch: Batch = { appended: [], deleted: [], durable, cache: true };
    result.then(
      () => this.forget(batch),
      (err: unknown) => {
        this.failure = err instanceof Error ? err : new Error(String(err));
      },
    );
    this.batch = batch;
    this.lastDurable = durable;
    this.onNewBatch();
    return batch;
  }

  /** lmdb-js is closing the batch; the next write starts a new one. */
  endBatch(): void {
    this.batch = null;
  }

  /** Resolves when every write so far is durable. */
  durable(): Promise<void> {
    return this.batch?.durable ?? this.lastDurable;
  }

  addPending(seq: number, rec: Buffer, info: SubjectInfo): void {
    if (this.pending.size === 0) {
      this.floorValue = seq;
      this.floorStale = false;
    }
    this.pending.push(seq, rec, info);
  }

  /** A removal: hide it until committed (`hide`), and drop it from the overlay. */
  removed(seq: number, hide: boolean): void {
    if (hide) this.deleted.add(seq);
    this.cache?.remove(seq);
    if (this.pending.remove(seq) && seq === this.floorValue) this.floorStale = true;
  }

  /** A batch committed: LMDB now has its appends and lacks its removals. */
  private forget(batch: Batch): void {
    this.pending.shift(batch.appended, batch.cache ? this.toCache : null);
    for (const seq of batch.deleted) this.deleted.delete(seq);
    if (batch.appended.length > 0) this.floorStale = true;
  }

  clear(): void {
    this.cache?.clear();
    this.pending.clear();
    this.deleted.clear();
    this.floorValue = Infinity;
    this.floorStale = false;
  }

  /** The store closed: drop the cached records. */
  dispose(): void {
    this.cache?.dispose();
  }

  floor(): number {
    if (this.floorStale) {
      this.floorValue = this.pending.firstLive();
      this.floorStale = false;
    }
    return this.floorValue;
  }

  /** The record of a seq within [firstSeq, lastSeq], if live. */
  record(seq: number): Buffer | undefined {
    if (this.deleted.has(seq)) return undefined;
    if (seq >= this.floor()) return this.pending.get(seq);
    const cached = this.cache?.get(seq);
    if (cached !== undefined) return cached;
    writeSeq(this.keyBuf, 0, seq);
    return readCopy(this.ix.msgs, this.keyBuf);
  }

  /**
   * Live records with from <= seq < to (to <= lastSeq + 1), ascending: the committed ones through
   * one cursor, then the overlay's. `visit` must not change this store.
   */
  forEachRecord(from: number, to: number, visit: (seq: number, rec: Buffer) => void): void {
    const end = Math.min(this.floor(), to);
    if (from < end) {
      const deleted = this.deleted;
      if (deleted.size === 0) this.ix.forEachRecord(from, end, visit);
      else
        this.ix.forEachRecord(from, end, (seq, rec) => {
          if (!deleted.has(seq)) visit(seq, rec);
        });
    }
    const pending = this.pending;
    for (let i = pending.lowerBound(from), e = pending.end; i < e; i++) {
      const seq = pending.seqAt(i);
      if (seq >= to) break;
      const rec = pending.recAt(i);
      if (rec !== undefined) visit(seq, rec);
    }
  }

  /** Oldest live seq in [start, lastSeq] of one subject (info) or of any (null). */
  nextLive(start: number, lastSeq: number, info: SubjectInfo | null): number | undefined {
    const end = Math.min(this.floor(), lastSeq + 1);
    if (start < end) {
      const seqs = info === null ? this.ix.msgSeqs(start, end, false) : this.ix.subjectSeqs(info.id, start, end, false);
      for (const seq of seqs) if (!this.deleted.has(seq)) return seq;
    }
    if (info !== null && info.last < this.floor()) return undefined; // nothing of it is pending
    const pending = this.pending;
    for (let i = pending.lowerBound(start), end = pending.end; i < end; i++) {
      if (pending.recAt(i) !== undefined && (info === null || pending.infoAt(i) === info)) return pending.seqAt(i);
    }
    return undefined;
  }

  /** Newest live seq in [firstSeq, before) of one subject or of any; 0 when none. */
  prevLive(before: number, firstSeq: number, info: SubjectInfo | null): number {
    const pending = this.pending;
    for (let i = pending.lowerBound(before) - 1, start = pending.start; i >= start; i--) {
      if (pending.recAt(i) !== undefined && (info === null || pending.infoAt(i) === info)) return pending.seqAt(i);
    }
    const end = Math.min(before, this.floor());
    const seqs = info === null ? this.ix.msgSeqs(firstSeq, end, true) : this.ix.subjectSeqs(info.id, firstSeq, end, true);
    for (const seq of seqs) if (!this.deleted.has(seq)) return seq;
    return 0;
  }

  /** Live messages (of one subject, or all) with from <= seq < to. */
  countRange(from: number, to: number, info: SubjectInfo | null): number {
    const end = Math.min(this.floor(), to);
    let n = 0;
    if (from < end) {
      n = info === null ? this.ix.countMsgs(from, end, this.deleted) : this.ix.countSubject(info.id, from, end, this.deleted);
    }
    if (to <= this.floor() || (info !== null && info.last < this.floor())) return n;
    const pending = this.pending;
    for (let i = pending.lowerBound(from), end = pending.end; i < end && pending.seqAt(i) < to; i++) {
      if (pending.recAt(i) !== undefined && (info === null || pending.infoAt(i) === info)) n++;
    }
    return n;
  }

  /** First live message in [from, lastSeq] whose subject matches the wildcard, by scanning. */
  scanMatching(from: number, lastSeq: number, filter: string): { seq: number; rec: Buffer } | undefined {
    const end = Math.min(this.floor(), lastSeq + 1);
    if (from < end) {
      for (const { key, value } of this.ix.msgs.getRange({ start: seqKey(from), end: seqKey(end) })) {
        const seq = this.ix.seqOf(key as Buffer);
        const rec = value as Buffer;
        if (!this.deleted.has(seq) && subjectMatches(filter, recordSubject(rec))) return { seq, rec };
      }
    }
    const pending = this.pending;
    for (let i = pending.lowerBound(from), end = pending.end; i < end; i++) {
      const rec = pending.recAt(i);
      if (rec !== undefined && subjectMatches(filter, pending.infoAt(i).subject)) return { seq: pending.seqAt(i), rec };
    }
    return undefined;
  }

  /** Every live record with firstSeq <= seq < upTo, ascending (for a compaction). */
  below(firstSeq: number, upTo: number): { seq: number; rec: Buffer }[] {
    const out: { seq: number; rec: Buffer }[] = [];
    const end = Math.min(upTo, this.floor());
    if (firstSeq < end) {
      for (const { key, value } of this.ix.msgs.getRange({ start: seqKey(firstSeq), end: seqKey(end) })) {
        const seq = this.ix.seqOf(key as Buffer);
        if (!this.deleted.has(seq)) out.push({ seq, rec: value as Buffer });
      }
    }
    const pending = this.pending;
    for (let i = pending.start, end = pending.end; i < end && pending.seqAt(i) < upTo; i++) {
      const rec = pending.recAt(i);
      if (rec !== undefined) out.push({ seq: pending.seqAt(i), rec });
    }
    return out;
  }
}
