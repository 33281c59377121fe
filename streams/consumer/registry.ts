// Every consumer of every stream: create (with nats-server's action and workqueue rules), update,
// delete, lookup, recovery after a restart, and what consumers mean for their stream — the
// interest function of interest retention, and removing messages once acknowledged
// (workqueue: by its one consumer; interest: by every consumer that wants it).
//
// Follows streams through StreamLifecycle: consumers of a deleted stream go with it. Creates and
// deletes are serialised so two racing creates of one name cannot both build a consumer.

import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { isValidName, subjectsCollide } from '../../protocol/subject.ts';
import { jsApiError } from '../../protocol/js-errors.ts';
import type { ConsumerAction, ConsumerConfig } from '../../protocol/jetstream-api.ts';
import { newToken } from '../../runtime/ids.ts';
import type { MessageBus } from '../bus.ts';
import {
  MAX_CONSUMER_NAME_LEN,
  applyConsumerDefaults,
  checkConsumerConfig,
  checkConsumerUpdate,
  consumerConfigJson,
  filtersOf,
  isDurable,
  sameConsumerConfig,
} from './config.ts';
import type { ConsumerStore, LoadedConsumer } from './persistence.ts';
import { Consumer, type ConsumerHost } from './consumer.ts';
import { JsApiException, type StreamLifecycle, type StreamManager } from '../manager.ts';
import type { Stream } from '../stream/stream.ts';

export interface RegistryDeps {
  readonly manager: StreamManager;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: ConsumerStore;
  /** Consumers one stream may have given its max_consumers (the account's limit may be lower); default the stream's. */
  readonly maxConsumers?: (streamMax: number) => number;
  /** The account's max_ack_pending (a consumer's default and ceiling); -1 or absent = none. */
  readonly maxAckPending?: number;
}

function fail(kind: Parameters<typeof jsApiError>[0], params?: Record<string, string | number>): never {
  throw new JsApiException(jsApiError(kind, params));
}

export class ConsumerRegistry implements StreamLifecycle {
  private readonly byStream = new Map<string, Map<string, Consumer>>();
  private readonly recovered = new Map<string, LoadedConsumer[]>();
  private readonly deps: RegistryDeps;
  private readonly logger: Logger;
  private readonly host: ConsumerHost;
  private queue: Promise<unknown> = Promise.resolve();
  private closing = false;
  /**
   * Where durables of replicated streams keep their config and state (through the stream's Raft
   * log, streams/replication); set when the server joins a cluster.
   */
  replicaStore: ConsumerStore | null = null;

  constructor(deps: RegistryDeps) {
    this.deps = deps;
    this.logger = deps.logger;
    for (const loaded of deps.store.loadAll()) {
      const list = this.recovered.get(loaded.record.stream);
      if (list === undefined) this.recovered.set(loaded.record.stream, [loaded]);
      else list.push(loaded);
    }
    const reg = this;
    this.host = {
      bus: deps.bus,
      clock: deps.clock,
      logger: deps.logger,
      released: (c, seqs) => reg.released(c, seqs),
      inactive: (c) => {
        reg.delete(c.stream.name, c.name).catch((err: unknown) =>
          reg.logger.error({ stream: c.stream.name, consumer: c.name, err: String(err) }, 'failed to delete inactive consumer'),
        );
      },
    };
  }

  // ---- stream lifecycle ------------------------------------------------------------------------

  added(stream: Stream): void {
    this.restore(stream, this.recovered.get(stream.name) ?? []);
    this.recovered.delete(stream.name);
  }

  /**
   * A replicated stream this server now leads: its consumers run here, restored from the copy of
   * their records and state that its log gave this replica.
   */
  adopt(stream: Stream, loaded: readonly LoadedConsumer[]): void {
    if (this.closing || this.byStream.has(stream.name)) return;
    this.restore(stream, loaded);
  }

  /**
   * A replicated stream this server no longer leads (or that is gone: `deleted`): its consumers
   * stop here; their records stay with the stream's replicas.
   */
  release(stream: Stream, deleted: boolean): void {
    const consumers = this.byStream.get(stream.name);
    if (consumers === undefined) return;
    this.byStream.delete(stream.name);
    for (const c of consumers.values()) this.stop(c, deleted);
    stream.interest = null;
  }

  private restore(stream: Stream, loaded: readonly LoadedConsumer[]): void {
    const consumers = new Map<string, Consumer>();
    this.byStream.set(stream.name, consumers);
    for (const { record, state } of loaded) {
      try {
        const c = new Consumer({ stream, name: record.name, config: record.config, createdNs: BigInt(record.created), state }, this.host);
        this.register(stream, c);
        c.start();
        this.logger.info({ stream: stream.name, consumer: record.name, ack_floor: c.state.asflr, pending: c.pendingCount() }, 'restored consumer');
      } catch (err) {
        this.logger.error({ stream: stream.name, consumer: record.name, err: String(err) }, 'failed to restore consumer');
      }
    }
    this.updateInterest(stream);
  }

  updated(stream: Stream): void {
    this.updateInterest(stream);
  }

  removed(stream: Stream): void {
    // On shutdown close() already stopped everything and the records must stay.
    if (this.closing) return;
    const consumers = this.byStream.get(stream.name);
    this.byStream.delete(stream.name);
    for (const c of consumers?.values() ?? []) {
      this.stop(c, true);
      if (c.isDurable) this.removeRecord(stream.name, c.name);
    }
  }

  /** After every stream was added: records of streams that no longer exist are dropped. */
  finishRecovery(): void {
    for (const [stream, list] of this.recovered) {
      for (const { record } of list) {
        this.logger.warn({ stream, consumer: record.name }, 'dropping consumer of a stream that does not exist');
        this.removeRecord(stream, record.name);
      }
    }
    this.recovered.clear();
  }

  private removeRecord(stream: string, name: string): void {
    this.deps.store
      .remove(stream, name)
      .catch((err: unknown) => this.logger.error({ stream, consumer: name, err: String(err) }, 'failed to remove consumer record'));
  }

  // ---- lookups ---------------------------------------------------------------------------------

  get(stream: string, name: string): Consumer | undefined {
    return this.byStream.get(stream)?.get(name);
  }

  /** Consumers of a stream sorted by name (NAMES and LIST order). */
  list(stream: string): Consumer[] {
    const all = [...(this.byStream.get(stream)?.values() ?? [])];
    return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  perStream(stream: string): number {
    return this.byStream.get(stream)?.size ?? 0;
  }

  total(): number {
    let n = 0;
    for (const m of this.byStream.values()) n += m.size;
    return n;
  }

  // ---- create / update / delete ----------------------------------------------------------------

  private serialized<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * nats-server addConsumerWithAction. `input` has the name the API layer settled on (or none for
   * a legacy ephemeral, which gets a generated one).
   */
  create(streamName: string, input: ConsumerConfig, action: ConsumerAction): Promise<Consumer> {
    return this.serialized(async () => {
      if (this.closing) fail('NotEnabled');
      const stream = this.deps.manager.getForApi(streamName);
      if (stream === undefined) fail('StreamNotFound');
      const cfg = applyConsumerDefaults(input, stream.config, this.deps.maxAckPending);
      const bad = checkConsumerConfig(cfg, stream.config, this.deps.maxAckPending);
      if (bad !== undefined) throw new JsApiException(bad);
      const consumers = this.byStream.get(streamName);
      if (consumers === undefined) fail('StreamNotFound');
      const name = cfg.durable_name ?? cfg.name ?? '';
      const existing = name === '' ? undefined : consumers.get(name);
      if (existing !== undefined) return this.updateExisting(stream, existing, cfg, action);
      if (action === 'update') fail('ConsumerDoesNotExist');
      const streamCfg = stream.config;
      const max = this.deps.maxConsumers?.(streamCfg.max_consumers) ?? streamCfg.max_consumers;
      if (max > 0 && consumers.size >= max) fail('MaximumConsumersLimit');
      if (streamCfg.retention === 'workqueue') {
        if (cfg.ack_policy !== 'explicit') fail('ConsumerWQRequiresExplicitAck');
        if (cfg.deliver_policy !== 'all') fail('ConsumerWQConsumerNotDeliverAll');
        if (consumers.size > 0) {
          if (normalizedFilters(cfg).length === 0) fail('ConsumerWQMultipleUnfiltered');
          if (!this.partitionUnique(stream, name, cfg)) fail('ConsumerWQConsumerNotUnique');
        }
      }
      let finalName = name;
      if (finalName === '') {
        do finalName = newToken(8);
        while (consumers.has(finalName));
        cfg.name = finalName;
      }
      if (isDurable(cfg) && finalName.length > MAX_CONSUMER_NAME_LEN) fail('ConsumerNameTooLong', { max: MAX_CONSUMER_NAME_LEN });
      if (!isValidName(finalName)) fail('ConsumerBadDurableName');
      const createdNs = this.deps.clock.epochNs();
      const consumer = new Consumer({ stream, name: finalName, config: cfg, createdNs }, this.host);
      if (keepsRecord(stream, isDurable(cfg))) {
        await this.storeOf(stream).saveConfig({ v: 1, stream: streamName, name: finalName, config: consumerConfigJson(cfg), created: createdNs.toString() });
      }
      // A replicated stream's leadership may have moved on while the record was replicated.
      if (this.closing || stream.isClosed || this.byStream.get(streamName) !== consumers) fail('StreamNotFound');
      this.register(stream, consumer);
      this.updateInterest(stream);
      consumer.start();
      consumer.advertiseCreated();
      this.logger.debug({ stream: streamName, consumer: finalName }, 'created consumer');
      return consumer;
    });
  }

  private async updateExisting(stream: Stream, existing: Consumer, cfg: ConsumerConfig, action: ConsumerAction): Promise<Consumer> {
    if (action === 'create' && !sameConsumerConfig(cfg, existing.config)) fail('ConsumerAlreadyExists');
    if (stream.config.retention === 'workqueue' && !this.partitionUnique(stream, existing.name, cfg)) fail('ConsumerWQConsumerNotUnique');
    const oldDeliver = existing.config.deliver_subject;
    const check = checkConsumerUpdate(existing.config, cfg, oldDeliver !== undefined && this.deps.bus.hasInterest(oldDeliver));
    if (typeof check === 'string') fail('ConsumerCreate', { err: check });
    if (check !== undefined) throw new JsApiException(check);
    if (sameConsumerConfig(cfg, existing.config)) return existing;
    if (keepsRecord(stream, existing.isDurable)) {
      await this.storeOf(stream).saveConfig({
        v: 1,
        stream: stream.name,
        name: existing.name,
        config: consumerConfigJson(cfg),
        created: existing.createdNs.toString(),
      });
    }
    existing.updateConfig(cfg);
    this.updateInterest(stream);
    return existing;
  }

  /** nats-server partitionUnique: workqueue consumers' filters may not overlap. */
  private partitionUnique(stream: Stream, name: string, cfg: ConsumerConfig): boolean {
    const mine = normalizedFilters(cfg);
    for (const other of this.byStream.get(stream.name)?.values() ?? []) {
      if (other.name === name) continue;
      const theirs = other.filterSubjects;
      if (theirs.length === 0 || mine.length === 0) return false;
      for (const a of mine) for (const b of theirs) if (subjectsCollide(a, b)) return false;
    }
    return true;
  }

  /** Where a stream's durables keep their records: this server's LMDB, or the stream's log. */
  private storeOf(stream: Stream): ConsumerStore {
    if (!stream.replicated) return this.deps.store;
    if (this.replicaStore === null) throw new Error(`replicated stream ${stream.name} without a replica consumer store`);
    return this.replicaStore;
  }

  private register(stream: Stream, c: Consumer): void {
    this.byStream.get(stream.name)!.set(c.name, c);
    // Durables of file streams keep their state in LMDB; the rest live in memory only. Every
    // consumer of a replicated stream replicates its record and state, ephemerals included: it is
    // what lets another replica take over (a KV watch or an ordered consumer goes on when the
    // stream's leadership moves, instead of stalling until its client notices and recreates it).
    if (stream.replicated || (c.isDurable && stream.config.storage === 'file' && c.config.mem_storage !== true)) {
      c.persistence = this.storeOf(stream).writer(c);
    }
  }

  private stop(c: Consumer, deleted: boolean): void {
    c.close(deleted);
    if (c.persistence !== null) this.storeOf(c.stream).release(c.persistence);
    c.persistence = null;
  }

  delete(streamName: string, name: string): Promise<void> {
    return this.serialized(async () => {
      const stream = this.deps.manager.getForApi(streamName);
      if (stream === undefined) fail('StreamNotFound');
      const consumers = this.byStream.get(streamName);
      if (consumers === undefined) fail('StreamNotFound');
      const c = consumers.get(name);
      if (c === undefined) fail('ConsumerNotFound');
      consumers.delete(name);
      this.stop(c, true);
      this.updateInterest(stream);
      if (stream.config.retention === 'interest') this.dropUnwanted(stream);
      if (keepsRecord(stream, c.isDurable)) await this.storeOf(stream).remove(streamName, name);
      this.logger.debug({ stream: streamName, consumer: name }, 'deleted consumer');
    });
  }

  // ---- retention -------------------------------------------------------------------------------

  private updateInterest(stream: Stream): void {
    const consumers = this.byStream.get(stream.name);
    if (consumers === undefined || consumers.size === 0) {
      stream.interest = null;
      return;
    }
    stream.interest = (subject) => {
      for (const c of consumers.values()) if (c.matches(subject)) return true;
      return false;
    };
  }

  /** Messages a consumer stopped needing: workqueue removes them; interest once nobody needs them. */
  private released(c: Consumer, seqs: readonly number[]): void {
    const stream = c.stream;
    const retention = stream.config.retention;
    if (retention === 'limits' || stream.isClosed) return;
    const store = stream.store;
    const consumers = this.byStream.get(stream.name);
    for (const seq of seqs) {
      const m = store.get(seq);
      if (m === undefined) continue;
      if (retention === 'interest' && consumers !== undefined) {
        let needed = false;
        for (const o of consumers.values()) {
          if (o.needsAck(seq, m.subject)) {
            needed = true;
            break;
          }
        }
        if (needed) continue;
      }
      stream.change({ op: 'delete', seq, erase: false });
    }
  }

  /** Interest retention after a consumer left: remove what no remaining consumer needs. */
  private dropUnwanted(stream: Stream): void {
    const consumers = [...(this.byStream.get(stream.name)?.values() ?? [])];
    if (consumers.length === 0) {
      if (stream.store.state().messages > 0) stream.change({ op: 'purge' });
      return;
    }
    const gone: number[] = [];
    for (const m of stream.store.iterate(stream.store.state().firstSeq)) {
      if (!consumers.some((c) => c.needsAck(m.seq, m.subject))) gone.push(m.seq);
    }
    for (const seq of gone) stream.change({ op: 'delete', seq, erase: false });
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /** Stops every consumer and writes their last state; records stay for the next start. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.queue.catch(() => undefined);
    // Write the last state while the consumers are still open (closed ones are skipped).
    await this.deps.store.flushAll();
    await this.replicaStore?.flushAll().catch(() => undefined);
    for (const consumers of this.byStream.values()) for (const c of consumers.values()) this.stop(c, false);
  }
}

function normalizedFilters(cfg: ConsumerConfig): string[] {
  return filtersOf(cfg).filter((f) => f !== '>');
}

/**
 * Whether a consumer's config record is written down: a durable's, and every consumer's of a
 * replicated stream, so that the stream's next leader can take it over (ADR 0010, step 9).
 */
function keepsRecord(stream: Stream, durable: boolean): boolean {
  return durable || stream.replicated;
}
