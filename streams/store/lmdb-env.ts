// The one LMDB environment per server (docs/DESIGN.md: streams, consumers, raft logs share it, in
// named sub-databases). It owns the group-commit hook: lmdb-js commits every async write issued
// in one event-loop turn as one transaction (eventTurnBatching) and calls 'beforecommit' just
// before closing that batch. Stores register there to write their coalesced metadata (counters,
// per-subject summaries) into the very transaction that holds the messages those counters
// describe, so a crash can never leave the two disagreeing. The same hook drives the stores'
// pipelined group commit (commit-pipeline.ts): while a batch with store writes commits, stores
// stage their writes and write them together once it is done.
//
// Rule for everything sharing this environment: write with the async API (put/remove) only.
// A transactionSync/putSync in the middle of a turn would commit a partial batch.
//
// The native environment is opened once per path and process, and never closed (see ADR 0003):
// lmdb-js 3.5 frees the environment in close() while its write thread may still be finishing the
// last commit (WriteWorker::Write -> notifyUserCallbacks after the commit is visible to JS), which
// crashed the process (SIGSEGV/SIGFPE, caught under gdb) when a test closed and reopened an
// environment. close() therefore flushes and releases this handle; reopening the same path
// reuses the open environment. A server opens its environment once for the life of the process,
// so nothing is lost; the OS closes it at exit, after every write has committed.

import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { open } from 'lmdb';
import { CommitPipeline } from './commit-pipeline.ts';
import { CacheBudget, DEFAULT_READ_CACHE_BYTES, RecordCache, copyOut } from './record-cache.ts';
import { DEFAULT_SYNC_INTERVAL_MS, DEFAULT_SYNC_MODE, SyncMode } from './sync-mode.ts';

/** How often idle read-cache slabs are looked for (dropped after IDLE_TICKS ticks unused). */
const CACHE_TICK_MS = 10_000;

export type LmdbRoot = ReturnType<typeof open>;
export type LmdbDb = ReturnType<LmdbRoot['openDB']>;

/**
 * A copy of the value at `key`, or undefined. lmdb-js's getBinary() slices its shared read buffer
 * through a slow generic path (measured ~3 µs per 150-byte read, 6x the cost of getBinaryFast plus
 * a plain copy); getBinaryFast returns that shared buffer itself, valid only until the next read,
 * with the value's size in `lastSize`. The copy makes the result safe to keep.
 */
export function readCopy(db: LmdbDb, key: Buffer): Buffer | undefined {
  const shared = db.getBinaryFast(key) as Buffer | undefined;
  if (shared === undefined) return undefined;
  return copyOut(shared, 0, (db as unknown as { lastSize: number }).lastSize);
}

export { DEFAULT_SYNC_INTERVAL_MS, DEFAULT_SYNC_MODE, SYNC_MODES, SyncMode } from './sync-mode.ts';

export interface LmdbEnvironmentOptions {
  /** Default: DEFAULT_SYNC_MODE ('committed'). */
  sync?: SyncMode;
  /** Committed mode: how often the environment is fsynced. Default 1 s. */
  syncIntervalMs?: number | undefined;
  /** Runs periodic work (a Clock's setInterval): committed mode's fsync, read-cache expiry. */
  every?: (fn: () => void, ms: number) => { cancel(): void };
  /** Memory for recently written messages served to readers without LMDB reads; 0 = none. */
  readCacheBytes?: number | undefined;
  /** Named sub-databases the environment can hold; each stream uses 3. Fixed at first open. */
  maxDbs?: number;
}

/** Something that wrote in the current batch and must add its metadata before it commits. */
export interface BatchParticipant {
  beforeCommit(): void;
}

/** 3 sub-databases per stream for 4096 streams, plus room for consumers and raft logs. */
const DEFAULT_MAX_DBS = 3 * 4096 + 256;

/** One per path per process: the native environment and what every handle on it shares. */
interface SharedRoot {
  readonly root: LmdbRoot;
  /** Inode of data.mdb when opened: a directory deleted and recreated is a new environment. */
  readonly inode: number;
  readonly noSync: boolean;
  readonly dirty: Set<BatchParticipant>;
  /** The stores' pipelined group commit: one per native environment, like its write stream. */
  readonly pipeline: CommitPipeline;
  /** Stream names with an open store, so one stream is never opened twice. */
  readonly claimed: Set<string>;
}

const roots = new Map<string, SharedRoot>();

function dataInode(path: string): number {
  try {
    return statSync(join(path, 'data.mdb')).ino;
  } catch {
    return -1;
  }
}

function sharedRoot(path: string, noSync: boolean, maxDbs: number): SharedRoot {
  const existing = roots.get(path);
  // If the files were deleted (a test wiping its store dir), the cached environment points at
  // unlinked files: abandon it and open the path afresh.
  if (existing !== undefined && existing.inode === dataInode(path)) {
    if (existing.noSync !== noSync) {
      throw new Error(`LMDB environment ${path} is already open with a different sync mode`);
    }
    return existing;
  }
  const root = open({
    path,
    maxDbs,
    // Commit promises resolve at commit and carry a `.flushed` promise for the fdatasync; the
    // sync mode picks which one an ack waits for.
    separateFlushed: true,
    noSync,
    eventTurnBatching: true,
    // lmdb-js starts its write thread early once a turn queues 1,000 puts, then wakes it (a futex
    // call) for later puts of the same turn: measured 17k-75k futex calls per 200k appends. The
    // transaction still ends with the turn, so a high threshold only removes those handoffs.
    batchStartThreshold: 1_000_000,
  } as Parameters<typeof open>[0]);
  const shared: SharedRoot = { root, inode: dataInode(path), noSync, dirty: new Set(), pipeline: new CommitPipeline(), claimed: new Set() };
  root.on('beforecommit', () => {
    // Writes made here still join the closing batch (lmdb-js has not ended it yet).
    for (const p of shared.dirty) p.beforeCommit();
    shared.dirty.clear();
    shared.pipeline.batchClosing();
  });
  roots.set(path, shared);
  return shared;
}

export class LmdbEnvironment {
  readonly path: string;
  readonly sync: SyncMode;
  private readonly shared: SharedRoot;
  private closing: Promise<void> | null = null;
  private readonly syncTimer: { cancel(): void } | undefined;
  private readonly cacheTimer: { cancel(): void } | undefined;
  /** Shared by the record caches of this environment's stores; null when caching is off. */
  readonly cacheBudget: CacheBudget | null;

  constructor(path: string, opts: LmdbEnvironmentOptions = {}) {
    this.path = resolve(path);
    this.sync = opts.sync ?? DEFAULT_SYNC_MODE;
    this.shared = sharedRoot(this.path, this.sync !== SyncMode.Durable, opts.maxDbs ?? DEFAULT_MAX_DBS);
    if (this.sync === SyncMode.Committed && opts.every !== undefined) {
      this.syncTimer = opts.every(() => this.syncNow(), opts.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS);
    }
    const cacheBytes = opts.readCacheBytes ?? DEFAULT_READ_CACHE_BYTES;
    this.cacheBudget = cacheBytes > 0 ? new CacheBudget(cacheBytes) : null;
    const budget = this.cacheBudget;
    if (budget !== null && opts.every !== undefined) this.cacheTimer = opts.every(() => budget.advance(), CACHE_TICK_MS);
  }

  /** A record cache for one store, drawing on this environment's budget (null: caching is off). */
  newRecordCache(): RecordCache | null {
    return this.cacheBudget === null ? null : new RecordCache(this.cacheBudget);
  }

  /** fsyncs everything committed so far (committed mode's periodic sync, and on close). */
  syncNow(): Promise<void> {
    // lmdb-js's RootDatabase.sync (mdb_env_sync with force) is missing from its type definitions.
    const root = this.shared.root as unknown as { sync(cb: (err?: Error) => void): void };
    return new Promise((resolve) => root.sync(() => resolve()));
  }

  get root(): LmdbRoot {
    return this.shared.root;
  }

  /** Opens a named sub-database. */
  openDb(name: string, opts: Parameters<LmdbRoot['openDB']>[1]): LmdbDb {
    return this.shared.root.openDB(name, opts);
  }

  /** Called by a store on its first direct write of a batch (not while it only stages). */
  markDirty(p: BatchParticipant): void {
    this.shared.dirty.add(p);
  }

  /** The stores' pipelined group commit (commit-pipeline.ts). */
  get pipeline(): CommitPipeline {
    return this.shared.pipeline;
  }

  /** Reserves a stream name so one stream is never opened twice (two caches, one database). */
  claim(name: string): void {
    if (this.closing !== null) throw new Error('LMDB environment is closed');
    if (this.shared.claimed.has(name)) throw new Error(`stream store ${name} is already open`);
    this.shared.claimed.add(name);
  }

  release(name: string): void {
    this.shared.claimed.delete(name);
  }

  /** Resolves when every write issued so far (staged ones included) is committed and flushed. */
  async flushed(): Promise<void> {
    await this.shared.pipeline.settled();
    await this.shared.root.flushed;
  }

  /**
   * Waits for outstanding writes and retires this handle. Close the stores first. The native
   * environment stays open for reuse (see the header comment).
   */
  close(): Promise<void> {
    if (this.closing === null) {
      this.syncTimer?.cancel();
      this.cacheTimer?.cancel();
      this.closing = this.flushed().then(() => (this.sync === SyncMode.Committed ? this.syncNow() : undefined));
    }
    return this.closing;
  }
}

/** Opens the server's environment in `storeDir` (created if missing). */
export function openLmdbEnvironment(storeDir: string, opts?: LmdbEnvironmentOptions): LmdbEnvironment {
  return new LmdbEnvironment(storeDir, opts);
}
