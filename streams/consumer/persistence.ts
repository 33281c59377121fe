// Durable consumer persistence in the server's one LMDB environment, sub-database
// `sluice:consumers`:
//   c.<stream>.<consumer>  -> ConsumerRecord (config + creation time)
//   s.<stream>.<consumer>  -> StateSnapshot (ack floor, delivered, sparse pending, redelivery counts)
// Both values are msgpackr-encoded by lmdb-js (binary, never JSON); names cannot contain '.', so
// the keys are unambiguous.
//
// State writes are coalesced and rate limited: a consumer whose state changed is marked dirty and
// one snapshot is written at the end of the current task (a microtask), and at most one every
// MIN_WRITE_INTERVAL_MS while acks keep coming (nats-server's consumer store writes at most ten a
// second under load; each write also stalls the event loop on lmdb-js's write lock for a moment). An ack with a reply subject ("double ack") skips the wait: its snapshot is
// written at the end of the task and the reply goes out once that write is committed. So an ack
// that was answered is never lost; a plain ack may be, within the interval before a crash, and
// its message is then redelivered (at-least-once, as with nats-server). Snapshot cost grows with
// the pending map, so very large ones wait longer between writes.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ConsumerConfig } from '../../protocol/jetstream-api.ts';
import { isStateSnapshot, type StateSnapshot } from './ack-state.ts';
import type { LmdbDb, LmdbEnvironment, SyncMode } from '../store/lmdb-env.ts';

const DB_NAME = 'sluice:consumers';
/**
 * Minimum time between two snapshots of one consumer while acks keep coming (unless an ack reply
 * waits): nats-server's consumer store writes at most ten a second per consumer under load.
 */
export const MIN_WRITE_INTERVAL_MS = 100;
const MAX_WRITE_INTERVAL_MS = 500;

export interface ConsumerRecord {
  readonly v: 1;
  readonly stream: string;
  readonly name: string;
  readonly config: ConsumerConfig;
  /** Creation time, epoch ns as a decimal string. */
  readonly created: string;
}

/** What the store needs from a consumer to persist its state. */
export interface PersistedConsumer {
  readonly streamName: string;
  readonly name: string;
  readonly isClosed: boolean;
  pendingCount(): number;
  snapshot(): StateSnapshot;
}

export interface LoadedConsumer {
  readonly record: ConsumerRecord;
  readonly state: StateSnapshot | undefined;
}

export interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export const configKey = (stream: string, name: string): string => `c.${stream}.${name}`;
export const stateKey = (stream: string, name: string): string => `s.${stream}.${name}`;

/**
 * The persistence of one consumer's state. Held by the consumer itself, so marking it dirty on
 * every ack costs a few field checks rather than lookups.
 */
export class StateWriter {
  readonly key: string;
  readonly streamName: string;
  readonly consumerName: string;
  private readonly store: ConsumerStore;
  private readonly consumer: PersistedConsumer;
  private waiter: Waiter | null = null;
  private timer: TimerHandle | null = null;
  /** In the store's queue for the end of this task. */
  queued = false;
  private lastWriteMs = 0;
  private closed = false;
  /** Closed without its last state written (a replicated consumer's leader moved on). */
  private abandoned = false;

  constructor(store: ConsumerStore, consumer: PersistedConsumer) {
    this.store = store;
    this.consumer = consumer;
    this.key = stateKey(consumer.streamName, consumer.name);
    this.streamName = consumer.streamName;
    this.consumerName = consumer.name;
  }

  /** The state changed: write a snapshot at the end of this task, or of the interval. */
  markDirty(): void {
    if (this.queued || this.timer !== null || this.closed) return;
    if (this.waiter === null) {
      const wait = this.lastWriteMs + this.store.intervalMs(this.consumer.pendingCount()) - this.store.nowMs();
      if (wait > 0) {
        this.timer = this.store.later(() => {
          this.timer = null;
          this.markDirty();
        }, wait);
        return;
      }
    }
    this.queued = true;
    this.store.enqueue(this);
  }

  /** Resolves once every state change made so far is durable (for ack replies). */
  persisted(): Promise<void> {
    if (this.closed) return this.abandoned ? Promise.reject(new Error('consumer state abandoned')) : Promise.resolve();
    if (this.waiter === null) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.waiter = { promise, resolve, reject };
      // Somebody waits for this write: no rate limit.
      this.timer?.cancel();
      this.timer = null;
      this.markDirty();
    }
    return this.waiter.promise;
  }

  /** Writes now if anything is waiting (shutdown). */
  flushNow(): void {
    if (this.timer === null && !this.queued) return;
    this.timer?.cancel();
    this.timer = null;
    this.write();
  }

  /** Called by the store's flush: one snapshot put. */
  write(): void {
    this.queued = false;
    if (this.closed || this.consumer.isClosed) return;
    this.lastWriteMs = this.store.nowMs();
    const waiter = this.waiter;
    this.waiter = null;
    this.store.put(this, this.consumer.snapshot(), waiter);
  }

  /**
   * Stops writing. Whoever waits for a write is answered: done, when the consumer is closing
   * after its last state was flushed (shutdown) or it is gone; or failed when `abandon` (the
   * state that was waited for will never be written here, so no ack may be confirmed).
   */
  close(abandon = false): void {
    this.closed = true;
    this.abandoned = abandon;
    this.timer?.cancel();
    this.timer = null;
    if (abandon) this.waiter?.reject(new Error('consumer state abandoned'));
    else this.waiter?.resolve();
    this.waiter = null;
  }
}

/**
 * Durable consumers' configs and state in LMDB. Replicated streams' consumers use a subclass
 * (streams/replication/replicated-consumer-store.ts) that sends each write through the stream's
 * Raft log instead, into a sub-database of its own.
 */
export class ConsumerStore {
  protected readonly db: LmdbDb;
  private readonly env: LmdbEnvironment;
  private readonly sync: SyncMode;
  private readonly clock: Clock;
  protected readonly logger: Logger;
  private readonly writers = new Set<StateWriter>();
  private queue: StateWriter[] = [];
  private readonly flushBound = (): void => this.flushQueued();

  constructor(env: LmdbEnvironment, sync: SyncMode, clock: Clock, logger: Logger, dbName = DB_NAME) {
    this.env = env;
    this.sync = sync;
    this.clock = clock;
    this.logger = logger;
    this.db = env.openDb(dbName, {});
  }

  /** Every stored consumer with its last state, for recovery. */
  loadAll(): LoadedConsumer[] {
    const records: ConsumerRecord[] = [];
    const states = new Map<string, StateSnapshot>();
    for (const { key, value } of this.db.getRange()) {
      if (typeof key !== 'string') continue;
      if (key.startsWith('c.')) {
        const rec = value as ConsumerRecord;
        if (rec?.v === 1 && typeof rec.stream === 'string' && typeof rec.name === 'string' && rec.config !== undefined) {
          records.push(rec);
        } else {
          this.logger.error({ key }, 'ignoring unreadable consumer record');
        }
      } else if (key.startsWith('s.') && isStateSnapshot(value)) {
        states.set(key.slice(2), value);
      }
    }
    return records.map((record) => ({ record, state: states.get(`${record.stream}.${record.name}`) }));
  }

  /** Stores a consumer's config; resolves once durable. */
  async saveConfig(rec: ConsumerRecord): Promise<void> {
    await this.db.put(configKey(rec.stream, rec.name), rec);
    await this.durable();
  }

  /** Removes a consumer's config and state (close its writer first). */
  async remove(stream: string, name: string): Promise<void> {
    await Promise.all([this.db.remove(configKey(stream, name)), this.db.remove(stateKey(stream, name))]);
    await this.durable();
  }

  /** The state writer of a consumer whose state is persisted. */
  writer(c: PersistedConsumer): StateWriter {
    const w = new StateWriter(this, c);
    this.writers.add(w);
    return w;
  }

  /** Stops a writer (consumer closed or deleted); a write already issued still completes. */
  release(w: StateWriter): void {
    w.close(this.abandonOnRelease);
    this.writers.delete(w);
  }

  /** Whether releasing a writer fails its waiters (see StateWriter.close). */
  protected get abandonOnRelease(): boolean {
    return false;
  }

  /** Writes every writer with a pending change now (shutdown). */
  async flushAll(): Promise<void> {
    this.flushQueued();
    for (const w of this.writers) w.flushNow();
    await this.durable();
  }

  // ---- for StateWriter ----

  nowMs(): number {
    return this.clock.nowMs();
  }

  later(fn: () => void, ms: number): TimerHandle {
    return this.clock.setTimeout(fn, ms);
  }

  /** Snapshots of large pending maps cost more: space them further apart. */
  intervalMs(pending: number): number {
    return Math.min(MAX_WRITE_INTERVAL_MS, Math.max(MIN_WRITE_INTERVAL_MS, Math.ceil(pending / 100)));
  }

  enqueue(w: StateWriter): void {
    if (this.queue.length === 0) {
      // A microtask, not a timer: it runs once the current socket chunk (or API request) has been
      // handled completely, which is what coalesces the acks of one chunk into one write.
      queueMicrotask(this.flushBound);
    }
    this.queue.push(w);
  }

  private flushQueued(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    for (const w of batch) if (w.queued) w.write();
  }

  put(w: StateWriter, snap: StateSnapshot, waiter: Waiter | null): void {
    let write: Promise<unknown> = this.db.put(w.key, snap);
    if (this.sync === 'durable') write = write.then(() => this.durable());
    write.then(
      () => waiter?.resolve(),
      (err: unknown) => {
        this.logger.error({ key: w.key, err: String(err) }, 'consumer state write failed');
        waiter?.reject(err);
      },
    );
  }

  private durable(): Promise<void> {
    return this.sync === 'none' ? Promise.resolve() : this.env.flushed();
  }
}
