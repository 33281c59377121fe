// JetStream resource limits, as a single nats-server enforces them: an account's limits
// (`accounts { A: { jetstream: { max_mem, max_file, max_streams, max_consumers } } }`, or an
// account JWT's) and the server's totals (`jetstream { max_mem, max_file }`) shared by every
// account. What is checked where, after nats-server 2.9 (jetstream.go checkBytesLimits,
// jetstream_api.go jsNonClusteredStreamLimitsCheck, stream.go processJetStreamMsg, consumer.go):
//   - a stream create over max_streams: 10027 (checked first, even for a create of an identical
//     existing stream);
//   - a stream whose max_bytes (-1 counts as 1 byte) does not fit in what the account's other
//     streams' max_bytes leave of its limit, or in what all streams' max_bytes leave of the
//     server's total: 10047 (file) or 10028 (memory); an update reserves the growth only;
//   - a stream max_consumers above the account's, and a consumer beyond the smaller of the two
//     on one stream (the account limit counts per stream in nats-server 2.9): 10026;
//   - a publish while the server's stored bytes of that storage already exceed its total: 10023,
//     nothing stored; a publish that would take the account over its limit: 10002, and the
//     sequence is used up (nats-server stores the message, then removes it).
// Usage is summed over the streams when a check needs it, at most once per event-loop turn
// (publishes in the same turn add what they admitted), and only where a limit is set: an account
// and a server without limits pay nothing per publish.

import type { Clock } from '../runtime/clock.ts';
import { jsApiError, type ApiError } from '../protocol/js-errors.ts';
import { NO_ACCOUNT_LIMITS, type AccountLimits, type StorageType, type StreamConfig } from '../protocol/jetstream-api.ts';
import { JsApiException } from './manager.ts';

export { NO_ACCOUNT_LIMITS };

export interface StorageBytes {
  memory: number;
  storage: number;
}

/** What the checks read of one account's JetStream. */
export interface UsageSource {
  /** Bytes stored now, memory and file streams apart. */
  usage(): StorageBytes;
  /** Its streams' configs (their max_bytes are reservations). */
  configs(): Iterable<StreamConfig>;
}

/** Why a publish is refused: the error, and whether it still takes a sequence. */
export interface Refusal {
  readonly error: ApiError;
  readonly burnsSequence: boolean;
}

const pick = (b: StorageBytes, storage: StorageType): number => (storage === 'memory' ? b.memory : b.storage);

/** Bytes used, read at most once per event-loop turn; publishes admitted meanwhile are added. */
class TurnCache {
  private value: StorageBytes | null = null;
  constructor(
    private readonly clock: Clock,
    private readonly read: () => StorageBytes,
  ) {}

  get(): StorageBytes {
    if (this.value === null) {
      this.value = this.read();
      this.clock.setImmediate(() => (this.value = null));
    }
    return this.value;
  }

  add(storage: StorageType, bytes: number): void {
    if (this.value === null) return;
    if (storage === 'memory') this.value.memory += bytes;
    else this.value.storage += bytes;
  }
}

/** The sum of max_bytes (times replicas) of `configs` with that storage, except stream `except`. */
function reservation(configs: Iterable<StreamConfig>, storage: StorageType, except: string, perReplica: boolean): number {
  let n = 0;
  for (const c of configs) {
    if (c.max_bytes > 0 && c.storage === storage && c.name !== except) n += c.max_bytes * (perReplica ? Math.max(1, c.num_replicas) : 1);
  }
  return n;
}

/** The server's JetStream totals, shared by every account's JetStream on it. -1 = no limit. */
export class ServerJetStreamLimits {
  readonly maxMemory: number;
  readonly maxStore: number;
  private readonly accounts = new Set<UsageSource>();
  private readonly used: TurnCache;

  constructor(maxMemory: number, maxStore: number, clock: Clock) {
    this.maxMemory = maxMemory;
    this.maxStore = maxStore;
    this.used = new TurnCache(clock, () => this.usage());
  }

  /** Counts `account` in the totals until the returned function is called. */
  add(account: UsageSource): () => void {
    this.accounts.add(account);
    return () => this.accounts.delete(account);
  }

  max(storage: StorageType): number {
    return storage === 'memory' ? this.maxMemory : this.maxStore;
  }

  /** Bytes stored by every account. */
  usage(): StorageBytes {
    const total = { memory: 0, storage: 0 };
    for (const a of this.accounts) {
      const u = a.usage();
      total.memory += u.memory;
      total.storage += u.storage;
    }
    return total;
  }

  /** max_bytes reserved by every account's streams (nats-server's memReserved / storeReserved). */
  reserved(): StorageBytes {
    const all = (storage: StorageType): number => {
      let n = 0;
      for (const a of this.accounts) n += reservation(a.configs(), storage, '', false);
      return n;
    };
    return { memory: all('memory'), storage: all('file') };
  }

  /** A publish's check: 10023 once the stored bytes of that storage exceed the total. */
  refuses(storage: StorageType): boolean {
    const max = this.max(storage);
    return max >= 0 && pick(this.used.get(), storage) > max;
  }

  admitted(storage: StorageType, bytes: number): void {
    if (this.max(storage) >= 0) this.used.add(storage, bytes);
  }
}

/** The stream fields the create check reads as the client sent them (nats-server checks the raw config). */
export interface RequestedStream {
  readonly name: string;
  /** undefined: the client sent none (nats-server then checks no bytes). */
  readonly storage: StorageType | undefined;
  /** As sent; 0 when absent. */
  readonly maxBytes: number;
  readonly maxConsumers: number;
  readonly replicas: number;
}

/** What a STREAM.CREATE body asks for, as sent (nats-server checks limits before validating). */
export function requestedStream(name: string, body: Readonly<Record<string, unknown>>): RequestedStream {
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const storage: StorageType | undefined = body.storage === 'file' || body.storage === 'memory' ? body.storage : undefined;
  return { name, storage, maxBytes: num(body.max_bytes), maxConsumers: num(body.max_consumers), replicas: num(body.num_replicas) };
}

const storageError = (storage: StorageType): never => {
  throw new JsApiException(jsApiError(storage === 'memory' ? 'MemoryResourcesExceeded' : 'StorageResourcesExceeded'));
};

/** One account's limits, checked against its streams and the server's totals. */
export class AccountJetStreamLimits {
  readonly limits: Readonly<AccountLimits>;
  private readonly server: ServerJetStreamLimits | undefined;
  private readonly source: UsageSource;
  private readonly used: TurnCache;
  /** Whether a publish needs a check at all (else `admit` need not be asked). */
  readonly checksPublish: boolean;

  constructor(limits: Readonly<AccountLimits>, server: ServerJetStreamLimits | undefined, source: UsageSource, clock: Clock) {
    this.limits = limits;
    this.server = server;
    this.source = source;
    this.used = new TurnCache(clock, () => source.usage());
    this.checksPublish =
      limits.max_memory >= 0 || limits.max_storage >= 0 || limits.memory_max_stream_bytes > 0 || limits.storage_max_stream_bytes > 0 || (server !== undefined && (server.maxMemory >= 0 || server.maxStore >= 0));
  }

  /** max_bytes reserved by this account's streams, as newer nats-server report it in account info. */
  reserved(): StorageBytes {
    const configs = [...this.source.configs()];
    return { memory: reservation(configs, 'memory', '', true), storage: reservation(configs, 'file', '', true) };
  }

  /**
   * STREAM.CREATE before the config is validated (jsNonClusteredStreamLimitsCheck). `configs`:
   * the account's streams, this server's by default; a cluster's meta leader passes every stream
   * of the account in the cluster (jsClusteredStreamLimitsCheck), their count as `streamCount`.
   */
  checkCreate(req: RequestedStream, streamCount: number, configs: Iterable<StreamConfig> = this.source.configs()): void {
    const l = this.limits;
    if (l.max_streams > 0 && streamCount >= l.max_streams) throw new JsApiException(jsApiError('MaximumStreamsLimit'));
    if (req.maxConsumers > 0 && l.max_consumers > 0 && req.maxConsumers > l.max_consumers) throw new JsApiException(jsApiError('MaximumConsumersLimit'));
    if (req.storage === undefined) return;
    const reserved = reservation(configs, req.storage, req.name, true);
    this.checkBytes(req.storage, req.maxBytes, req.replicas, reserved, 0);
  }

  /** A validated config against max_bytes_required and the per-stream byte caps (checkStreamCfg). */
  checkConfig(cfg: StreamConfig): void {
    const l = this.limits;
    const cap = cfg.storage === 'memory' ? l.memory_max_stream_bytes : l.storage_max_stream_bytes;
    if (l.max_bytes_required && cfg.max_bytes <= 0) throw new JsApiException(jsApiError('StreamMaxBytesRequired'));
    if (cap > 0 && cfg.max_bytes > cap) throw new JsApiException(jsApiError('StreamMaxStreamBytesExceeded'));
  }

  /**
   * A create's validated config, checked again as nats-server's addStream does (the raw check
   * skips the bytes of a config that names no storage, which the official clients send).
   */
  checkCreateConfig(cfg: StreamConfig, configs: Iterable<StreamConfig> = this.source.configs()): void {
    this.checkConfig(cfg);
    const reserved = reservation(configs, cfg.storage, cfg.name, true);
    this.checkBytes(cfg.storage, cfg.max_bytes, cfg.num_replicas, reserved, 0);
  }

  /** STREAM.UPDATE: only growth of max_bytes (or of replicas) is reserved (stream.go update). */
  checkUpdate(next: StreamConfig, old: StreamConfig, configs: Iterable<StreamConfig> = this.source.configs()): void {
    this.checkConfig(next);
    const l = this.limits;
    if (next.max_consumers > 0 && l.max_consumers > 0 && next.max_consumers > l.max_consumers) throw new JsApiException(jsApiError('MaximumConsumersLimit'));
    const growth = Math.max(0, next.max_bytes - old.max_bytes);
    const extraReplicas = next.num_replicas - old.num_replicas;
    const offset = old.max_bytes > 0 && extraReplicas > 0 ? old.max_bytes * extraReplicas : 0;
    // The reservation leaves this stream out, so its current one is added back.
    const reserved = reservation(configs, next.storage, next.name, true) + Math.max(1, old.num_replicas) * old.max_bytes;
    this.checkBytes(next.storage, growth, next.num_replicas, reserved, offset);
  }

  /** checkBytesLimits: the account's limit, then the server's total. */
  private checkBytes(storage: StorageType, addBytes: number, replicas: number, reserved: number, offset: number): void {
    const add = addBytes < 0 ? 1 : addBytes;
    const total = add * Math.max(1, replicas) + offset;
    const max = storage === 'memory' ? this.limits.max_memory : this.limits.max_storage;
    if (max >= 0 && reserved + total > max) storageError(storage);
    const server = this.server;
    if (server !== undefined && server.max(storage) >= 0) {
      const all = server.reserved();
      if ((storage === 'memory' ? all.memory : all.storage) + add > server.max(storage)) storageError(storage);
    }
  }

  /** Consumers one stream may have: the smaller of the stream's and the account's limit (<= 0: none). */
  maxConsumers(streamMax: number): number {
    const acc = this.limits.max_consumers;
    return streamMax <= 0 || (acc > 0 && acc < streamMax) ? acc : streamMax;
  }

  /** A publish of `bytes` (as the store counts them) to a stream of `storage`; undefined = admitted. */
  admit(storage: StorageType, bytes: number): Refusal | undefined {
    if (!this.checksPublish) return undefined;
    if (this.server?.refuses(storage) === true) return { error: jsApiError('InsufficientResources'), burnsSequence: false };
    const l = this.limits;
    const max = storage === 'memory' ? l.max_memory : l.max_storage;
    const cap = storage === 'memory' ? l.memory_max_stream_bytes : l.storage_max_stream_bytes;
    if (max >= 0 || cap > 0) {
      // nats-server compares the account's total after the store with both (the cap too).
      const after = pick(this.used.get(), storage) + bytes;
      if ((cap > 0 && after > cap) || (max >= 0 && after > max)) return { error: jsApiError('AccountResourcesExceeded'), burnsSequence: true };
      this.used.add(storage, bytes);
    }
    this.server?.admitted(storage, bytes);
    return undefined;
  }
}
