// The log storage a raft node reads from, and an in-memory implementation.
//
// Division of labour (as in etcd-io/raft): the node only *reads* storage (StorageReader); the
// driver/application *writes* it while processing a Ready (Storage.save), and decides when to
// take snapshots and compact (Storage.createSnapshot / compact). Entries still in the node's
// unstable buffer are never read from storage, so an asynchronous `save` is fine as long as
// `advance()` is called only after it completed.
//
// Log shape: a storage holds a "dummy" position firstIndex()-1 whose term is still known (the
// last compacted entry, or the snapshot's last entry), followed by entries
// [firstIndex(), lastIndex()]. An empty log has firstIndex() = 1, lastIndex() = 0.

import { assert } from '../runtime/assert.ts';
import {
  ConfChangeKind,
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  EntryKind,
  encodeConfChange,
  entrySize,
  type ConfState,
  type Entry,
  type HardState,
  type NodeId,
  type Snapshot,
} from './types.ts';

/** The requested index is before firstIndex()-1: it was compacted into a snapshot. */
export class CompactedError extends Error {
  override name = 'CompactedError';
  constructor(readonly index: number) {
    super(`raft storage: index ${index} is compacted`);
  }
}

/** The requested index is after lastIndex(). */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(readonly index: number) {
    super(`raft storage: index ${index} is unavailable`);
  }
}

export interface InitialState {
  readonly hardState: HardState;
  /** Membership as of the storage's snapshot (log entries after it may change it). */
  readonly confState: ConfState;
}

/** What a raft node needs from its persisted log. All reads are synchronous. */
export interface StorageReader {
  initialState(): InitialState;
  /**
   * Entries [lo, hi), stopping early once `maxBytes` (by entrySize) would be exceeded but
   * always returning at least one entry when lo < hi. Throws CompactedError if
   * lo < firstIndex(), UnavailableError if hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at `index`, valid for [firstIndex()-1, lastIndex()]; throws otherwise. */
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The most recent snapshot (index 0 when none was ever taken or received). */
  snapshot(): Snapshot;
}

/** One Ready's worth of durable state. */
export interface PersistUpdate {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

/** A writable log. `void | Promise` lets disk-backed implementations commit asynchronously. */
export interface Storage extends StorageReader {
  /**
   * Makes `update` durable: the snapshot first (it replaces the whole log), then the entries (an
   * entry at index i discards every stored entry at index >= i), then the hard state. Must be
   * atomic or in that order; when it returns (or its promise resolves) the data survives a
   * crash. Entries before firstIndex() are ignored.
   */
  save(update: PersistUpdate): void | Promise<void>;
  /**
   * Records a snapshot of the application state at `index` (which must be applied, so
   * <= lastIndex()). `confState` is the membership as of `index` (RaftNode.confStateAt).
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void | Promise<void>;
  /**
   * Discards entries before `index`; `index` becomes the dummy position (its term stays
   * readable). Requires index <= snapshot().metadata.index, so that a follower needing a
   * discarded entry can always be sent the snapshot instead.
   */
  compact(index: number): void | Promise<void>;
}

const EMPTY_CONF: ConfState = Object.freeze({ voters: Object.freeze([]) as readonly NodeId[] });

export const EMPTY_SNAPSHOT: Snapshot = Object.freeze({
  metadata: Object.freeze({ index: 0, term: 0, confState: EMPTY_CONF }),
  data: EMPTY_BYTES,
});

function dummyEntry(index: number, term: number): Entry {
  return { index, term, kind: EntryKind.Normal, data: EMPTY_BYTES };
}

/** Collects source[from..to) (array positions), stopping before `maxBytes` is exceeded but keeping at least one. */
export function limitEntries(source: readonly Entry[], from: number, to: number, maxBytes: number): Entry[] {
  const out: Entry[] = [];
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const e = source[i];
    bytes += entrySize(e);
    if (out.length > 0 && bytes > maxBytes) break;
    out.push(e);
  }
  return out;
}

/**
 * Storage in process memory. Used by tests and the simulator: there, "persisted" means "saved
 * into this object", and a simulated crash keeps the MemoryStorage while discarding the node.
 */
export class MemoryStorage implements Storage {
  private hard: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = EMPTY_SNAPSHOT;
  /** ents[0] is the dummy position; ents[i].index === ents[0].index + i. */
  private ents: Entry[] = [dummyEntry(0, 0)];

  initialState(): InitialState {
    return { hardState: this.hard, confState: this.snap.metadata.confState };
  }

  hardState(): HardState {
    return this.hard;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  term(index: number): number {
    const base = this.ents[0].index;
    if (index < base) throw new CompactedError(index);
    if (index - base >= this.ents.length) throw new UnavailableError(index);
    return this.ents[index - base].term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const base = this.ents[0].index;
    if (lo <= base) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    return limitEntries(this.ents, lo - base, hi - base, maxBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  save(update: PersistUpdate): void {
    if (update.snapshot !== null) this.applySnapshot(update.snapshot);
    if (update.entries.length > 0) this.append(update.entries);
    if (update.hardState !== null) this.hard = update.hardState;
  }

  /** Replaces the whole log with `snap` (an older snapshot than the current one is a bug). */
  applySnapshot(snap: Snapshot): void {
    assert(snap.metadata.index > this.snap.metadata.index || this.snap.metadata.index === 0, `snapshot ${snap.metadata.index} is older than ${this.snap.metadata.index}`);
    this.snap = snap;
    this.ents = [dummyEntry(snap.metadata.index, snap.metadata.term)];
  }

  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const base = this.ents[0].index;
    const lastNew = entries[entries.length - 1].index;
    if (lastNew <= base) return; // entirely compacted
    let from = 0;
    if (entries[0].index <= base) from = base + 1 - entries[0].index;
    const offset = entries[from].index - base;
    assert(offset <= this.ents.length, `append leaves a gap: entry ${entries[from].index} after last ${this.lastIndex()}`);
    this.ents.length = offset; // truncate the conflicting suffix (and anything after it)
    for (let i = from; i < entries.length; i++) this.ents.push(entries[i]);
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): void {
    assert(index > this.snap.metadata.index, `snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
    assert(index <= this.lastIndex(), `snapshot at ${index} beyond last index ${this.lastIndex()}`);
    this.snap = {
      metadata: { index, term: this.term(index), confState: { voters: [...confState.voters] } },
      data,
    };
  }

  compact(index: number): void {
    const base = this.ents[0].index;
    if (index <= base) return;
    assert(index <= this.snap.metadata.index, `compact(${index}) beyond snapshot ${this.snap.metadata.index}`);
    assert(index <= this.lastIndex(), `compact(${index}) beyond last index ${this.lastIndex()}`);
    const head = this.ents[index - base];
    const rest = this.ents.slice(index - base + 1);
    rest.unshift(dummyEntry(head.index, head.term));
    this.ents = rest;
  }
}

/**
 * The entries and hard state every initial member writes when a group is created: one
 * AddNode conf change per voter at term 1, already committed. All initial members write the
 * same bytes, so their logs match; a server added later starts empty and learns the initial
 * membership by replicating (or by snapshot), exactly like any other entry.
 */
export function bootstrapUpdate(voters: readonly NodeId[]): PersistUpdate {
  const sorted = [...new Set(voters)].sort((a, b) => a - b);
  assert(sorted.length > 0 && sorted.every((id) => Number.isSafeInteger(id) && id > 0), 'bootstrap needs positive node ids');
  const entries: Entry[] = sorted.map((nodeId, i) => ({
    term: 1,
    index: i + 1,
    kind: EntryKind.ConfChange,
    data: encodeConfChange({ kind: ConfChangeKind.AddNode, nodeId }),
  }));
  return { hardState: { term: 1, vote: 0, commit: entries.length }, entries, snapshot: null };
}

/** Writes the bootstrap state into an empty storage (see bootstrapUpdate). */
export function bootstrap(storage: Storage, voters: readonly NodeId[]): void | Promise<void> {
  const { hardState } = storage.initialState();
  assert(storage.lastIndex() === 0 && hardState.term === 0 && storage.snapshot().metadata.index === 0, 'bootstrap: storage is not empty');
  return storage.save(bootstrapUpdate(voters));
}
