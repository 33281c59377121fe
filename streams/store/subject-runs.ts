// The per-subject index of an LMDB stream (stream:<name>:i) as runs (issue 19): one key per
// subject per transaction instead of one per message.
//
//   key   u32 subject id | u64 base seq  (the seq of the run's first message when it was written)
//   value u32 BE offsets from base, ascending: the run's live sequences; or the single byte 1,
//         a run holding only `base` (the format of the index's first version, one key per message,
//         which is therefore still read as it is: no migration)
//
// A batch's appends to one subject become one run (at most MAX_RUN sequences each), written in the
// batch's beforecommit, so a publisher to one subject costs one index put per transaction instead
// of one per message; the second put per message was ~1.6 µs of server CPU in js-pub-refill
// (benchmarks/README.md). Runs of one subject never overlap: every run holds sequences of one
// transaction, and transactions take increasing sequences. So the run holding a seq is the last
// key <= (id, seq).
//
// A removal edits the run holding the seq: in this batch's appends, in a run already changed in
// this batch, or read from LMDB. Reading LMDB here is safe because a store writes directly (not
// staged) only while none of its transactions is committing (commit-pipeline.ts): LMDB then holds
// every earlier batch. The changed runs are written (or removed, once empty) in the same
// beforecommit, so the index commits with the records it describes.

import { readSeq, writeIdxKey } from './codec.ts';

/** At most this many sequences per run: 1 KiB values stay on the B-tree's leaf pages. */
export const MAX_RUN = 256;

const SINGLE = Buffer.from([1]); // shared: lmdb-js only reads it

/** Encodes `seqs[from..to)` (ascending, all >= base) as a run value. */
export function encodeRun(base: number, seqs: readonly number[], from: number, to: number): Buffer {
  if (to - from === 1 && seqs[from] === base) return SINGLE;
  const out = Buffer.allocUnsafe(4 * (to - from));
  for (let i = from, o = 0; i < to; i++, o += 4) out.writeUInt32BE(seqs[i]! - base, o);
  return out;
}

/** The offsets of a run value (`size` bytes at the start of `buf`). */
export function decodeRunOffsets(buf: Uint8Array, size: number): number[] {
  if (size === 1) return [0];
  const n = size >>> 2;
  const out = new Array<number>(n);
  const view = new DataView(buf.buffer, buf.byteOffset, size);
  for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i);
  return out;
}

/** A committed run read back for editing: its key's base and its live sequences. */
interface EditedRun {
  readonly base: number;
  readonly seqs: number[];
}

/** Where the writer reads committed runs (LmdbIndex). */
export interface RunSource {
  /** The committed run of `id` holding `seq` (the last key <= (id, seq)), or undefined. */
  runHolding(id: number, seq: number): EditedRun | undefined;
  put(key: Buffer, value: Buffer): void;
  remove(key: Buffer): void;
}

/** Binary search: index of `seq` in ascending `seqs`, or -1. */
function indexOf(seqs: readonly number[], seq: number): number {
  let lo = 0;
  let hi = seqs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = seqs[mid]!;
    if (v === seq) return mid;
    if (v < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** One store's index changes in the open batch, written at its beforecommit. */
export class SubjectRunWriter {
  /** Subject id -> sequences appended in the open batch, ascending. */
  private readonly appended = new Map<number, number[]>();
  /** Subject id -> committed runs changed in the open batch. */
  private readonly edited = new Map<number, EditedRun[]>();
  private readonly key = Buffer.allocUnsafe(12);

  constructor(private readonly source: RunSource) {}

  appendedSeq(id: number, seq: number): void {
    const seqs = this.appended.get(id);
    if (seqs === undefined) this.appended.set(id, [seq]);
    else seqs.push(seq);
  }

  removedSeq(id: number, seq: number): void {
    const fresh = this.appended.get(id);
    if (fresh !== undefined && fresh.length > 0 && seq >= fresh[0]!) {
      const i = indexOf(fresh, seq);
      if (i >= 0) fresh.splice(i, 1);
      return;
    }
    let runs = this.edited.get(id);
    let run = runs?.find((r) => r.base <= seq && indexOf(r.seqs, seq) >= 0);
    if (run === undefined) {
      const loaded = this.source.runHolding(id, seq);
      // Not indexed (it cannot happen while index and records commit together), or already
      // removed from a run edited in this batch: nothing to edit.
      if (loaded === undefined || runs?.some((r) => r.base === loaded.base)) return;
      if (runs === undefined) this.edited.set(id, (runs = []));
      runs.push((run = loaded));
    }
    const i = indexOf(run.seqs, seq);
    if (i >= 0) run.seqs.splice(i, 1);
  }

  /** The stream was emptied in this batch: what was appended or edited before is gone with it. */
  clear(): void {
    this.appended.clear();
    this.edited.clear();
  }

  /** Writes the batch's runs (from the store's beforecommit) and starts the next batch. */
  write(): void {
    const key = this.key;
    for (const [id, runs] of this.edited) {
      for (const run of runs) {
        writeIdxKey(key, id, run.base);
        if (run.seqs.length === 0) this.source.remove(key);
        else this.source.put(key, encodeRun(run.base, run.seqs, 0, run.seqs.length));
      }
    }
    for (const [id, seqs] of this.appended) {
      for (let from = 0; from < seqs.length; from += MAX_RUN) {
        const to = Math.min(seqs.length, from + MAX_RUN);
        writeIdxKey(key, id, seqs[from]!);
        this.source.put(key, encodeRun(seqs[from]!, seqs, from, to));
      }
    }
    this.clear();
  }
}

/** The sequence in an index key (after the u32 subject id). */
export function runKeySeq(key: Uint8Array, start: number): number {
  return readSeq(key, start + 4);
}
