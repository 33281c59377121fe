// Public surface of the raft library (pure; imports only runtime/).

export { RaftNode } from './raft.ts';
export type { RaftOptions, ProposeOutcome, DropReason, UnsafeTestMutations } from './raft.ts';
export { RaftDriver } from './driver.ts';
export type { Transport, Applier, RaftDriverOptions } from './driver.ts';
export {
  MemoryStorage,
  CompactedError,
  UnavailableError,
  EMPTY_SNAPSHOT,
  bootstrap,
  bootstrapUpdate,
  limitEntries,
} from './storage.ts';
export type { Storage, StorageReader, InitialState, PersistUpdate } from './storage.ts';
export { Progress, ProgressState, Inflights } from './progress.ts';
export { majority, committedIndex, voteResult, VoteResult, hasQuorum } from './quorum.ts';
export {
  NO_NODE,
  EntryKind,
  ConfChangeKind,
  MessageType,
  Role,
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  makeMessage,
  encodeConfChange,
  decodeConfChange,
  isLocalMessageType,
  hardStateEqual,
  entrySize,
} from './types.ts';
export type {
  NodeId,
  Entry,
  ConfChange,
  ConfState,
  HardState,
  SnapshotMetadata,
  Snapshot,
  Message,
  SoftState,
  ReadState,
  Ready,
} from './types.ts';
