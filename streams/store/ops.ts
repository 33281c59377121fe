// Every change to a stream's messages is one of these operations, applied by `applyStoreOp`. This
// is the seam replication needs (issue 4, item 5): a leader turns a publish, a delete, a purge or
// a limit enforcement into an op, Raft commits it, and every replica applies the same op to its
// own store and reaches the same state. Ops carry every non-deterministic input (the sequence and
// timestamp of an append) so applying them is deterministic; they are plain data (numbers,
// strings, bytes, bigint) so msgpackr can frame them.

import { unreachable } from '../../runtime/assert.ts';
import type { StreamStore, TimeNs } from './types.ts';

export type StoreOp =
  | {
      readonly op: 'append';
      readonly seq: number;
      readonly subject: string;
      readonly hdr: Uint8Array | null;
      readonly data: Uint8Array;
      readonly timeNs: TimeNs;
    }
  | { readonly op: 'delete'; readonly seq: number; readonly erase: boolean }
  | {
      readonly op: 'purge';
      readonly subject?: string;
      readonly upToSeq?: number;
      readonly keep?: number;
    };

/**
 * Applies one op. Returns, per kind: append -> the sequence, delete -> 1 if removed else 0,
 * purge -> how many were removed.
 */
export function applyStoreOp(store: StreamStore, op: StoreOp): number {
  switch (op.op) {
    case 'append':
      store.applyAppend(op.seq, op.subject, op.hdr, op.data, op.timeNs);
      return op.seq;
    case 'delete':
      return store.delete(op.seq, { erase: op.erase }) ? 1 : 0;
    case 'purge': {
      const opts: { subject?: string; upToSeq?: number; keep?: number } = {};
      if (op.subject !== undefined) opts.subject = op.subject;
      if (op.upToSeq !== undefined) opts.upToSeq = op.upToSeq;
      if (op.keep !== undefined) opts.keep = op.keep;
      return store.purge(opts);
    }
    default:
      return unreachable(op, 'unknown store op');
  }
}
