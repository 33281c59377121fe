// Pull consumers: fetch (one batch) and consume (an endless stream with automatic re-pull).
//
// Each fetch/consume has its own inbox subscription; pull requests are published to
// `<prefix>.CONSUMER.MSG.NEXT.<stream>.<consumer>` with that inbox as reply. Status messages on
// the inbox drive the bookkeeping (ADR-13): 100 = heartbeat (or flow control), 404/408 and the
// "done" 409s end a request and give back its unfilled count (Nats-Pending-Messages), the other
// 409s are errors. consume keeps `pending` (messages requested and not yet received) above a
// threshold by pulling again, and re-pulls from scratch when two heartbeats are missed (a lost
// request or a reconnect).

import type { TimerHandle } from '../../runtime/clock.ts';
import type { ConsumerInfo } from '../../protocol/jetstream-api.ts';
import type { NatsConnection } from '../connection.ts';
import { ErrorCode, NatsError } from '../errors.ts';
import type { Msg } from '../msg.ts';
import { AsyncQueue } from '../queue.ts';
import type { Subscription } from '../subscription.ts';
import type { JsApi } from './api.ts';
import { JsMsg } from './jsmsg.ts';

export interface FetchOptions {
  /** Most messages to receive (default 100). */
  maxMessages?: number;
  /** How long the server holds the request (default 30 s). */
  expiresMs?: number;
  maxBytes?: number;
  /** Server heartbeat while the request waits (default: none for fetch). */
  idleHeartbeatMs?: number;
}

export interface ConsumeOptions {
  /** Messages requested per pull (default 100). */
  maxMessages?: number;
  /** Lifetime of each pull request (default 30 s). */
  expiresMs?: number;
  /** Heartbeat requested from the server (default min(expires/2, 30 s)). */
  idleHeartbeatMs?: number;
  /** Pull again when fewer than this many are outstanding (default 25 % of maxMessages). */
  thresholdMessages?: number;
}

const encoder = new TextEncoder();
const NO_PAYLOAD = new Uint8Array(0);

export function pendingMessages(m: Msg): number {
  const v = m.headers?.get('Nats-Pending-Messages', false) ?? '';
  return v === '' ? -1 : Number(v);
}

/** The messages of one fetch or consume: iterate them; stop() ends early. */
export class ConsumerMessages implements AsyncIterable<JsMsg> {
  private readonly nc: NatsConnection;
  private readonly api: JsApi;
  private readonly nextSubject: string;
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly queue: AsyncQueue<JsMsg>;
  private readonly consume: boolean;
  private readonly max: number;
  private readonly expiresMs: number;
  private readonly heartbeatMs: number;
  private readonly threshold: number;
  private readonly maxBytes: number;
  private pending = 0;
  private received = 0;
  private activity = false;
  private heartbeatTimer: TimerHandle | undefined = undefined;
  private expiryTimer: TimerHandle | undefined = undefined;
  private stopped = false;
  private resolveClosed!: (e: Error | undefined) => void;
  /** Resolves when the iteration is over (undefined, or the error that ended it). */
  readonly closed: Promise<Error | undefined> = new Promise((r) => (this.resolveClosed = r));

  constructor(nc: NatsConnection, api: JsApi, stream: string, consumer: string, mode: 'fetch' | 'consume', opts: FetchOptions & ConsumeOptions) {
    this.nc = nc;
    this.api = api;
    this.consume = mode === 'consume';
    this.max = Math.max(1, opts.maxMessages ?? 100);
    this.expiresMs = opts.expiresMs ?? 30_000;
    this.maxBytes = opts.maxBytes ?? 0;
    this.heartbeatMs = opts.idleHeartbeatMs ?? (this.consume ? Math.min(Math.floor(this.expiresMs / 2), 30_000) : 0);
    this.threshold = opts.thresholdMessages ?? Math.max(1, Math.floor(this.max / 4));
    this.nextSubject = `${api.prefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.queue = new AsyncQueue<JsMsg>(() => this.stop());
    this.inbox = nc.createInbox();
    this.sub = nc.subscribe(this.inbox, { callback: (m) => this.onMsg(m) });
    this.pull(this.max);
    const clock = api.clock;
    if (this.heartbeatMs > 0) this.heartbeatTimer = clock.setInterval(() => this.checkHeartbeat(), this.heartbeatMs * 2);
    if (!this.consume) this.expiryTimer = clock.setTimeout(() => this.finish(undefined), this.expiresMs + 1000);
  }

  [Symbol.asyncIterator](): AsyncIterator<JsMsg> {
    return this.queue;
  }

  /** Messages received so far. */
  getReceived(): number {
    return this.received;
  }

  stop(): void {
    this.finish(undefined);
  }

  private pull(batch: number): void {
    if (this.stopped) return;
    const req: Record<string, number> = { batch, expires: this.expiresMs * 1_000_000 };
    if (this.maxBytes > 0) req.max_bytes = this.maxBytes;
    if (this.heartbeatMs > 0) req.idle_heartbeat = this.heartbeatMs * 1_000_000;
    this.pending += batch;
    try {
      this.nc.publish(this.nextSubject, encoder.encode(JSON.stringify(req)), { reply: this.inbox });
    } catch (e) {
      this.finish(e as Error);
    }
  }

  private onMsg(m: Msg): void {
    this.activity = true;
    const code = m.data.length === 0 ? m.statusCode : 0;
    if (code !== 0) return this.onStatus(m, code);
    this.received++;
    this.pending--;
    this.queue.push(new JsMsg(m, this.nc));
    if (!this.consume) {
      if (this.received >= this.max) this.finish(undefined);
    } else if (this.pending <= this.threshold) {
      this.pull(this.max - this.pending);
    }
  }

  private onStatus(m: Msg, code: number): void {
    const desc = (m.headers?.description ?? '').toLowerCase();
    if (code === 100) {
      if (m.reply !== '') this.nc.publish(m.reply, NO_PAYLOAD); // flow control
      return;
    }
    if (code === 503) return this.finish(new NatsError(ErrorCode.JetStreamNotEnabled, 'JetStream not enabled (no responders)'));
    const requestDone =
      code === 404 || code === 408 || (code === 409 && (desc.includes('batch completed') || desc.includes('exceeds maxbytes') || desc.includes('leadership change')));
    if (!requestDone) {
      const err = new NatsError(code === 409 && desc.includes('deleted') ? ErrorCode.JetStreamApi : ErrorCode.ServerError, `pull request failed: ${code} ${m.headers?.description ?? ''}`);
      return this.finish(err);
    }
    if (!this.consume) return this.finish(undefined);
    const n = pendingMessages(m);
    this.pending = n < 0 ? 0 : Math.max(0, this.pending - n);
    if (this.pending <= this.threshold) this.pull(this.max - this.pending);
  }

  private checkHeartbeat(): void {
    if (this.activity) {
      this.activity = false;
      return;
    }
    if (!this.consume) return this.finish(new NatsError(ErrorCode.Timeout, 'missed idle heartbeats'));
    // Two heartbeats missed: the request is lost (e.g. a reconnect). Start over.
    this.pending = 0;
    this.pull(this.max);
  }

  private finish(err: Error | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    this.heartbeatTimer?.cancel();
    this.expiryTimer?.cancel();
    if (!this.sub.isClosed()) this.sub.unsubscribe();
    if (err === undefined) this.queue.end();
    else this.queue.fail(err);
    this.resolveClosed(err);
  }
}

/** A durable or named pull consumer. */
export class PullConsumer {
  readonly stream: string;
  readonly name: string;
  private readonly nc: NatsConnection;
  private readonly api: JsApi;

  constructor(nc: NatsConnection, api: JsApi, stream: string, name: string) {
    this.nc = nc;
    this.api = api;
    this.stream = stream;
    this.name = name;
  }

  info(): Promise<ConsumerInfo> {
    return this.api.request(`CONSUMER.INFO.${this.stream}.${this.name}`);
  }

  async delete(): Promise<boolean> {
    return (await this.api.request<{ success?: boolean }>(`CONSUMER.DELETE.${this.stream}.${this.name}`)).success === true;
  }

  /** One batch: ends when maxMessages arrived, or the request expired / found nothing more. */
  fetch(opts: FetchOptions = {}): ConsumerMessages {
    return new ConsumerMessages(this.nc, this.api, this.stream, this.name, 'fetch', opts);
  }

  /** Messages until stop(), pulling again as they are used up. */
  consume(opts: ConsumeOptions = {}): ConsumerMessages {
    return new ConsumerMessages(this.nc, this.api, this.stream, this.name, 'consume', opts);
  }

  /** The next message, or null when none arrived within expiresMs. */
  async next(opts: { expiresMs?: number } = {}): Promise<JsMsg | null> {
    const it = this.fetch({ maxMessages: 1, expiresMs: opts.expiresMs ?? 30_000 });
    for await (const m of it) return m;
    return null;
  }
}
