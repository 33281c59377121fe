// $JS.API.CONSUMER.* control plane: CREATE in its three subject forms, DURABLE.CREATE, INFO,
// DELETE, NAMES, LIST (nats-server jsConsumerCreateRequest and friends, 2.10). MSG.NEXT is not a
// route here: like nats-server, each pull consumer subscribes to its own
// $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, so a request for a consumer that does not exist
// gets no answer.
//
//   CONSUMER.CREATE.<s>                    legacy: ephemeral, or named by config.name
//   CONSUMER.CREATE.<s>.<c>                2.9+: <c> is the name (must equal durable_name if set)
//   CONSUMER.CREATE.<s>.<c>.<filter...>    same, and <filter> must equal config.filter_subject
//   CONSUMER.DURABLE.CREATE.<s>.<c>        legacy durable: durable_name must be set and equal <c>

import type { Clock } from '../../runtime/clock.ts';
import { NO_RESPONSE, apiFail, requestJson, requireEmpty, type ApiRequest, type ApiRouter } from './router.ts';
import { decodeCreateRequest } from '../consumer/config.ts';
import type { ConsumerRegistry } from '../consumer/registry.ts';
import { checkShape } from '../json-shape.ts';
import type { StreamManager } from '../manager.ts';

export const CONSUMER_NAMES_PAGE = 1024;
export const CONSUMER_LIST_PAGE = 256;

export interface ConsumerApiContext {
  readonly registry: ConsumerRegistry;
  readonly manager: StreamManager;
  readonly clock: Clock;
  /** True once the server is part of a JetStream cluster; until then num_replicas > 1 is refused. */
  readonly clustered: () => boolean;
}

function hasPathSeparator(name: string): boolean {
  return name.includes('/') || name.includes('\\');
}

function decode(req: ApiRequest, streamName: string) {
  const body = requestJson(req, false);
  const decoded = decodeCreateRequest(body);
  if (typeof decoded === 'string') apiFail('InvalidJSON', { err: decoded });
  if (decoded.streamName !== streamName) apiFail('StreamMismatch');
  return decoded;
}

function pageOffset(req: ApiRequest): number {
  const body = requestJson(req);
  const bad = checkShape('JSApiConsumersRequest', body, { offset: 'int' });
  if (bad !== undefined) apiFail('InvalidJSON', { err: bad });
  const o = body.offset;
  return typeof o === 'number' && o > 0 ? Math.floor(o) : 0;
}

export function registerConsumerApi(router: ApiRouter, ctx: ConsumerApiContext): void {
  const { registry, manager, clock } = ctx;

  /** A single server refuses replicated consumers as nats-server does: after the name checks,
   * before looking for the stream. */
  const singleServerReplicas = (cfg: { num_replicas?: number }): void => {
    if (!ctx.clustered() && (cfg.num_replicas ?? 0) > 1) apiFail('StreamReplicasNotSupported');
  };

  const streamAndConsumer = (req: ApiRequest): [string, string] => {
    if (req.args.length !== 2) apiFail('BadRequest');
    return [req.args[0]!, req.args[1]!];
  };

  router.register('CONSUMER.CREATE', {
    kind: 'consumer_create',
    internalError: 'ConsumerCreate',
    async handle(req) {
      const args = req.args;
      // nats-server ignores a create without a stream token.
      if (args.length === 0) return NO_RESPONSE;
      const streamName = args[0]!;
      const consumerName = args.length > 1 ? args[1]! : '';
      const filter = args.length > 2 ? args.slice(2).join('.') : '';
      const { config, action } = decode(req, streamName);
      if (consumerName !== '' && hasPathSeparator(consumerName)) apiFail('ConsumerNameContainsPathSeparators');
      const cfg = { ...config };
      if (consumerName === '') {
        if (cfg.durable_name !== undefined) apiFail('ConsumerEphemeralWithDurableName');
      } else {
        if (cfg.durable_name !== undefined && cfg.durable_name !== consumerName) apiFail('ConsumerDurableNameNotMatchSubject');
        cfg.name = consumerName;
      }
      if (filter !== '') {
        if (cfg.filter_subjects !== undefined) apiFail('ConsumerMultipleFiltersNotAllowed');
        if (cfg.filter_subject !== filter) apiFail('ConsumerCreateFilterSubjectMismatch');
      }
      singleServerReplicas(cfg);
      const consumer = await registry.create(streamName, cfg, action);
      return consumer.info(clock.epochNs());
    },
  });

  router.register('CONSUMER.DURABLE.CREATE', {
    kind: 'consumer_create',
    internalError: 'ConsumerCreate',
    async handle(req) {
      if (req.args.length === 0) return NO_RESPONSE;
      const streamName = req.args[0]!;
      const { config, action } = decode(req, streamName);
      if (req.args.length !== 2) apiFail('ConsumerDurableNameNotInSubject');
      const consumerName = req.args[1]!;
      if (hasPathSeparator(consumerName)) apiFail('ConsumerNameContainsPathSeparators');
      if (config.durable_name === undefined) apiFail('ConsumerDurableNameNotSet');
      if (config.durable_name !== consumerName) apiFail('ConsumerDurableNameNotMatchSubject');
      singleServerReplicas(config);
      const consumer = await registry.create(streamName, { ...config, name: consumerName }, action);
      return consumer.info(clock.epochNs());
    },
  });

  router.register('CONSUMER.INFO', {
    kind: 'consumer_info',
    handle(req) {
      const [streamName, name] = streamAndConsumer(req);
      requireEmpty(req);
      if (manager.getForApi(streamName) === undefined) apiFail('StreamNotFound');
      const c = registry.get(streamName, name);
      if (c === undefined) apiFail('ConsumerNotFound');
      return c.info(clock.epochNs());
    },
  });

  router.register('CONSUMER.DELETE', {
    kind: 'consumer_delete',
    async handle(req) {
      const [streamName, name] = streamAndConsumer(req);
      await registry.delete(streamName, name);
      return { success: true };
    },
  });

  /** NAMES and LIST: the stream's consumers and where the requested page starts. */
  const consumerPage = (req: ApiRequest): { all: ReturnType<typeof registry.list>; from: number } => {
    if (req.args.length !== 1) apiFail('BadRequest');
    const offset = pageOffset(req);
    const streamName = req.args[0]!;
    if (manager.getForApi(streamName) === undefined) apiFail('StreamNotFound');
    const all = registry.list(streamName);
    return { all, from: Math.min(offset, all.length) };
  };

  router.register('CONSUMER.NAMES', {
    kind: 'consumer_names',
    errorFields: { total: 0, offset: 0, limit: 0, consumers: [] },
    handle(req) {
      const { all, from } = consumerPage(req);
      const consumers = all.slice(from, from + CONSUMER_NAMES_PAGE).map((c) => c.name);
      return { total: all.length, offset: from, limit: CONSUMER_NAMES_PAGE, consumers };
    },
  });

  router.register('CONSUMER.LIST', {
    kind: 'consumer_list',
    errorFields: { total: 0, offset: 0, limit: 0, consumers: [] },
    handle(req) {
      const { all, from } = consumerPage(req);
      const now = clock.epochNs();
      const consumers = all.slice(from, from + CONSUMER_LIST_PAGE).map((c) => c.info(now));
      return { total: all.length, offset: from, limit: CONSUMER_LIST_PAGE, consumers };
    },
  });
}
