// Byte accounting and the LMDB binary layouts. Hand-laid rather than msgpackr: a message record is
// a fixed 15-byte prefix and three byte runs, which measured ~1.7x faster to write than a packed
// object (docs/DESIGN.md, measured facts), and the layout is versioned by its first byte.

import type { StoredMsg, TimeNs } from './types.ts';
import { readBigU64BE, writeBigU64BE } from '../../protocol/big-u64.ts';

/**
 * nats-server memStoreMsgSize: subject + header + payload + 16 (seq and timestamp). Used by the
 * memory store so `bytes` and max_bytes behave exactly like a nats-server memory stream.
 */
export function memStoreMsgSize(subjectBytes: number, hdrBytes: number, dataBytes: number): number {
  return subjectBytes + hdrBytes + dataBytes + 16;
}

/**
 * nats-server fileStoreMsgSize: the size of its on-disk record, i.e. 4 (record length) + 8 (seq)
 * + 8 (timestamp) + 2 (subject length) + subject + [4 (header length) + header] + payload + 8
 * (hash). Used by the LMDB store so file streams report the same `bytes` as nats-server's.
 */
export function fileStoreMsgSize(subjectBytes: number, hdrBytes: number, dataBytes: number): number {
  if (hdrBytes === 0) return 22 + subjectBytes + dataBytes + 8;
  return 22 + subjectBytes + 4 + hdrBytes + dataBytes + 8;
}

/** Subject byte length; ASCII subjects (the norm) skip the UTF-8 measurement. */
export function subjectByteLength(subject: string): number {
  const n = subject.length;
  for (let i = 0; i < n; i++) {
    if (subject.charCodeAt(i) > 0x7f) return Buffer.byteLength(subject, 'utf8');
  }
  return n;
}

// ---- sequence keys -------------------------------------------------------------------------

const TWO_32 = 0x1_0000_0000;

/** Writes seq as 8 bytes big-endian (so LMDB's byte order is sequence order). */
export function writeSeq(buf: Buffer, off: number, seq: number): void {
  buf.writeUInt32BE(Math.floor(seq / TWO_32), off);
  buf.writeUInt32BE(seq >>> 0, off + 4);
}

export function readSeq(buf: Uint8Array, off: number): number {
  const hi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
  const lo =
    ((buf[off + 4]! << 24) | (buf[off + 5]! << 16) | (buf[off + 6]! << 8) | buf[off + 7]!) >>> 0;
  return hi * TWO_32 + lo;
}

/** A fresh 8-byte key (for range bounds, which lmdb-js may read lazily). */
export function seqKey(seq: number): Buffer {
  const k = Buffer.allocUnsafe(8);
  writeSeq(k, 0, seq);
  return k;
}

/** Per-subject index key: u32 subject id + u64 seq (12 bytes, ordered by subject then seq). */
export function writeIdxKey(buf: Buffer, subjectId: number, seq: number): void {
  buf.writeUInt32BE(subjectId >>> 0, 0);
  writeSeq(buf, 4, seq);
}

export function idxKey(subjectId: number, seq: number): Buffer {
  const k = Buffer.allocUnsafe(12);
  writeIdxKey(k, subjectId, seq);
  return k;
}

// ---- message record ------------------------------------------------------------------------
// [0] u8 version=1 | [1..9) u64 timeNs | [9..11) u16 subject bytes | [11..15) u32 header bytes
// (0 = no header) | subject | header | payload. The sequence is the key, not in the value.

const RECORD_V1 = 1;
/** StreamStore.recordFormat of the stores keeping these records. */
export const RECORD_FORMAT = 'lmdb-record-v1';
export const RECORD_PREFIX_BYTES = 15;
/** u16 subject length in the record; LMDB's key limit (subjects db) is lower anyway. */
export const MAX_SUBJECT_BYTES = 1900;

/** Subjects up to this many characters are copied in a loop rather than by Buffer#write. */
const INLINE_SUBJECT_CHARS = 64;

export function encodeRecord(
  subject: string,
  subjectBytes: number,
  hdr: Uint8Array | null,
  data: Uint8Array,
  timeNs: TimeNs,
): Buffer {
  const hlen = hdr === null ? 0 : hdr.length;
  // A fresh buffer per record: lmdb-js keeps a pointer to the value until the write thread has
  // copied it, so the bytes must never be reused.
  const rec = Buffer.allocUnsafe(RECORD_PREFIX_BYTES + subjectBytes + hlen + data.length);
  // Byte stores instead of Buffer's write methods, and a short ASCII subject copied character by
  // character instead of through Buffer#write (a native call): ~200 of ~450 ns per record, and
  // every stored message is encoded here (benchmarks/README.md, Dec 7 14:00).
  rec[0] = RECORD_V1;
  writeBigU64BE(rec, timeNs, 1);
  rec[9] = subjectBytes >>> 8;
  rec[10] = subjectBytes & 0xff;
  rec[11] = hlen >>> 24;
  rec[12] = (hlen >>> 16) & 0xff;
  rec[13] = (hlen >>> 8) & 0xff;
  rec[14] = hlen & 0xff;
  let off = RECORD_PREFIX_BYTES;
  if (subjectBytes === subject.length && subjectBytes <= INLINE_SUBJECT_CHARS) {
    for (let i = 0; i < subjectBytes; i++) rec[off + i] = subject.charCodeAt(i);
  } else {
    rec.write(subject, off, subjectBytes, subjectBytes === subject.length ? 'latin1' : 'utf8');
  }
  off += subjectBytes;
  if (hlen > 0) {
    rec.set(hdr!, off);
    off += hlen;
  }
  rec.set(data, off);
  return rec;
}

/** A record's timestamp (ns since the epoch). */
export function recordTimeNs(rec: Buffer): TimeNs {
  return readBigU64BE(rec, 1);
}

/**
 * Decodes a record into a message whose hdr/data are views of `rec` (which the caller owns and
 * hands over: it becomes the message's `record`, so nobody may write to it afterwards).
 */
export function decodeRecord(seq: number, rec: Buffer): StoredMsg {
  if (rec[0] !== RECORD_V1) throw new Error(`unknown message record version ${rec[0]} at ${seq}`);
  const timeNs = recordTimeNs(rec);
  const slen = rec.readUInt16BE(9);
  const hlen = rec.readUInt32BE(11);
  const s0 = RECORD_PREFIX_BYTES;
  const subject = subjectAt(rec, s0, slen);
  const h0 = s0 + slen;
  const hdr = hlen === 0 ? null : rec.subarray(h0, h0 + hlen);
  const data = rec.subarray(h0 + hlen);
  return { seq, subject, timeNs, hdr, data, record: rec };
}

/** Only the subject of a record (scans that filter by subject skip the rest). */
export function recordSubject(rec: Buffer): string {
  return subjectAt(rec, RECORD_PREFIX_BYTES, rec.readUInt16BE(9));
}

// The last subject decoded from a record, and its bytes. Records read one after another mostly
// share their subject (a stream has few, or a reader follows one), and handing out the same
// string saves a UTF-8 decode and a string per message read (~4 % of a mirror's copy), and makes
// the Map lookups by subject that follow cheaper (the string's hash is already computed).
const lastSubjectBytes = Buffer.allocUnsafe(MAX_SUBJECT_BYTES);
let lastSubjectLen = -1;
let lastSubject = '';

function subjectAt(rec: Buffer, off: number, len: number): string {
  if (len === lastSubjectLen) {
    let i = 0;
    while (i < len && rec[off + i] === lastSubjectBytes[i]) i++;
    if (i === len) return lastSubject;
  }
  lastSubject = rec.toString('utf8', off, off + len);
  rec.copy(lastSubjectBytes, 0, off, off + len);
  lastSubjectLen = len;
  return lastSubject;
}

/** Size accounting of a stored record without decoding it. */
export function recordFileSize(rec: Buffer): number {
  const slen = rec.readUInt16BE(9);
  const hlen = rec.readUInt32BE(11);
  return fileStoreMsgSize(slen, hlen, rec.length - RECORD_PREFIX_BYTES - slen - hlen);
}

// ---- stream metadata -----------------------------------------------------------------------
// Persisted in the same transaction as the changes it summarises, so opening a stream reads one
// record (plus one per live subject) instead of scanning the messages.

export interface MetaRecord {
  firstSeq: number;
  lastSeq: number;
  messages: number;
  bytes: number;
  firstTimeNs: TimeNs;
  lastTimeNs: TimeNs;
  nextSubjectId: number;
}

const META_V1 = 1;
const META_BYTES = 64;

export function encodeMeta(m: MetaRecord): Buffer {
  const b = Buffer.alloc(META_BYTES);
  b[0] = META_V1;
  b.writeDoubleBE(m.firstSeq, 8);
  b.writeDoubleBE(m.lastSeq, 16);
  b.writeDoubleBE(m.messages, 24);
  b.writeDoubleBE(m.bytes, 32);
  writeBigU64BE(b, m.firstTimeNs, 40);
  writeBigU64BE(b, m.lastTimeNs, 48);
  b.writeDoubleBE(m.nextSubjectId, 56);
  return b;
}

export function decodeMeta(b: Buffer): MetaRecord {
  if (b[0] !== META_V1 || b.length < META_BYTES) throw new Error('unknown stream meta record');
  return {
    firstSeq: b.readDoubleBE(8),
    lastSeq: b.readDoubleBE(16),
    messages: b.readDoubleBE(24),
    bytes: b.readDoubleBE(32),
    firstTimeNs: readBigU64BE(b, 40),
    lastTimeNs: readBigU64BE(b, 48),
    nextSubjectId: b.readDoubleBE(56),
  };
}

// ---- per-subject summary: id, count, last seq ------------------------------------------------

export interface SubjectRecord {
  id: number;
  count: number;
  last: number;
}

export function encodeSubject(s: SubjectRecord): Buffer {
  const b = Buffer.allocUnsafe(24);
  b.writeDoubleBE(s.id, 0);
  b.writeDoubleBE(s.count, 8);
  b.writeDoubleBE(s.last, 16);
  return b;
}

export function decodeSubject(b: Buffer): SubjectRecord {
  return { id: b.readDoubleBE(0), count: b.readDoubleBE(8), last: b.readDoubleBE(16) };
}
