// Wire and storage types of the raft library.
//
// Contract: every value here is a plain object made of numbers, booleans, strings, arrays,
// `null` and `Uint8Array`, so that msgpackr (cluster frames) and the LMDB log can encode it
// without custom extensions. Terms and indexes are JavaScript numbers (safe integers up to
// 2^53 - 1, far beyond any reachable log). Node ids are positive integers; 0 means "none".
//
// Entries and messages are treated as immutable once created: the library never mutates an
// entry or a message it received or emitted, so an in-process transport may hand the same
// objects to several nodes.

export type NodeId = number;

/** "No node": no vote cast, no known leader. Real node ids are > 0. */
export const NO_NODE = 0;

export const EntryKind = {
  /** Application data (an empty `data` is the no-op a new leader appends). */
  Normal: 0,
  /** A single-server membership change; `data` is `encodeConfChange(cc)`. */
  ConfChange: 1,
} as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

export const ConfChangeKind = {
  AddNode: 1,
  RemoveNode: 2,
} as const;
export type ConfChangeKind = (typeof ConfChangeKind)[keyof typeof ConfChangeKind];

/** One server added or removed. Membership changes one voter at a time (see docs/adr/0002). */
export interface ConfChange {
  readonly kind: ConfChangeKind;
  readonly nodeId: NodeId;
}

/** The voter set. `voters` is sorted ascending and has no duplicates. */
export interface ConfState {
  readonly voters: readonly NodeId[];
}

/** What must be durable before any message that depends on it is sent (Raft §5, Figure 2). */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or NO_NODE. */
  readonly vote: NodeId;
  /** A commit index known to this node; persisted so a restart re-applies less. */
  readonly commit: number;
}

export interface SnapshotMetadata {
  /** Index of the last entry the snapshot covers. */
  readonly index: number;
  /** Term of that entry. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** Opaque state-machine image produced by the application. */
  readonly data: Uint8Array;
}

export const MessageType = {
  // Local inputs: never sent over the network, never accepted from it.
  Hup: 'hup',
  Beat: 'beat',
  CheckQuorum: 'check-quorum',
  Unreachable: 'unreachable',
  SnapshotStatus: 'snapshot-status',
  // Forwarded to the leader with term 0 (treated as local input by the leader).
  Propose: 'propose',
  ReadIndex: 'read-index',
  TransferLeader: 'transfer-leader',
  // Peer-to-peer.
  Append: 'append',
  AppendResponse: 'append-response',
  Vote: 'vote',
  VoteResponse: 'vote-response',
  PreVote: 'pre-vote',
  PreVoteResponse: 'pre-vote-response',
  Snapshot: 'snapshot',
  Heartbeat: 'heartbeat',
  HeartbeatResponse: 'heartbeat-response',
  TimeoutNow: 'timeout-now',
  ReadIndexResponse: 'read-index-response',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

const LOCAL_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  MessageType.Hup,
  MessageType.Beat,
  MessageType.CheckQuorum,
  MessageType.Unreachable,
  MessageType.SnapshotStatus,
]);

/** True for message types that only a node generates for itself. */
export function isLocalMessageType(t: MessageType): boolean {
  return LOCAL_TYPES.has(t);
}

/**
 * One message. Every field is always present (stable shape); fields a type does not use keep
 * their zero value. Field meaning per type:
 *
 * - Append: `index`/`logTerm` identify the entry preceding `entries`; `commit` is the leader's
 *   commit index.
 * - AppendResponse: accepted → `index` is the follower's last index known to match the leader.
 *   Rejected → `index` is the rejected `index` of the Append, `rejectHint`/`logTerm` point at the
 *   follower's best guess of the last matching entry (fast back-off).
 * - Vote / PreVote: `term` is the term campaigned for, `index`/`logTerm` the candidate's last
 *   entry; `transfer` marks a campaign started by leadership transfer (ignores leases).
 * - Heartbeat: `commit` is min(leader commit, follower match); `context` carries the newest
 *   pending read-index request, echoed in the HeartbeatResponse.
 * - TransferLeader: `index` is the transferee's node id.
 * - ReadIndex / ReadIndexResponse: `context` identifies the request; the response's `index`
 *   is the read index.
 * - Snapshot: `snapshot` is the image to install.
 */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly snapshot: Snapshot | null;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: Uint8Array | null;
  readonly transfer: boolean;
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/** Builds a message with every field present (unset fields get their zero value). */
export function makeMessage(fields: Partial<Message> & { type: MessageType }): Message {
  return {
    type: fields.type,
    to: fields.to ?? NO_NODE,
    from: fields.from ?? NO_NODE,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: fields.commit ?? 0,
    snapshot: fields.snapshot ?? null,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? null,
    transfer: fields.transfer ?? false,
  };
}

export const Role = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Volatile state reported when it changes (leader, role, or the term they hold in). Not persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
  readonly term: number;
}

/**
 * A read-index answer: once the local state machine has applied `index`, a read of it is
 * linearizable with respect to every write committed before `readIndex(context)` was called.
 */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

/**
 * The effects of the steps since the last `advance()`. Processing contract (persist-before-send):
 *
 * 1. Persist `snapshot` (if any), then `entries` (an entry at index i replaces every persisted
 *    entry at i and after), then `hardState` (if any) — atomically, or in that order. Storage
 *    implementations do all three in one `save()` call.
 * 2. Only then send `messages`. A vote or an append acknowledgement must never leave the node
 *    before the term/vote/entries it promises are durable; sending first loses safety on crash.
 * 3. Apply `snapshot` (if any) then `committedEntries`, in order, to the state machine. Every
 *    committed entry is already durable locally by step 1 or an earlier Ready.
 * 4. Hand `readStates` to their waiters (serve each once applied ≥ its index).
 * 5. Call `advance(ready)`. No new Ready is produced before that.
 */
export interface Ready {
  /** Leader/role/term when any changed since the previous Ready, else null. */
  readonly softState: SoftState | null;
  /** Term/vote/commit when changed since the previous Ready, else null. */
  readonly hardState: HardState | null;
  /** Entries to persist (contiguous, ascending). */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader, to persist and apply; else null. */
  readonly snapshot: Snapshot | null;
  /** Entries to apply, contiguous from applied + 1. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send after step 1. */
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
}

// ---------------------------------------------------------------------------------------------
// ConfChange codec: a fixed 9-byte layout [kind u8][nodeId float64 BE], so conf-change entries
// are plain bytes like every other entry.

const CONF_CHANGE_BYTES = 9;

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(CONF_CHANGE_BYTES);
  const view = new DataView(out.buffer);
  view.setUint8(0, cc.kind);
  view.setFloat64(1, cc.nodeId);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength !== CONF_CHANGE_BYTES) throw new RangeError(`conf change: expected ${CONF_CHANGE_BYTES} bytes, got ${data.byteLength}`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const kind = view.getUint8(0);
  if (kind !== ConfChangeKind.AddNode && kind !== ConfChangeKind.RemoveNode) throw new RangeError(`conf change: unknown kind ${kind}`);
  const nodeId = view.getFloat64(1);
  if (!Number.isSafeInteger(nodeId) || nodeId <= 0) throw new RangeError(`conf change: bad node id ${nodeId}`);
  return { kind, nodeId };
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NO_NODE, commit: 0 });

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Bytes an entry counts for against size limits: payload plus a fixed per-entry overhead. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}
