// The stream state machine: every change to a stream is a StreamOp, and applyOp is the only code
// that changes a stream's messages, its dedupe window, its last msg id and its config. It writes
// the store through the store's own methods (applyAppend / delete / purge): StreamOp is the one
// op vocabulary from the leader's decision down to storage.
//
// The leader path is decide -> op -> apply (stream.ts): validation, dedupe, expectations and
// sequence/timestamp assignment happen in decide, on the leader only; apply is deterministic —
// given the same starting state and the same ops, every replica ends in the same state — so a
// Raft layer can later sit between decide and apply (leader proposes the op, every replica
// applies it once committed). See docs/adr/0004-stream-ops.md.
//
// Ops are plain data (strings, numbers, bigint, bytes) so a replication layer can frame them with
// msgpackr as they are.

import { unreachable } from '../../runtime/assert.ts';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import type { PurgeOptions, StreamStore, TimeNs } from '../store/types.ts';
import type { DedupeWindow } from './dedupe.ts';
import { enforceLimits } from './limits.ts';

export type RollupKind = '' | 'sub' | 'all';

export type StreamOp =
  /**
   * Store a message at `seq` (chosen by the leader: always lastSeq + 1 when decided) with the
   * leader's timestamp. Then: record `msgId` in the dedupe window, apply a rollup, and evict what
   * the limits no longer allow. `skip` (interest retention without interest) consumes the
   * sequence without keeping the message, like nats-server's SkipMsg.
   */
  | {
      readonly op: 'append';
      readonly seq: number;
      readonly timeNs: TimeNs;
      readonly subject: string;
      readonly hdr: Uint8Array | null;
      readonly data: Uint8Array;
      readonly msgId: string;
      readonly rollup: RollupKind;
      readonly skip: boolean;
      /**
       * The message as the store encodes it, when a mirror copies it from a store of the same
       * kind (StreamStore.applyAppend's `record`). Local only: set by Stream.applyMirrored, never
       * decided by a leader, so never in a replicated log.
       */
      readonly record?: Uint8Array;
    }
  /** MSG.DELETE, or a consumer ack removing a message (workqueue / interest retention). */
  | { readonly op: 'delete'; readonly seq: number; readonly erase: boolean }
  /** STREAM.PURGE with nats-server PurgeEx semantics: the op is the store's PurgeOptions. */
  | ({ readonly op: 'purge' } & Readonly<PurgeOptions>)
  /**
   * Age expiry decided by the leader's clock: remove every message with seq < upToSeq. Carrying
   * the boundary (not "now") keeps replicas identical whatever their clocks say.
   */
  | { readonly op: 'expire'; readonly upToSeq: number }
  /** A new config (UPDATE): limits that got tighter evict at once. */
  | { readonly op: 'config'; readonly config: StreamConfig };

/** The replicated state of one stream: what applyOp reads and writes. */
export interface StreamMachine {
  readonly store: StreamStore;
  readonly dedupe: DedupeWindow;
  config: StreamConfig;
  /** Nats-Msg-Id of the newest stored message ('' when it had none), for Nats-Expected-Last-Msg-Id. */
  lastMsgId: string;
}

export interface ApplyResult {
  /** append: the sequence used. */
  seq: number;
  /** Messages removed by this op (deletes, purges, expiry, rollups, limit evictions). */
  removed: number;
}

/** Applies one op to the stream. Deterministic: reads only the machine and the op. */
export function applyOp(m: StreamMachine, op: StreamOp): ApplyResult {
  switch (op.op) {
    case 'append': {
      const store = m.store;
      store.applyAppend(op.seq, op.subject, op.hdr, op.data, op.timeNs, op.record);
      m.lastMsgId = op.msgId;
      if (op.msgId !== '') m.dedupe.record(op.msgId, op.seq, op.timeNs);
      let removed = 0;
      if (op.skip) {
        store.delete(op.seq);
        return { seq: op.seq, removed: 0 };
      }
      if (op.rollup === 'sub') removed += store.purge({ subject: op.subject, keep: 1 });
      else if (op.rollup === 'all') removed += store.purge({ keep: 1 });
      removed += enforceLimits(store, m.config, op.subject);
      return { seq: op.seq, removed };
    }
    case 'delete':
      return { seq: op.seq, removed: m.store.delete(op.seq, { erase: op.erase }) ? 1 : 0 };
    case 'purge':
      return { seq: 0, removed: m.store.purge(op) };
    case 'expire':
      return { seq: 0, removed: op.upToSeq > 1 ? m.store.purge({ upToSeq: op.upToSeq }) : 0 };
    case 'config': {
      m.config = op.config;
      m.dedupe.setWindow(op.config.duplicate_window ?? 0);
      return { seq: 0, removed: enforceLimits(m.store, op.config) };
    }
    default:
      return unreachable(op, 'unknown stream op');
  }
}
