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
import type { RecordCache } from './record-cache.ts';

/** The changes of one lmdb-js batch (one transaction), forgotten from the overlay at commit. */
export interface Batch {
  readonly appended: number[];
  readonly deleted: number[];
  /** Resolves when the batch is durable (per the sync mode); shared by all its writes. */
  readonly durable: Promise<void>;
}

const RESOLVED: Promise<void> = Promise.resolve();
const noop = (): void => {};

/** An appended record lmdb-js has not committed yet, and the subject it belongs to. */
export interface PendingMsg {
  readonly rec: Buffer;
  readonly info: SubjectInfo;
}

export class LmdbView {
  /** Ascending by seq (Map insertion order), since appends only go up. */
  readonly pending = new Map<number, PendingMsg>();
  readonly deleted = new Set<number>();
  private floorValue = Infinity;
  private floorStale = false;
  private readonly keyBuf = Buffer.allocUnsafe(8);
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
  ) {}

  /**
   * The current batch, given the promise lmdb-js returned for a write just issued (every
   * unconditional write of one batch returns that batch's commit promise, carrying `.flushed`).
   */
  join(result: Promise<unknown>): Batch {
    if (this.batch !== null) return this.batch;
    const flushed = (result as Promise<unknown> & { flushed?: Promise<unknown> }).flushed ?? result;
    const durable = (this.waitForFlush ? flushed : result).then(noop);
    durable.catch(noop); // callers that care await it; an ignored failure must not crash node
    const batch: Batch = { appended: [], deleted: [], durable };
    result.then(
      () => this.forget(batch.appended, batch.deleted),
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
    this.pending.set(seq, { rec, info });
  }

  /** A removal: hide it until committed (`hide`), and drop it from the overlay. */
  removed(seq: number, hide: boolean): void {
    if (hide) this.deleted.add(seq);
    this.cache?.remove(seq);
    if (this.pending.delete(seq) && seq === this.floorValue) this.floorStale = true;
  }

  /** A batch committed: LMDB now has its appends and lacks its removals. */
  private forget(appended: readonly number[], deleted: readonly number[]): void {
    const cache = this.cache;
    for (const seq of appended) {
      if (cache !== null) {
        const p = this.pending.get(seq);
        if (p !== undefined) cache.add(seq, p.rec);
      }
      this.pending.delete(seq);
    }
    for (const seq of deleted) this.deleted.delete(seq);
    if (appended.length > 0) this.floorStale = true;
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
      const first = this.pending.keys().next();
      this.floorValue = first.done === true ? Infinity : first.value;
      this.floorStale = false;
    }
    return this.floorValue;
  }

  /** The record of a seq within [firstSeq, lastSeq], if live. */
  record(seq: number): Buffer | undefined {
    if (this.deleted.has(seq)) return undefined;
    const p = this.pending.get(seq);
    if (p !== undefined) return p.rec;
    if (seq >= this.floor()) return undefined;
    const cached = this.cache?.get(seq);
    if (cached !== undefined) return cached;
    writeSeq(this.keyBuf, 0, seq);
    return readCopy(this.ix.msgs, this.keyBuf);
  }

  /** Oldest live seq in [start, lastSeq] of one subject (info) or of any (null). */
  nextLive(start: number, lastSeq: number, info: SubjectInfo | null): number | undefined {
    const end = Math.min(this.floor(), lastSeq + 1);
    if (start < end) {
      const seqs = info === null ? this.ix.msgSeqs(start, end, false) : this.ix.subjectSeqs(info.id, start, end, false);
      for (const seq of seqs) if (!this.deleted.has(seq)) return seq;
    }
    if (info !== null && info.last < this.floor()) return undefined; // nothing of it is pending
    for (const [seq, p] of this.pending) {
      if (seq >= start && (info === null || p.info === info)) return seq;
    }
    return undefined;
  }

  /** Newest live seq in [firstSeq, before) of one subject or of any; 0 when none. */
  prevLive(before: number, firstSeq: number, info: SubjectInfo | null): number {
    let best = 0;
    for (const [seq, p] of this.pending) {
      if (seq >= before) break;
      if (info === null || p.info === info) best = seq;
    }
    if (best !== 0) return best;
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
    for (const [seq, p] of this.pending) {
      if (seq >= to) break;
      if (seq >= from && (info === null || p.info === info)) n++;
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
    for (const [seq, p] of this.pending) {
      if (seq >= from && subjectMatches(filter, p.info.subject)) return { seq, rec: p.rec };
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
    for (const [seq, p] of this.pending) {
      if (seq >= upTo) break;
      out.push({ seq, rec: p.rec });
    }
    return out;
  }
}
