// StreamOps as a stream's Raft log stores them. Appends (nearly every entry) are laid out by hand,
// like the store's own records (streams/store/codec.ts): msgpack of the op object cost 2.3 µs to
// encode per message (key names, a spread copy, the bigint as a string), the fixed layout a
// fraction of that. The other ops are rare and go as msgpack behind a one-byte tag.
//
//   append := 0x01 | f64 seq | u64 timeNs | u8 rollup (0 none, 1 sub, 2 all) | u8 skip
//             | u16 subject length | subject | u16 msgId length | msgId
//             | u32 header length + 1 (0 = no header block) | header | data (the rest)
//   other  := 0x00 | msgpack(op)
//   consumer := 0x02 | msgpack(ConsumerLogOp)   (a consumer's config, state or removal, ADR 0010)
//   control  := 0x03 | msgpack(ControlLogOp)    (the group's own housekeeping: log trimming)

import { Packr } from 'msgpackr';
import type { RollupKind, StreamOp } from '../stream/ops.ts';
import type { ConsumerRecord } from '../consumer/persistence.ts';
import type { StateSnapshot } from '../consumer/ack-state.ts';
import { readBigU64BE, writeBigU64BE } from '../../protocol/big-u64.ts';

const packr = new Packr({ useRecords: false });
const TAG_OTHER = 0;
const TAG_APPEND = 1;
const TAG_CONSUMER = 2;
const TAG_CONTROL = 3;

/** Entries about the log itself, not the stream: every replica trims its log up to `upTo`. */
export type ControlLogOp = { readonly op: 'trim'; readonly upTo: number };

export function encodeControlOp(op: ControlLogOp): Uint8Array {
  return tagged(TAG_CONTROL, op);
}

/** A control entry, or undefined when `bytes` holds something else. */
export function decodeControlOp(bytes: Uint8Array): ControlLogOp | undefined {
  if (bytes[0] !== TAG_CONTROL) return undefined;
  return packr.unpack(bytes.subarray(1)) as ControlLogOp;
}

/**
 * What a replicated stream's log says about its durable consumers: every replica writes these
 * into its own copy, so whichever replica leads next restores the consumers from it.
 */
export type ConsumerLogOp =
  | { readonly op: 'consumer-put'; readonly record: ConsumerRecord }
  | { readonly op: 'consumer-state'; readonly stream: string; readonly name: string; readonly state: StateSnapshot }
  | { readonly op: 'consumer-del'; readonly stream: string; readonly name: string };

/** `tag` then the msgpack of `value`: the layout of every entry but appends. */
function tagged(tag: number, value: unknown): Uint8Array {
  const body = packr.pack(value);
  const out = Buffer.allocUnsafe(1 + body.length);
  out[0] = tag;
  out.set(body, 1);
  return out;
}

export function encodeConsumerOp(op: ConsumerLogOp): Uint8Array {
  return tagged(TAG_CONSUMER, op);
}

/** A consumer entry, or undefined when `bytes` holds a StreamOp. */
export function decodeConsumerOp(bytes: Uint8Array): ConsumerLogOp | undefined {
  if (bytes[0] !== TAG_CONSUMER) return undefined;
  return packr.unpack(bytes.subarray(1)) as ConsumerLogOp;
}
const ROLLUPS: readonly RollupKind[] = ['', 'sub', 'all'];
const EMPTY = new Uint8Array(0);

export function encodeStreamOp(op: StreamOp): Uint8Array {
  if (op.op !== 'append') return tagged(TAG_OTHER, op);
  const subjectLen = Buffer.byteLength(op.subject, 'utf8');
  const idLen = Buffer.byteLength(op.msgId, 'utf8');
  const hdrLen = op.hdr === null ? 0 : op.hdr.length;
  const size = 1 + 8 + 8 + 1 + 1 + 2 + subjectLen + 2 + idLen + 4 + hdrLen + op.data.length;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  out[at++] = TAG_APPEND;
  out.writeDoubleBE(op.seq, at);
  at += 8;
  writeBigU64BE(out, op.timeNs, at);
  at += 8;
  out[at++] = ROLLUPS.indexOf(op.rollup);
  out[at++] = op.skip ? 1 : 0;
  out.writeUInt16BE(subjectLen, at);
  at += 2;
  at += out.write(op.subject, at, 'utf8');
  out.writeUInt16BE(idLen, at);
  at += 2;
  at += out.write(op.msgId, at, 'utf8');
  out.writeUInt32BE(op.hdr === null ? 0 : hdrLen + 1, at);
  at += 4;
  if (op.hdr !== null) {
    out.set(op.hdr, at);
    at += hdrLen;
  }
  out.set(op.data, at);
  return out;
}

export function decodeStreamOp(bytes: Uint8Array): StreamOp {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b[0] === TAG_OTHER) return packr.unpack(b.subarray(1)) as StreamOp;
  if (b[0] !== TAG_APPEND) throw new Error(`unknown stream op tag ${b[0]}`);
  let at = 1;
  const seq = b.readDoubleBE(at);
  at += 8;
  const timeNs = readBigU64BE(b, at);
  at += 8;
  const rollup = ROLLUPS[b[at++]!] ?? '';
  const skip = b[at++] === 1;
  const subjectLen = b.readUInt16BE(at);
  at += 2;
  const subject = b.toString('utf8', at, at + subjectLen);
  at += subjectLen;
  const idLen = b.readUInt16BE(at);
  at += 2;
  const msgId = idLen === 0 ? '' : b.toString('utf8', at, at + idLen);
  at += idLen;
  const hdrField = b.readUInt32BE(at);
  at += 4;
  let hdr: Uint8Array | null = null;
  if (hdrField > 0) {
    hdr = b.subarray(at, at + hdrField - 1);
    at += hdrField - 1;
  }
  const data = at < b.length ? b.subarray(at) : EMPTY;
  return { op: 'append', seq, timeNs, subject, hdr, data, msgId, rollup, skip };
}
