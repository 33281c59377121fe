// ConsumerConfig: request decoding, the defaults the server fills in (echoed back as nats-server
// 2.10 does), validation with nats-server's err_codes (setConsumerConfigDefaults +
// checkConsumerCfg in server/consumer.go), the update rules (checkNewConsumerConfig) and equality
// for idempotent re-creates.
//
// Everything here is pure: callers pass the stream's config and, for updates, whether the old
// deliver subject still has interest.

import { hasWildcard, isSubsetOf, isValidName, isValidSubject, subjectMatches } from '../../protocol/subject.ts';
import { jsApiError, type ApiError } from '../../protocol/js-errors.ts';
import type { ConsumerAction, ConsumerConfig, StreamConfig } from '../../protocol/jetstream-api.ts';
import { checkShape, type ShapeSpec } from '../json-shape.ts';
import { formatTimeNs, parseTimeNs } from '../time.ts';

const NS_PER_MS = 1_000_000;
/** nats-server JsAckWaitDefault. */
export const DEFAULT_ACK_WAIT_NS = 30_000 * NS_PER_MS;
/** nats-server JsDefaultMaxAckPending. */
export const DEFAULT_MAX_ACK_PENDING = 1000;
/** nats-server JSWaitQueueDefaultMax. */
export const DEFAULT_MAX_WAITING = 512;
/** nats-server JsDeleteWaitTimeDefault: ephemerals without inactive_threshold are reaped after it. */
export const DEFAULT_EPHEMERAL_INACTIVE_NS = 5_000 * NS_PER_MS;
export const MIN_HEARTBEAT_NS = 100 * NS_PER_MS;
export const MAX_CONSUMER_NAME_LEN = 255;
const MAX_DESCRIPTION_LEN = 4 * 1024;
const MAX_METADATA_LEN = 128 * 1024;

export type ConsumerConfigResult = { ok: true; config: ConsumerConfig } | { ok: false; error: ApiError };

const DELIVER_POLICIES = ['all', 'last', 'new', 'by_start_sequence', 'by_start_time', 'last_per_subject'] as const;

const CONFIG_SHAPE: ShapeSpec = {
  durable_name: 'string',
  name: 'string',
  description: 'string',
  deliver_policy: { enumOf: DELIVER_POLICIES },
  opt_start_seq: 'uint',
  opt_start_time: 'time',
  ack_policy: { enumOf: ['none', 'all', 'explicit'] },
  ack_wait: 'duration',
  max_deliver: 'int',
  filter_subject: 'string',
  filter_subjects: 'strings',
  replay_policy: { enumOf: ['instant', 'original'] },
  rate_limit_bps: 'uint',
  sample_freq: 'string',
  max_waiting: 'int',
  max_ack_pending: 'int',
  flow_control: 'bool',
  headers_only: 'bool',
  max_batch: 'int',
  max_expires: 'duration',
  max_bytes: 'int',
  deliver_subject: 'string',
  deliver_group: 'string',
  idle_heartbeat: 'duration',
  inactive_threshold: 'duration',
  num_replicas: 'int',
  mem_storage: 'bool',
  metadata: 'stringmap',
};

const REQUEST_SHAPE: ShapeSpec = { stream_name: 'string', config: 'object', pedantic: 'bool' };

export interface CreateRequest {
  readonly streamName: string;
  readonly config: ConsumerConfig;
  readonly action: ConsumerAction;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes a CreateConsumerRequest body (already parsed as a JSON object). Returns the Go-style
 * unmarshal error text (answered as 10025) or the request with the config as sent (no defaults).
 */
export function decodeCreateRequest(body: Record<string, unknown>): CreateRequest | string {
  const bad = checkShape('CreateConsumerRequest', body, REQUEST_SHAPE);
  if (bad !== undefined) return bad;
  const action = body.action ?? '';
  if (action !== '' && action !== 'create' && action !== 'update') {
    return `unknown consumer action: ${JSON.stringify(action)}`;
  }
  const raw = isObject(body.config) ? body.config : {};
  const decoded = decodeConsumerConfig(raw);
  if (typeof decoded === 'string') return decoded;
  return { streamName: typeof body.stream_name === 'string' ? body.stream_name : '', config: decoded, action: action as ConsumerAction };
}

/** Type-checks and copies the known ConsumerConfig fields (unknown fields are ignored, like Go). */
export function decodeConsumerConfig(raw: Record<string, unknown>): ConsumerConfig | string {
  const bad = checkShape('ConsumerConfig', raw, CONFIG_SHAPE);
  if (bad !== undefined) return bad;
  const backoff = raw.backoff;
  if (backoff !== undefined && backoff !== null) {
    if (!Array.isArray(backoff) || !backoff.every((v) => typeof v === 'number' && Number.isInteger(v))) {
      return 'json: cannot unmarshal into Go struct field ConsumerConfig.backoff of type []time.Duration';
    }
  }
  const cfg: ConsumerConfig = {
    deliver_policy: (raw.deliver_policy as ConsumerConfig['deliver_policy']) ?? 'all',
    ack_policy: (raw.ack_policy as ConsumerConfig['ack_policy']) ?? 'none',
    replay_policy: (raw.replay_policy as ConsumerConfig['replay_policy']) ?? 'instant',
    num_replicas: num(raw.num_replicas),
  };
  const s = (k: keyof ConsumerConfig): void => {
    if (typeof raw[k] === 'string' && raw[k] !== '') (cfg as unknown as Record<string, unknown>)[k] = raw[k];
  };
  const n = (k: keyof ConsumerConfig): void => {
    if (typeof raw[k] === 'number' && raw[k] !== 0) (cfg as unknown as Record<string, unknown>)[k] = raw[k];
  };
  const b = (k: keyof ConsumerConfig): void => {
    if (raw[k] === true) (cfg as unknown as Record<string, unknown>)[k] = true;
  };
  s('durable_name');
  s('name');
  s('description');
  n('opt_start_seq');
  if (typeof raw.opt_start_time === 'string') {
    const t = parseTimeNs(raw.opt_start_time);
    if (t === undefined) {
      return `parsing time ${JSON.stringify(raw.opt_start_time)} as "2006-01-02T15:04:05Z07:00": cannot parse`;
    }
    cfg.opt_start_time = formatTimeNs(t);
  }
  n('ack_wait');
  n('max_deliver');
  if (Array.isArray(backoff) && backoff.length > 0) cfg.backoff = [...(backoff as number[])];
  s('filter_subject');
  if (Array.isArray(raw.filter_subjects) && raw.filter_subjects.length > 0) cfg.filter_subjects = [...(raw.filter_subjects as string[])];
  n('rate_limit_bps');
  s('sample_freq');
  n('max_waiting');
  n('max_ack_pending');
  b('flow_control');
  b('headers_only');
  n('max_batch');
  n('max_expires');
  n('max_bytes');
  s('deliver_subject');
  s('deliver_group');
  n('idle_heartbeat');
  n('inactive_threshold');
  b('mem_storage');
  if (isObject(raw.metadata) && Object.keys(raw.metadata).length > 0) cfg.metadata = { ...(raw.metadata as Record<string, string>) };
  return cfg;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

export function isDurable(cfg: ConsumerConfig): boolean {
  return cfg.durable_name !== undefined && cfg.durable_name !== '';
}

export function isPush(cfg: ConsumerConfig): boolean {
  return cfg.deliver_subject !== undefined && cfg.deliver_subject !== '';
}

/** filter_subject or filter_subjects as one list (nats-server gatherSubjectFilters). */
export function filtersOf(cfg: ConsumerConfig): string[] {
  if (cfg.filter_subjects !== undefined && cfg.filter_subjects.length > 0) return cfg.filter_subjects;
  if (cfg.filter_subject !== undefined && cfg.filter_subject !== '') return [cfg.filter_subject];
  return [];
}

/**
 * nats-server setConsumerConfigDefaults (non-pedantic), plus the ephemeral inactive threshold
 * nats-server stamps on the consumer after creation: applying it here makes an identical re-create
 * of an ephemeral compare equal (docs/DESIGN.md, user needs 3: re-creates must be idempotent).
 */
export function applyConsumerDefaults(input: ConsumerConfig, stream: StreamConfig, accountMaxAckPending = -1): ConsumerConfig {
  const cfg: ConsumerConfig = { ...input };
  if (cfg.max_deliver === undefined || cfg.max_deliver === 0 || cfg.max_deliver < -1) cfg.max_deliver = -1;
  if ((cfg.max_waiting ?? 0) < 0) delete cfg.max_waiting;
  if ((cfg.max_ack_pending ?? 0) < -1) cfg.max_ack_pending = -1;
  for (const k of ['max_batch', 'max_expires', 'max_bytes', 'idle_heartbeat', 'inactive_threshold'] as const) {
    if ((cfg[k] ?? 0) < 0) delete cfg[k];
  }
  if (!isPush(cfg) && (cfg.max_waiting ?? 0) === 0) cfg.max_waiting = DEFAULT_MAX_WAITING;
  if ((cfg.ack_wait ?? 0) === 0 && (cfg.ack_policy === 'explicit' || cfg.ack_policy === 'all')) {
    cfg.ack_wait = DEFAULT_ACK_WAIT_NS;
  }
  if (cfg.backoff !== undefined && cfg.backoff.length > 0) cfg.ack_wait = cfg.backoff[0];
  const limits = stream.consumer_limits ?? {};
  if ((cfg.max_ack_pending ?? 0) === 0 && (limits.max_ack_pending ?? 0) > 0) cfg.max_ack_pending = limits.max_ack_pending;
  if ((cfg.inactive_threshold ?? 0) === 0 && (limits.inactive_threshold ?? 0) > 0) {
    cfg.inactive_threshold = limits.inactive_threshold;
  }
  if ((cfg.max_ack_pending ?? 0) === 0 && cfg.ack_policy !== 'none') {
    // The account's max_ack_pending lowers the default (nats-server setConsumerConfigDefaults).
    cfg.max_ack_pending = accountMaxAckPending > 0 && accountMaxAckPending < DEFAULT_MAX_ACK_PENDING ? accountMaxAckPending : DEFAULT_MAX_ACK_PENDING;
  }
  if (!isDurable(cfg) && (cfg.inactive_threshold ?? 0) === 0) cfg.inactive_threshold = DEFAULT_EPHEMERAL_INACTIVE_NS;
  return cfg;
}

const fail = (kind: Parameters<typeof jsApiError>[0], params?: Record<string, string | number>): ApiError =>
  jsApiError(kind, params);

function startConflict(dp: string, start: string): ApiError {
  return fail('ConsumerInvalidPolicy', { err: `consumer delivery policy is deliver ${dp}, but optional start ${start} is also set` });
}

function startMissing(dp: string, what: string): ApiError {
  return fail('ConsumerInvalidPolicy', { err: `consumer delivery policy is deliver ${dp}, but optional ${what} is not set` });
}

/** nats-server deliveryFormsCycle: the deliver subject would be captured by the stream itself. */
function formsCycle(stream: StreamConfig, deliverSubject: string): boolean {
  for (const s of stream.subjects ?? []) if (subjectMatches(s, deliverSubject)) return true;
  return false;
}

/** nats-server checkConsumerCfg, for a config that went through applyConsumerDefaults. */
export function checkConsumerConfig(cfg: ConsumerConfig, stream: StreamConfig, accountMaxAckPending = -1): ApiError | undefined {
  const badName = "consumer name can not contain '.', '*', '>', '\\', '/'";
  if (cfg.name !== undefined && !isValidName(cfg.name)) return fail('StreamInvalidConfig', { err: badName });
  if (cfg.durable_name !== undefined && !isValidName(cfg.durable_name)) {
    return fail('StreamInvalidConfig', { err: "consumer durable name can not contain '.', '*', '>', '\\', '/'" });
  }
  if (cfg.num_replicas > 0 && cfg.num_replicas > stream.num_replicas) return fail('ConsumerReplicasExceedsStream');
  if (cfg.num_replicas < 0) return fail('ReplicasCountCannotBeNegative');
  if ((stream.retention === 'interest' || stream.retention === 'workqueue') && cfg.num_replicas !== 0 && cfg.num_replicas !== stream.num_replicas) {
    return fail('ConsumerReplicasShouldMatchStream');
  }
  for (const b of cfg.backoff ?? []) if (b < 0) return fail('ConsumerBackOffNegative');
  if ((cfg.ack_wait ?? 0) < 0) return fail('ConsumerAckWaitNegative');
  const maxDeliver = cfg.max_deliver ?? -1;
  if (cfg.backoff !== undefined && cfg.backoff.length > 0 && maxDeliver !== -1 && cfg.backoff.length > maxDeliver) {
    return fail('ConsumerMaxDeliverBackoff');
  }
  if ((cfg.description ?? '').length > MAX_DESCRIPTION_LEN) return fail('ConsumerDescriptionTooLong', { max: MAX_DESCRIPTION_LEN });
  const hb = cfg.idle_heartbeat ?? 0;
  if (isPush(cfg)) {
    const ds = cfg.deliver_subject!;
    if (hasWildcard(ds)) return fail('ConsumerDeliverToWildcards');
    if (!isValidSubject(ds)) return fail('ConsumerInvalidDeliverSubject');
    if (formsCycle(stream, ds)) return fail('ConsumerDeliverCycle');
    if ((cfg.max_waiting ?? 0) !== 0) return fail('ConsumerPushMaxWaiting');
    if ((cfg.max_ack_pending ?? 0) > 0 && cfg.ack_policy === 'none') return fail('ConsumerMaxPendingAckPolicyRequired');
    if (hb > 0 && hb < MIN_HEARTBEAT_NS) return fail('ConsumerSmallHeartbeat');
  } else {
    if (cfg.ack_policy === 'none' && stream.retention === 'workqueue') return fail('ConsumerPullRequiresAck');
    if ((cfg.rate_limit_bps ?? 0) > 0) return fail('ConsumerPullWithRateLimit');
    if ((cfg.max_waiting ?? 0) < 0) return fail('ConsumerMaxWaitingNegative');
    if (hb > 0) return fail('ConsumerHBRequiresPush');
    if (cfg.flow_control === true) return fail('ConsumerFCRequiresPush');
    if ((cfg.max_batch ?? 0) < 0) return fail('ConsumerMaxRequestBatchNegative');
    const maxExpires = cfg.max_expires ?? 0;
    if (maxExpires !== 0 && maxExpires < NS_PER_MS) return fail('ConsumerMaxRequestExpiresTooSmall');
  }
  if (accountMaxAckPending > 0 && (cfg.max_ack_pending ?? 0) > accountMaxAckPending) {
    return fail('ConsumerMaxPendingAckExcess', { limit: accountMaxAckPending });
  }
  const limits = stream.consumer_limits ?? {};
  if ((limits.max_ack_pending ?? 0) > 0 && (cfg.max_ack_pending ?? 0) > limits.max_ack_pending!) {
    return fail('ConsumerMaxPendingAckExcess', { limit: limits.max_ack_pending! });
  }
  if ((limits.inactive_threshold ?? 0) > 0 && (cfg.inactive_threshold ?? 0) > limits.inactive_threshold!) {
    return fail('ConsumerInactiveThresholdExcess', { limit: limits.inactive_threshold! });
  }
  if (cfg.filter_subject !== undefined && cfg.filter_subjects !== undefined) return fail('ConsumerDuplicateFilterSubjects');
  if (cfg.filter_subject !== undefined && !isValidSubject(cfg.filter_subject)) {
    return fail('StreamInvalidConfig', { err: 'invalid subject' });
  }
  for (const f of cfg.filter_subjects ?? []) if (f === '') return fail('ConsumerEmptyFilter');
  const filters = filtersOf(cfg);
  for (let i = 0; i < filters.length; i++) {
    if (!isValidSubject(filters[i]!)) return fail('StreamInvalidConfig', { err: 'invalid subject' });
    for (let j = 0; j < filters.length; j++) {
      if (i !== j && (isSubsetOf(filters[i]!, filters[j]!) || isSubsetOf(filters[j]!, filters[i]!))) {
        return fail('ConsumerOverlappingSubjectFilters');
      }
    }
  }
  const policyErr = checkDeliverPolicy(cfg);
  if (policyErr !== undefined) return policyErr;
  if (cfg.sample_freq !== undefined) {
    const f = cfg.sample_freq.endsWith('%') ? cfg.sample_freq.slice(0, -1) : cfg.sample_freq;
    if (!/^\d+$/.test(f)) return fail('ConsumerInvalidSampling', { err: `strconv.Atoi: parsing ${JSON.stringify(f)}: invalid syntax` });
  }
  if (cfg.flow_control === true && hb === 0) return fail('ConsumerWithFlowControlNeedsHeartbeats');
  if (cfg.durable_name !== undefined && cfg.name !== undefined && cfg.name !== cfg.durable_name) {
    return fail('ConsumerCreateDurableAndNameMismatch');
  }
  let metaLen = 0;
  for (const [k, v] of Object.entries(cfg.metadata ?? {})) metaLen += k.length + v.length;
  if (metaLen > MAX_METADATA_LEN) return fail('ConsumerMetadataLength', { limit: `${MAX_METADATA_LEN / 1024}KB` });
  return undefined;
}

function checkDeliverPolicy(cfg: ConsumerConfig): ApiError | undefined {
  const seq = (cfg.opt_start_seq ?? 0) > 0;
  const time = cfg.opt_start_time !== undefined;
  switch (cfg.deliver_policy) {
    case 'all':
    case 'last':
    case 'new':
      if (seq) return startConflict(cfg.deliver_policy, 'sequence');
      if (time) return startConflict(cfg.deliver_policy, 'time');
      return undefined;
    case 'last_per_subject':
      if (seq) return startConflict('last per subject', 'sequence');
      if (time) return startConflict('last per subject', 'time');
      if (filtersOf(cfg).length === 0) return startMissing('last per subject', 'filter subject');
      return undefined;
    case 'by_start_sequence':
      if (!seq) return startMissing('by start sequence', 'start sequence');
      if (time) return startConflict('by start sequence', 'time');
      return undefined;
    case 'by_start_time':
      if (!time) return startMissing('by start time', 'start time');
      if (seq) return startConflict('by start time', 'start sequence');
      return undefined;
    default:
      return undefined;
  }
}

/**
 * nats-server checkNewConsumerConfig: what an update may change. Plain-text failures are answered
 * as 10012 with the text; some failures are their own error codes.
 */
export function checkConsumerUpdate(old: ConsumerConfig, next: ConsumerConfig, oldDeliverHasInterest: boolean): ApiError | string | undefined {
  if (sameConsumerConfig(old, next)) return undefined;
  if (old.deliver_policy !== next.deliver_policy) return 'deliver policy can not be updated';
  if ((old.mem_storage ?? false) !== (next.mem_storage ?? false)) return 'storage type can not be updated';
  if ((old.opt_start_seq ?? 0) !== (next.opt_start_seq ?? 0)) return 'start sequence can not be updated';
  if (old.opt_start_time !== next.opt_start_time) return 'start time can not be updated';
  if (old.ack_policy !== next.ack_policy) return 'ack policy can not be updated';
  if (old.replay_policy !== next.replay_policy) return 'replay policy can not be updated';
  if ((old.idle_heartbeat ?? 0) !== (next.idle_heartbeat ?? 0)) return 'heart beats can not be updated';
  if ((old.flow_control ?? false) !== (next.flow_control ?? false)) return 'flow control can not be updated';
  if ((old.deliver_subject ?? '') !== (next.deliver_subject ?? '')) {
    if (!isPush(old)) return 'can not update pull consumer to push based';
    if (!isPush(next)) return 'can not update push consumer to pull based';
    if (oldDeliverHasInterest) return jsApiError('ConsumerNameExist');
  }
  if ((old.max_waiting ?? 0) !== (next.max_waiting ?? 0)) return 'max waiting can not be updated';
  const bo = next.backoff?.length ?? 0;
  if (bo > 0 && (next.max_deliver ?? -1) !== -1 && bo > (next.max_deliver ?? -1)) return jsApiError('ConsumerMaxDeliverBackoff');
  return undefined;
}

/** Field order of nats-server's ConsumerConfig struct (the JSON it sends). */
const FIELD_ORDER: readonly (keyof ConsumerConfig)[] = [
  'durable_name',
  'name',
  'description',
  'deliver_policy',
  'opt_start_seq',
  'opt_start_time',
  'ack_policy',
  'ack_wait',
  'max_deliver',
  'backoff',
  'filter_subject',
  'filter_subjects',
  'replay_policy',
  'rate_limit_bps',
  'sample_freq',
  'max_waiting',
  'max_ack_pending',
  'flow_control',
  'headers_only',
  'max_batch',
  'max_expires',
  'max_bytes',
  'deliver_subject',
  'deliver_group',
  'idle_heartbeat',
  'inactive_threshold',
  'num_replicas',
  'mem_storage',
  'metadata',
];

/** Fields nats-server always writes; every other field is `omitempty`. */
const ALWAYS = new Set<string>(['deliver_policy', 'ack_policy', 'replay_policy', 'num_replicas']);

function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** The config as nats-server writes it: its field order, empty fields omitted. */
export function consumerConfigJson(cfg: ConsumerConfig): ConsumerConfig {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) {
    const v = cfg[k];
    if (ALWAYS.has(k) || !isEmptyValue(v)) out[k] = v;
  }
  return out as unknown as ConsumerConfig;
}

/** Equality of two normalised configs (Go reflect.DeepEqual on the struct). */
export function sameConsumerConfig(a: ConsumerConfig, b: ConsumerConfig): boolean {
  return canonical(consumerConfigJson(a)) === canonical(consumerConfigJson(b));
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
