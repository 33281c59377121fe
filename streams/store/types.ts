// The stream store contract: what streams/stream/ (decide, apply, limits, retention), consumers and
// the $JS.API handlers need from storage, and nothing more. Two implementations: memory-store.ts
// and lmdb-store.ts, sharing their queries and purges through base-store.ts; both pass the same
// conformance suite (conformance.ts).
//
// Contracts every implementation keeps:
// - The store never picks a sequence: the leader decides lastSeq + 1 (streams/stream/stream.ts)
//   and `applyAppend` stores at it. Sequences start at 1, strictly increase and are never reused:
//   after a purge of everything, firstSeq = lastSeq + 1 and the next append is at lastSeq + 1.
// - Reads are synchronous and see every change made so far (read-your-writes), even when the
//   change is not yet durable.
// - Only `applyOp` (streams/stream/ops.ts) writes a store: every StreamOp becomes calls of
//   `applyAppend`, `delete` and `purge`, which are deterministic: given the same starting state
//   and the same calls, two replicas end in the same state. The leader picks the sequence and
//   timestamp of an append, so replicas store exactly what it stored.
// - Durability is separate from visibility: `durable()` resolves when every change made so far
//   counts as done under the environment's sync mode (docs/adr/0008-sync-modes.md: committed by
//   default, fdatasync'ed in 'durable' mode). Memory: at once.

/**
 * Timestamps are epoch nanoseconds as `bigint`: JetStream times are RFC 3339 with nanoseconds, and
 * epoch-ns (~1.7e18) does not fit a double exactly (2^53 ~ 9e15). `Clock.epochNs()` returns bigint.
 */
export type TimeNs = bigint;

/**
 * A stored message. `hdr` and `data` stay valid after later store calls (they are never reused),
 * but must not be mutated: they may be the store's own copy (memory) or a record lmdb-js has not
 * finished writing (LMDB, before commit).
 */
export interface StoredMsg {
  readonly seq: number;
  readonly subject: string;
  readonly timeNs: TimeNs;
  /** The raw `NATS/1.0` header block exactly as published, or null when there was none. */
  readonly hdr: Uint8Array | null;
  readonly data: Uint8Array;
  /**
   * The whole message as the store encodes it (LMDB: the codec.ts record it read), when it has
   * one: a store of the same `recordFormat` can store it as is (a mirror's copy) instead of
   * encoding hdr and data again. Never mutated, like hdr and data.
   */
  readonly record?: Uint8Array;
}

export interface StoreState {
  messages: number;
  /** Sum of the per-message size, accounted like nats-server (see msg-size in codec.ts). */
  bytes: number;
  /** 0 for a never-used stream; lastSeq + 1 when empty after purges or deletes. */
  firstSeq: number;
  /** 0n when the stream is empty. */
  firstTimeNs: TimeNs;
  lastSeq: number;
  /** Time of the last message ever stored (kept across purges, like nats-server); 0n if none. */
  lastTimeNs: TimeNs;
  numSubjects: number;
  /** Interior gaps: (lastSeq - firstSeq + 1) - messages, or 0 when empty. */
  numDeleted: number;
  /** Ascending interior deleted sequences; only when asked for (it costs a scan). */
  deleted?: number[];
}

export interface PurgeOptions {
  /** Only messages whose subject matches this filter (wildcards allowed). Empty or '>' = all. */
  subject?: string;
  /** Only messages with seq < upToSeq (exclusive, the `seq` of a JetStream purge request). */
  upToSeq?: number;
  /** Keep the newest `keep` matching messages. */
  keep?: number;
}

export interface DeleteOptions {
  /**
   * Overwrite the payload before removing it (MSG.DELETE without no_erase). Memory: the buffers
   * are zeroed. LMDB: best effort only; the record's old page is copy-on-write freed and its bytes
   * stay on disk until LMDB reuses the page.
   */
  erase?: boolean;
}

export const StorageKind = { File: 'file', Memory: 'memory' } as const;
export type StorageKind = (typeof StorageKind)[keyof typeof StorageKind];

export interface StreamStore {
  readonly storage: StorageKind;
  readonly name: string;
  /** The encoding of StoredMsg.record (two stores with the same one can share records); null when none. */
  readonly recordFormat: string | null;

  /**
   * Stores a message at `seq` with `timeNs`, both chosen by the leader (normally lastSeq + 1 and
   * its clock). `seq` must be > lastSeq; a jump leaves the skipped sequences as deleted (or moves
   * firstSeq when the store is empty). The buffers are copied: callers may pass views into a
   * reused read buffer. The change is durable when `durable()`, called after it, resolves.
   * `record`, when given, is the `record` of a StoredMsg holding exactly this subject, header,
   * data and time, read from a store with this store's `recordFormat`: the store may keep it
   * instead of encoding the message itself.
   */
  applyAppend(
    seq: number,
    subject: string,
    hdr: Uint8Array | null,
    data: Uint8Array,
    timeNs: TimeNs,
    record?: Uint8Array,
  ): void;

  /**
   * Appends from now on until turned off are a bulk load (a mirror's catch-up, hundreds of
   * thousands of old messages): LMDB keeps them out of its read cache, which they would flush of
   * every stream's recent messages, and saves copying each one there (~0.2 µs).
   */
  bulkAppends(on: boolean): void;

  get(seq: number): StoredMsg | undefined;
  /** Last message whose subject matches `filter` (literal or wildcard; empty or '>' = any). */
  lastBySubject(filter: string): StoredMsg | undefined;
  /** First message with seq >= fromSeq matching `filter` (empty/undefined/'>' = any). */
  nextMatching(fromSeq: number, filter?: string): StoredMsg | undefined;
  /** Messages with seq >= fromSeq matching `filter`, ascending. Sees changes made while iterating. */
  iterate(fromSeq: number, filter?: string): IterableIterator<StoredMsg>;
  /**
   * Every live message with from <= seq <= to, ascending, handed to `visit`: for a long run (a
   * mirror's catch-up) cheaper than get() per sequence. `visit` must not change this store.
   */
  visitRange(from: number, to: number, visit: (m: StoredMsg) => void): void;

  /** Removes one message; false when it does not exist. */
  delete(seq: number, opts?: DeleteOptions): boolean;
  /** Removes messages per nats-server PurgeEx semantics; returns how many were removed. */
  purge(opts?: PurgeOptions): number;

  state(opts?: { deleted?: boolean }): StoreState;
  /** Message count per subject for subjects matching `filter` (empty/undefined/'>' = all). */
  subjectsState(filter?: string): Record<string, number>;
  /** Number of messages with seq >= fromSeq matching `filter`. O(1)/O(log n) for literal filters. */
  numPendingFrom(fromSeq: number, filter?: string): number;
  /** The size this store accounts for a message (for max_bytes checks before appending). */
  msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number;

  /** Resolves when every change made so far is durable. Cheap: one shared promise per batch. */
  durable(): Promise<void>;
  /**
   * The store as it is now, readable later while the store goes on changing: a replica that
   * lost its data copies the stream from it. Call it when every change is durable (after
   * `durable()` resolved, with nothing written since): LMDB opens a read transaction, which sees
   * what is committed; memory keeps the current message objects. Release it when done.
   */
  freeze(): FrozenStore;
  /** Waits until durable, then releases the store. The LMDB environment stays open (it is shared). */
  close(): Promise<void>;
  /** Deletes all data of this stream, including its metadata, and closes the store. */
  drop(): Promise<void>;
}

/** A store frozen at one moment (StreamStore.freeze). */
export interface FrozenStore {
  /** The state when frozen. */
  readonly state: StoreState;
  /** Sequences of the live messages in [from, to], ascending, at most `limit` of them. */
  seqs(from: number, to: number, limit: number): number[];
  /** Live messages with seq >= from, ascending, stopping once `maxBytes` are reached (at least one). */
  messages(from: number, maxBytes: number): StoredMsg[];
  /** Ends the read (LMDB: lets it reuse the pages the frozen view kept alive). */
  release(): void;
}

/** Thrown for misuse a caller can cause (e.g. applyAppend with an old sequence, a closed store). */
export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export const StoreErrorCode = {
  Closed: 'closed',
  BadSequence: 'bad_sequence',
  SubjectTooLong: 'subject_too_long',
  WriteFailed: 'write_failed',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];
