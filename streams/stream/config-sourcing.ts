// StreamConfig fields that move or rename messages: `mirror`, `sources`, `subject_transform` and
// `republish`. Normalised and validated in nats-server 2.10's order and with its error codes
// (checkStreamCfg for what config.ts refuses with 10xxx codes; the transform compile errors
// nats-server only meets when it builds the stream come out of checkLateTransforms as 10049 on
// CREATE and 10069 on UPDATE, as they do there). Pure: other streams are reached through `lookup`.

import { isValidName, isValidPublishSubject, isValidSubject, isSubsetOf, subjectsCollide } from '../../protocol/subject.ts';
import { compileSubjectTransform, validateMappingDestination } from '../../protocol/subject-transform.ts';
import { jsApiError, type ApiError } from '../../protocol/js-errors.ts';
import type { RePublish, StreamConfig, StreamSource, SubjectTransformConfig } from '../../protocol/jetstream-api.ts';
import { checkShape, type ShapeSpec } from '../json-shape.ts';

/** Another stream's config by name (undefined when there is none). */
export type StreamLookup = (name: string) => StreamConfig | undefined;

const SOURCE_SHAPE: ShapeSpec = {
  name: 'string',
  opt_start_seq: 'uint',
  opt_start_time: 'time',
  filter_subject: 'string',
  subject_transforms: 'objects',
  external: 'object',
};
const TRANSFORM_SHAPE: ShapeSpec = { src: 'string', dest: 'string' };
const REPUBLISH_SHAPE: ShapeSpec = { src: 'string', dest: 'string', headers_only: 'bool' };
const EXTERNAL_SHAPE: ShapeSpec = { api: 'string', deliver: 'string' };

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** Type-checks the nested objects (a wrong type is a 10025 like any other field). */
export function checkSourcingShape(body: Obj): string | undefined {
  const sources = [...(isObject(body.mirror) ? [body.mirror] : []), ...(Array.isArray(body.sources) ? (body.sources as Obj[]) : [])];
  for (const s of sources) {
    const e = checkShape('StreamSource', s, SOURCE_SHAPE);
    if (e !== undefined) return e;
    for (const t of Array.isArray(s.subject_transforms) ? (s.subject_transforms as Obj[]) : []) {
      const te = checkShape('SubjectTransformConfig', t, TRANSFORM_SHAPE);
      if (te !== undefined) return te;
    }
    if (isObject(s.external)) {
      const ee = checkShape('ExternalStream', s.external, EXTERNAL_SHAPE);
      if (ee !== undefined) return ee;
    }
  }
  if (isObject(body.subject_transform)) {
    const e = checkShape('SubjectTransformConfig', body.subject_transform, TRANSFORM_SHAPE);
    if (e !== undefined) return e;
  }
  if (isObject(body.republish)) return checkShape('RePublish', body.republish, REPUBLISH_SHAPE);
  return undefined;
}

export interface Sourcing {
  mirror?: StreamSource;
  sources?: StreamSource[];
  /** Mirrors inherit the origin's allow_direct when the origin exists. */
  mirrorDirect?: boolean;
}

type Result<T> = { ok: true; value: T } | { ok: false; error: ApiError; unsupported?: true };

function fail(kind: Parameters<typeof jsApiError>[0], params?: Record<string, string | number>): { ok: false; error: ApiError } {
  return { ok: false, error: jsApiError(kind, params) };
}

function invalid(err: string): { ok: false; error: ApiError } {
  return fail('StreamInvalidConfig', { err });
}

/** A source as the server stores and echoes it (nats-server's omitempty fields left out). */
function normalizeSource(s: Obj): StreamSource {
  const out: StreamSource = { name: str(s.name) };
  if (typeof s.opt_start_seq === 'number' && s.opt_start_seq > 0) out.opt_start_seq = s.opt_start_seq;
  if (str(s.opt_start_time) !== '') out.opt_start_time = str(s.opt_start_time);
  if (str(s.filter_subject) !== '') out.filter_subject = str(s.filter_subject);
  const trs = Array.isArray(s.subject_transforms) ? (s.subject_transforms as Obj[]) : [];
  if (trs.length > 0) out.subject_transforms = trs.map((t) => ({ src: str(t.src), dest: str(t.dest) }));
  if (isObject(s.external)) out.external = { api: str(s.external.api), deliver: str(s.external.deliver) };
  return out;
}

/** nats-server composeIName: two sources with the same key would copy the same messages twice. */
function sourceKey(s: StreamSource): string {
  const trs = s.subject_transforms ?? [];
  const pairs = trs.length === 0 ? [[s.filter_subject || '>', '>']] : trs.map((t) => [t.src || '>', t.dest || '>']);
  return JSON.stringify([s.name, s.external?.api ?? null, pairs]);
}

function checkExternal(ext: StreamSource['external']): Result<undefined> | undefined {
  if (ext === undefined) return undefined;
  const deliver = ext.deliver ?? '';
  if (deliver !== '' && !isValidPublishSubject(deliver)) return fail('StreamInvalidExternalDeliverySubj', { prefix: deliver });
  if (ext.api !== '') {
    if (!isValidPublishSubject(ext.api)) {
      return invalid(`stream external api prefix ${JSON.stringify(ext.api)} must be a valid subject without wildcards`);
    }
    if (subjectsCollide(ext.api, '$JS.API')) return fail('StreamExternalApiOverlap', { prefix: ext.api, subject: '$JS.API' });
  }
  return undefined;
}

/**
 * The mirror and source checks of nats-server checkStreamCfg, in its order. `subjects` are the
 * requested subjects (before defaulting), `firstSeq` and `maxMsgSize` the request's.
 */
export function normalizeSourcing(
  body: Obj,
  self: { name: string; subjects: readonly string[]; firstSeq: number; maxMsgSize: number },
  lookup: StreamLookup,
): Result<Sourcing> {
  const out: Sourcing = {};
  const rawSources = Array.isArray(body.sources) ? (body.sources as Obj[]) : [];
  if (isObject(body.mirror)) {
    const m = normalizeSource(body.mirror);
    if (self.firstSeq > 0) return fail('MirrorWithFirstSeq');
    if (self.subjects.length > 0) return fail('MirrorWithSubjects');
    if (rawSources.length > 0) return fail('MirrorWithSources');
    const trs = m.subject_transforms ?? [];
    if (m.filter_subject !== undefined && trs.length > 0) return fail('MirrorMultipleFiltersNotAllowed');
    for (let i = 0; i < trs.length; i++) {
      if (!isValidSubject(trs[i]!.src ?? '')) return fail('MirrorInvalidSubjectFilter');
      for (let j = 0; j < trs.length; j++) {
        if (i !== j && subjectsCollide(trs[i]!.src ?? '', trs[j]!.src ?? '')) return fail('MirrorOverlappingSubjectFilters');
      }
    }
    if (m.external === undefined) {
      if (!isValidName(m.name)) return fail('MirrorInvalidStreamName');
      const origin = lookup(m.name);
      if (origin !== undefined) {
        if (self.maxMsgSize > 0 && origin.max_msg_size > 0 && self.maxMsgSize < origin.max_msg_size) {
          return fail('MirrorMaxMessageSizeTooBig');
        }
        out.mirrorDirect = origin.allow_direct;
      }
    } else {
      const bad = checkExternal(m.external);
      if (bad !== undefined) return bad as Result<Sourcing>;
    }
    out.mirror = m;
  }
  const seen = new Set<string>();
  const sources: StreamSource[] = [];
  for (const raw of rawSources) {
    const s = normalizeSource(raw);
    if (!isValidName(s.name)) return fail('SourceInvalidStreamName');
    const key = sourceKey(s);
    if (seen.has(key)) return fail('SourceDuplicateDetected');
    seen.add(key);
    if (s.external === undefined) {
      const origin = lookup(s.name);
      if (origin !== undefined && self.maxMsgSize > 0 && origin.max_msg_size > 0 && self.maxMsgSize < origin.max_msg_size) {
        return fail('SourceMaxMessageSizeTooBig');
      }
      const trs = s.subject_transforms ?? [];
      if (s.filter_subject !== undefined && trs.length > 0) return fail('SourceMultipleFiltersNotAllowed');
      for (const t of trs) if (validateMappingDestination(t.dest) !== undefined) return fail('SourceInvalidTransformDestination');
      for (let i = 0; i < trs.length; i++) {
        if (!isValidSubject(trs[i]!.src ?? '')) return fail('SourceInvalidSubjectFilter');
        for (let j = 0; j < trs.length; j++) {
          if (i !== j && isSubsetOf(trs[i]!.src ?? '', trs[j]!.src ?? '')) return fail('SourceOverlappingSubjectFilters');
        }
      }
    } else {
      const bad = checkExternal(s.external);
      if (bad !== undefined) return bad as Result<Sourcing>;
    }
    sources.push(s);
  }
  if (sources.length > 0) out.sources = sources;
  if (hasCycle(self.name, self.subjects, out, lookup)) return invalid('detected cycle');
  return { ok: true, value: out };
}

/** nats-server's cycle walk: a stream may not (through sources and mirrors) end up sourcing itself. */
function hasCycle(name: string, subjects: readonly string[], own: Sourcing, lookup: StreamLookup): boolean {
  const toVisit: { name: string; subjects: readonly string[]; mirror?: StreamSource | undefined; sources?: StreamSource[] | undefined }[] = [
    { name, subjects, mirror: own.mirror, sources: own.sources },
  ];
  const visited = new Set<string>();
  while (toVisit.length > 0) {
    const cfg = toVisit.shift()!;
    visited.add(cfg.name);
    for (const src of cfg.sources ?? []) {
      if (src.external !== undefined) continue;
      if (visited.has(src.name)) {
        const f = src.filter_subject ?? '';
        if (f === '' || cfg.subjects.some((s) => subjectsCollide(s, f))) return true;
      } else {
        const other = lookup(src.name);
        if (other !== undefined) toVisit.push({ ...other, subjects: other.subjects ?? [] });
      }
    }
    const m = cfg.mirror;
    if (m !== undefined && m.external === undefined) {
      if (visited.has(m.name)) return true;
      const other = lookup(m.name);
      if (other !== undefined) toVisit.push({ ...other, subjects: other.subjects ?? [] });
    }
  }
  return false;
}

/**
 * `republish` as nats-server checkStreamCfg takes it: the source defaults to '>', the destination
 * may not capture the stream's own subjects, and the transform must compile.
 */
export function normalizeRepublish(body: Obj, subjects: readonly string[]): Result<RePublish | undefined> {
  if (!isObject(body.republish)) return { ok: true, value: undefined };
  const src = str(body.republish.src) || '>';
  const dest = str(body.republish.dest);
  for (const s of subjects) if (dest !== '' && subjectsCollide(dest, s)) {
    return invalid('stream configuration for republish destination forms a cycle');
  }
  if (!compileSubjectTransform(src, dest).ok) {
    return invalid(`stream configuration for republish with transform from '${src}' to '${dest}' not valid`);
  }
  const out: RePublish = { src, dest };
  if (body.republish.headers_only === true) out.headers_only = true;
  return { ok: true, value: out };
}

export function normalizeSubjectTransform(body: Obj): SubjectTransformConfig | undefined {
  if (!isObject(body.subject_transform)) return undefined;
  return { src: str(body.subject_transform.src), dest: str(body.subject_transform.dest) };
}

/**
 * The transform errors nats-server meets only while building the stream (its addStream / update):
 * the text of the 10049 (CREATE) or 10069 (UPDATE) it answers with, or undefined.
 */
export function checkLateTransforms(cfg: StreamConfig, forUpdate: boolean): string | undefined {
  const m = cfg.mirror;
  if (m !== undefined) {
    const trs = m.subject_transforms ?? [];
    if (trs.length === 0) {
      if (m.filter_subject !== undefined && !isValidSubject(m.filter_subject)) {
        return `subject filter '${m.filter_subject}' for the mirror invalid subject`;
      }
    }
    for (const t of trs) {
      if (t.dest === '') continue;
      const c = compileSubjectTransform(t.src ?? '', t.dest);
      if (!c.ok) return `subject transform from '${t.src ?? ''}' to '${t.dest}' for the mirror: ${c.error}`;
    }
  }
  for (const s of cfg.sources ?? []) {
    const trs = s.subject_transforms ?? [];
    if (trs.length === 0 && s.filter_subject !== undefined && !isValidSubject(s.filter_subject)) {
      return `subject filter '${s.filter_subject}' for the source: invalid subject`;
    }
    for (const t of trs) {
      if (t.dest === '') continue;
      const c = compileSubjectTransform(t.src ?? '', t.dest);
      if (!c.ok) return `subject transform from '${t.src ?? ''}' to '${t.dest}' for the source: ${c.error}`;
    }
  }
  const st = cfg.subject_transform;
  if (st !== undefined) {
    const c = compileSubjectTransform(st.src ?? '', st.dest);
    if (!c.ok) {
      const what = forUpdate ? 'stream configuration for subject transform' : 'stream subject transform';
      return `${what} from '${st.src ?? ''}' to '${st.dest}': ${c.error}`;
    }
  }
  return undefined;
}
