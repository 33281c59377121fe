// A raft log on LMDB, implementing raft/'s Storage interface.
//
// One LMDB environment per server (docs/DESIGN.md): this takes the already-open root database
// and a name prefix, and opens two named sub-databases in it:
//   <prefix>:log    entries, keyed by the index as 8 bytes big-endian (so LMDB's byte order is
//                   log order); value = [term u64 BE][kind u8][data]
//   <prefix>:state  msgpack records: 'hard' (term, vote, commit), 'start' (the dummy position
//                   firstIndex-1 and its term), 'snapshot' (metadata and data)
//
// Durability (Raft Figure 2 / the Ready contract): `save()` issues the snapshot, the entries
// (with the truncation of any conflicting suffix) and the hard state as async writes in one
// event-loop turn, which lmdb-js commits as ONE transaction — so they become durable together,
// never the hard state without its entries — and resolves only once that transaction is
// committed and (by default) flushed to disk. The caller sends messages only after that. All
// writes use the async API, as the shared environment requires (a transactionSync mid-turn
// would commit other stores' partial batch). Writes are serialized: the in-memory view
// (first/last index, hard state, snapshot) is updated when a write has committed, and a write
// starts only after the previous one committed.
//
// The newest entries are also kept in memory as they were saved (EntryTail): the node reads each
// committed entry back to apply it, and a leader reads entries to send them, right after writing
// them. Reading those from LMDB (a cursor, a key and a value Buffer, a decode per entry) cost a
// replicated stream's leader ~8 % of its CPU per message.
//
// The root must allow enough named databases (maxDbs): two per raft group.

import type { Database, RootDatabase } from 'lmdb';
import { assert } from '../../runtime/assert.ts';
import { CompactedError, EMPTY_SNAPSHOT, UnavailableError, type InitialState, type PersistUpdate, type Storage } from '../../raft/storage.ts';
import {
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  EntryKind,
  entrySize,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
} from '../../raft/types.ts';

export type Durability = 'flushed' | 'committed';

export interface LmdbRaftStorageOptions {
  /**
   * 'flushed' (default): save() resolves after the commit's fdatasync (survives power loss).
   * 'committed': after the commit only (survives a process crash).
   */
  readonly durability?: Durability;
}

interface Position {
  readonly index: number;
  readonly term: number;
}

interface StoredSnapshot {
  readonly index: number;
  readonly term: number;
  readonly voters: number[];
  readonly data: Uint8Array;
}

const TWO_32 = 4294967296;
/** The in-memory tail keeps at most this many entries, and about this many bytes of entry data. */
const TAIL_MAX_ENTRIES = 8192;
const TAIL_MAX_BYTES = 16 << 20;

/**
 * The newest saved entries, contiguous up to the log's last index. Entries are immutable (their
 * data is the proposal's bytes, or a view of the route chunk it arrived in, never reused).
 */
class EntryTail {
  private items: Entry[] = [];
  private head = 0;
  private bytes = 0;

  get first(): number {
    return this.head < this.items.length ? this.items[this.head]!.index : 0;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** The entry at `index` if the tail holds it. */
  at(index: number): Entry | undefined {
    const first = this.first;
    return first === 0 || index < first ? undefined : this.items[this.head + index - first];
  }

  /** Entries from `ents[from]` on were saved: they replace whatever the tail held at and after them. */
  append(ents: readonly Entry[], from: number): void {
    const start = ents[from]!.index;
    const first = this.first;
    if (first !== 0 && start >= first && start <= first + this.size) {
      for (let i = this.head + start - first; i < this.items.length; i++) this.bytes -= this.items[i]!.data.length;
      this.items.length = this.head + start - first;
    } else {
      this.clear();
    }
    for (let k = from; k < ents.length; k++) {
      this.items.push(ents[k]!);
      this.bytes += ents[k]!.data.length;
    }
    while (this.size > 1 && (this.size > TAIL_MAX_ENTRIES || this.bytes > TAIL_MAX_BYTES)) this.bytes -= this.items[this.head++]!.data.length;
    this.compactArray();
  }

  /** Forgets entries at or below `index` (compacted). */
  dropThrough(index: number): void {
    while (this.size > 0 && this.items[this.head]!.index <= index) this.bytes -= this.items[this.head++]!.data.length;
    this.compactArray();
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }

  private compactArray(): void {
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
const ENTRY_HEADER_BYTES = 9;

/** 8-byte big-endian key for a log index. */
export function indexKey(index: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(index / TWO_32), 0);
  b.writeUInt32BE(index >>> 0, 4);
  return b;
}

function encodeEntry(e: Entry): Buffer {
  const b = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + e.data.byteLength);
  b.writeUInt32BE(Math.floor(e.term / TWO_32), 0);
  b.writeUInt32BE(e.term >>> 0, 4);
  b[8] = e.kind;
  b.set(e.data, ENTRY_HEADER_BYTES);
  return b;
}

function decodeTerm(v: Uint8Array): number {
  const hi = ((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]) >>> 0;
  const lo = ((v[4] << 24) | (v[5] << 16) | (v[6] << 8) | v[7]) >>> 0;
  return hi * TWO_32 + lo;
}

function decodeEntry(index: number, v: Uint8Array): Entry {
  const kind = v[8];
  assert(kind === EntryKind.Normal || kind === EntryKind.ConfChange, `raft log: entry ${index} has unknown kind ${kind}`);
  // Copy: lmdb may hand out views of reused memory.
  const data = v.byteLength > ENTRY_HEADER_BYTES ? Uint8Array.prototype.slice.call(v, ENTRY_HEADER_BYTES) : EMPTY_BYTES;
  return { index, term: decodeTerm(v), kind, data };
}

/** True when the raft log `prefix` exists in `root` and holds state (a group this server is in). */
export function hasRaftLog(root: RootDatabase, groupName: string): boolean {
  const state = root.openDB<unknown, string>({ name: `raft:${groupName}:state`, encoding: 'msgpack' });
  return state.get('hard') !== undefined || state.get('start') !== undefined;
}

export class LmdbRaftStorage implements Storage {
  private readonly root: RootDatabase;
  private readonly log: Database<Buffer, Buffer>;
  private readonly state: Database<unknown, string>;
  private readonly durability: Durability;
  private hard: HardState;
  private start: Position;
  private last: number;
  private snap: Snapshot;
  /** Writes are applied one after another (see the file comment). */
  private tail: Promise<void> = Promise.resolve();
  /** The newest saved entries (see the file comment). */
  private readonly recent = new EntryTail();

  /** Opens (creating if needed) the raft log `prefix` inside `root`. */
  static open(root: RootDatabase, prefix: string, opts: LmdbRaftStorageOptions = {}): LmdbRaftStorage {
    return new LmdbRaftStorage(root, prefix, opts);
  }

  private constructor(root: RootDatabase, prefix: string, opts: LmdbRaftStorageOptions) {
    this.root = root;
    this.durability = opts.durability ?? 'flushed';
    this.log = root.openDB<Buffer, Buffer>({ name: `${prefix}:log`, keyEncoding: 'binary', encoding: 'binary' });
    this.state = root.openDB<unknown, string>({ name: `${prefix}:state`, encoding: 'msgpack' });

    this.hard = (this.state.get('hard') as HardState | undefined) ?? EMPTY_HARD_STATE;
    this.start = (this.state.get('start') as Position | undefined) ?? { index: 0, term: 0 };
    const s = this.state.get('snapshot') as StoredSnapshot | undefined;
    this.snap =
      s === undefined
        ? EMPTY_SNAPSHOT
        : { metadata: { index: s.index, term: s.term, confState: { voters: s.voters } }, data: s.data ?? EMPTY_BYTES };
    // The log is contiguous from start.index + 1; its end is the highest key.
    let last = this.start.index;
    for (const key of this.log.getKeys({ reverse: true, limit: 1 })) last = Number(key.readUInt32BE(0)) * TWO_32 + key.readUInt32BE(4);
    this.last = Math.max(last, this.start.index);
  }

  // --- StorageReader -------------------------------------------------------------------------

  initialState(): InitialState {
    return { hardState: this.hard, confState: this.snap.metadata.confState };
  }

  firstIndex(): number {
    return this.start.index + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  term(index: number): number {
    if (index < this.start.index) throw new CompactedError(index);
    if (index > this.last) throw new UnavailableError(index);
    if (index === this.start.index) return this.start.term;
    const cached = this.recent.at(index);
    if (cached !== undefined) return cached.term;
    const v = this.log.getBinaryFast(indexKey(index));
    assert(v !== undefined, `raft log: entry ${index} is missing`);
    return decodeTerm(v);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo <= this.start.index) throw new CompactedError(lo);
    if (hi > this.last + 1) throw new UnavailableError(hi - 1);
    const out: Entry[] = [];
    if (lo >= hi) return out;
    let bytes = 0;
    if (this.recent.at(lo) !== undefined) {
      for (let i = lo; i < hi; i++) {
        const e = this.recent.at(i);
        if (e === undefined) break; // cannot happen: the tail always reaches the last index
        bytes += entrySize(e);
        if (out.length > 0 && bytes > maxBytes) break;
        out.push(e);
      }
      return out;
    }
    let expect = lo;
    for (const { key, value } of this.log.getRange({ start: indexKey(lo), end: indexKey(hi) })) {
      const index = key.readUInt32BE(0) * TWO_32 + key.readUInt32BE(4);
      assert(index === expect, `raft log: expected entry ${expect}, found ${index}`);
      const e = decodeEntry(index, value);
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
      expect++;
    }
    assert(out.length > 0, `raft log: entries ${lo}..${hi - 1} are missing`);
    return out;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  hardState(): HardState {
    return this.hard;
  }

  // --- writes --------------------------------------------------------------------------------

  save(update: PersistUpdate): Promise<void> {
    return this.serialize(() => {
      let start = this.start;
      let last = this.last;
      let snap = this.snap;
      let w: Promise<unknown> | null = null;
      let saved: { ents: readonly Entry[]; from: number } | null = null;
      if (update.snapshot !== null) {
        // A snapshot from the leader replaces the whole log.
        const md = update.snapshot.metadata;
        for (let i = start.index + 1; i <= last; i++) w = this.log.remove(indexKey(i));
        snap = update.snapshot;
        start = { index: md.index, term: md.term };
        last = md.index;
        w = this.state.put('snapshot', toStored(snap));
        w = this.state.put('start', start);
      }
      const ents = update.entries;
      if (ents.length > 0 && ents[ents.length - 1].index > start.index) {
        let from = 0;
        if (ents[0].index <= start.index) from = start.index + 1 - ents[0].index;
        const first = ents[from].index;
        assert(first <= last + 1, `raft log: append at ${first} leaves a gap after ${last}`);
        // An entry at index i replaces every stored entry at i and after.
        for (let i = Math.max(first, start.index + 1); i <= last; i++) {
          if (i > ents[ents.length - 1].index) w = this.log.remove(indexKey(i));
        }
        for (let k = from; k < ents.length; k++) w = this.log.put(indexKey(ents[k].index), encodeEntry(ents[k]));
        last = ents[ents.length - 1].index;
        saved = { ents, from };
      }
      if (update.hardState !== null) w = this.state.put('hard', { term: update.hardState.term, vote: update.hardState.vote, commit: update.hardState.commit });
      const hard = update.hardState ?? this.hard;
      const snapshotted = update.snapshot !== null;
      return this.finish(w, () => {
        if (snapshotted) this.recent.clear();
        if (saved !== null) this.recent.append(saved.ents, saved.from);
        this.snap = snap;
        this.start = start;
        this.last = last;
        this.hard = hard;
      });
    });
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<void> {
    return this.serialize(() => {
      assert(index > this.snap.metadata.index, `raft log: snapshot at ${index} is not newer than ${this.snap.metadata.index}`);
      assert(index <= this.last, `raft log: snapshot at ${index} beyond last index ${this.last}`);
      const snap: Snapshot = { metadata: { index, term: this.term(index), confState: { voters: [...confState.voters] } }, data };
      return this.finish(this.state.put('snapshot', toStored(snap)), () => {
        this.snap = snap;
      });
    });
  }

  compact(index: number): Promise<void> {
    return this.serialize(() => {
      if (index <= this.start.index) return Promise.resolve();
      assert(index <= this.snap.metadata.index, `raft log: compact(${index}) beyond snapshot ${this.snap.metadata.index}`);
      assert(index <= this.last, `raft log: compact(${index}) beyond last index ${this.last}`);
      const start: Position = { index, term: this.term(index) };
      let w: Promise<unknown> = this.state.put('start', start);
      for (let i = this.start.index + 1; i <= index; i++) w = this.log.remove(indexKey(i));
      return this.finish(w, () => {
        this.recent.dropThrough(index);
        this.start = start;
      });
    });
  }

  /** Deletes the log and its state (the group is gone from this server); after the last write. */
  drop(): Promise<void> {
    return this.serialize(async () => {
      this.recent.clear();
      await this.log.drop();
      await this.state.drop();
    });
  }

  /** Resolves when every write issued so far is durable. */
  whenIdle(): Promise<void> {
    return this.tail;
  }

  private serialize(write: () => Promise<void>): Promise<void> {
    const run = this.tail.then(write);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Waits for the batch holding `w` to commit (and flush), then updates the in-memory view. */
  private async finish(w: Promise<unknown> | null, apply: () => void): Promise<void> {
    if (w !== null) {
      await w;
      if (this.durability === 'flushed') await this.root.flushed;
    }
    apply();
  }
}

function toStored(s: Snapshot): StoredSnapshot {
  return { index: s.metadata.index, term: s.metadata.term, voters: [...s.metadata.confState.voters], data: s.data };
}
