// StreamOps on the wire of a stream's Raft log: msgpack, with the append's nanosecond timestamp
// as a decimal string (a bigint would come back as a number or a bigint depending on its size;
// a string comes back exactly). Everything else in an op is plain data (ADR 0004).

import { Packr } from 'msgpackr';
import type { StreamOp } from '../stream/ops.ts';

const packr = new Packr({ useRecords: false });

export function encodeStreamOp(op: StreamOp): Uint8Array {
  return packr.pack(op.op === 'append' ? { ...op, timeNs: op.timeNs.toString() } : op);
}

export function decodeStreamOp(data: Uint8Array): StreamOp {
  const v = packr.unpack(data) as Record<string, unknown>;
  if (v.op === 'append') {
    return {
      op: 'append',
      seq: v.seq as number,
      timeNs: BigInt(v.timeNs as string),
      subject: v.subject as string,
      hdr: (v.hdr as Uint8Array | null) ?? null,
      data: (v.data as Uint8Array | undefined) ?? new Uint8Array(0),
      msgId: (v.msgId as string) ?? '',
      rollup: (v.rollup as '' | 'sub' | 'all') ?? '',
      skip: v.skip === true,
    };
  }
  return v as unknown as StreamOp;
}
