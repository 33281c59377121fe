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
  seqKey,
  writeSeq,
  type MetaRecord,
} from './codec.ts';
import type { LmdbDb, LmdbEnvironment } from './lmdb-env.ts';
import { copyOut } from './record-cache.ts';

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

export class LmdbIndex {
  private constructor(
    readonly msgs: LmdbDb,
    readonly idx: LmdbDb,
    readonly subj: LmdbDb,
    /** The same database as `msgs`, for reading runs of records (RECORD_COPIES). */
    private readonly records: LmdbDb,
  ) {}

  static open(env: LmdbEnvironment, name: string): LmdbIndex {
    const bin = { encoding: 'binary', keyEncoding: 'binary' } as const;
    return new LmdbIndex(
      env.openDb(`stream:${name}:m`, bin),
      env.openDb(`stream:${name}:i`, bin),
      // Subject keys use lmdb-js's default ordered-binary key encoding (strings and numbers).
      env.openDb(`stream:${name}:s`, { encoding: 'binary' }),
      env.openDb(`stream:${name}:m`, { keyEncoder: SEQ_KEYS, encoder: RECORD_COPIES } as Parameters<LmdbEnvironment['openDb']>[1]),
    );
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

  /** Committed sequences of one subject in [start, end). */
  *subjectSeqs(id: number, start: number, end: number, reverse: boolean): Generator<number> {
    if (end <= start) return;
    const range = reverse
      ? { start: idxKey(id, end - 1), end: idxKey(id, Math.max(0, start - 1)), reverse: true }
      : { start: idxKey(id, start), end: idxKey(id, end) };
    for (const key of this.idx.getKeys(range)) yield readSeq(key as Buffer, 4);
  }

  /** Committed messages in [start, end) not in `hidden`. */
  countMsgs(start: number, end: number, hidden: ReadonlySet<number>): number {
    if (hidden.size === 0) return this.msgs.getKeysCount({ start: seqKey(start), end: seqKey(end) });
    let n = 0;
    for (const seq of this.msgSeqs(start, end, false)) if (!hidden.has(seq)) n++;
    return n;
  }

  countSubject(id: number, start: number, end: number, hidden: ReadonlySet<number>): number {
    if (hidden.size === 0) {
      return this.idx.getKeysCount({ start: idxKey(id, start), end: idxKey(id, end) });
    }
    let n = 0;
    for (const seq of this.subjectSeqs(id, start, end, false)) if (!hidden.has(seq)) n++;
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
        meta.firstTimeNs = rec.readBigUInt64BE(1);
      }
      meta.messages++;
      meta.bytes += recordFileSize(rec);
      if (seq >= meta.lastSeq) {
        meta.lastSeq = seq;
        meta.lastTimeNs = rec.readBigUInt64BE(1);
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
