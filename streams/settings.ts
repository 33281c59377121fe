// JetStream's settings as the server's options name them (sync modes, intervals, cache size), for
// code that checks options: importing this loads no store, no LMDB binding (streams/index.ts does).
export { DEFAULT_SYNC_INTERVAL_MS, DEFAULT_SYNC_MODE, SYNC_MODES, SyncMode } from './store/sync-mode.ts';
export { DEFAULT_READ_CACHE_BYTES } from './store/record-cache.ts';
