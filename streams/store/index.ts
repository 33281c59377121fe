// Stream storage: the StreamStore contract and its memory and LMDB implementations. Every change
// reaches a store through applyOp (streams/stream/ops.ts).

export { StorageKind, StoreError, StoreErrorCode } from './types.ts';
export type {
  DeleteOptions,
  PurgeOptions,
  StoreState,
  StoredMsg,
  StreamStore,
  TimeNs,
} from './types.ts';
export { MemoryStore } from './memory-store.ts';
export { LmdbStore, openLmdbStore } from './lmdb-store.ts';
export { LmdbEnvironment, SyncMode, openLmdbEnvironment } from './lmdb-env.ts';
export type { LmdbEnvironmentOptions } from './lmdb-env.ts';
export { fileStoreMsgSize, memStoreMsgSize } from './codec.ts';
