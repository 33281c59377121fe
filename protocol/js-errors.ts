// The JetStream API error catalogue as data: every `{code, err_code, description}` sluice sends,
// copied from nats-server's server/errors.json (clients switch on `err_code`, so these numbers are
// wire contract, never invented). Descriptions with `{placeholders}` are filled by jsApiError.
//
// Shared by the server (streams/, consumers) and clients (to recognise errors by code).

/** The error object carried by every failed JetStream API response and PubAck. */
export interface ApiError {
  /** HTTP-like status. */
  code: number;
  /** JetStream error code (errors.json `error_code`). */
  err_code: number;
  description: string;
}

export interface JsErrorDef {
  readonly code: number;
  readonly err_code: number;
  /** May contain `{name}` placeholders (see jsApiError). */
  readonly description: string;
}

export const JsErr = {
  // ---- general / account -------------------------------------------------------------------
  AccountResourcesExceeded: { code: 400, err_code: 10002, description: 'resource limits exceeded for account' },
  BadRequest: { code: 400, err_code: 10003, description: 'bad request' },
  ClusterNotAvail: { code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' },
  ClusterRequired: { code: 503, err_code: 10010, description: 'JetStream clustering support required' },
  InsufficientResources: { code: 503, err_code: 10023, description: 'insufficient resources' },
  InvalidJSON: { code: 400, err_code: 10025, description: 'invalid JSON: {err}' },
  MaximumConsumersLimit: { code: 400, err_code: 10026, description: 'maximum consumers limit reached' },
  MaximumStreamsLimit: { code: 400, err_code: 10027, description: 'maximum number of streams reached' },
  MemoryResourcesExceeded: { code: 500, err_code: 10028, description: 'insufficient memory resources available' },
  NotEmptyRequest: { code: 400, err_code: 10038, description: 'expected an empty request payload' },
  NotEnabledForAccount: { code: 503, err_code: 10039, description: 'JetStream not enabled for account' },
  NotEnabled: { code: 503, err_code: 10076, description: 'JetStream not enabled' },
  ReplicasCountCannotBeNegative: { code: 400, err_code: 10133, description: 'replicas count cannot be negative' },
  StorageResourcesExceeded: { code: 500, err_code: 10047, description: 'insufficient storage resources available' },
  RequiredApiLevel: { code: 412, err_code: 10185, description: 'JetStream minimum api level required' },

  // ---- streams -------------------------------------------------------------------------------
  NoMessageFound: { code: 404, err_code: 10037, description: 'no message found' },
  SequenceNotFound: { code: 400, err_code: 10043, description: 'sequence {seq} not found' },
  StreamCreate: { code: 500, err_code: 10049, description: '{err}' },
  StreamDelete: { code: 500, err_code: 10050, description: '{err}' },
  StreamGeneral: { code: 500, err_code: 10051, description: '{err}' },
  StreamInvalidConfig: { code: 500, err_code: 10052, description: '{err}' },
  StreamLimits: { code: 500, err_code: 10053, description: '{err}' },
  StreamMessageExceedsMaximum: { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' },
  StreamMirrorNotUpdatable: { code: 400, err_code: 10055, description: 'stream mirror configuration can not be updated' },
  StreamMismatch: { code: 400, err_code: 10056, description: 'stream name in subject does not match request' },
  StreamMsgDeleteFailed: { code: 500, err_code: 10057, description: '{err}' },
  StreamNameExist: {
    code: 400,
    err_code: 10058,
    description: 'stream name already in use with a different configuration',
  },
  StreamNotFound: { code: 404, err_code: 10059, description: 'stream not found' },
  StreamNotMatch: { code: 400, err_code: 10060, description: 'expected stream does not match' },
  StreamReplicasNotUpdatable: { code: 400, err_code: 10061, description: 'Replicas configuration can not be updated' },
  StreamSequenceNotMatch: { code: 503, err_code: 10063, description: 'expected stream sequence does not match' },
  StreamSubjectOverlap: { code: 400, err_code: 10065, description: 'subjects overlap with an existing stream' },
  StreamUpdate: { code: 500, err_code: 10069, description: '{err}' },
  StreamWrongLastMsgID: { code: 400, err_code: 10070, description: 'wrong last msg ID: {id}' },
  StreamWrongLastSequence: { code: 400, err_code: 10071, description: 'wrong last sequence: {seq}' },
  StreamReplicasNotSupported: {
    code: 500,
    err_code: 10074,
    description: 'replicas > 1 not supported in non-clustered mode',
  },
  StreamStoreFailed: { code: 503, err_code: 10077, description: '{err}' },
  StreamInvalid: { code: 500, err_code: 10096, description: 'stream not valid' },
  StreamHeaderExceedsMaximum: { code: 400, err_code: 10097, description: 'header size exceeds maximum allowed of 64k' },
  StreamSealed: { code: 400, err_code: 10109, description: 'invalid operation on sealed stream' },
  StreamPurgeFailed: { code: 500, err_code: 10110, description: '{err}' },
  StreamRollupFailed: { code: 500, err_code: 10111, description: '{err}' },
  StreamInfoMaxSubjects: { code: 500, err_code: 10117, description: 'subject details would exceed maximum allowed' },
  StreamOffline: { code: 500, err_code: 10118, description: 'stream is offline' },
  StreamMaxBytesRequired: {
    code: 400,
    err_code: 10113,
    description: 'account requires a stream config to have max bytes set',
  },
  StreamMaxStreamBytesExceeded: { code: 400, err_code: 10122, description: 'stream max bytes exceeds account limit max stream bytes' },
  StreamNameContainsPathSeparators: {
    code: 400,
    err_code: 10128,
    description: 'Stream name can not contain path separators',
  },
  MirrorWithSubjects: { code: 400, err_code: 10034, description: 'stream mirrors can not contain subjects' },
  MirrorWithSources: { code: 400, err_code: 10031, description: 'stream mirrors can not also contain other sources' },
  MirrorWithFirstSeq: { code: 400, err_code: 10143, description: 'stream mirrors can not have first sequence configured' },
  MirrorMaxMessageSizeTooBig: { code: 400, err_code: 10030, description: 'stream mirror must have max message size >= source' },
  MirrorInvalidStreamName: { code: 400, err_code: 10142, description: 'mirrored stream name is invalid' },
  MirrorMultipleFiltersNotAllowed: {
    code: 400,
    err_code: 10150,
    description: 'mirror with multiple subject transforms cannot also have a single subject filter',
  },
  MirrorInvalidSubjectFilter: { code: 400, err_code: 10151, description: 'mirror subject filter is invalid' },
  MirrorOverlappingSubjectFilters: { code: 400, err_code: 10152, description: 'mirror subject filters can not overlap' },
  SourceMaxMessageSizeTooBig: { code: 400, err_code: 10046, description: 'stream source must have max message size >= target' },
  SourceDuplicateDetected: { code: 400, err_code: 10140, description: 'duplicate source configuration detected' },
  SourceInvalidStreamName: { code: 400, err_code: 10141, description: 'sourced stream name is invalid' },
  SourceMultipleFiltersNotAllowed: {
    code: 400,
    err_code: 10144,
    description: 'source with multiple subject transforms cannot also have a single subject filter',
  },
  SourceInvalidSubjectFilter: { code: 400, err_code: 10145, description: 'source subject filter is invalid' },
  SourceInvalidTransformDestination: { code: 400, err_code: 10146, description: 'source transform destination is invalid' },
  SourceOverlappingSubjectFilters: { code: 400, err_code: 10147, description: 'source filters can not overlap' },
  StreamExternalApiOverlap: { code: 400, err_code: 10021, description: 'stream external api prefix {prefix} must not overlap with {subject}' },
  StreamInvalidExternalDeliverySubj: {
    code: 400,
    err_code: 10024,
    description: 'stream external delivery prefix {prefix} must not contain wildcards',
  },
  StreamWrongLastSequenceConstant: { code: 400, err_code: 10164, description: 'wrong last sequence' },
  MessageTTLInvalid: { code: 400, err_code: 10165, description: 'invalid per-message TTL' },
  MessageTTLDisabled: { code: 400, err_code: 10166, description: 'per-message TTL is disabled' },
  StreamTooManyRequests: { code: 429, err_code: 10167, description: 'too many requests' },

  // ---- consumers (used by the consumer layer) -----------------------------------------------
  ConsumerCreate: { code: 500, err_code: 10012, description: '{err}' },
  ConsumerNameExist: { code: 400, err_code: 10013, description: 'consumer name already in use' },
  ConsumerNotFound: { code: 404, err_code: 10014, description: 'consumer not found' },
  ConsumerDurableNameNotInSubject: {
    code: 400,
    err_code: 10016,
    description: 'consumer expected to be durable but no durable name set in subject',
  },
  ConsumerDurableNameNotMatchSubject: {
    code: 400,
    err_code: 10017,
    description: 'consumer name in subject does not match durable name in request',
  },
  ConsumerDurableNameNotSet: {
    code: 400,
    err_code: 10018,
    description: 'consumer expected to be durable but a durable name was not set',
  },
  ConsumerEphemeralWithDurableInSubject: {
    code: 400,
    err_code: 10019,
    description: 'consumer expected to be ephemeral but detected a durable name set in subject',
  },
  ConsumerEphemeralWithDurableName: {
    code: 400,
    err_code: 10020,
    description: 'consumer expected to be ephemeral but a durable name was set in request',
  },
  ConsumerConfigRequired: { code: 400, err_code: 10078, description: 'consumer config required' },
  ConsumerDeliverToWildcards: { code: 400, err_code: 10079, description: 'consumer deliver subject has wildcards' },
  ConsumerPushMaxWaiting: { code: 400, err_code: 10080, description: 'consumer in push mode can not set max waiting' },
  ConsumerDeliverCycle: { code: 400, err_code: 10081, description: 'consumer deliver subject forms a cycle' },
  ConsumerMaxPendingAckPolicyRequired: {
    code: 400,
    err_code: 10082,
    description: 'consumer requires ack policy for max ack pending',
  },
  ConsumerSmallHeartbeat: { code: 400, err_code: 10083, description: 'consumer idle heartbeat needs to be >= 100ms' },
  ConsumerPullRequiresAck: {
    code: 400,
    err_code: 10084,
    description: 'consumer in pull mode requires explicit ack policy on workqueue stream',
  },
  ConsumerPullWithRateLimit: {
    code: 400,
    err_code: 10086,
    description: 'consumer in pull mode can not have rate limit set',
  },
  ConsumerMaxWaitingNegative: { code: 400, err_code: 10087, description: 'consumer max waiting needs to be positive' },
  ConsumerHBRequiresPush: {
    code: 400,
    err_code: 10088,
    description: 'consumer idle heartbeat requires a push based consumer',
  },
  ConsumerFCRequiresPush: {
    code: 400,
    err_code: 10089,
    description: 'consumer flow control requires a push based consumer',
  },
  ConsumerFilterNotSubset: {
    code: 400,
    err_code: 10093,
    description: 'consumer filter subject is not a valid subset of the interest subjects',
  },
  ConsumerInvalidPolicy: { code: 400, err_code: 10094, description: '{err}' },
  ConsumerInvalidSampling: {
    code: 400,
    err_code: 10095,
    description: 'failed to parse consumer sampling configuration: {err}',
  },
  ConsumerWQRequiresExplicitAck: { code: 400, err_code: 10098, description: 'workqueue stream requires explicit ack' },
  ConsumerWQMultipleUnfiltered: {
    code: 400,
    err_code: 10099,
    description: 'multiple non-filtered consumers not allowed on workqueue stream',
  },
  ConsumerWQConsumerNotUnique: {
    code: 400,
    err_code: 10100,
    description: 'filtered consumer not unique on workqueue stream',
  },
  ConsumerWQConsumerNotDeliverAll: {
    code: 400,
    err_code: 10101,
    description: 'consumer must be deliver all on workqueue stream',
  },
  ConsumerNameTooLong: { code: 400, err_code: 10102, description: 'consumer name is too long, maximum allowed is {max}' },
  ConsumerBadDurableName: { code: 400, err_code: 10103, description: "durable name can not contain '.', '*', '>'" },
  ConsumerStoreFailed: { code: 500, err_code: 10104, description: 'error creating store for consumer: {err}' },
  ConsumerExistingActive: { code: 400, err_code: 10105, description: 'consumer already exists and is still active' },
  ConsumerReplacementWithDifferentName: {
    code: 400,
    err_code: 10106,
    description: 'consumer replacement durable config not the same',
  },
  ConsumerDescriptionTooLong: {
    code: 400,
    err_code: 10107,
    description: 'consumer description is too long, maximum allowed is {max}',
  },
  ConsumerWithFlowControlNeedsHeartbeats: {
    code: 400,
    err_code: 10108,
    description: 'consumer with flow control also needs heartbeats',
  },
  ConsumerInvalidDeliverSubject: { code: 400, err_code: 10112, description: 'invalid push consumer deliver subject' },
  ConsumerMaxRequestBatchNegative: {
    code: 400,
    err_code: 10114,
    description: 'consumer max request batch needs to be > 0',
  },
  ConsumerMaxRequestExpiresTooSmall: {
    code: 400,
    err_code: 10115,
    description: 'consumer max request expires needs to be >= 1ms',
  },
  ConsumerMaxDeliverBackoff: {
    code: 400,
    err_code: 10116,
    description: 'max deliver is required to be > length of backoff values',
  },
  ConsumerMaxPendingAckExcess: {
    code: 400,
    err_code: 10121,
    description: 'consumer max ack pending exceeds system limit of {limit}',
  },
  ConsumerReplicasExceedsStream: {
    code: 400,
    err_code: 10126,
    description: 'consumer config replica count exceeds parent stream',
  },
  ConsumerNameContainsPathSeparators: {
    code: 400,
    err_code: 10127,
    description: 'Consumer name can not contain path separators',
  },
  ConsumerCreateFilterSubjectMismatch: {
    code: 400,
    err_code: 10131,
    description: 'Consumer create request did not match filtered subject from create subject',
  },
  ConsumerCreateDurableAndNameMismatch: {
    code: 400,
    err_code: 10132,
    description: 'Consumer Durable and Name have to be equal if both are provided',
  },
  ConsumerMetadataLength: {
    code: 400,
    err_code: 10135,
    description: 'consumer metadata exceeds maximum size of {limit}',
  },
  ConsumerDuplicateFilterSubjects: {
    code: 400,
    err_code: 10136,
    description: 'consumer cannot have both FilterSubject and FilterSubjects specified',
  },
  ConsumerMultipleFiltersNotAllowed: {
    code: 400,
    err_code: 10137,
    description: 'consumer with multiple subject filters cannot use subject based API',
  },
  ConsumerOverlappingSubjectFilters: {
    code: 400,
    err_code: 10138,
    description: 'consumer subject filters cannot overlap',
  },
  ConsumerEmptyFilter: { code: 400, err_code: 10139, description: 'consumer filter in FilterSubjects cannot be empty' },
  ConsumerAlreadyExists: { code: 400, err_code: 10148, description: 'consumer already exists' },
  ConsumerDoesNotExist: { code: 400, err_code: 10149, description: 'consumer does not exist' },
  ConsumerInactiveThresholdExcess: {
    code: 400,
    err_code: 10153,
    description: 'consumer inactive threshold exceeds system limit of {limit}',
  },
  ConsumerOffline: { code: 500, err_code: 10119, description: 'consumer is offline' },
  ConsumerReplicasShouldMatchStream: {
    code: 400,
    err_code: 10134,
    description: "consumer config replicas must match interest retention stream's replicas",
  },
  ConsumerAckWaitNegative: { code: 400, err_code: 10183, description: 'consumer ack wait needs to be positive' },
  ConsumerBackOffNegative: { code: 400, err_code: 10184, description: 'consumer backoff needs to be positive' },
} as const satisfies Record<string, JsErrorDef>;

export type JsErrKind = keyof typeof JsErr;

/**
 * Builds the wire error for `kind`, replacing each `{name}` placeholder with `params[name]`.
 * A placeholder without a parameter is left as is (visible, rather than silently empty).
 */
export function jsApiError(kind: JsErrKind, params?: Readonly<Record<string, string | number | bigint>>): ApiError {
  const def: JsErrorDef = JsErr[kind];
  let description = def.description;
  if (params !== undefined && description.includes('{')) {
    description = description.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
      const v = params[name];
      return v === undefined ? whole : String(v);
    });
  }
  return { code: def.code, err_code: def.err_code, description };
}

/** True when `value` has the shape of an ApiError (used to pass errors through layers unchanged). */
export function isApiError(value: unknown): value is ApiError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'number' && typeof v.err_code === 'number' && typeof v.description === 'string';
}
