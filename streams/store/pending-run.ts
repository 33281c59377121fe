// The LMDB overlay's uncommitted appends (lmdb-view.ts), in ascending sequence order. Appends
// only go up and batches commit in the order they were opened, so a commit always takes entries
// off the front: parallel arrays with a head index, not a Map. The Map cost a mirror's copy ~17 %
// of its CPU (an entry object per message, and Map deletes at every commit; benchmarks/README.md,
// js-mirror). A removal while pending leaves a hole (rec undefined) that the commit carrying the
// append takes off with the rest.

import type { SubjectInfo } from './lmdb-index.ts';

export class PendingRun {
  private seqs: number[] = [];
  private recs: (Buffer | undefined)[] = [];
  private infos: (SubjectInfo | undefined)[] = [];
  private head = 0;
  private live = 0;

  /** Live (not removed) entries. */
  get size(): number {
    return this.live;
  }

  /** First slot still held (holes included) and one past the last: for index loops with at(). */
  get start(): number {
    return this.head;
  }

  get end(): number {
    return this.seqs.length;
  }

  seqAt(i: number): number {
    return this.seqs[i]!;
  }

  /** The record in slot i; undefined for a hole. */
  recAt(i: number): Buffer | undefined {
    return this.recs[i];
  }

  infoAt(i: number): SubjectInfo {
    return this.infos[i]!;
  }

  /** Appends seq, which must be above every seq held. */
  push(seq: number, rec: Buffer, info: SubjectInfo): void {
    this.seqs.push(seq);
    this.recs.push(rec);
    this.infos.push(info);
    this.live++;
  }

  /** The slot holding seq (live or a hole), or -1. */
  indexOf(seq: number): number {
    const seqs = this.seqs;
    const end = seqs.length;
    let lo = this.head;
    if (lo >= end) return -1;
    // Sequences are usually consecutive: try the slot they would have without gaps first.
    const guess = lo + (seq - seqs[lo]!);
    if (guess >= lo && guess < end && seqs[guess] === seq) return guess;
    let hi = end;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo < end && seqs[lo] === seq ? lo : -1;
  }

  /** First slot whose seq is >= seq (end when none). */
  lowerBound(seq: number): number {
    const seqs = this.seqs;
    let lo = this.head;
    let hi = seqs.length;
    if (lo < hi && seqs[lo]! >= seq) return lo;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(seq: number): Buffer | undefined {
    const i = this.indexOf(seq);
    return i < 0 ? undefined : this.recs[i];
  }

  /** Makes seq's slot a hole; false when it was not live. */
  remove(seq: number): boolean {
    const i = this.indexOf(seq);
    if (i < 0 || this.recs[i] === undefined) return false;
    this.recs[i] = undefined;
    this.infos[i] = undefined;
    this.live--;
    return true;
  }

  /** Smallest live seq, or Infinity. */
  firstLive(): number {
    const recs = this.recs;
    const end = recs.length;
    for (let i = this.head; i < end; i++) if (recs[i] !== undefined) return this.seqs[i]!;
    return Infinity;
  }

  /**
   * A batch whose appends were `seqs` (ascending) committed: takes them off the front, calling
   * `committed` for each one still live. They are the front slots whenever batches commit in the
   * order they were opened (lmdb-js's); anything else is handled slot by slot.
   */
  shift(seqs: readonly number[], committed: ((seq: number, rec: Buffer) => void) | null): void {
    const n = seqs.length;
    if (n === 0) return;
    const own = this.seqs;
    const recs = this.recs;
    let head = this.head;
    if (head + n <= own.length && own[head] === seqs[0] && own[head + n - 1] === seqs[n - 1]) {
      for (const stop = head + n; head < stop; head++) {
        const rec = recs[head];
        if (rec === undefined) continue;
        if (committed !== null) committed(own[head]!, rec);
        recs[head] = undefined;
        this.infos[head] = undefined;
        this.live--;
      }
      this.head = head;
    } else {
      for (const seq of seqs) {
        const i = this.indexOf(seq);
        const rec = i < 0 ? undefined : recs[i];
        if (rec === undefined) continue;
        if (committed !== null) committed(seq, rec);
        this.remove(seq);
      }
      // Holes at the front are taken off too.
      while (this.head < own.length && recs[this.head] === undefined) this.head++;
    }
    this.compact();
  }

  clear(): void {
    this.seqs = [];
    this.recs = [];
    this.infos = [];
    this.head = 0;
    this.live = 0;
  }

  /** Drops the slots before head once they are most of the arrays (usually: all of them). */
  private compact(): void {
    const head = this.head;
    const len = this.seqs.length;
    if (head === len) {
      this.seqs.length = 0;
      this.recs.length = 0;
      this.infos.length = 0;
      this.head = 0;
    } else if (head > 1024 && head * 2 > len) {
      this.seqs = this.seqs.slice(head);
      this.recs = this.recs.slice(head);
      this.infos = this.infos.slice(head);
      this.head = 0;
    }
  }
}
