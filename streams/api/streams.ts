// $JS.API.INFO and the STREAM.* control plane: CREATE, UPDATE, INFO, DELETE, PURGE, NAMES, LIST,
// MSG.GET, MSG.DELETE. Each handler validates its request, asks the manager or the stream to do
// the work (admin changes go through stream.apply, like publishes) and answers only once the
// change is durable.

import type { Clock } from '../../runtime/clock.ts';
import { isValidSubject, subjectsCollide } from '../../protocol/subject.ts';
import type { StorageType, StreamConfig } from '../../protocol/jetstream-api.ts';
import { jsApiError } from '../../protocol/js-errors.ts';
import { apiFail, requestJson, requireEmpty, type ApiRequest, type ApiRouter } from './router.ts';
import { STREAM_EXISTED } from './advisories.ts';
import { checkStreamConfigShape, normalizeStreamConfig } from '../stream/config.ts';
import { checkLateTransforms } from '../stream/config-sourcing.ts';
import { checkShape } from '../json-shape.ts';
import { JsApiException, type StreamManager } from '../manager.ts';
import type { Stream } from '../stream/stream.ts';
import { storedMsgJson, streamInfo, type InfoOptions } from '../stream/info.ts';
import type { PurgeOptions } from '../store/types.ts';
import { NO_ACCOUNT_LIMITS, requestedStream, type AccountJetStreamLimits } from '../limits.ts';

export const NAMES_PAGE = 1024;
export const LIST_PAGE = 256;

export interface StreamApiContext {
  readonly manager: StreamManager;
  readonly clock: Clock;
  readonly serverName: string;
  /** The JetStream domain (account info and stream info name it); undefined = none. */
  readonly domain?: string | undefined;
  /** Consumers per stream (0 until the consumer layer provides it). */
  consumerCount(stream: string): number;
  /** Consumers in the account. */
  totalConsumers(): number;
  apiStats(): { total: number; errors: number };
  /** A stream's mirror / sources progress (streams/sourcing). */
  sourceInfo?(stream: string): InfoOptions['sourcing'];
  /** The account's limits (streams/limits.ts); none when absent. */
  readonly limits?: AccountJetStreamLimits;
}

function streamOf(ctx: StreamApiContext, req: ApiRequest): Stream {
  const name = req.args.length === 1 ? req.args[0]! : '';
  const stream = name === '' ? undefined : ctx.manager.getForApi(name);
  if (stream === undefined) apiFail('StreamNotFound');
  return stream;
}

function infoOpts(ctx: StreamApiContext, stream: Stream, extra: Partial<InfoOptions> = {}): InfoOptions {
  const o: InfoOptions = {
    nowNs: ctx.clock.epochNs(),
    leader: ctx.serverName,
    consumerCount: ctx.consumerCount(stream.name),
    ...extra,
  };
  if (ctx.domain) o.domain = ctx.domain;
  const sourcing = ctx.sourceInfo?.(stream.name);
  if (sourcing !== undefined && (sourcing.mirror !== undefined || sourcing.sources !== undefined)) o.sourcing = sourcing;
  if (stream.config.storage === 'file' && ctx.manager.sync === 'none') o.syncNote = 'none';
  return o;
}

/**
 * A CREATE/UPDATE body this large (thousands of subjects) is decoded and validated in turns of its
 * own: not in the turn that read it, and the JSON parse not in the same turn as the validation
 * (each ~5-15 ms of CPU for 10,000 subjects on cold code; benchmarks/README.md, storm).
 */
const LARGE_CONFIG_BYTES = 64 * 1024;

function nextTurn(clock: Clock): Promise<void> {
  return new Promise<void>((resolve) => clock.setImmediate(resolve));
}

/** Decodes and normalises a CREATE/UPDATE body whose subject names `subjectName`. */
async function configFrom(ctx: StreamApiContext, req: ApiRequest, subjectName: string, forCreate: boolean): Promise<StreamConfig> {
  const large = req.data.length > LARGE_CONFIG_BYTES;
  if (large) await nextTurn(ctx.clock);
  const body = requestJson(req, false);
  if (large) await nextTurn(ctx.clock);
  const shapeErr = checkStreamConfigShape(body);
  if (shapeErr !== undefined) apiFail('InvalidJSON', { err: shapeErr });
  if (body.name !== subjectName) apiFail('StreamMismatch');
  if (subjectName.includes('/') || subjectName.includes('\\')) apiFail('StreamNameContainsPathSeparators');
  if (forCreate && body.sealed === true) {
    apiFail('StreamInvalidConfig', { err: 'stream configuration for create can not be sealed' });
  }
  // nats-server checks the account's limits on the config as sent, before validating it.
  if (forCreate && ctx.limits !== undefined) ctx.limits.checkCreate(requestedStream(subjectName, body), ctx.manager.size);
  const normalized = normalizeStreamConfig(body, (other) => ctx.manager.getForApi(other)?.config);
  // Single server (a clustered one takes replicated creates before this handler): no replicas
  // beyond 1, answered as nats-server answers once the config is otherwise valid, so also before
  // features sluice lacks (nats-server would never get to those).
  const replicas = normalized.ok ? normalized.config.num_replicas : typeof body.num_replicas === 'number' ? body.num_replicas : 0;
  if (replicas > 1 && (normalized.ok || normalized.unsupported === true)) apiFail('StreamReplicasNotSupported');
  if (!normalized.ok) throw new JsApiException(normalized.error);
  if (forCreate) ctx.limits?.checkCreateConfig(normalized.config);
  const late = checkLateTransforms(normalized.config, !forCreate);
  if (late !== undefined) apiFail(forCreate ? 'StreamCreate' : 'StreamUpdate', { err: late });
  return normalized.config;
}

function pageOffset(body: Record<string, unknown>): number {
  const o = body.offset;
  // nats-server 2.9 crashed on a negative offset; treat anything odd as 0.
  return typeof o === 'number' && Number.isFinite(o) && o > 0 ? Math.floor(o) : 0;
}

function matchesFilter(stream: { readonly config: StreamConfig }, filter: string): boolean {
  if (filter === '') return true;
  for (const s of stream.config.subjects ?? []) if (subjectsCollide(filter, s)) return true;
  return false;
}

export function registerStreamApi(router: ApiRouter, ctx: StreamApiContext): void {
  const { manager } = ctx;

  router.register('INFO', {
    kind: 'account_info',
    handle(req) {
      requireEmpty(req);
      const st = manager.stats();
      const api = ctx.apiStats();
      const reserved = ctx.limits?.reserved() ?? { memory: 0, storage: 0 };
      return {
        memory: st.memory,
        storage: st.storage,
        reserved_memory: reserved.memory,
        reserved_storage: reserved.storage,
        // In a cluster the replicated streams count wherever the request lands.
        streams: st.streams + (manager.replicatedConfigs?.().length ?? 0),
        consumers: ctx.totalConsumers(),
        limits: { ...(ctx.limits?.limits ?? NO_ACCOUNT_LIMITS) },
        ...(ctx.domain ? { domain: ctx.domain } : {}),
        api: { total: api.total, errors: api.errors },
      };
    },
  });

  router.register('STREAM.CREATE', {
    kind: 'stream_create',
    async handle(req) {
      const name = req.args.length === 1 ? req.args[0]! : '';
      const cfg = await configFrom(ctx, req, name, true);
      const { stream, created } = await manager.create(cfg);
      // nats-server 2.9 names neither the leader nor the domain in a create's answer.
      const { info } = streamInfo(stream, { ...infoOpts(ctx, stream), leader: undefined, domain: undefined });
      // Answered as created either way; only a new stream is advised (advisories.ts).
      return { ...info, did_create: true, ...(created ? {} : { [STREAM_EXISTED]: true }) };
    },
  });

  router.register('STREAM.UPDATE', {
    kind: 'stream_update',
    async handle(req) {
      const name = req.args.length === 1 ? req.args[0]! : '';
      const cfg = await configFrom(ctx, req, name, false);
      const stream = await manager.update(cfg, ctx.limits === undefined ? undefined : (next, old) => ctx.limits!.checkUpdate(next, old));
      return streamInfo(stream, infoOpts(ctx, stream)).info;
    },
  });

  router.register('STREAM.INFO', {
    kind: 'stream_info',
    errorFields: { total: 0, offset: 0, limit: 0 },
    handle(req) {
      const stream = streamOf(ctx, req);
      const body = requestJson(req);
      const bad = checkShape('JSApiStreamInfoRequest', body, {
        deleted_details: 'bool',
        subjects_filter: 'string',
        offset: 'int',
      });
      if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
      const extra: Partial<InfoOptions> = { deletedDetails: body.deleted_details === true, offset: pageOffset(body) };
      if (typeof body.subjects_filter === 'string') extra.subjectsFilter = body.subjects_filter;
      const { info, total, offset, limit } = streamInfo(stream, infoOpts(ctx, stream, extra));
      return { total, offset, limit, ...info };
    },
  });

  router.register('STREAM.DELETE', {
    kind: 'stream_delete',
    async handle(req) {
      const stream = streamOf(ctx, req);
      requireEmpty(req);
      await manager.delete(stream.name);
      return { success: true };
    },
  });

  router.register('STREAM.PURGE', {
    kind: 'stream_purge',
    errorFields: { purged: 0 },
    async handle(req) {
      const stream = streamOf(ctx, req);
      if (stream.config.sealed) apiFail('StreamSealed');
      if (stream.config.deny_purge) apiFail('StreamPurgeFailed', { err: 'stream purge not permitted' });
      const body = requestJson(req);
      const bad = checkShape('JSApiStreamPurgeRequest', body, { filter: 'string', seq: 'uint', keep: 'uint' });
      if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
      const filter = typeof body.filter === 'string' ? body.filter : '';
      const seq = typeof body.seq === 'number' ? body.seq : 0;
      const keep = typeof body.keep === 'number' ? body.keep : 0;
      if (seq > 0 && keep > 0) apiFail('BadRequest');
      if (filter !== '' && !isValidSubject(filter)) apiFail('BadRequest');
      const op: { op: 'purge' } & PurgeOptions = { op: 'purge' };
      if (filter !== '') op.subject = filter;
      if (seq > 0) op.upToSeq = seq;
      if (keep > 0) op.keep = keep;
      const { removed } = await stream.commit(op);
      return { success: true, purged: removed };
    },
  });

  router.register('STREAM.NAMES', {
    kind: 'stream_names',
    handle(req) {
      const body = requestJson(req);
      const bad = checkShape('JSApiStreamNamesRequest', body, { offset: 'int', subject: 'string' });
      if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
      const filter = typeof body.subject === 'string' ? body.subject : '';
      // This server's streams and, in a cluster, every replicated stream the meta group knows.
      const names = manager.list().filter((s) => matchesFilter(s, filter)).map((s) => s.name);
      for (const config of manager.replicatedConfigs?.() ?? []) if (matchesFilter({ config }, filter)) names.push(config.name);
      const all = [...new Set(names)].sort();
      const offset = pageOffset(body);
      const page = all.slice(offset, offset + NAMES_PAGE);
      return { total: all.length, offset, limit: NAMES_PAGE, streams: page.length > 0 ? page : null };
    },
  });

  router.register('STREAM.LIST', {
    kind: 'stream_list',
    async handle(req) {
      const body = requestJson(req);
      const bad = checkShape('JSApiStreamListRequest', body, { offset: 'int', subject: 'string' });
      if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
      const filter = typeof body.subject === 'string' ? body.subject : '';
      const offset = pageOffset(body);
      const local = manager.list().filter((s) => matchesFilter(s, filter));
      const replicated = manager.replicatedInfos === null ? null : await manager.replicatedInfos((config) => matchesFilter({ config }, filter));
      if (replicated === null) {
        const streams = local.slice(offset, offset + LIST_PAGE).map((s) => streamInfo(s, infoOpts(ctx, s)).info);
        return { total: local.length, offset, limit: LIST_PAGE, streams };
      }
      // In a cluster: this server's streams and every replicated stream, as its leader reports it.
      const all = [...local.map((s) => streamInfo(s, infoOpts(ctx, s)).info), ...replicated.infos];
      all.sort((a, b) => (a.config.name < b.config.name ? -1 : a.config.name > b.config.name ? 1 : 0));
      const out: Record<string, unknown> = { total: all.length + replicated.missing.length, offset, limit: LIST_PAGE, streams: all.slice(offset, offset + LIST_PAGE) };
      if (replicated.missing.length > 0) out.missing = replicated.missing;
      return out;
    },
  });

  router.register('STREAM.MSG.GET', {
    kind: 'stream_msg_get',
    handle(req) {
      const stream = streamOf(ctx, req);
      const body = requestJson(req, false);
      const bad = checkShape('JSApiMsgGetRequest', body, { seq: 'uint', last_by_subj: 'string', next_by_subj: 'string' });
      if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
      const seq = typeof body.seq === 'number' ? body.seq : 0;
      const last = typeof body.last_by_subj === 'string' ? body.last_by_subj : '';
      const next = typeof body.next_by_subj === 'string' ? body.next_by_subj : '';
      if ((seq > 0 && last !== '') || (seq === 0 && last === '' && next === '') || (last !== '' && next !== '')) {
        apiFail('BadRequest');
      }
      const store = stream.store;
      const m = next !== '' ? store.nextMatching(seq, next) : seq > 0 ? store.get(seq) : store.lastBySubject(last);
      if (m === undefined) apiFail('NoMessageFound');
      return { message: storedMsgJson(m) };
    },
  });

  router.register('STREAM.MSG.DELETE', {
    kind: 'stream_msg_delete',
    async handle(req) {
      const stream = streamOf(ctx, req);
      if (stream.config.sealed) apiFail('StreamSealed');
      if (stream.config.deny_delete) apiFail('StreamMsgDeleteFailed', { err: 'message delete not permitted' });
      const body = requestJson(req, false);
      const bad = checkShape('JSApiMsgDeleteRequest', body, { seq: 'uint', no_erase: 'bool' });
      if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
      const seq = typeof body.seq === 'number' ? body.seq : 0;
      const exists = seq > 0 && stream.store.get(seq) !== undefined;
      if (!exists) throw new JsApiException(jsApiError('StreamMsgDeleteFailed', { err: 'no message found' }));
      await stream.commit({ op: 'delete', seq, erase: body.no_erase !== true });
      return { success: true };
    },
  });
}
