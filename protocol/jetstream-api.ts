// JetStream control-plane JSON shapes (types only), as nats-server 2.10 sends and accepts them and
// the official clients (nats.js v3 jetstream/src/jsapi_types.ts) read them. Field names are the
// wire names. Durations are int64 nanoseconds (JS numbers: exact below 2^53 ns ≈ 104 days, and
// nats-server's own JSON has the same precision limit in JS clients); times are RFC 3339 strings.
//
// Optional fields here are the ones nats-server omits when empty (`omitempty`).

import type { ApiError } from './js-errors.ts';

export type { ApiError } from './js-errors.ts';

/** Nanoseconds. */
export type Nanos = number;
/** RFC 3339 with nanoseconds, UTC; the zero time is "0001-01-01T00:00:00Z". */
export type Rfc3339 = string;

export const ApiPrefix = '$JS.API';

export type RetentionPolicy = 'limits' | 'interest' | 'workqueue';
export type DiscardPolicy = 'old' | 'new';
export type StorageType = 'file' | 'memory';
export type StoreCompression = 'none' | 's2';

export interface ApiResponse {
  type: string;
  error?: ApiError;
}

export interface ApiPaged {
  total: number;
  offset: number;
  limit: number;
}

export interface ApiPagedRequest {
  offset?: number;
}

// ---- streams ---------------------------------------------------------------------------------

export interface Placement {
  cluster?: string;
  tags?: string[];
  preferred?: string;
}

export interface ExternalStream {
  api: string;
  deliver?: string;
}

export interface SubjectTransformConfig {
  src?: string;
  dest: string;
}

export interface StreamSource {
  name: string;
  opt_start_seq?: number;
  opt_start_time?: Rfc3339;
  filter_subject?: string;
  subject_transforms?: SubjectTransformConfig[];
  external?: ExternalStream;
}

export interface RePublish {
  src?: string;
  dest: string;
  headers_only?: boolean;
}

export interface StreamConsumerLimits {
  inactive_threshold?: Nanos;
  max_ack_pending?: number;
}

/** The normalised config: what the server stores and echoes back (request = any subset). */
export interface StreamConfig {
  name: string;
  description?: string;
  subjects?: string[];
  retention: RetentionPolicy;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  max_age: Nanos;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: DiscardPolicy;
  storage: StorageType;
  num_replicas: number;
  no_ack?: boolean;
  duplicate_window?: Nanos;
  placement?: Placement;
  mirror?: StreamSource;
  sources?: StreamSource[];
  compression: StoreCompression;
  first_seq?: number;
  subject_transform?: SubjectTransformConfig;
  republish?: RePublish;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject?: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  consumer_limits: StreamConsumerLimits;
  metadata?: Record<string, string>;
}

/** What a client may send for CREATE/UPDATE: everything optional except the name. */
export type StreamConfigRequest = Partial<StreamConfig> & { name?: string };

export interface LostStreamData {
  msgs: number[] | null;
  bytes: number;
}

export interface StreamState {
  messages: number;
  bytes: number;
  first_seq: number;
  first_ts: Rfc3339;
  last_seq: number;
  last_ts: Rfc3339;
  num_subjects?: number;
  subjects?: Record<string, number>;
  num_deleted?: number;
  deleted?: number[];
  lost?: LostStreamData;
  consumer_count: number;
}

export interface PeerInfo {
  name: string;
  current: boolean;
  offline?: boolean;
  active: Nanos;
  lag?: number;
  peer: string;
}

export interface ClusterInfo {
  name?: string;
  raft_group?: string;
  leader?: string;
  leader_since?: Rfc3339;
  replicas?: PeerInfo[];
}

export interface StreamSourceInfo {
  name: string;
  external?: ExternalStream;
  lag: number;
  active: Nanos;
  error?: ApiError;
}

export interface StreamInfo {
  config: StreamConfig;
  created: Rfc3339;
  state: StreamState;
  cluster?: ClusterInfo;
  mirror?: StreamSourceInfo;
  sources?: StreamSourceInfo[];
  domain?: string;
  ts: Rfc3339;
}

export type StreamCreateResponse = ApiResponse & Partial<StreamInfo> & { did_create?: boolean };
export type StreamUpdateResponse = ApiResponse & Partial<StreamInfo>;
export type StreamInfoResponse = ApiResponse & ApiPaged & Partial<StreamInfo>;

export interface StreamInfoRequest extends ApiPagedRequest {
  deleted_details?: boolean;
  subjects_filter?: string;
}

export interface StreamNamesRequest extends ApiPagedRequest {
  subject?: string;
}
export type StreamListRequest = StreamNamesRequest;

export type StreamNamesResponse = ApiResponse & ApiPaged & { streams: string[] | null };
export type StreamListResponse = ApiResponse &
  ApiPaged & { streams: StreamInfo[]; missing?: string[]; offline?: Record<string, string> };

export interface StreamPurgeRequest {
  filter?: string;
  seq?: number;
  keep?: number;
}
export type StreamPurgeResponse = ApiResponse & { success?: boolean; purged: number };

export type StreamDeleteResponse = ApiResponse & { success?: boolean };

export interface MsgGetRequest {
  seq?: number;
  last_by_subj?: string;
  next_by_subj?: string;
  // Direct get batch forms (2.11): accepted in the request type for completeness.
  batch?: number;
  max_bytes?: number;
  multi_last?: string[];
  up_to_seq?: number;
  up_to_time?: Rfc3339;
  start_time?: Rfc3339;
  no_hdr?: boolean;
}

export interface StoredMsgJson {
  subject: string;
  seq: number;
  /** base64 of the NATS/1.0 header block. */
  hdrs?: string;
  /** base64 of the payload. */
  data?: string;
  time: Rfc3339;
}
export type MsgGetResponse = ApiResponse & { message?: StoredMsgJson };

export interface MsgDeleteRequest {
  seq: number;
  no_erase?: boolean;
}
export type MsgDeleteResponse = ApiResponse & { success?: boolean };

// ---- publishing ------------------------------------------------------------------------------

/** The reply to a publish captured by a stream. No `type` field (unlike API responses). */
export interface PubAck {
  stream: string;
  seq: number;
  domain?: string;
  duplicate?: boolean;
}
export interface PubAckError {
  error: ApiError;
  stream: string;
  seq: 0;
}

/** Publish headers a stream interprets. */
export const JsHeader = {
  MsgId: 'Nats-Msg-Id',
  ExpectedStream: 'Nats-Expected-Stream',
  ExpectedLastSeq: 'Nats-Expected-Last-Sequence',
  ExpectedLastSubjectSeq: 'Nats-Expected-Last-Subject-Sequence',
  ExpectedLastMsgId: 'Nats-Expected-Last-Msg-Id',
  Rollup: 'Nats-Rollup',
  TTL: 'Nats-TTL',
  // Added by the server on direct gets / republish.
  Stream: 'Nats-Stream',
  Sequence: 'Nats-Sequence',
  TimeStamp: 'Nats-Time-Stamp',
  Subject: 'Nats-Subject',
  LastSequence: 'Nats-Last-Sequence',
  NumPending: 'Nats-Num-Pending',
  // Consumers.
  LastConsumer: 'Nats-Last-Consumer',
  LastStream: 'Nats-Last-Stream',
  ConsumerStalled: 'Nats-Consumer-Stalled',
  PendingMessages: 'Nats-Pending-Messages',
  PendingBytes: 'Nats-Pending-Bytes',
  MsgSize: 'Nats-Msg-Size',
  RequiredApiLevel: 'Nats-Required-Api-Level',
} as const;

export const RollupValue = { Subject: 'sub', All: 'all' } as const;

// ---- account ---------------------------------------------------------------------------------

export interface AccountLimits {
  max_memory: number;
  max_storage: number;
  max_streams: number;
  max_consumers: number;
  max_ack_pending: number;
  memory_max_stream_bytes: number;
  storage_max_stream_bytes: number;
  max_bytes_required: boolean;
}

/** `jetstream: enabled` without a limits block: everything -1 (no limit), as nats-server. */
export const NO_ACCOUNT_LIMITS: Readonly<AccountLimits> = Object.freeze({
  max_memory: -1,
  max_storage: -1,
  max_streams: -1,
  max_consumers: -1,
  max_ack_pending: -1,
  memory_max_stream_bytes: -1,
  storage_max_stream_bytes: -1,
  max_bytes_required: false,
});

export interface ApiStats {
  level?: number;
  total: number;
  errors: number;
}

export interface AccountInfo {
  memory: number;
  storage: number;
  reserved_memory: number;
  reserved_storage: number;
  streams: number;
  consumers: number;
  limits: AccountLimits;
  domain?: string;
  api: ApiStats;
}
export type AccountInfoResponse = ApiResponse & Partial<AccountInfo>;

// ---- consumers (shapes for the consumer layer) -----------------------------------------------

export type DeliverPolicy = 'all' | 'last' | 'new' | 'by_start_sequence' | 'by_start_time' | 'last_per_subject';
export type AckPolicy = 'none' | 'all' | 'explicit';
export type ReplayPolicy = 'instant' | 'original';
export type PriorityPolicy = 'none' | 'overflow' | 'pinned_client' | 'prioritized';
export type ConsumerAction = '' | 'create' | 'update';

export interface ConsumerConfig {
  durable_name?: string;
  name?: string;
  description?: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: Rfc3339;
  ack_policy: AckPolicy;
  ack_wait?: Nanos;
  max_deliver?: number;
  backoff?: Nanos[];
  filter_subject?: string;
  filter_subjects?: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps?: number;
  sample_freq?: string;
  max_waiting?: number;
  max_ack_pending?: number;
  flow_control?: boolean;
  idle_heartbeat?: Nanos;
  headers_only?: boolean;
  max_batch?: number;
  max_expires?: Nanos;
  max_bytes?: number;
  deliver_subject?: string;
  deliver_group?: string;
  inactive_threshold?: Nanos;
  num_replicas: number;
  mem_storage?: boolean;
  metadata?: Record<string, string>;
  pause_until?: Rfc3339;
  priority_groups?: string[];
  priority_policy?: PriorityPolicy;
  priority_timeout?: Nanos;
}

export interface CreateConsumerRequest {
  stream_name: string;
  config: Partial<ConsumerConfig>;
  action?: ConsumerAction;
  pedantic?: boolean;
}

export interface SequenceInfo {
  consumer_seq: number;
  stream_seq: number;
  last_active?: Rfc3339;
}

export interface ConsumerInfo {
  stream_name: string;
  name: string;
  created: Rfc3339;
  config: ConsumerConfig;
  delivered: SequenceInfo;
  ack_floor: SequenceInfo;
  num_ack_pending: number;
  num_redelivered: number;
  num_waiting: number;
  num_pending: number;
  cluster?: ClusterInfo;
  push_bound?: boolean;
  paused?: boolean;
  pause_remaining?: Nanos;
  ts: Rfc3339;
}

export type ConsumerInfoResponse = ApiResponse & Partial<ConsumerInfo>;
export type ConsumerNamesResponse = ApiResponse & ApiPaged & { consumers: string[] | null };
export type ConsumerListResponse = ApiResponse & ApiPaged & { consumers: ConsumerInfo[] };

export interface PullRequest {
  batch?: number;
  expires?: Nanos;
  no_wait?: boolean;
  max_bytes?: number;
  idle_heartbeat?: Nanos;
  group?: string;
  min_pending?: number;
  min_ack_pending?: number;
  id?: string;
  priority?: number;
}

/** `io.nats.jetstream.api.v1.<kind>_response` */
export function responseType(kind: string): string {
  return `io.nats.jetstream.api.v1.${kind}_response`;
}
