// The client's protocol core: one live transport at a time, the shared parser (protocol/parser.ts)
// with this object as its sink, the CONNECT handshake, the outbound buffer and its once-per-turn
// flush, PING/PONG (flush barriers and keepalive), subscriptions by sid, and the reconnect loop.
//
// Outbound bytes always go through one OutboundBuffer that survives reconnects: while
// disconnected, publishes accumulate there (up to reconnectBufferBytes) and are written after
// the handshake, after the subscriptions are re-sent. SUB/UNSUB are not buffered while
// disconnected: the subscription map is the truth and is replayed on connect (with the remaining
// max count). PINGs are: every PING has a waiter in a FIFO; on reconnect the PINGs that were in
// flight on the lost socket are sent again, so waiters and PONGs stay paired.

import { Buffer } from 'node:buffer';
import type { Clock, TimerHandle } from '../runtime/clock.ts';
import type { Rng } from '../runtime/rng.ts';
import { OutboundBuffer, writeConnect, writePing, writePong, writePub, writeSub, writeUnsub } from '../protocol/encoder.ts';
import type { ClientOpSink, ProtocolError as ParserError } from '../protocol/sink.ts';
import { isValidPublishSubject } from '../protocol/subject.ts';
import {
  AuthorizationError,
  ConnectionClosedError,
  ErrorCode,
  NatsError,
  PermissionsError,
  ProtocolError,
  TimeoutError,
  errorFromServerText,
  serverKeepsConnection,
} from './errors.ts';
import { buildConnect, type ServerInfo } from './handshake.ts';
import { Handshake, Link, type ConnState, type ProtocolHooks, type Stats } from './link.ts';
import { Msg, type Responder } from './msg.ts';
import type { ResolvedOptions } from './options.ts';
import { PongQueue, type PongWaiter } from './pongs.ts';
import { ServerPool, type ServerEntry } from './servers.ts';
import { StatusHub } from './status.ts';
import type { Subscription } from './subscription.ts';

import { dial, type Transport } from './transport/index.ts';

export type { ConnState, ProtocolHooks, Stats } from './link.ts';

/** Outbound bytes past which a publish writes at once instead of at the end of the turn. */
const FLUSH_HIGH_WATER_BYTES = 256 * 1024;

export class ProtocolHandler implements ClientOpSink {
  readonly opts: ResolvedOptions;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly status = new StatusHub();
  readonly pool: ServerPool;
  readonly subs = new Map<number, Subscription>();
  readonly stats: Stats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0, reconnects: 0 };
  state: ConnState = 'connecting';
  serverInfo: ServerInfo | undefined = undefined;
  current: ServerEntry | undefined = undefined;
  hooks: ProtocolHooks | undefined = undefined;
  responder: Responder | undefined = undefined;

  private nextSid = 1;
  private readonly outbound = new OutboundBuffer();
  private transport: Transport | undefined = undefined;
  private link: Link | undefined = undefined;
  private hs: Handshake | undefined = undefined;
  private flushPending = false;
  private readonly flushTask = (): void => {
    this.flushPending = false;
    this.flushOutbound();
  };
  private readonly pongs = new PongQueue();
  /** PINGs sitting in `outbound` (not yet written to a socket). */
  private pingsInBuffer = 0;
  private pingsOutstanding = 0;
  private keepalive: TimerHandle | undefined = undefined;
  private sleeper: { timer: TimerHandle; wake: () => void } | undefined = undefined;
  private lastError: Error | undefined = undefined;
  /** A -ERR after which the server is expected to close; reported with the disconnect. */
  private serverError: NatsError | undefined = undefined;
  /** The last subject that passed validation (publishing to one subject repeatedly checks it once). */
  private lastSubject: string | undefined = undefined;
  private resolveClosed!: (e: Error | undefined) => void;
  readonly closedPromise: Promise<Error | undefined> = new Promise((r) => (this.resolveClosed = r));

  constructor(opts: ResolvedOptions, clock: Clock, rng: Rng) {
    this.opts = opts;
    this.clock = clock;
    this.rng = rng;
    this.pool = new ServerPool(opts.servers, !opts.noRandomize, rng);
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  /** First connect: each server once (or, with waitOnFirstConnect, the reconnect policy). */
  async start(): Promise<void> {
    const ok = await this.connectLoop(false, this.opts.waitOnFirstConnect ? Infinity : this.pool.size);
    if (ok) return;
    const err = this.lastError;
    const failure =
      err instanceof AuthorizationError || (err instanceof NatsError && err.code === ErrorCode.Timeout)
        ? err
        : new NatsError(ErrorCode.ConnectionRefused, `could not connect to ${this.opts.servers.join(', ')}: ${err?.message ?? 'no servers'}`, {
            cause: err,
          });
    this.finalize(failure);
    throw failure;
  }

  private async connectLoop(reconnecting: boolean, maxTries: number): Promise<boolean> {
    for (let tries = 0; tries < maxTries; tries++) {
      if (this.state === 'closed') return false;
      const entry = this.pool.next();
      if (entry === undefined) return false;
      const waitMs = this.pool.waitMs(entry, this.clock.nowMs(), this.opts, this.rng);
      if (waitMs > 0) await this.sleep(waitMs);
      if (this.isClosed) return false;
      if (reconnecting) this.status.emit({ type: 'reconnecting', server: entry.url.key, attempt: entry.attempts });
      entry.lastAttemptMs = this.clock.nowMs();
      try {
        await this.attempt(entry);
      } catch (e) {
        this.lastError = e as Error;
        entry.attempts++;
        if (reconnecting && e instanceof AuthorizationError) this.status.emit({ type: 'error', error: e });
        const max = this.opts.maxReconnectAttempts;
        if (maxTries === Infinity && max >= 0 && entry.attempts >= max) this.pool.remove(entry);
        continue;
      }
      this.connected(entry, reconnecting);
      return true;
    }
    return false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.sleeper = undefined;
        resolve();
      };
      this.sleeper = { timer: this.clock.setTimeout(wake, ms), wake };
    });
  }

  /** Dial, read INFO, send CONNECT+PING, wait for PONG. Throws on any failure. */
  private async attempt(entry: ServerEntry): Promise<void> {
    const link = new Link(this);
    const hs = new Handshake();
    this.link = link;
    this.hs = hs;
    const timer = this.clock.setTimeout(() => {
      hs.fail(new TimeoutError('connect'));
    }, this.opts.timeoutMs);
    try {
      const t = await dial({ url: entry.url, tls: this.opts.tls, timeoutMs: this.opts.timeoutMs, clock: this.clock });
      link.transport = t;
      if (hs.error !== undefined || this.isClosed) throw hs.error ?? new ConnectionClosedError();
      t.start({
        data: (chunk) => {
          if (link !== this.link) return;
          try {
            link.parser.parse(chunk);
          } catch (e) {
            // A bug below the parser (the parser itself never throws): drop this connection
            // rather than leave the stream half-parsed.
            this.parseFailed(link, e);
          }
        },
        close: (err) => this.transportClosed(link, err),
      });
      while (hs.info === undefined && hs.error === undefined) await hs.wait();
      if (hs.error !== undefined) throw hs.error;
      const info = hs.info!;
      const connect = await buildConnect(this.opts, info, entry.url, t.encrypted);
      if (hs.error !== undefined) throw hs.error;
      const out = new OutboundBuffer(1024);
      writeConnect(out, connect);
      writePing(out);
      t.write(out.take());
      while (!hs.pong && hs.error === undefined) await hs.wait();
      if (hs.error !== undefined) throw hs.error;
      this.serverInfo = info;
      this.transport = t;
    } catch (e) {
      if (this.link === link) this.link = undefined;
      link.transport?.destroy();
      link.markClosed();
      throw e;
    } finally {
      timer.cancel();
      this.hs = undefined;
    }
  }

  private connected(entry: ServerEntry, reconnecting: boolean): void {
    this.state = 'connected';
    this.current = entry;
    entry.attempts = 0;
    entry.didConnect = true;
    this.pingsOutstanding = 0;
    const pre = new OutboundBuffer(4096);
    for (const sub of this.subs.values()) {
      if (sub.isDraining()) continue;
      writeSub(pre, sub.subject, sub.queue, sub.sid);
      if (sub.max > 0) writeUnsub(pre, sub.sid, sub.max - sub.getReceived());
    }
    // PINGs that were in flight on the lost socket: their PONGs will never come.
    for (let i = this.pongs.length - this.pingsInBuffer; i > 0; i--) writePing(pre);
    if (pre.length > 0) this.transport!.write(pre.take());
    this.flushOutbound();
    if (this.opts.pingIntervalMs > 0) {
      this.keepalive = this.clock.setInterval(() => this.keepaliveTick(), this.opts.pingIntervalMs);
    }
    this.updateServers(this.serverInfo!);
    if (reconnecting) {
      this.stats.reconnects++;
      this.hooks?.reconnected();
      this.status.emit({ type: 'reconnect', server: entry.url.key });
    }
  }

  private keepaliveTick(): void {
    if (this.transport === undefined) return;
    if (this.pingsOutstanding >= this.opts.maxPingOut) {
      this.status.emit({ type: 'staleConnection', server: this.current?.url.key ?? '' });
      this.serverError = new NatsError(ErrorCode.StaleConnection, 'stale connection');
      this.transport.destroy(this.serverError);
      return;
    }
    this.pingsOutstanding++;
    this.sendPing(undefined);
  }

  private parseFailed(link: Link, e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.status.emit({ type: 'error', error: err });
    if (this.hs !== undefined) this.hs.fail(err);
    link.transport?.destroy(err);
  }

  private transportClosed(link: Link, err: Error | undefined): void {
    if (link.closed) return;
    link.markClosed();
    if (link !== this.link) return;
    this.link = undefined;
    const hs = this.hs;
    if (hs !== undefined) {
      hs.fail(err ?? new NatsError(ErrorCode.ConnectionRefused, 'connection closed during handshake'));
      return;
    }
    this.transport = undefined;
    this.keepalive?.cancel();
    this.keepalive = undefined;
    if (this.state === 'closed') return;
    const error = this.serverError ?? err;
    this.serverError = undefined;
    this.status.emit({ type: 'disconnect', server: this.current?.url.key ?? '', error });
    if (!this.opts.reconnect) {
      this.finalize(error ?? new NatsError(ErrorCode.Disconnected, 'connection lost'));
      return;
    }
    this.state = 'reconnecting';
    this.hooks?.disconnected();
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    const ok = await this.connectLoop(true, Infinity);
    if (!ok && this.state !== 'closed') {
      this.finalize(new NatsError(ErrorCode.ConnectionRefused, `could not reconnect: ${this.lastError?.message ?? 'no servers left'}`, { cause: this.lastError }));
    }
  }

  /** Write what is buffered, end the socket, wait (briefly) for it to close. */
  async close(): Promise<Error | undefined> {
    if (this.state === 'closed') return this.closedPromise;
    const link = this.link;
    const t = this.transport;
    if (t !== undefined) {
      this.flushOutbound();
      this.state = 'closed';
      t.close();
    } else {
      this.state = 'closed';
    }
    this.finalize(undefined);
    if (link !== undefined) {
      await Promise.race([link.closedPromise, new Promise<void>((r) => this.clock.setTimeout(r, 2000))]);
    }
    return this.closedPromise;
  }

  private finalize(err: Error | undefined): void {
    this.state = 'closed';
    this.keepalive?.cancel();
    this.keepalive = undefined;
    const s = this.sleeper;
    if (s !== undefined) {
      s.timer.cancel();
      s.wake();
    }
    this.hs?.fail(err ?? new ConnectionClosedError());
    const link = this.link;
    if (link !== undefined && link.transport !== undefined && link.transport !== this.transport) link.transport.destroy();
    this.transport = undefined;
    this.pongs.failAll(new ConnectionClosedError());
    for (const sub of this.subs.values()) sub.finish(undefined);
    this.subs.clear();
    this.outbound.clear();
    this.hooks?.closed(err);
    this.status.end();
    this.resolveClosed(err);
  }

  // --- outbound ----------------------------------------------------------------------------------

  /** (A method so TypeScript does not narrow `state` across awaits.) */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get isConnected(): boolean {
    return this.transport !== undefined;
  }

  private scheduleFlush(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    this.clock.setImmediate(this.flushTask);
  }

  private flushOutbound(): void {
    const t = this.transport;
    if (t === undefined || this.outbound.length === 0) return;
    this.pingsInBuffer = 0;
    t.write(this.outbound.take());
  }

  private checkOpen(): void {
    if (this.state === 'closed') throw new ConnectionClosedError();
  }

  /** PUB/HPUB. `headers` is an encoded header block or null. */
  publish(subject: string, payload: Uint8Array, reply: string, headers: Uint8Array | null): void {
    this.checkOpen();
    const size = headers === null ? payload.length : payload.length + headers.length;
    this.checkMessage(subject, size, headers !== null);
    const out = this.outbound;
    if (this.transport === undefined && out.length + size > this.opts.reconnectBufferBytes) {
      throw new NatsError(ErrorCode.ReconnectBufferExceeded, `reconnect buffer of ${this.opts.reconnectBufferBytes} bytes is full`);
    }
    writePub(out, subject, reply, headers, payload);
    this.stats.outMsgs++;
    this.stats.outBytes += size;
    if (out.length >= FLUSH_HIGH_WATER_BYTES && this.transport !== undefined) this.flushOutbound();
    else this.scheduleFlush();
  }

  /** Throws when a message to `subject` of `size` bytes (payload + headers) cannot be published. */
  checkMessage(subject: string, size: number, hasHeaders: boolean): void {
    if (subject !== this.lastSubject) {
      if (!isValidPublishSubject(subject)) throw new NatsError(ErrorCode.InvalidSubject, `invalid publish subject '${subject}'`);
      this.lastSubject = subject;
    }
    const info = this.serverInfo;
    if (info !== undefined) {
      if (size > info.max_payload) {
        throw new NatsError(ErrorCode.MaxPayloadExceeded, `message of ${size} bytes exceeds max_payload ${info.max_payload}`);
      }
      if (hasHeaders && info.headers !== true) throw new NatsError(ErrorCode.HeadersNotSupported, 'server does not support headers');
    }
  }

  /**
   * Pre-encoded PUB/HPUB frames (NatsConnection.publishPrepared): `count` messages of `size`
   * payload+header bytes each, already checked against max_payload when they were prepared.
   */
  publishFrames(frames: Uint8Array, count: number, size: number): void {
    this.checkOpen();
    const out = this.outbound;
    if (this.transport === undefined && out.length + frames.length > this.opts.reconnectBufferBytes) {
      throw new NatsError(ErrorCode.ReconnectBufferExceeded, `reconnect buffer of ${this.opts.reconnectBufferBytes} bytes is full`);
    }
    out.appendBytes(frames);
    this.stats.outMsgs += count;
    this.stats.outBytes += size * count;
    if (out.length >= FLUSH_HIGH_WATER_BYTES && this.transport !== undefined) this.flushOutbound();
    else this.scheduleFlush();
  }

  /** A PING whose PONG resolves `waiter` (undefined: keepalive). Buffered while disconnected. */
  private sendPing(waiter: PongWaiter | undefined): void {
    this.pongs.push(waiter);
    writePing(this.outbound);
    this.pingsInBuffer++;
    this.scheduleFlush();
  }

  /** Resolves when the server has processed everything sent before it (PING/PONG). */
  flush(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new ConnectionClosedError());
    return new Promise((resolve, reject) => this.sendPing({ resolve, reject }));
  }

  // --- subscriptions -----------------------------------------------------------------------------

  allocSid(): number {
    return this.nextSid++;
  }

  addSubscription(sub: Subscription): void {
    this.checkOpen();
    this.subs.set(sub.sid, sub);
    if (this.transport === undefined) return; // sent on (re)connect
    writeSub(this.outbound, sub.subject, sub.queue, sub.sid);
    if (sub.max > 0) writeUnsub(this.outbound, sub.sid, sub.max);
    this.scheduleFlush();
  }

  /** UNSUB; with max the subscription stays until the server has delivered max in total. */
  removeSubscription(sub: Subscription, max?: number): void {
    if (max === undefined) this.subs.delete(sub.sid);
    if (this.transport === undefined || this.state === 'closed') return;
    writeUnsub(this.outbound, sub.sid, max);
    this.scheduleFlush();
  }

  async drainSubscription(sub: Subscription): Promise<void> {
    if (this.transport !== undefined) {
      writeUnsub(this.outbound, sub.sid);
      try {
        await this.flush();
      } catch {
        // closed meanwhile: nothing more will arrive anyway
      }
    }
    this.subs.delete(sub.sid);
  }

  // --- ClientOpSink ------------------------------------------------------------------------------

  info(json: string): void {
    let info: ServerInfo;
    try {
      info = JSON.parse(json) as ServerInfo;
    } catch {
      return this.error({ kind: 'syntax', detail: 'INFO is not JSON' });
    }
    const hs = this.hs;
    if (hs !== undefined) {
      if (hs.info === undefined) {
        hs.info = info;
        hs.signal();
      }
      return;
    }
    this.serverInfo = { ...this.serverInfo, ...info };
    this.updateServers(info);
    if (info.ldm === true) this.status.emit({ type: 'ldm', server: this.current?.url.key ?? '' });
  }

  private updateServers(info: ServerInfo): void {
    if (this.opts.ignoreClusterUpdates || this.current === undefined) return;
    const urls = info.connect_urls;
    if (urls === undefined) return;
    const { added, deleted } = this.pool.update(urls, this.current.url.scheme, this.current);
    if (added.length > 0 || deleted.length > 0) this.status.emit({ type: 'update', added, deleted });
  }

  msg(subject: string, sid: number, reply: string, hdrLen: number, bytes: Buffer): void {
    const stats = this.stats;
    stats.inMsgs++;
    stats.inBytes += bytes.length;
    const sub = this.subs.get(sid);
    if (sub === undefined) return;
    if (sub.dataCallback !== undefined) {
      if (sub.deliverData(hdrLen === 0 ? bytes : bytes.subarray(hdrLen), subject, reply)) this.subs.delete(sid);
      return;
    }
    const m = new Msg(subject, sid, reply, hdrLen, Buffer.from(bytes), this.responder);
    if (sub.deliver(m)) this.subs.delete(sid);
  }

  ok(): void {
    // verbose mode only; nothing to do
  }

  err(text: string): void {
    const e = errorFromServerText(text);
    const hs = this.hs;
    if (hs !== undefined) {
      hs.fail(e);
      return;
    }
    if (e instanceof PermissionsError) {
      if (e.operation === 'subscription') {
        for (const sub of [...this.subs.values()]) {
          if (sub.subject === e.subject && sub.queue === e.queue) {
            this.subs.delete(sub.sid);
            sub.finish(e);
          }
        }
      } else {
        this.hooks?.publishDenied(e);
      }
    }
    if (!serverKeepsConnection(e)) this.serverError = e;
    this.status.emit({ type: 'error', error: e });
  }

  ping(): void {
    const hs = this.hs;
    if (hs !== undefined) {
      const out = new OutboundBuffer(64);
      writePong(out);
      this.link?.transport?.write(out.take());
      return;
    }
    writePong(this.outbound);
    this.scheduleFlush();
  }

  pong(): void {
    const hs = this.hs;
    if (hs !== undefined) {
      hs.pong = true;
      hs.signal();
      return;
    }
    this.pingsOutstanding = 0;
    this.pongs.shift()?.resolve();
  }

  error(err: ParserError): void {
    const e = new ProtocolError(`protocol error from server: ${err.detail}`);
    const hs = this.hs;
    if (hs !== undefined) {
      hs.fail(e);
      return;
    }
    this.serverError = e;
    this.status.emit({ type: 'error', error: e });
    this.transport?.destroy(e);
  }

}
