// The three sub-databases of one stream and the range primitives the LMDB store builds on, plus
// loading (and, if ever needed, rebuilding) the in-memory summary on open.

import {
  decodeMeta,
  decodeSubject,
  encodeMeta,
  encodeSubject,
  idxKey,
  readSeq,
  recordFileSize,
  recordSubject,
  recordTimeNs,
  seqKey,
  writeSeq,
  type MetaRecord,
} from './codec.ts';
import type { LmdbDb, LmdbEnvironment } from './lmdb-env.ts';
import { copyOut } from './record-cache.ts';
import { decodeRunOffsets, runKeySeq, type RunSource } from './subject-runs.ts';

/** The meta record lives in the subjects database under a number key, which no subject can be. */
export const META_KEY = 0;

export interface SubjectInfo {
  readonly subject: string;
  readonly id: number;
  count: number;
  /** Newest live sequence of this subject. */
  last: number;
}

const EMPTY_META: MetaRecord = {
  firstSeq: 0,
  lastSeq: 0,
  messages: 0,
  bytes: 0,
  firstTimeNs: 0n,
  lastTimeNs: 0n,
  nextSubjectId: 1,
};

/**
 * The messages database read as (sequence, record copy) pairs. With the 'binary' encodings lmdb-js
 * hands each key and value of a range out through Uint8Array#slice of its shared buffer, which
 * for a Buffer goes through the species constructor (~1 µs each): a cursor over the records cost
 * more than a point read per sequence. Through these, a key is read as a number and a value
 * copied with copyOut, and a run of records costs about half of the point reads.
 */
const SEQ_KEYS = {
  writeKey(seq: number, target: Buffer, start: number): number {
    writeSeq(target, start, seq);
    return start + 8;
  },
  readKey(buf: Buffer, start: number): number {
    return readSeq(buf, start);
  },
};
const RECORD_COPIES = {
  encode(value: Buffer): Buffer {
    return value; // never written through: the store writes with `msgs`
  },
  decode(shared: Buffer, size: number): Buffer {
    return copyOut(shared, 0, size);
  },
};

/**
 * The index database read as (base seq, run offsets) pairs (subject-runs.ts): range bounds are
 * key Buffers written as they are, a key is read as its sequence, a value decoded straight from
 * lmdb-js's shared buffer.
 */
const RUN_KEYS = {
  writeKey(key: Buffer, target: Buffer, start: number): number {
    key.copy(target, start);
    return start + key.length;
  },
  readKey(buf: Buffer, start: number): number {
    return runKeySeq(buf, start);
  },
};
const RUN_OFFSETS = {
  encode(value: Buffer): Buffer {
    return value; // never written through: the store writes with `idx`
  },
  decode(shared: Buffer, size: number): number[] {
    return decodeRunOffsets(shared, size);
  },
};

export class LmdbIndex implements RunSource {
  private constructor(
    readonly msgs: LmdbDb,
    readonly idx: LmdbDb,
    readonly subj: LmdbDb,
    /** The same database as `msgs`, for reading runs of records (RECORD_COPIES). */
    private readonly records: LmdbDb,
    /** The same database as `idx`, for reading runs of a subject's sequences (RUN_OFFSETS). */
    private readonly runs: LmdbDb,
  ) {}

  static open(env: LmdbEnvironment, name: string): LmdbIndex {
    const bin = { encoding: 'binary', keyEncoding: 'binary' } as const;
    type Opts = Parameters<LmdbEnvironment['openDb']>[1];
    return new LmdbIndex(
      env.openDb(`stream:${name}:m`, bin),
      env.openDb(`stream:${name}:i`, bin),
      // Subject keys use lmdb-js's default ordered-binary key encoding (strings and numbers).
      env.openDb(`stream:${name}:s`, { encoding: 'binary' }),
      env.openDb(`stream:${name}:m`, { keyEncoder: SEQ_KEYS, encoder: RECORD_COPIES } as Opts),
      env.openDb(`stream:${name}:i`, { keyEncoder: RUN_KEYS, encoder: RUN_OFFSETS } as Opts),
    );
  }

  // ---- the per-subject index (runs, subject-runs.ts) ----------------------------------------

  runHolding(id: number, seq: number): { base: number; seqs: number[] } | undefined {
    const key = idxKey(id, seq);
    // Most removals hit a run's first sequence (a run of one: a subject written once per batch).
    const exact = this.idx.getBinaryFast(key) as Buffer | undefined;
    if (exact !== undefined) {
      const size = (this.idx as unknown as { lastSize: number }).lastSize;
      return { base: seq, seqs: decodeRunOffsets(exact, size).map((o) => seq + o) };
    }
    for (const { key: base, value } of this.runs.getRange({ start: key, end: idxKey(id, 0), reverse: true, limit: 1 })) {
      const seqs = (value as number[]).map((o) => (base as number) + o);
      return seqs.length > 0 && seqs[seqs.length - 1]! >= seq ? { base: base as number, seqs } : undefined;
    }
    return undefined;
  }

  put(key: Buffer, value: Buffer): void {
    void this.idx.put(key, value);
  }

  remove(key: Buffer): void {
    void this.idx.remove(key);
  }

  /**
   * Committed runs of one subject that hold sequences in [start, end), as (base, offsets), in
   * order (descending when reverse). The first may hold sequences outside the range.
   */
  private *subjectRuns(id: number, start: number, end: number, reverse: boolean): Generator<[number, number[]]> {
    if (reverse) {
      // Newest first; the run holding `start` may begin before it, so stop only below it.
      for (const { key, value } of this.runs.getRange({ start: idxKey(id, end - 1), end: idxKey(id, 0), reverse: true })) {
        const base = key as number;
        const offs = value as number[];
        if (offs.length > 0 && base + offs[offs.length - 1]! < start) return;
        yield [base, offs];
      }
      return;
    }
    // The run holding `start` begins at or before it; the others begin inside the range.
    for (const { key, value } of this.runs.getRange({ start: idxKey(id, start), end: idxKey(id, 0), reverse: true, limit: 1 })) {
      if ((key as number) < start) yield [key as number, value as number[]];
    }
    for (const { key, value } of this.runs.getRange({ start: idxKey(id, start), end: idxKey(id, end) })) {
      yield [key as number, value as number[]];
    }
  }

  /** Committed records with start <= seq < end, ascending, each a copy the caller owns. */
  forEachRecord(start: number, end: number, visit: (seq: number, rec: Buffer) => void): void {
    if (end <= start) return;
    for (const { key, value } of this.records.getRange({ start, end })) visit(key as number, value as Buffer);
  }

  seqOf(key: Buffer): number {
    return readSeq(key, 0);
  }

  /** Committed message sequences in [start, end), ascending (or descending when reverse). */
  *msgSeqs(start: number, end: number, reverse: boolean): Generator<number> {
    if (end <= start) return;
    const range = reverse
      ? { start: seqKey(end - 1), end: seqKey(Math.max(0, start - 1)), reverse: true }
      : { start: seqKey(start), end: seqKey(end) };
    for (const key of this.msgs.getKeys(range)) yield readSeq(key as Buffer, 0);
  }

  /** Committed sequences of one subject in [start, end), ascending (or descending when reverse). */
  *subjectSeqs(id: number, start: number, end: number, reverse: boolean): Generator<number> {
    if (end <= start) return;
    for (const [base, offs] of this.subjectRuns(id, start, end, reverse)) {
      if (reverse) {
        for (let i = offs.length - 1; i >= 0; i--) {
          const seq = base + offs[i]!;
          if (seq < start) return;
          if (seq < end) yield seq;
        }
      } else {
        for (const off of offs) {
          const seq = base + off;
          if (seq >= end) return;
          if (seq >= start) yield seq;
        }
      }
    }
  }

  /** Committed messages in [start, end) not in `hidden`. */
  countMsgs(start: number, end: number, hidden: ReadonlySet<number>): number {
    if (hidden.size === 0) return this.msgs.getKeysCount({ start: seqKey(start), end: seqKey(end) });
    let n = 0;
    for (const seq of this.msgSeqs(start, end, false)) if (!hidden.has(seq)) n++;
    return n;
  }

  countSubject(id: number, start: number, end: number, hidden: ReadonlySet<number>): number {
    if (end <= start) return 0;
    let n = 0;
    for (const [base, offs] of this.subjectRuns(id, start, end, false)) {
      const first = base + offs[0]!;
      const last = base + offs[offs.length - 1]!;
      if (hidden.size === 0 && first >= start && last < end) {
        n += offs.length; // the whole run is inside the range
        continue;
      }
      for (const off of offs) {
        const seq = base + off;
        if (seq >= start && seq < end && !hidden.has(seq)) n++;
      }
    }
    return n;
  }

  private firstAndLastKey(): [number, number] | undefined {
    let first: number | undefined;
    for (const k of this.msgs.getKeys({ limit: 1 })) first = readSeq(k as Buffer, 0);
    if (first === undefined) return undefined;
    let last = first;
    for (const k of this.msgs.getKeys({ limit: 1, reverse: true })) last = readSeq(k as Buffer, 0);
    return [first, last];
  }

  /**
   * Cheap checks that the summary matches the messages (O(subjects + log n)); on a mismatch,
   * which the single-transaction design should make impossible, rebuild the summary and index
   * from the message records (O(n)) rather than serve wrong counts.
   */
  async repairIfNeeded(): Promise<void> {
    const metaBuf = this.subj.getBinary(META_KEY) as Buffer | undefined;
    const bounds = this.firstAndLastKey();
    if (metaBuf === undefined) {
      if (bounds !== undefined) await this.rebuild(EMPTY_META);
      return;
    }
    const meta = decodeMeta(metaBuf);
    let total = 0;
    for (const info of loadSubjects(this).values()) total += info.count;
    const ok =
      total === meta.messages &&
      (bounds === undefined
        ? meta.messages === 0
        : meta.messages > 0 && bounds[0] >= meta.firstSeq && bounds[1] <= meta.lastSeq);
    if (!ok) await this.rebuild(meta);
  }

  private async rebuild(old: MetaRecord): Promise<void> {
    const meta: MetaRecord = { ...EMPTY_META, lastSeq: old.lastSeq, lastTimeNs: old.lastTimeNs };
    const subjects = new Map<string, SubjectInfo>();
    this.idx.clearAsync();
    this.subj.clearAsync();
    for (const { key, value } of this.msgs.getRange({})) {
      const seq = readSeq(key as Buffer, 0);
      const rec = value as Buffer;
      const subject = recordSubject(rec);
      let info = subjects.get(subject);
      if (info === undefined) {
        info = { subject, id: meta.nextSubjectId++, count: 0, last: 0 };
        subjects.set(subject, info);
      }
      info.count++;
      info.last = seq;
      this.idx.put(idxKey(info.id, seq), Buffer.from([1]));
      if (meta.messages === 0) {
        meta.firstSeq = seq;
        meta.firstTimeNs = recordTimeNs(rec);
      }
      meta.messages++;
      meta.bytes += recordFileSize(rec);
      if (seq >= meta.lastSeq) {
        meta.lastSeq = seq;
        meta.lastTimeNs = recordTimeNs(rec);
      }
    }
    if (meta.messages === 0) meta.firstSeq = meta.lastSeq + 1;
    for (const info of subjects.values()) this.subj.put(info.subject, encodeSubject(info));
    await this.subj.put(META_KEY, encodeMeta(meta));
  }
}

function loadSubjects(ix: LmdbIndex): Map<string, SubjectInfo> {
  const subjects = new Map<string, SubjectInfo>();
  for (const { key, value } of ix.subj.getRange({})) {
    if (typeof key !== 'string') continue; // the meta record
    const s = decodeSubject(value as Buffer);
    subjects.set(key, { subject: key, id: s.id, count: s.count, last: s.last });
  }
  return subjects;
}

/** The persisted summary: meta counters and every live subject. */
export function loadStreamState(ix: LmdbIndex): { meta: MetaRecord; subjects: Map<string, SubjectInfo> } {
  const metaBuf = ix.subj.getBinary(META_KEY) as Buffer | undefined;
  return {
    meta: metaBuf === undefined ? { ...EMPTY_META } : decodeMeta(metaBuf),
    subjects: loadSubjects(ix),
  };
}
