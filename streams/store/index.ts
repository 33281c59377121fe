// Stream storage: the StreamStore contract, its memory and LMDB implementations, and the op
// vocabulary every change goes through.

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
export type { MemoryStoreOptions } from './memory-store.ts';
export { LmdbStore, openLmdbStore } from './lmdb-store.ts';
export type { LmdbStoreOptions } from './lmdb-store.ts';
export { LmdbEnvironment, SyncMode, openLmdbEnvironment } from './lmdb-env.ts';
export type { LmdbEnvironmentOptions } from './lmdb-env.ts';
export { applyStoreOp } from './ops.ts';
export type { StoreOp } from './ops.ts';
export { fileStoreMsgSize, memStoreMsgSize } from './codec.ts';
