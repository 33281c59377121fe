// The registry of streams: one LMDB environment under <storeDir>/jetstream holds every file
// stream's messages (sub-databases per stream, streams/store/) and the stream configs
// (`sluice:streams`: name -> {config, created}); memory streams keep only their config there and
// come back empty after a restart, as in nats-server. Create/update/delete are serialised, so two
// racing CREATEs of one name cannot both open a store.
//
// Lifecycle listeners let the API layer (direct-get subscriptions) and the consumer layer follow
// streams appearing, changing and going away without the manager knowing them.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import { jsApiError, type ApiError } from '../protocol/js-errors.ts';
import type { StreamConfig, StreamInfo } from '../protocol/jetstream-api.ts';
import type { MessageBus } from './bus.ts';
import { checkStreamUpdate, findOverlap, sameConfig } from './stream/config.ts';
import { BIND_STEP, Stream, type StreamDeps } from './stream/stream.ts';
import { MemoryStore } from './store/memory-store.ts';
import type { TimeNs } from './store/types.ts';
import { openLmdbStore } from './store/lmdb-store.ts';
import { DEFAULT_SYNC_MODE, openLmdbEnvironment, type SyncMode, type LmdbDb, type LmdbEnvironment } from './store/lmdb-env.ts';
import type { StreamStore } from './store/types.ts';

/** An API-level failure carrying the exact error object to answer with. */
export class JsApiException extends Error {
  override name = 'JsApiException';
  readonly apiError: ApiError;
  constructor(apiError: ApiError) {
    super(apiError.description);
    this.apiError = apiError;
  }
}

export interface ManagerDeps {
  readonly storeDir: string;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** When a write counts as done (docs/adr/0008-sync-modes.md); default 'committed'. */
  readonly sync?: SyncMode;
  /** Committed mode: how often the environment is fsynced; default 1 s. */
  readonly syncIntervalMs?: number | undefined;
  /** Budget of the stores' shared read cache (store/record-cache.ts); default 16 MiB, 0 = none. */
  readonly readCacheBytes?: number | undefined;
  /** The JetStream domain, for the streams' PubAcks (StreamDeps.domain). */
  readonly domain?: string | undefined;
  /** The account's storage limits, asked before each publish is stored (StreamDeps.admit). */
  readonly admit?: StreamDeps['admit'];
}

export interface StreamLifecycle {
  added?(stream: Stream): void;
  updated?(stream: Stream, previous: StreamConfig): void;
  /** Called before the stream's data is dropped (or, on shutdown, closed). */
  removed?(stream: Stream): void;
}

interface StreamRecord {
  readonly v: 1;
  readonly config: StreamConfig;
  /** Creation time, epoch ns as a decimal string (msgpack has no portable int64 for JS). */
  readonly created: string;
}

const META_DB = 'sluice:streams';

export class StreamManager {
  readonly env: LmdbEnvironment;
  readonly sync: SyncMode;
  private readonly meta: LmdbDb;
  private readonly streams = new Map<string, Stream>();
  private readonly listeners: StreamLifecycle[] = [];
  private readonly deps: ManagerDeps;
  private readonly logger: Logger;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(deps: ManagerDeps, env: LmdbEnvironment) {
    this.deps = deps;
    this.logger = deps.logger;
    this.env = env;
    this.sync = env.sync;
    this.meta = env.root.openDB(META_DB, {});
  }

  /** Opens the environment and brings back every stream with its sequences and state. */
  static async open(deps: ManagerDeps): Promise<StreamManager> {
    const dir = join(deps.storeDir, 'jetstream');
    mkdirSync(dir, { recursive: true });
    const env = openLmdbEnvironment(dir, {
      sync: deps.sync ?? DEFAULT_SYNC_MODE,
      syncIntervalMs: deps.syncIntervalMs,
      every: (fn, ms) => deps.clock.setInterval(fn, ms),
      readCacheBytes: deps.readCacheBytes,
    });
    const mgr = new StreamManager(deps, env);
    await mgr.recoverAll();
    return mgr;
  }

  private async recoverAll(): Promise<void> {
    const records: StreamRecord[] = [];
    for (const { key, value } of this.meta.getRange()) {
      const rec = value as StreamRecord;
      if (typeof key !== 'string' || rec?.v !== 1 || rec.config?.name !== key) {
        this.logger.error({ key: String(key) }, 'ignoring unreadable stream record');
        continue;
      }
      records.push(rec);
    }
    for (const rec of records) {
      try {
        const store = await this.openStore(rec.config);
        const stream = new Stream(rec.config, store, BigInt(rec.created), this.deps);
        stream.recover();
        this.streams.set(rec.config.name, stream);
        stream.bindSubjects();
        const st = store.state();
        this.logger.info(
          { stream: rec.config.name, storage: rec.config.storage, messages: st.messages, last_seq: st.lastSeq },
          'restored stream',
        );
      } catch (err) {
        this.logger.error({ stream: rec.config.name, err: String(err) }, 'failed to restore stream');
      }
    }
  }

  private openStore(cfg: StreamConfig): Promise<StreamStore> {
    if (cfg.storage === 'memory') return Promise.resolve(new MemoryStore(cfg.name));
    return openLmdbStore(this.env, cfg.name);
  }

  /**
   * One replica of a replicated stream (streams/replication): its own store and Stream, not
   * registered among this server's streams and with no subjects bound (its Raft group decides
   * which replica captures). Its config lives in the meta group, not in `sluice:streams`.
   */
  async openReplica(cfg: StreamConfig, createdNs: TimeNs): Promise<Stream> {
    this.checkOpen();
    if (this.streams.has(cfg.name)) throw new JsApiException(jsApiError('StreamNameExist'));
    const store = await this.openStore(cfg);
    const stream = new Stream(cfg, store, createdNs, this.deps);
    stream.recover();
    return stream;
  }

  /** Runs mutations one at a time, in arrival order. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  addLifecycle(l: StreamLifecycle): void {
    this.listeners.push(l);
    for (const s of this.streams.values()) l.added?.(s);
  }

  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  /**
   * This server's streams, or the replica of a replicated stream that this server leads: what
   * the API handlers the leader serves (MSG.GET, STREAM.INFO) look a stream up by.
   */
  getForApi(name: string): Stream | undefined {
    return this.streams.get(name) ?? this.leadReplica?.(name);
  }

  /** Set by the clustered layer: the replica this server leads, by stream name. */
  leadReplica: ((name: string) => Stream | undefined) | null = null;
  /** Set by the clustered layer: the configs of every replicated stream (STREAM.NAMES). */
  replicatedConfigs: (() => StreamConfig[]) | null = null;
  /**
   * Set by the clustered layer: StreamInfo of every replicated stream `wanted` selects, as each
   * one's leader reports it (STREAM.LIST); `missing` names those whose leader did not answer.
   */
  replicatedInfos: ((wanted: (config: StreamConfig) => boolean) => Promise<{ infos: StreamInfo[]; missing: string[] }>) | null = null;

  /** Streams sorted by name (the order of NAMES and LIST). */
  list(): Stream[] {
    return [...this.streams.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  get size(): number {
    return this.streams.size;
  }

  /**
   * CREATE: `cfg` is normalised and validated. An existing stream with an identical config is
   * returned as is (nats-server answers success); a different one is 10058.
   */
  create(cfg: StreamConfig): Promise<{ stream: Stream; created: boolean }> {
    return this.serialized(async () => {
      this.checkOpen();
      const existing = this.streams.get(cfg.name);
      if (existing !== undefined) {
        if (sameConfig(existing.config, cfg)) return { stream: existing, created: false };
        throw new JsApiException(jsApiError('StreamNameExist'));
      }
      // A long subject list was validated in this turn (the request's); the checks and writes
      // below get turns of their own.
      const long = (cfg.subjects?.length ?? 0) > BIND_STEP;
      if (long) await this.nextTurn();
      if (findOverlap(cfg.subjects ?? [], this.configs()) !== undefined) {
        throw new JsApiException(jsApiError('StreamSubjectOverlap'));
      }
      if (long) await this.nextTurn();
      const store = await this.openStore(cfg);
      let stream: Stream;
      try {
        stream = new Stream(cfg, store, this.deps.clock.epochNs(), this.deps);
        if (cfg.first_seq !== undefined && cfg.first_seq > 1) stream.apply({ op: 'purge', upToSeq: cfg.first_seq });
        await this.persist(stream);
      } catch (err) {
        await store.drop().catch(() => undefined);
        throw err;
      }
      this.streams.set(cfg.name, stream);
      await this.inTurns(stream.bindSteps());
      for (const l of this.listeners) l.added?.(stream);
      this.logger.info({ stream: cfg.name, storage: cfg.storage, ...subjectsForLog(cfg.subjects) }, 'created stream');
      return { stream, created: true };
    });
  }

  /**
   * UPDATE: applies the update rules, rebinds subjects, tightens limits at once. `allowed` (the
   * account's limits) sees the checked config and the current one, and throws to refuse.
   */
  update(next: StreamConfig, allowed?: (next: StreamConfig, old: StreamConfig) => void): Promise<Stream> {
    return this.serialized(async () => {
      this.checkOpen();
      const stream = this.streams.get(next.name);
      if (stream === undefined) throw new JsApiException(jsApiError('StreamNotFound'));
      const checked = checkStreamUpdate(stream.config, next);
      if (!checked.ok) throw new JsApiException(checked.error);
      const cfg = checked.config;
      allowed?.(cfg, stream.config);
      if (findOverlap(cfg.subjects ?? [], this.configs(), cfg.name) !== undefined) {
        throw new JsApiException(jsApiError('StreamSubjectOverlap'));
      }
      const previous = stream.config;
      stream.apply({ op: 'config', config: cfg });
      if (JSON.stringify(previous.subjects) !== JSON.stringify(cfg.subjects)) await this.inTurns(stream.bindSteps());
      await this.persist(stream);
      for (const l of this.listeners) l.updated?.(stream, previous);
      this.logger.info({ stream: cfg.name }, 'updated stream');
      return stream;
    });
  }

  /** DELETE: stops capture, drops the data and the config. */
  delete(name: string): Promise<void> {
    return this.serialized(async () => {
      this.checkOpen();
      const stream = this.streams.get(name);
      if (stream === undefined) throw new JsApiException(jsApiError('StreamNotFound'));
      this.streams.delete(name);
      for (const l of this.listeners) l.removed?.(stream);
      await this.inTurns(stream.unbindSteps());
      await stream.drop();
      await this.meta.remove(name);
      await this.durable();
      this.logger.info({ stream: name }, 'deleted stream');
    });
  }

  /**
   * Runs `steps` one per event-loop turn (each bounded by its producer), so that a long piece of
   * work, such as binding 10,000 subjects, lets other connections in between (benchmarks/README.md,
   * storm). A generator that never yields finishes in this turn.
   */
  private async inTurns(steps: Iterator<void>): Promise<void> {
    while (!steps.next().done) await this.nextTurn();
  }

  /** Resolves in a later event-loop turn, after pending I/O (an await alone stays in this turn). */
  private nextTurn(): Promise<void> {
    return new Promise<void>((resolve) => this.deps.clock.setImmediate(resolve));
  }

  private async persist(stream: Stream): Promise<void> {
    const rec: StreamRecord = { v: 1, config: stream.config, created: stream.createdNs.toString() };
    await this.meta.put(stream.name, rec);
    await this.durable();
  }

  /** Waits for the fdatasync too, unless the server runs without sync. */
  private durable(): Promise<void> {
    return this.sync === 'none' ? Promise.resolve() : this.env.flushed();
  }

  /** This server's streams' configs, unordered. */
  *configs(): Iterable<StreamConfig> {
    for (const s of this.streams.values()) yield s.config;
  }

  private checkOpen(): void {
    if (this.closed) throw new JsApiException(jsApiError('NotEnabled'));
  }

  /** Totals for account info and monitoring. */
  stats(): { streams: number; messages: number; bytes: number; memory: number; storage: number } {
    let messages = 0;
    let memory = 0;
    let storage = 0;
    for (const s of this.streams.values()) {
      const st = s.store.state();
      messages += st.messages;
      if (s.config.storage === 'memory') memory += st.bytes;
      else storage += st.bytes;
    }
    return { streams: this.streams.size, messages, bytes: memory + storage, memory, storage };
  }

  /** Stops capture, closes every store (each waits until durable), then the environment. */
  close(): Promise<void> {
    return this.serialized(async () => {
      if (this.closed) return;
      this.closed = true;
      for (const s of this.streams.values()) for (const l of this.listeners) l.removed?.(s);
      const closing = [...this.streams.values()].map((s) =>
        s.close().catch((err: unknown) => this.logger.error({ stream: s.name, err: String(err) }, 'close failed')),
      );
      await Promise.all(closing);
      this.streams.clear();
      await this.env.close();
    });
  }
}

/** A subject list in a log line: all of a short one, the count and the first few of a long one. */
function subjectsForLog(subjects: readonly string[] | undefined): { subjects?: readonly string[]; subjectCount?: number } {
  if (subjects === undefined || subjects.length <= 20) return subjects === undefined ? {} : { subjects };
  return { subjects: subjects.slice(0, 20), subjectCount: subjects.length };
}
