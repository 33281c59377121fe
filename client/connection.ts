// The public connection: connect(), publish/subscribe/request, flush/rtt, drain/close, status.
// The protocol work lives in protocol.ts; request/reply in request-mux.ts.

import { systemClock, type Clock } from '../runtime/clock.ts';
import { systemRng } from '../runtime/rng.ts';
import { newToken } from '../runtime/ids.ts';
import type { MsgHeaders } from '../protocol/headers.ts';
import { isValidQueueName, isValidSubject } from '../protocol/subject.ts';
import { ConnectionClosedError, ErrorCode, NatsError, type PermissionsError } from './errors.ts';
import type { ServerInfo } from './handshake.ts';
import type { Msg } from './msg.ts';
import { resolveOptions, type ConnectionOptions, type ResolvedOptions } from './options.ts';
import { PreparedPublish } from './prepared.ts';
import { ProtocolHandler, type Stats } from './protocol.ts';
import { RequestMux } from './request-mux.ts';
import type { Status } from './status.ts';
import { Subscription, type SubscriptionHost, type SubscriptionOptions } from './subscription.ts';

export interface PublishOptions {
  reply?: string;
  headers?: MsgHeaders;
}

export interface RequestOptions {
  /** Milliseconds to wait for the reply (default: the connection's requestTimeoutMs). */
  timeoutMs?: number;
  /** Alias of timeoutMs, as nats.js names it. */
  timeout?: number;
  headers?: MsgHeaders;
}

export type Payload = Uint8Array | string;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

function toBytes(data: Payload | undefined): Uint8Array {
  if (data === undefined) return EMPTY;
  return typeof data === 'string' ? encoder.encode(data) : data;
}

export class NatsConnection implements SubscriptionHost {
  private readonly p: ProtocolHandler;
  private readonly mux: RequestMux;
  private readonly opts: ResolvedOptions;
  private draining: Promise<void> | undefined = undefined;

  /** Use connect(). */
  constructor(options: ConnectionOptions) {
    this.opts = resolveOptions(options);
    this.p = new ProtocolHandler(this.opts, options.clock ?? systemClock, options.rng ?? systemRng());
    this.p.responder = this;
    const p = this.p;
    this.mux = new RequestMux(
      {
        clock: p.clock,
        subscribe: (subject, callback) => this.makeSubscription(subject, { callback }),
        publish: (subject, payload, reply, headers) => p.publish(subject, payload, reply, headers),
      },
      this.opts.inboxPrefix,
    );
    const mux = this.mux;
    const retry = this.opts.retryRequestsOnReconnect;
    p.hooks = {
      disconnected: () => mux.disconnected(retry),
      reconnected: () => {
        if (retry) mux.reconnected();
      },
      publishDenied: (err: PermissionsError) => mux.publishDenied(err),
      closed: () => mux.closed(),
    };
  }

  /** @internal The injected clock (JetStream timers use it too). */
  get clock(): Clock {
    return this.p.clock;
  }

  /** @internal */
  start(): Promise<void> {
    return this.p.start();
  }

  /** The last INFO from the server (merged with async updates). */
  get info(): ServerInfo | undefined {
    return this.p.serverInfo;
  }

  /** The server currently connected to (`scheme://host:port`), '' when none. */
  getServer(): string {
    return this.p.isConnected ? (this.p.current?.url.key ?? '') : '';
  }

  /** Known servers: configured and discovered. */
  getServers(): string[] {
    return this.p.pool.list().map((e) => e.url.key);
  }

  stats(): Stats {
    return { ...this.p.stats };
  }

  isClosed(): boolean {
    return this.p.state === 'closed';
  }

  isDraining(): boolean {
    return this.draining !== undefined && this.p.state !== 'closed';
  }

  /** Resolves when the connection is closed: undefined after close()/drain(), else the error. */
  closed(): Promise<Error | undefined> {
    return this.p.closedPromise;
  }

  /** Status events from now on (disconnect, reconnecting, reconnect, ldm, error, ...). */
  status(): AsyncIterableIterator<Status> {
    return this.p.status.iterator();
  }

  /** A new unique inbox subject under the connection's inbox prefix. */
  createInbox(): string {
    return `${this.opts.inboxPrefix}.${newToken()}`;
  }

  publish(subject: string, data?: Payload, opts?: PublishOptions): void {
    const headers = opts?.headers;
    this.p.publish(subject, toBytes(data), opts?.reply ?? '', headers === undefined ? null : headers.encode());
  }

  /**
   * Encodes `count` copies (default 1) of one message once, checked now (subject, max_payload,
   * headers support); publishPrepared then sends them all with one copy. Payload bytes can be
   * changed in place between sends through `prepared.payload(i)`.
   */
  prepare(subject: string, data?: Payload, opts?: PublishOptions & { count?: number }): PreparedPublish {
    const count = opts?.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new NatsError(ErrorCode.InvalidOption, `count must be a positive integer, got ${count}`);
    const payload = toBytes(data);
    const headers = opts?.headers === undefined ? null : opts.headers.encode();
    this.p.checkMessage(subject, payload.length + (headers?.length ?? 0), headers !== null);
    return new PreparedPublish(subject, opts?.reply ?? '', headers, payload, count);
  }

  /** Publishes the first `count` (default: all) messages of a prepare()d batch, as publish() would one by one. */
  publishPrepared(prepared: PreparedPublish, count = prepared.count): void {
    if (count === prepared.count) return this.p.publishFrames(prepared.frames, count, prepared.messageBytes);
    if (!Number.isInteger(count) || count < 0 || count > prepared.count) throw new NatsError(ErrorCode.InvalidOption, `count must be 0..${prepared.count}, got ${count}`);
    if (count > 0) this.p.publishFrames(prepared.frames.subarray(0, prepared.frameBytes * count), count, prepared.messageBytes);
  }

  subscribe(subject: string, opts: SubscriptionOptions = {}): Subscription {
    if (this.draining !== undefined) throw new NatsError(ErrorCode.ConnectionDraining, 'connection is draining');
    return this.makeSubscription(subject, opts);
  }

  private makeSubscription(subject: string, opts: SubscriptionOptions): Subscription {
    if (this.p.state === 'closed') throw new ConnectionClosedError();
    if (!isValidSubject(subject)) throw new NatsError(ErrorCode.InvalidSubject, `invalid subject '${subject}'`);
    if (opts.queue !== undefined && !isValidQueueName(opts.queue)) {
      throw new NatsError(ErrorCode.InvalidSubject, `invalid queue group '${opts.queue}'`);
    }
    if (opts.max !== undefined && (!Number.isInteger(opts.max) || opts.max < 0)) {
      throw new NatsError(ErrorCode.InvalidOption, `max must be a non-negative integer`);
    }
    const sub = new Subscription(this, this.p.allocSid(), subject, opts, this.opts.pendingLimitMsgs, this.opts.pendingLimitBytes);
    this.p.addSubscription(sub);
    return sub;
  }

  /** Publish with a reply inbox and resolve with the first answer (rejects: timeout, no responders). */
  request(subject: string, data?: Payload, opts?: RequestOptions): Promise<Msg> {
    if (this.p.state === 'closed') return Promise.reject(new ConnectionClosedError());
    if (this.draining !== undefined) return Promise.reject(new NatsError(ErrorCode.ConnectionDraining, 'connection is draining'));
    const timeoutMs = opts?.timeoutMs ?? opts?.timeout ?? this.opts.requestTimeoutMs;
    const headers = opts?.headers;
    return this.mux.request(subject, toBytes(data), headers === undefined ? null : headers.encode(), timeoutMs);
  }

  /** Resolves once the server has processed everything published so far. */
  flush(): Promise<void> {
    return this.p.flush();
  }

  /** Round-trip time to the server in milliseconds. */
  async rtt(): Promise<number> {
    const start = this.p.clock.monoNs();
    await this.p.flush();
    return (this.p.clock.monoNs() - start) / 1e6;
  }

  /**
   * Stop taking new work, let every subscription process what the server already sent, wait for
   * pending requests, flush publishes, then close.
   */
  drain(): Promise<void> {
    if (this.p.state === 'closed') return Promise.reject(new ConnectionClosedError());
    this.draining ??= this.doDrain();
    return this.draining;
  }

  private async doDrain(): Promise<void> {
    const muxSub = this.mux.subscription;
    const subs = [...this.p.subs.values()].filter((s) => s !== muxSub);
    await Promise.all(subs.map((s) => s.drain()));
    await this.mux.drain();
    if (this.p.state !== 'closed') {
      await this.p.flush().catch(() => undefined);
      await this.p.close();
    }
  }

  /** Flush what is buffered and close. Pending requests fail with CONNECTION_CLOSED. */
  async close(): Promise<void> {
    await this.p.close();
  }

  // --- SubscriptionHost --------------------------------------------------------------------------

  /** @internal */
  unsubscribe(sub: Subscription, max?: number): void {
    this.p.removeSubscription(sub, max);
  }

  /** @internal */
  drainSubscription(sub: Subscription): Promise<void> {
    return this.p.drainSubscription(sub);
  }

  /** @internal */
  callbackError(_sub: Subscription, err: unknown): void {
    this.p.status.emit({ type: 'error', error: err instanceof Error ? err : new Error(String(err)) });
  }

  /** @internal */
  slowConsumer(sub: Subscription): void {
    this.p.status.emit({
      type: 'slowConsumer',
      subject: sub.subject,
      sid: sub.sid,
      pendingMsgs: sub.getPending(),
      pendingBytes: 0,
    });
  }
}

/** Connect to the first reachable server of `opts.servers`. */
export async function connect(opts: ConnectionOptions = {}): Promise<NatsConnection> {
  const nc = new NatsConnection(opts);
  await nc.start();
  return nc;
}
