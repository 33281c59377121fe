// Ordered consumer: a client-side pattern over ephemeral pull consumers (ack none, one replica,
// memory storage). Messages are handed out strictly in stream order with no gaps: when the
// consumer sequence skips (a lost message) or the consumer disappears, the consumer is replaced
// by a new one starting at the stream sequence after the last message handed out.

import type { ConsumerConfig, ConsumerInfo, DeliverPolicy } from '../../protocol/jetstream-api.ts';
import { newToken } from '../../runtime/ids.ts';
import type { NatsConnection } from '../connection.ts';
import { AsyncQueue } from '../queue.ts';
import { JetStreamManager, type JsApi } from './api.ts';
import type { JsMsg } from './jsmsg.ts';
import { ConsumerMessages, type ConsumeOptions } from './pull.ts';

export interface OrderedConsumerOptions {
  filterSubjects?: string | string[];
  deliverPolicy?: DeliverPolicy;
  optStartSeq?: number;
  headersOnly?: boolean;
  /** The server removes the consumer after this long without pulls (default 5 min). */
  inactiveThresholdMs?: number;
}

/** Messages of an ordered consumer; `info` is the current underlying consumer's creation info. */
export class OrderedMessages implements AsyncIterable<JsMsg> {
  private readonly queue: AsyncQueue<JsMsg>;
  private inner: ConsumerMessages | undefined = undefined;
  private stopped = false;
  private serial = 0;
  private readonly prefix = newToken(12);
  private lastStreamSeq = 0;
  private current: ConsumerInfo | undefined = undefined;
  private readonly ready: Promise<ConsumerInfo>;
  private resolveClosed!: (e: Error | undefined) => void;
  readonly closed: Promise<Error | undefined> = new Promise((r) => (this.resolveClosed = r));

  constructor(
    private readonly nc: NatsConnection,
    private readonly api: JsApi,
    private readonly stream: string,
    private readonly opts: OrderedConsumerOptions,
    private readonly consumeOpts: ConsumeOptions,
  ) {
    this.queue = new AsyncQueue<JsMsg>(() => this.stop());
    let first!: (i: ConsumerInfo) => void;
    let firstFailed!: (e: unknown) => void;
    this.ready = new Promise((res, rej) => ((first = res), (firstFailed = rej)));
    this.ready.catch(() => undefined);
    void this.run(first, firstFailed);
  }

  /** The info of the first consumer created (num_pending tells how much history there is). */
  info(): Promise<ConsumerInfo> {
    return this.ready;
  }

  [Symbol.asyncIterator](): AsyncIterator<JsMsg> {
    return this.queue;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inner?.stop();
    this.queue.end();
    this.resolveClosed(undefined);
    void this.deleteCurrent();
  }

  private config(): Partial<ConsumerConfig> {
    const o = this.opts;
    const filters = o.filterSubjects === undefined ? [] : Array.isArray(o.filterSubjects) ? o.filterSubjects : [o.filterSubjects];
    const cfg: Partial<ConsumerConfig> = {
      name: `${this.prefix}_${++this.serial}`,
      ack_policy: 'none',
      max_deliver: 1,
      mem_storage: true,
      num_replicas: 1,
      replay_policy: 'instant',
      inactive_threshold: (o.inactiveThresholdMs ?? 5 * 60_000) * 1_000_000,
      headers_only: o.headersOnly === true ? true : undefined,
    };
    if (filters.length === 1) cfg.filter_subject = filters[0];
    else if (filters.length > 1) cfg.filter_subjects = filters;
    if (this.lastStreamSeq > 0) {
      cfg.deliver_policy = 'by_start_sequence';
      cfg.opt_start_seq = this.lastStreamSeq + 1;
    } else {
      cfg.deliver_policy = o.deliverPolicy ?? (o.optStartSeq !== undefined ? 'by_start_sequence' : 'all');
      if (o.optStartSeq !== undefined) cfg.opt_start_seq = o.optStartSeq;
    }
    return cfg;
  }

  private async run(first: (i: ConsumerInfo) => void, firstFailed: (e: unknown) => void): Promise<void> {
    const jsm = new JetStreamManager(this.nc, { apiPrefix: this.api.prefix, timeoutMs: this.api.timeoutMs });
    let created = false;
    while (!this.stopped) {
      try {
        this.current = await jsm.consumers.add(this.stream, this.config());
      } catch (e) {
        if (!created) firstFailed(e);
        this.fail(e as Error);
        return;
      }
      if (!created) {
        created = true;
        first(this.current);
      }
      if (this.stopped) break;
      const inner = new ConsumerMessages(this.nc, this.api, this.stream, this.current.name, 'consume', this.consumeOpts);
      this.inner = inner;
      let expected = 1;
      let gap = false;
      try {
        for await (const m of inner) {
          const info = m.info;
          if (info.deliverySequence !== expected) {
            gap = true;
            break;
          }
          expected++;
          this.lastStreamSeq = info.streamSequence;
          this.queue.push(m);
        }
      } catch {
        gap = true; // consumer gone or pull failed: recreate from where we are
      }
      inner.stop();
      if (!gap) break;
      await this.deleteCurrent();
    }
  }

  private async deleteCurrent(): Promise<void> {
    const c = this.current;
    if (c === undefined || this.nc.isClosed()) return;
    try {
      await this.api.request(`CONSUMER.DELETE.${this.stream}.${c.name}`);
    } catch {
      // best effort: it expires through inactive_threshold anyway
    }
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.queue.fail(err);
    this.resolveClosed(err);
  }
}

export class OrderedConsumer {
  constructor(
    private readonly nc: NatsConnection,
    private readonly api: JsApi,
    readonly stream: string,
    private readonly opts: OrderedConsumerOptions = {},
  ) {}

  consume(opts: ConsumeOptions = {}): OrderedMessages {
    return new OrderedMessages(this.nc, this.api, this.stream, this.opts, opts);
  }
}
