// StreamConfig: the defaults the server fills in (echoed back exactly as nats-server 2.10 does),
// validation with nats-server's err_codes and descriptions, and the update rules.
//
// Everything here is pure: callers pass in the other streams' configs for the overlap check.

import { isValidName, isSubsetOf, SubjectKind, subjectKind, subjectsCollide } from '../../protocol/subject.ts';
import { SubjectOverlapIndex } from '../../protocol/subject-overlap.ts';
import { jsApiError, type ApiError } from '../../protocol/js-errors.ts';
import type {
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  StoreCompression,
  StreamConfig,
  StreamConsumerLimits,
} from '../../protocol/jetstream-api.ts';
import { checkShape, type ShapeSpec } from '../json-shape.ts';
import {
  checkSourcingShape,
  normalizeRepublish,
  normalizeSourcing,
  normalizeSubjectTransform,
  type StreamLookup,
} from './config-sourcing.ts';

export const NS_PER_MS = 1_000_000;
/** nats-server StreamDefaultDuplicatesWindow. */
export const DEFAULT_DUPLICATE_WINDOW_NS = 2 * 60 * 1000 * NS_PER_MS;
export const MIN_MAX_AGE_NS = 100 * NS_PER_MS;
export const MIN_DUPLICATE_WINDOW_NS = 100 * NS_PER_MS;
export const MAX_NAME_LEN = 255;
export const MAX_DESCRIPTION_LEN = 4 * 1024;
export const MAX_METADATA_LEN = 128 * 1024;
export const MAX_REPLICAS = 5;
/**
 * sluice's own bound (nats-server has none): every subject is a router subscription and an entry
 * in each overlap check, so an unbounded list is unbounded work for one request.
 */
export const MAX_SUBJECTS_PER_STREAM = 10_000;

/** `unsupported`: the config is one nats-server would take, asking for a feature sluice lacks. */
export type ConfigResult = { ok: true; config: StreamConfig } | { ok: false; error: ApiError; unsupported?: true };

const STREAM_CONFIG_SHAPE: ShapeSpec = {
  name: 'string',
  description: 'string',
  subjects: 'strings',
  retention: { enumOf: ['limits', 'interest', 'workqueue'] },
  max_consumers: 'int',
  max_msgs: 'int',
  max_bytes: 'int',
  max_age: 'duration',
  max_msgs_per_subject: 'int',
  max_msg_size: 'int32',
  discard: { enumOf: ['old', 'new'] },
  storage: { enumOf: ['file', 'memory'] },
  num_replicas: 'int',
  no_ack: 'bool',
  duplicate_window: 'duration',
  placement: 'object',
  mirror: 'object',
  sources: 'objects',
  compression: { enumOf: ['none', 's2', ''] },
  first_seq: 'uint',
  subject_transform: 'object',
  republish: 'object',
  allow_direct: 'bool',
  mirror_direct: 'bool',
  discard_new_per_subject: 'bool',
  sealed: 'bool',
  deny_delete: 'bool',
  deny_purge: 'bool',
  allow_rollup_hdrs: 'bool',
  consumer_limits: 'object',
  metadata: 'stringmap',
};

const CONSUMER_LIMITS_SHAPE: ShapeSpec = { inactive_threshold: 'duration', max_ack_pending: 'int' };
const PLACEMENT_SHAPE: ShapeSpec = { cluster: 'string', tags: 'strings', preferred: 'string' };

/** Type-checks a decoded request body; the error text goes into a 10025. */
export function checkStreamConfigShape(body: Record<string, unknown>): string | undefined {
  const err = checkShape('StreamConfig', body, STREAM_CONFIG_SHAPE);
  if (err !== undefined) return err;
  if (isObject(body.consumer_limits)) {
    const e = checkShape('StreamConsumerLimits', body.consumer_limits, CONSUMER_LIMITS_SHAPE);
    if (e !== undefined) return e;
  }
  if (isObject(body.placement)) {
    const e = checkShape('Placement', body.placement, PLACEMENT_SHAPE);
    if (e !== undefined) return e;
  }
  return checkSourcingShape(body);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(err: string): { ok: false; error: ApiError } {
  return { ok: false, error: jsApiError('StreamInvalidConfig', { err }) };
}

function unsupported(err: string): { ok: false; error: ApiError; unsupported: true } {
  return { ...invalid(err), unsupported: true };
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function bool(v: unknown): boolean {
  return v === true;
}

/**
 * A count/size limit: 0 means unlimited (-1). Other negatives are rejected rather than silently
 * turned into -1 (nats-server 2.11+ does that outside pedantic mode; 2.9 stored them as given):
 * a negative limit is almost always a client bug, and the issue asks for a JSON error.
 */
function limit(field: string, v: unknown): number | string {
  const n = num(v);
  if (n === 0) return -1;
  if (n < -1) return `${field} must be set to -1`;
  return n;
}

/**
 * Fills in the server defaults and validates, like nats-server's checkStreamCfg (2.10 semantics
 * for what is echoed). Does not check cross-stream subject overlap (see findOverlap) or replicas
 * against the cluster (the caller answers 10074 for num_replicas > 1 in single-server mode).
 * `lookup` finds the other streams a mirror or source names (their limits, allow_direct, cycles).
 * `body` must have passed checkStreamConfigShape.
 */
export function normalizeStreamConfig(body: Record<string, unknown>, lookup: StreamLookup = () => undefined): ConfigResult {
  const name = str(body.name);
  if (!isValidName(name)) {
    return invalid("stream name is required and can not contain '.', '*', '>'");
  }
  if (name.length > MAX_NAME_LEN) return invalid(`stream name is too long, maximum allowed is ${MAX_NAME_LEN}`);
  const description = str(body.description);
  if (description.length > MAX_DESCRIPTION_LEN) {
    return invalid(`stream description is too long, maximum allowed is ${MAX_DESCRIPTION_LEN}`);
  }
  let metadata: Record<string, string> | undefined;
  if (isObject(body.metadata) && Object.keys(body.metadata).length > 0) {
    metadata = { ...(body.metadata as Record<string, string>) };
    let len = 0;
    for (const [k, v] of Object.entries(metadata)) len += k.length + v.length;
    if (len > MAX_METADATA_LEN) return invalid(`stream metadata exceeds maximum size of ${MAX_METADATA_LEN} bytes`);
  }

  const storage = (str(body.storage) || 'file') as StorageType;
  const retention = (str(body.retention) || 'limits') as RetentionPolicy;
  const discard = (str(body.discard) || 'old') as DiscardPolicy;
  const compression = (str(body.compression) || 'none') as StoreCompression;

  let replicas = num(body.num_replicas);
  if (replicas === 0) replicas = 1;
  if (replicas > MAX_REPLICAS) return invalid(`maximum replicas is ${MAX_REPLICAS}`);
  if (replicas < 0) return { ok: false, error: jsApiError('ReplicasCountCannotBeNegative') };

  const maxMsgs = limit('max_msgs', body.max_msgs);
  const maxMsgsPer = limit('max_msgs_per_subject', body.max_msgs_per_subject);
  const maxBytes = limit('max_bytes', body.max_bytes);
  const maxMsgSize = limit('max_msg_size', body.max_msg_size);
  const maxConsumers = limit('max_consumers', body.max_consumers);
  for (const l of [maxMsgs, maxMsgsPer, maxBytes, maxMsgSize, maxConsumers]) {
    if (typeof l === 'string') return invalid(l);
  }

  const maxAge = num(body.max_age);
  if (maxAge < 0) return invalid('max age can not be negative');
  if (maxAge !== 0 && maxAge < MIN_MAX_AGE_NS) return invalid('max age needs to be >= 100ms');

  const hasMirror = isObject(body.mirror);
  const hasSources = Array.isArray(body.sources) && body.sources.length > 0;
  let dup = num(body.duplicate_window);
  // Sources dedupe by Nats-Msg-Id like publishes; a mirror stores exactly what its origin has.
  if (dup === 0 && !hasMirror) {
    dup = maxAge !== 0 && maxAge < DEFAULT_DUPLICATE_WINDOW_NS ? maxAge : DEFAULT_DUPLICATE_WINDOW_NS;
  }
  if (dup < 0) return invalid('duplicates window can not be negative');
  if (maxAge !== 0 && dup > maxAge) return invalid('duplicates window can not be larger then max age');
  if (dup > 0 && dup < MIN_DUPLICATE_WINDOW_NS) return invalid('duplicates window needs to be >= 100ms');

  const denyPurge = bool(body.deny_purge);
  const allowRollup = bool(body.allow_rollup_hdrs);
  if (denyPurge && allowRollup) return invalid('roll-ups require the purge permission');

  const discardNewPer = bool(body.discard_new_per_subject);
  if (discardNewPer) {
    if (discard !== 'new') return invalid('discard new per subject requires discard new policy to be set');
    if ((maxMsgsPer as number) <= 0) return invalid('discard new per subject requires max msgs per subject > 0');
  }

  let subjects = Array.isArray(body.subjects) ? (body.subjects as string[]).slice() : [];
  const sourcing = normalizeSourcing(body, { name, subjects, firstSeq: num(body.first_seq), maxMsgSize: maxMsgSize as number }, lookup);
  if (!sourcing.ok) return sourcing;
  const { mirror, sources, mirrorDirect } = sourcing.value;

  const noAck = bool(body.no_ack);
  if (subjects.length === 0) {
    // A mirror or a stream with sources needs no subjects of its own.
    if (!hasMirror && !hasSources) subjects = [name];
  } else {
    if (subjects.length > MAX_SUBJECTS_PER_STREAM) {
      return invalid(`too many subjects: ${subjects.length}, a stream takes at most ${MAX_SUBJECTS_PER_STREAM}`);
    }
    const seen = new Set<string>();
    const wildcards: number[] = [];
    for (let i = 0; i < subjects.length; i++) {
      const subj = subjects[i]!;
      const kind = subjectKind(subj);
      if (kind === SubjectKind.Invalid) return invalid('invalid subject');
      if (seen.has(subj)) return invalid('duplicate subjects detected');
      if (subj === '>' && !noAck) return invalid('capturing all subjects requires no-ack to be true');
      // Only a subject whose first token is literally $JS, $JSC or $SYS is a subset of those.
      if (!noAck && subj.charCodeAt(0) === 0x24) {
        if ((isSubsetOf(subj, '$JS.>') || isSubsetOf(subj, '$JSC.>')) && !isSubsetOf(subj, '$JS.EVENT.>')) {
          return invalid('subjects that overlap with jetstream api require no-ack to be true');
        }
        if (isSubsetOf(subj, '$SYS.>') && !isSubsetOf(subj, '$SYS.ACCOUNT.>')) {
          return invalid('subjects that overlap with system api require no-ack to be true');
        }
      }
      if (kind === SubjectKind.Wildcard) wildcards.push(i);
      seen.add(subj);
    }
    const overlap = firstOverlap(subjects, wildcards);
    if (overlap !== undefined) return invalid(`subject ${JSON.stringify(overlap[0])} overlaps with ${JSON.stringify(overlap[1])}`);
  }

  let placement: StreamConfig['placement'];
  if (isObject(body.placement)) {
    const p = body.placement;
    if (str(p.preferred) !== '') return invalid('preferred server not permitted in placement');
    const cluster = str(p.cluster);
    const tags = Array.isArray(p.tags) ? (p.tags as string[]).slice() : [];
    if (cluster !== '' || tags.length > 0) {
      placement = {};
      if (cluster !== '') placement.cluster = cluster;
      if (tags.length > 0) placement.tags = tags;
    }
  }

  const consumerLimits: StreamConsumerLimits = {};
  if (isObject(body.consumer_limits)) {
    const it = num(body.consumer_limits.inactive_threshold);
    const map = num(body.consumer_limits.max_ack_pending);
    if (it < 0) return invalid('consumer_limits.inactive_threshold can not be negative');
    if (it > 0) consumerLimits.inactive_threshold = it;
    if (map !== 0) consumerLimits.max_ack_pending = map;
  }

  const republish = normalizeRepublish(body, subjects);
  if (!republish.ok) return republish;
  const subjectTransform = normalizeSubjectTransform(body);

  // Features sluice does not implement are refused, not silently ignored: a client that asked for
  // a mirror and got a plain stream would believe data is being copied. Checked after everything
  // nats-server checks, so a config it would refuse gets its answer.
  if ((mirror !== undefined || sources !== undefined || republish.value !== undefined) && replicas > 1) {
    return unsupported('stream mirrors, sources and republish are not supported with replicas > 1 by this server');
  }

  // Build in nats-server's field order so the echo reads the same as a Go server's.
  const cfg: StreamConfig = {
    name,
    ...(description !== '' ? { description } : {}),
    ...(subjects.length > 0 ? { subjects } : {}),
    retention,
    max_consumers: maxConsumers as number,
    max_msgs: maxMsgs as number,
    max_bytes: maxBytes as number,
    max_age: maxAge,
    max_msgs_per_subject: maxMsgsPer as number,
    max_msg_size: maxMsgSize as number,
    discard,
    storage,
    num_replicas: replicas,
    ...(noAck ? { no_ack: true } : {}),
    ...(dup !== 0 ? { duplicate_window: dup } : {}),
    ...(placement !== undefined ? { placement } : {}),
    ...(mirror !== undefined ? { mirror } : {}),
    ...(sources !== undefined ? { sources } : {}),
    compression,
    ...(num(body.first_seq) > 0 ? { first_seq: num(body.first_seq) } : {}),
    ...(subjectTransform !== undefined ? { subject_transform: subjectTransform } : {}),
    ...(republish.value !== undefined ? { republish: republish.value } : {}),
    allow_direct: bool(body.allow_direct),
    mirror_direct: mirrorDirect ?? bool(body.mirror_direct),
    ...(discardNewPer ? { discard_new_per_subject: true } : {}),
    sealed: bool(body.sealed),
    deny_delete: bool(body.deny_delete),
    deny_purge: denyPurge,
    allow_rollup_hdrs: allowRollup,
    consumer_limits: consumerLimits,
    ...(metadata !== undefined ? { metadata } : {}),
  };
  return { ok: true, config: cfg };
}

/**
 * nats-server configUpdateCheck: what an UPDATE may not change. Returns the config to store
 * (sealing adjusts a few fields) or the error. Cross-stream overlap is checked by the caller.
 */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): ConfigResult {
  if (next.name !== old.name) return invalid('stream configuration name must match original');
  if (next.max_consumers !== old.max_consumers) {
    return invalid('stream configuration update can not change MaxConsumers');
  }
  if (next.storage !== old.storage) return invalid('stream configuration update can not change storage type');
  if (next.retention !== old.retention && (old.retention === 'workqueue' || next.retention === 'workqueue')) {
    return invalid('stream configuration update can not change retention policy to/from workqueue');
  }
  if (!next.sealed && old.sealed) return invalid('stream configuration update can not unseal a sealed stream');
  if (!next.deny_delete && old.deny_delete) {
    return invalid('stream configuration update can not cancel deny message deletes');
  }
  if (!next.deny_purge && old.deny_purge) return invalid('stream configuration update can not cancel deny purge');
  if (JSON.stringify(next.mirror) !== JSON.stringify(old.mirror)) {
    return { ok: false, error: jsApiError('StreamMirrorNotUpdatable') };
  }
  if (next.sealed) {
    // A sealed stream keeps everything forever and accepts nothing (nats-server does the same).
    const sealed: StreamConfig = { ...next, max_age: 0, discard: 'new', deny_delete: true, deny_purge: true };
    sealed.allow_rollup_hdrs = false;
    return { ok: true, config: sealed };
  }
  return { ok: true, config: next };
}

/** The name of the first other stream whose subjects collide with `subjects`, if any. */
export function findOverlap(
  subjects: readonly string[],
  others: Iterable<{ readonly name: string; readonly subjects?: readonly string[] }>,
  exceptName?: string,
): string | undefined {
  // One index of the smaller side, one query per subject of the other (protocol/subject-overlap.ts):
  // a 10,000-subject create next to a few small streams indexes the few, not the 10,000.
  const streams: { readonly name: string; readonly subjects: readonly string[] }[] = [];
  let otherCount = 0;
  for (const other of others) {
    if (other.name === exceptName || other.subjects === undefined || other.subjects.length === 0) continue;
    streams.push({ name: other.name, subjects: other.subjects });
    otherCount += other.subjects.length;
  }
  if (otherCount === 0 || subjects.length === 0) return undefined;
  if (subjects.length <= otherCount) {
    const index = new SubjectOverlapIndex<true>();
    for (const s of subjects) index.add(s, true);
    for (const other of streams) {
      for (const a of other.subjects) {
        let hit = false;
        index.forEachCollision(a, () => (hit = true));
        if (hit) return other.name;
      }
    }
    return undefined;
  }
  // The others indexed by their position; the first colliding stream in their order is reported.
  const index = new SubjectOverlapIndex<number>();
  streams.forEach((other, k) => {
    for (const a of other.subjects) index.add(a, k);
  });
  let first = streams.length;
  for (const s of subjects) index.forEachCollision(s, (k) => (first = Math.min(first, k)));
  return first < streams.length ? streams[first]!.name : undefined;
}

/** Above this many pairs (wildcards x subjects), firstOverlap uses an index instead of comparing. */
const DIRECT_OVERLAP_PAIRS = 200_000;

/**
 * The pair nats-server reports for a list that overlaps itself: the first subject (in list order)
 * that collides with a later one, and the first such later one. Subjects are distinct here, so two
 * literals never collide: with `wildcards` (the positions of the wildcard subjects) empty there is
 * nothing to check, and with a few of them only pairs that involve one are compared.
 */
function firstOverlap(subjects: readonly string[], wildcards: readonly number[]): [string, string] | undefined {
  if (wildcards.length === 0) return undefined;
  if (wildcards.length * subjects.length > DIRECT_OVERLAP_PAIRS) return firstOverlapIndexed(subjects);
  const isWild = new Set(wildcards);
  for (let i = 0; i < subjects.length; i++) {
    const a = subjects[i]!;
    let first = -1;
    if (isWild.has(i)) {
      for (let k = i + 1; k < subjects.length && first === -1; k++) if (subjectsCollide(a, subjects[k]!)) first = k;
    } else {
      for (const k of wildcards) if (k > i && (first === -1 || k < first) && subjectsCollide(a, subjects[k]!)) first = k;
    }
    if (first !== -1) return [a, subjects[first]!];
  }
  return undefined;
}

function firstOverlapIndexed(subjects: readonly string[]): [string, string] | undefined {
  const index = new SubjectOverlapIndex<number>();
  subjects.forEach((s, k) => index.add(s, k));
  for (let i = 0; i < subjects.length; i++) {
    // Nothing before i collides with anything (it would have been reported), so every hit other
    // than i itself is later; the queries of non-colliding subjects find only themselves.
    let first = -1;
    index.forEachCollision(subjects[i]!, (k) => {
      if (k > i && (first === -1 || k < first)) first = k;
    });
    if (first !== -1) return [subjects[i]!, subjects[first]!];
  }
  return undefined;
}

/** Deep equality of two normalised configs (create-on-existing returns success only when equal). */
export function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
