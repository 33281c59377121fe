// The sync modes and JetStream's option defaults, in a module with no imports: the server's option
// checking needs them at start-up, before (and without) loading the store and its LMDB binding.
// lmdb-env.ts re-exports them.

/**
 * When a write counts as done (a PubAck is sent, an API change is answered): docs/adr/0008-sync-modes.md.
 * The one place this choice is named; the server option `jetstreamSync`, `jetstream { sync }` and
 * `--jetstream-sync` all take these values.
 */
export const SyncMode = {
  /** The default. Done at the LMDB commit (the data is in the OS page cache: survives a process
   * crash, kill -9 included). Commits skip the fdatasync (LMDB noSync); the whole environment is
   * fsynced every `syncIntervalMs` (1 s by default) instead, so a power loss loses at most about
   * that much. nats-server also acks before it fsyncs (its sync_interval, 2 min by default).
   * Measured here: a commit with fdatasync costs ~4 ms p50 on this disk, a noSync commit ~0.2 ms. */
  Committed: 'committed',
  /** Done after the commit's fdatasync: survives a power loss. */
  Durable: 'durable',
  /** LMDB noSync and no periodic fsync: PubAcks still go out at the commit, config and consumer
   * state writes are not waited for, and nothing is ever fsynced (the OS writes pages back when it
   * likes). A power loss may lose recent transactions or, per LMDB, corrupt the environment. File
   * streams report `"sync": "none"` in STREAM.INFO. */
  None: 'none',
} as const;
export type SyncMode = (typeof SyncMode)[keyof typeof SyncMode];
export const SYNC_MODES: readonly SyncMode[] = Object.values(SyncMode);
export const DEFAULT_SYNC_MODE: SyncMode = SyncMode.Committed;
/** Committed mode: how often the environment is fsynced. */
export const DEFAULT_SYNC_INTERVAL_MS = 1000;
