// Key-Value buckets on JetStream (ADR-8): bucket `b` is stream `KV_b` over `$KV.b.>`, a key is a
// subject, a revision is a stream sequence. put/create/update publish with expectations; delete
// and purge publish markers (KV-Operation: DEL / PURGE + Nats-Rollup: sub); get uses Direct Get
// when the stream allows it; history/keys/watch run an ordered consumer.

import { MsgHeaders } from '../../protocol/headers.ts';
import type { StreamConfig, StreamInfo } from '../../protocol/jetstream-api.ts';
import type { NatsConnection, Payload } from '../connection.ts';
import { ErrorCode, JetStreamApiError, NatsError } from '../errors.ts';
import type { Msg } from '../msg.ts';
import { AsyncQueue } from '../queue.ts';
import { JetStreamClient, JetStreamManager, type JetStreamOptions } from '../jetstream/index.ts';
import type { JsMsg } from '../jetstream/jsmsg.ts';
import type { OrderedMessages } from '../jetstream/ordered.ts';

export type KvOperation = 'PUT' | 'DEL' | 'PURGE';

export interface KvEntry {
  bucket: string;
  key: string;
  value: Uint8Array;
  revision: number;
  created: Date;
  operation: KvOperation;
  /** Entries after this one in the watch's initial data (0 = the last). */
  delta: number;
  string(): string;
  json<T = unknown>(): T;
}

export interface KvOptions extends JetStreamOptions {
  /** Values kept per key (1..64, default 1). */
  history?: number;
  /** Entries expire after this long (0 = never). */
  ttlMs?: number;
  maxValueSize?: number;
  maxBytes?: number;
  storage?: 'file' | 'memory';
  replicas?: number;
  /** Bind to an existing bucket only; never create it. */
  bindOnly?: boolean;
}

export interface KvWatchOptions {
  /** Key or wildcard pattern (default '>'). */
  key?: string;
  /** lastValue (default): the current value of each key, then updates; allHistory; updatesOnly. */
  include?: 'lastValue' | 'allHistory' | 'updatesOnly';
  ignoreDeletes?: boolean;
  headersOnly?: boolean;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);
const KEY_RE = /^[-/=.\w]+$/;
const BUCKET_RE = /^[-\w]+$/;
const WRONG_LAST_SEQUENCE = 10071;
const NO_MESSAGE_FOUND = 10037;
const MAX_DUPLICATE_WINDOW_MS = 2 * 60_000;

function checkKey(key: string, allowWildcards = false): void {
  const ok = allowWildcards
    ? key.split('.').every((t) => t === '*' || t === '>' || (t !== '' && KEY_RE.test(t)))
    : KEY_RE.test(key) && !key.startsWith('.') && !key.endsWith('.');
  if (!ok) throw new NatsError(ErrorCode.InvalidSubject, `invalid key '${key}'`);
}

function entry(bucket: string, key: string, value: Uint8Array, revision: number, created: Date, operation: KvOperation, delta: number): KvEntry {
  return {
    bucket,
    key,
    value,
    revision,
    created,
    operation,
    delta,
    string: () => decoder.decode(value),
    json: <T>() => JSON.parse(decoder.decode(value)) as T,
  };
}

function operationOf(h: MsgHeaders | undefined): KvOperation {
  const op = h?.get('KV-Operation', false) ?? '';
  return op === 'DEL' ? 'DEL' : op === 'PURGE' ? 'PURGE' : 'PUT';
}

function b64(s: string | undefined): Uint8Array {
  if (s === undefined || s === '') return EMPTY;
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** A watch: iterate entries; `initialized` resolves once the initial values have been delivered. */
export class KvWatcher implements AsyncIterable<KvEntry> {
  readonly queue = new AsyncQueue<KvEntry>(() => this.stop());
  readonly initialized: Promise<void>;
  private markInitialized!: () => void;

  constructor(
    private readonly messages: OrderedMessages,
    private readonly toEntry: (m: JsMsg) => KvEntry,
    private readonly opts: KvWatchOptions,
  ) {
    this.initialized = new Promise((r) => (this.markInitialized = r));
    void this.pump();
  }

  [Symbol.asyncIterator](): AsyncIterator<KvEntry> {
    return this.queue;
  }

  stop(): void {
    this.messages.stop();
    this.queue.end();
    this.markInitialized();
  }

  private async pump(): Promise<void> {
    try {
      const info = await this.messages.info();
      if (info.num_pending === 0 || this.opts.include === 'updatesOnly') this.markInitialized();
      for await (const m of this.messages) {
        const e = this.toEntry(m);
        if (!(this.opts.ignoreDeletes === true && e.operation !== 'PUT')) this.queue.push(e);
        if (e.delta === 0) this.markInitialized();
      }
      this.queue.end();
    } catch (e) {
      this.queue.fail(e as Error);
    }
    this.markInitialized();
  }
}

export class Kv {
  readonly bucket: string;
  readonly stream: string;
  private readonly prefix: string;
  private readonly js: JetStreamClient;
  private readonly jsm: JetStreamManager;
  private info: StreamInfo;

  private constructor(nc: NatsConnection, bucket: string, info: StreamInfo, opts: JetStreamOptions) {
    this.bucket = bucket;
    this.stream = `KV_${bucket}`;
    this.prefix = `$KV.${bucket}.`;
    this.js = new JetStreamClient(nc, opts);
    this.jsm = new JetStreamManager(nc, opts);
    this.info = info;
  }

  /** Bind to bucket `bucket`, creating it (with `opts`) unless it exists or bindOnly is set. */
  static async open(nc: NatsConnection, bucket: string, opts: KvOptions = {}): Promise<Kv> {
    if (!BUCKET_RE.test(bucket)) throw new NatsError(ErrorCode.InvalidOption, `invalid bucket name '${bucket}'`);
    const jsm = new JetStreamManager(nc, opts);
    const stream = `KV_${bucket}`;
    try {
      return new Kv(nc, bucket, await jsm.streams.info(stream), opts);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.status === 404) || opts.bindOnly === true) throw e;
    }
    const history = opts.history ?? 1;
    if (!Number.isInteger(history) || history < 1 || history > 64) throw new NatsError(ErrorCode.InvalidOption, 'history must be 1..64');
    const ttlMs = opts.ttlMs ?? 0;
    const cfg: Partial<StreamConfig> & { name: string } = {
      name: stream,
      subjects: [`$KV.${bucket}.>`],
      max_msgs_per_subject: history,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: true,
      discard: 'new',
      storage: opts.storage ?? 'file',
      num_replicas: opts.replicas ?? 1,
      max_age: ttlMs * 1_000_000,
      max_msg_size: opts.maxValueSize ?? -1,
      max_bytes: opts.maxBytes ?? -1,
    };
    if (ttlMs > 0) cfg.duplicate_window = Math.min(ttlMs, MAX_DUPLICATE_WINDOW_MS) * 1_000_000;
    return new Kv(nc, bucket, await jsm.streams.add(cfg), opts);
  }

  private subjectOf(key: string): string {
    return this.prefix + key;
  }

  async put(key: string, value: Payload, opts: { previousRevision?: number } = {}): Promise<number> {
    checkKey(key);
    const ack = await this.js.publish(this.subjectOf(key), value, { expect: { lastSubjectSequence: opts.previousRevision } });
    return ack.seq;
  }

  /** Put only if the key has no value (or its last entry is a delete). */
  async create(key: string, value: Payload): Promise<number> {
    try {
      return await this.put(key, value, { previousRevision: 0 });
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.errCode === WRONG_LAST_SEQUENCE)) throw e;
      const last = await this.rawGet(key);
      if (last === null || last.operation === 'PUT') throw e;
      return this.put(key, value, { previousRevision: last.revision });
    }
  }

  /** Put only if the key's latest revision is `revision` (JetStreamApiError 10071 otherwise). */
  update(key: string, value: Payload, revision: number): Promise<number> {
    return this.put(key, value, { previousRevision: revision });
  }

  async delete(key: string, opts: { previousRevision?: number } = {}): Promise<void> {
    checkKey(key);
    const h = new MsgHeaders();
    h.set('KV-Operation', 'DEL');
    await this.js.publish(this.subjectOf(key), undefined, { headers: h, expect: { lastSubjectSequence: opts.previousRevision } });
  }

  /** Delete the key and its history (a PURGE marker that rolls up the subject). */
  async purge(key: string): Promise<void> {
    checkKey(key);
    const h = new MsgHeaders();
    h.set('KV-Operation', 'PURGE');
    h.set('Nats-Rollup', 'sub');
    await this.js.publish(this.subjectOf(key), undefined, { headers: h });
  }

  /** The current value (or the one at `revision`); null when absent, deleted or purged. */
  async get(key: string, opts: { revision?: number } = {}): Promise<KvEntry | null> {
    const e = await this.rawGet(key, opts.revision);
    return e === null || e.operation !== 'PUT' ? null : e;
  }

  private async rawGet(key: string, revision?: number): Promise<KvEntry | null> {
    checkKey(key);
    const subject = this.subjectOf(key);
    if (this.info.config.allow_direct === true) {
      const m: Msg =
        revision === undefined
          ? await this.js.api.requestMsg(`DIRECT.GET.${this.stream}.${subject}`)
          : await this.js.api.requestMsg(`DIRECT.GET.${this.stream}`, { seq: revision });
      if (m.statusCode !== 0 && m.statusCode !== 200) return null;
      const h = m.headers;
      if (h?.get('Nats-Subject', false) !== subject) return null;
      const seq = Number(h.get('Nats-Sequence', false));
      return entry(this.bucket, key, m.data, seq, new Date(h.get('Nats-Time-Stamp', false)), operationOf(h), 0);
    }
    try {
      const sm = await this.jsm.streams.getMessage(this.stream, revision === undefined ? { last_by_subj: subject } : { seq: revision });
      if (sm.subject !== subject) return null;
      const h = sm.hdrs === undefined ? undefined : MsgHeaders.decode(b64(sm.hdrs));
      return entry(this.bucket, key, b64(sm.data), sm.seq, new Date(sm.time), operationOf(h), 0);
    } catch (e) {
      if (e instanceof JetStreamApiError && e.errCode === NO_MESSAGE_FOUND) return null;
      throw e;
    }
  }

  watch(opts: KvWatchOptions = {}): KvWatcher {
    const key = opts.key ?? '>';
    checkKey(key, true);
    const include = opts.include ?? 'lastValue';
    const messages = this.js.consumers
      .ordered(this.stream, {
        filterSubjects: this.subjectOf(key),
        deliverPolicy: include === 'allHistory' ? 'all' : include === 'updatesOnly' ? 'new' : 'last_per_subject',
        headersOnly: opts.headersOnly,
      })
      .consume({ maxMessages: 256 });
    const toEntry = (m: JsMsg): KvEntry => {
      const info = m.info;
      const created = new Date(Math.floor(info.timestampNanos / 1e6));
      return entry(this.bucket, m.subject.slice(this.prefix.length), m.data, info.streamSequence, created, operationOf(m.headers), info.pending);
    };
    return new KvWatcher(messages, toEntry, { ...opts, include });
  }

  /** Every entry of `key` still kept (oldest first), including delete/purge markers. */
  async history(key = '>'): Promise<KvEntry[]> {
    return this.collect(this.watch({ key, include: 'allHistory' }));
  }

  /** Keys with a current value (matching `filter`, default all). */
  async keys(filter = '>'): Promise<string[]> {
    const entries = await this.collect(this.watch({ key: filter, headersOnly: true, ignoreDeletes: true }));
    return entries.map((e) => e.key);
  }

  private async collect(w: KvWatcher): Promise<KvEntry[]> {
    const out: KvEntry[] = [];
    let done = false;
    void w.initialized.then(() => {
      done = true;
      w.queue.end();
    });
    try {
      for await (const e of w) {
        out.push(e);
        if (e.delta === 0 || done) break;
      }
    } finally {
      w.stop();
    }
    return out;
  }

  async status(): Promise<{ bucket: string; values: number; history: number; ttlMs: number; bytes: number }> {
    this.info = await this.jsm.streams.info(this.stream);
    const c = this.info.config;
    return { bucket: this.bucket, values: this.info.state.messages, history: c.max_msgs_per_subject, ttlMs: c.max_age / 1e6, bytes: this.info.state.bytes };
  }

  /** Delete the bucket and everything in it. */
  destroy(): Promise<boolean> {
    return this.jsm.streams.delete(this.stream);
  }
}

/** Open (creating if needed) the KV bucket `bucket`. */
export function kv(nc: NatsConnection, bucket: string, opts: KvOptions = {}): Promise<Kv> {
  return Kv.open(nc, bucket, opts);
}
