// One client connection: owns a parser (and implements its sink), the CONNECT handshake, the
// outbound buffer with its slow-consumer policy, and the keepalive timer. Routing is the
// router's job; bytes on the wire are the transport's; who the client is and what it may do is
// decided by ConnectionAuth and the auth/ modules (this file only asks and enforces).

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { reclaimDropped } from '../../runtime/reclaim.ts';
import type { Logger } from '../../runtime/logger.ts';
import { ServerParser } from '../../protocol/parser.ts';
import {
  OutboundBuffer,
  writeErr,
  writeInfo,
  writeMsg,
  writeOk,
  writePing,
  writePong,
} from '../../protocol/encoder.ts';
import { encodeStatusBlock } from '../../protocol/headers.ts';
import { isValidPublishSubject, isValidQueueName, isValidSubject } from '../../protocol/subject.ts';
import { ClientErr, CloseReason, permissionsViolationPublish, permissionsViolationSubscribe } from '../../protocol/errors.ts';
import {
  CONNECTION_OUTBOUND_INITIAL_BYTES,
  OUTBOUND_FLUSH_HIGH_WATER_BYTES,
  PRODUCER_MAX_STALL_MS,
  PRODUCER_STALL_FRACTION,
} from '../../protocol/limits.ts';
import type { ParserLimits, ProtocolError, ServerOpSink } from '../../protocol/sink.ts';
import type { AuthOutcome } from '../auth/authenticator.ts';
import { SubscribeDecision, type ConnectionPermissions } from '../auth/permissions.ts';
import type { ServerOptions } from '../options-types.ts';
import type { BridgeMisses } from '../accounts/bridge.ts';
import { FanOutReport, type Router } from '../router/router.ts';
import { StalledProducers, Subscription, type MessageTarget, type StalledProducer } from '../router/subscription.ts';
import type { ServerStats } from '../stats.ts';
import type { ClientTransport } from '../transport/types.ts';
import { parseConnectJson, type ConnectOptions } from './connect-options.ts';
import { WriteDeadline } from './write-deadline.ts';
import { InputSlicer } from './input-slicer.ts';
import { ConnectionAuth, Gate, tighten, type AuthServices } from './connection-auth.ts';
import type { Flushable, Flusher } from './flusher.ts';

/** What a connection needs of the accounts (server/accounts/accounts.ts). */
export interface ConnectionAccounts {
  /** The router of an account that exists (the options checked every user's account). */
  routerOf(account: string): Router;
  /** Requests that reached only imports leading nowhere, for no-responders. */
  readonly misses: BridgeMisses;
  /** The connection whose request is being delivered (set around the delivery), else null. */
  requester: ClientConnection | null;
}

/** What a connection needs from the server that owns it. */
export interface ConnectionContext {
  /** The global account's router: a connection's until its user is known. */
  readonly router: Router;
  readonly accounts: ConnectionAccounts;
  readonly flusher: Flusher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly options: ServerOptions;
  readonly auth: AuthServices;
  /** The INFO object sent to this connection on accept. */
  infoFor(conn: ClientConnection): Record<string, unknown>;
  /** The client's first CONNECT was accepted (the system account's connect event). */
  connectionOpened(conn: ClientConnection): void;
  connectionClosed(conn: ClientConnection, reason: CloseReason): void;
}

const NO_RESPONDERS_BLOCK = encodeStatusBlock(503, '');

/** Bound on a MSG control line beside its subject and reply: verb, sid, sizes, spaces, CRLFs. */
const MSG_LINE_SLACK_BYTES = 64;

export class ClientConnection implements ServerOpSink, MessageTarget, Flushable {
  readonly id: number;
  readonly transport: ClientTransport;
  readonly startMs: number;
  queuedForFlush = false;
  closed = false;
  congested = false;
  closeReason: CloseReason | undefined;

  // Options from CONNECT; before it arrives, nats-server's defaults apply.
  connectReceived = false;
  verbose = true;
  pedantic = true;
  echo = true;
  headers = false;
  noResponders = false;
  protocol = 0;
  name = '';
  lang = '';
  version = '';

  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  lastActivityMs: number;
  readonly auth: ConnectionAuth;
  /** The authenticated user's permissions; undefined = unrestricted (checked on the hot path). */
  perms: ConnectionPermissions | undefined = undefined;

  private readonly ctx: ConnectionContext;
  /** The subject space of the connection's account (its user's; $G until authenticated). */
  private router: Router;
  private readonly parser: ServerParser;
  private readonly limits: ParserLimits;
  /**
   * Starts small and grows to what the connection's traffic needs (then stays, see
   * OutboundBuffer.take): a connection that only ever gets a few PONGs costs ~1 KiB, not 16 KiB,
   * which is most of what 2,000 idle connections hold (benchmarks/README.md, storm).
   */
  private readonly out = new OutboundBuffer(CONNECTION_OUTBOUND_INITIAL_BYTES);
  private readonly subs = new Map<string, Subscription>();
  /** Every line about this connection carries cid, ip and port, and the client's name once known. */
  private log: Logger;
  private pingsOutstanding = 0;
  /** When the keepalive PING now unanswered was sent (0n: none), to time its PONG (ns, fine-grained). */
  private pingSentNs = 0n;
  /** Round trip of the last keepalive PING/PONG in ms; -1 until one was timed (/connz rtt). */
  rttMs = -1;
  private pingTimer: TimerHandle | undefined;
  private firstBytesSeen = false;
  /** Producers paused until this connection drains (see stallOn). */
  private readonly stalledProducers = new StalledProducers();
  /** Reused for every publish: where the router reports a congested receiver. */
  private readonly fanOutReport = new FanOutReport();
  private stalled = false;
  private stallTimer: TimerHandle | undefined;
  private readonly stallThresholdBytes: number;
  private startedWithHttp = false;
  /** 0 = unlimited; the server's limit, tightened by the user's. */
  private maxSubscriptions: number;
  private readonly writeDeadline: WriteDeadline;
  /** Output dropped when the connection was cut as a slow consumer, reclaimed once the socket is gone. */
  private droppedBytes = 0;
  private readonly input: InputSlicer;
  /** Log every inbound operation at trace level (-V): one boolean on the hot path, refreshed on reload. */
  private tracing: boolean;

  constructor(id: number, transport: ClientTransport, ctx: ConnectionContext) {
    this.id = id;
    this.transport = transport;
    this.ctx = ctx;
    this.router = ctx.router;
    this.startMs = ctx.clock.nowMs();
    this.lastActivityMs = this.startMs;
    this.limits = {
      maxControlLineBytes: ctx.options.maxControlLineBytes,
      maxPayloadBytes: ctx.options.maxPayloadBytes,
    };
    this.parser = new ServerParser(this, this.limits);
    this.stallThresholdBytes = Math.floor(ctx.options.maxPendingBytes * PRODUCER_STALL_FRACTION);
    this.maxSubscriptions = ctx.options.maxSubscriptionsPerConnection;
    this.auth = new ConnectionAuth(ctx.auth, ctx.clock);
    this.log = ctx.logger.child({ cid: id, ip: transport.remoteAddress, port: transport.remotePort });
    this.input = new InputSlicer(ctx.clock, (bytes) => this.parser.parse(bytes), {
      open: () => !this.closed,
      pause: () => this.transport.pause(),
      // Other reasons to stay paused (a stalled producer, a password being checked) keep theirs.
      resume: () => {
        if (!this.stalled && this.auth.gate !== Gate.Checking) this.transport.resume();
      },
    });
    this.tracing = ctx.logger.isLevelEnabled('trace');
    this.writeDeadline = new WriteDeadline(ctx.clock, ctx.options.writeDeadlineMs, () => transport.pendingWriteBytes(), () =>
      this.writeDeadlineExceeded(),
    );
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** The name of the account the connection is in. */
  get account(): string {
    return this.router.account;
  }

  /** The connection's subscriptions (monitoring); after close, the ones it had when it closed. */
  subscriptions(): IterableIterator<Subscription> {
    return this.subs.values();
  }

  get pendingBytes(): number {
    return this.out.length + this.transport.pendingWriteBytes();
  }

  /**
   * An INFO after the handshake (the cluster's client URLs changed), for clients that said in
   * CONNECT they understand one (protocol >= 1), as nats-server does.
   */
  sendAsyncInfo(): void {
    if (this.closed || !this.connectReceived || this.protocol < 1) return;
    writeInfo(this.out, this.ctx.infoFor(this));
    this.ctx.flusher.markDirty(this);
  }

  /** This connection's logger (cid, ip, port, name): for lines the server writes about it. */
  get logger(): Logger {
    return this.log;
  }

  /**
   * The server's configuration was reloaded (server/reload.ts): the new limits apply from the next
   * operation and, when the users changed, the CONNECT credentials are judged again: refused ones
   * close the connection, accepted ones get the new permissions, and subscriptions those no longer
   * allow are removed with a permissions error, as nats-server does.
   */
  applyReload(authChanged: boolean): void {
    if (this.closed) return;
    this.tracing = this.ctx.logger.isLevelEnabled('trace');
    this.applyLimits();
    if (!authChanged || this.auth.gate !== Gate.Open) return;
    this.auth.recheck((outcome) => {
      if (this.closed) return;
      if (!outcome.ok) {
        this.log.info({ reason: outcome.reason }, 'authorization revoked by config reload, closing connection');
        this.closeWithError(ClientErr.AuthorizationViolation, CloseReason.AuthenticationViolation);
        return;
      }
      // Its subscriptions live in the old account's subject space: a user moved to another
      // account connects again.
      if ((outcome.user?.account ?? this.ctx.router.account) !== this.account) {
        this.log.info({ user: outcome.user?.name, account: outcome.user?.account }, 'account changed by config reload, closing connection');
        this.closeWithError(ClientErr.AuthorizationViolation, CloseReason.AuthenticationViolation);
        return;
      }
      this.perms = this.auth.permissions;
      this.applyLimits();
      this.dropForbiddenSubscriptions();
    });
  }

  /** The server's limits (current options) narrowed by the user's. */
  private applyLimits(): void {
    const o = this.ctx.options;
    const user = this.auth.user;
    this.limits.maxControlLineBytes = o.maxControlLineBytes;
    this.limits.maxPayloadBytes = tighten(o.maxPayloadBytes, user?.limits.maxPayloadBytes ?? 0);
    this.maxSubscriptions = tighten(o.maxSubscriptionsPerConnection, user?.limits.maxSubscriptions ?? 0);
  }

  private dropForbiddenSubscriptions(): void {
    const perms = this.perms;
    if (perms === undefined) return;
    for (const [sid, sub] of this.subs) {
      if (perms.subscribeDecision(sub.subject, sub.queue) !== SubscribeDecision.Deny) continue;
      this.subs.delete(sid);
      this.router.unsubscribe(sub);
      this.log.info({ subject: sub.subject, queue: sub.queue, user: this.auth.user?.name }, 'subscription removed: no longer permitted after config reload');
      this.sendErr(permissionsViolationSubscribe(sub.subject, sub.queue));
    }
  }

  /** Sends INFO and starts reading. */
  start(): void {
    this.log.debug({}, 'client connection created');
    writeInfo(this.out, this.ctx.infoFor(this));
    this.flush();
    this.transport.start({
      data: (chunk) => this.onData(chunk),
      close: (err) => this.onTransportClosed(err),
      drain: () => this.onDrain(),
    });
    const interval = this.ctx.options.pingIntervalMs;
    if (interval > 0) this.pingTimer = this.ctx.clock.setInterval(() => this.onPingTimer(), interval);
    // A TLS client first spends up to the handshake timeout on TLS (nats-server starts its auth
    // timer after the handshake; adding the bounds is the same deadline).
    const o = this.ctx.options;
    const handshakeMs = this.transport.tls && this.transport.kind === 'tcp' ? (o.tls?.timeoutMs ?? 0) : 0;
    this.auth.startTimer(o.authTimeoutMs + handshakeMs, () =>
      this.closeWithError(ClientErr.AuthenticationTimeout, CloseReason.AuthenticationTimeout),
    );
  }

  // ---- ServerOpSink -------------------------------------------------------------------------

  connect(json: string): void {
    const parsed = parseConnectJson(json);
    if (this.tracing && parsed.ok) {
      // Credentials are never logged: only who the client says it is.
      const { name, lang, version, protocol, user, verbose, echo, headers } = parsed.options;
      this.log.trace({ op: 'CONNECT', name, lang, version, protocol, user, verbose, echo, headers }, '<<- CONNECT');
    }
    if (!parsed.ok) {
      this.log.info({ reason: parsed.reason }, 'bad CONNECT');
      this.closeWithError(ClientErr.UnknownProtocolOperation, CloseReason.ProtocolViolation);
      return;
    }
    const o: ConnectOptions = parsed.options;
    if (o.protocol !== 0 && o.protocol !== 1) {
      this.closeWithError(ClientErr.InvalidClientProtocol, CloseReason.ProtocolViolation);
      return;
    }
    if (o.noResponders && !o.headers) {
      this.closeWithError(ClientErr.NoRespondersRequiresHeaders, CloseReason.ProtocolViolation);
      return;
    }
    const gate = this.auth.gate;
    // A second CONNECT while the first one's password is being checked: the first one decides.
    if (gate === Gate.Checking) return;
    if (gate === Gate.Awaiting) {
      const origin = { kind: this.transport.kind === 'ws' ? ('WEBSOCKET' as const) : ('STANDARD' as const), host: this.transport.remoteAddress };
      this.auth.check(o, origin, (outcome) => this.onAuthOutcome(outcome, o));
      if (this.auth.gate === Gate.Checking) this.transport.pause();
      return;
    }
    this.applyConnect(o);
  }

  private onAuthOutcome(outcome: AuthOutcome, o: ConnectOptions): void {
    if (this.closed) return;
    const wasChecking = this.auth.gate === Gate.Checking;
    if (!outcome.ok) {
      this.log.info({ reason: outcome.reason, user: o.user, nkey: o.nkey }, 'authentication failed');
      this.closeWithError(ClientErr.AuthorizationViolation, CloseReason.AuthenticationViolation);
      return;
    }
    const user = outcome.user;
    const refusedBy = this.auth.admit(user);
    if (refusedBy === 'account') {
      this.log.info({ user: user?.name, account: user?.account, max: user?.accountConnections?.max }, 'account connection limit reached');
      this.closeWithError(ClientErr.MaximumAccountConnectionsExceeded, CloseReason.MaxAccountConnectionsExceeded);
      return;
    }
    if (refusedBy === 'user') {
      this.log.info({ user: user?.name, max: user?.limits.maxConnections }, 'user connection limit reached');
      this.closeWithError(ClientErr.MaximumConnectionsExceeded, CloseReason.MaxConnectionsExceeded);
      return;
    }
    if (user !== undefined) {
      this.auth.watchExpiry((err) => {
        this.log.info({ user: user.name, account: user.account }, `${err.toLowerCase()}, closing connection`);
        this.closeWithError(err, CloseReason.AuthenticationExpired);
      });
      this.router = this.ctx.accounts.routerOf(user.account);
      this.perms = this.auth.permissions;
      this.limits.maxPayloadBytes = tighten(this.limits.maxPayloadBytes, user.limits.maxPayloadBytes);
      this.maxSubscriptions = tighten(this.maxSubscriptions, user.limits.maxSubscriptions);
    }
    this.applyConnect(o);
    if (!wasChecking) return;
    for (const op of this.auth.takeHeld()) {
      if (this.closed) return;
      op();
    }
    if (!this.closed) this.transport.resume();
  }

  private applyConnect(o: ConnectOptions): void {
    const first = !this.connectReceived;
    this.connectReceived = true;
    this.verbose = o.verbose;
    this.pedantic = o.pedantic;
    this.echo = o.echo;
    this.headers = o.headers;
    this.noResponders = o.noResponders;
    this.protocol = o.protocol;
    if (o.name !== '' && this.name === '') this.log = this.log.child({ name: o.name });
    this.name = o.name;
    this.lang = o.lang;
    this.version = o.version;
    this.ok();
    if (first) this.ctx.connectionOpened(this);
  }

  pub(subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    if (this.tracing) this.log.trace({ op: hdrLen > 0 ? 'HPUB' : 'PUB', subject, reply, size: msg.length }, '<<- PUB');
    if (this.auth.gate !== Gate.Open) {
      const held = Buffer.from(msg);
      this.gated(() => this.pub(subject, reply, hdrLen, held));
      return;
    }
    if (hdrLen > 0 && !this.headers) {
      // Like nats-server: HPUB from a client that did not declare headers support is a protocol
      // violation, closed without an -ERR.
      this.log.info({}, 'HPUB without headers support in CONNECT');
      this.close(CloseReason.ProtocolViolation);
      return;
    }
    this.inMsgs++;
    this.inBytes += msg.length;
    const stats = this.ctx.stats;
    stats.inMsgs++;
    stats.inBytes += msg.length;
    const router = this.router;
    if (this.pedantic && !isValidPublishSubject(subject)) {
      this.sendErr(ClientErr.InvalidPublishSubject);
      return;
    }
    const perms = this.perms;
    if (perms !== undefined && perms.rules.restrictsPublish && !perms.canPublish(subject)) {
      this.log.info({ subject, user: this.auth.user?.name }, 'publish permission violation');
      this.sendErr(permissionsViolationPublish(subject));
      return;
    }
    // nats-server acknowledges before it delivers: a verbose client sees +OK ahead of its echo.
    if (this.verbose) this.ok();
    // A subject with wildcard or empty tokens is not publishable: dropped (nats-server's advice).
    const report = this.fanOutReport;
    if (reply === '') {
      router.publish(subject, reply, hdrLen, msg, this.echo ? -1 : this.id, report);
      const congested = report.congested;
      if (congested !== undefined && congested !== this) this.stallOn(congested);
      return;
    }
    // A request: imports that passed it on to nobody do not count as receivers (BridgeMisses).
    const accounts = this.ctx.accounts;
    const misses = accounts.misses;
    misses.count = 0;
    // Named while it is delivered: an internal handler answering it (the JetStream API audit) asks.
    accounts.requester = this;
    let delivered: number;
    try {
      delivered = router.publish(subject, reply, hdrLen, msg, this.echo ? -1 : this.id, report);
    } finally {
      accounts.requester = null;
    }
    const congested = report.congested;
    if (congested !== undefined && congested !== this) this.stallOn(congested);
    if (delivered === misses.count && this.noResponders) this.sendNoResponders(reply);
  }

  sub(subject: string, queue: string, sid: string): void {
    if (this.tracing) this.log.trace({ op: 'SUB', subject, queue, sid }, '<<- SUB');
    if (this.auth.gate !== Gate.Open) return this.gated(() => this.sub(subject, queue, sid));
    if (!isValidSubject(subject) || (queue !== '' && !isValidQueueName(queue))) {
      this.sendErr(ClientErr.InvalidSubject);
      return;
    }
    if (this.perms !== undefined && this.perms.subscribeDecision(subject, queue) === SubscribeDecision.Deny) {
      this.log.info({ subject, queue, user: this.auth.user?.name }, 'subscribe permission violation');
      this.sendErr(permissionsViolationSubscribe(subject, queue));
      return;
    }
    if (this.subs.has(sid)) {
      // nats-server keeps the existing subscription when a live sid is reused.
      this.ok();
      return;
    }
    const max = this.maxSubscriptions;
    if (max > 0 && this.subs.size >= max) {
      this.sendErr(ClientErr.MaximumSubscriptionsExceeded);
      return;
    }
    const sub = new Subscription(this, subject, queue, sid);
    this.subs.set(sid, sub);
    this.router.subscribe(sub);
    this.ok();
  }

  unsub(sid: string, max: number): void {
    if (this.tracing) this.log.trace({ op: 'UNSUB', sid, max }, '<<- UNSUB');
    if (this.auth.gate !== Gate.Open) return this.gated(() => this.unsub(sid, max));
    const sub = this.subs.get(sid);
    if (sub !== undefined) {
      if (max > 0 && sub.delivered < max) {
        sub.max = max;
      } else {
        this.subs.delete(sid);
        this.router.unsubscribe(sub);
      }
    }
    this.ok();
  }

  ping(): void {
    if (this.tracing) this.log.trace({ op: 'PING' }, '<<- PING');
    if (this.auth.gate !== Gate.Open) return this.gated(() => this.ping());
    writePong(this.out);
    this.ctx.flusher.markDirty(this);
  }

  pong(): void {
    if (this.tracing) this.log.trace({ op: 'PONG' }, '<<- PONG');
    if (this.auth.gate !== Gate.Open) return this.gated(() => this.pong());
    this.pingsOutstanding = 0;
    if (this.pingSentNs > 0n) {
      this.rttMs = Number(this.ctx.clock.epochNs() - this.pingSentNs) / 1e6;
      this.pingSentNs = 0n;
    }
  }

  /**
   * An operation before the client was let in: held while its password is being checked, an
   * Authorization Violation when it did not even send CONNECT (nats-server's rule).
   */
  private gated(op: () => void): void {
    if (this.auth.gate === Gate.Checking && this.auth.hold(op)) return;
    this.closeWithError(ClientErr.AuthorizationViolation, CloseReason.AuthenticationViolation);
  }

  error(err: ProtocolError): void {
    if (this.startedWithHttp) {
      this.log.warn({}, 'an HTTP request arrived on the client port: point WebSocket/HTTP clients at the websocket or monitoring port');
    }
    this.log.info({ kind: err.kind, detail: err.detail }, 'client protocol error');
    switch (err.kind) {
      case 'control_line_too_long':
        this.closeWithError(ClientErr.MaximumControlLineExceeded, CloseReason.MaxControlLineExceeded);
        break;
      case 'payload_too_large':
        this.closeWithError(ClientErr.MaximumPayloadViolation, CloseReason.MaxPayloadExceeded);
        break;
      default:
        this.closeWithError(ClientErr.UnknownProtocolOperation, CloseReason.ProtocolViolation);
    }
  }

  // ---- MessageTarget ------------------------------------------------------------------------

  deliverMsg(sub: Subscription, subjectBytes: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    if (this.closed) return;
    if (this.perms !== undefined && !this.perms.admitDelivery(subject, reply)) return;
    // A frame that would carry the buffer past the high-water mark sends what is queued first:
    // the buffer never doubles past the mark for big messages, so what the socket is handed is
    // exactly what it accounts (writableLength), and max_pending bounds the memory it holds.
    // The frame's control line counts too: a small frame crossing the mark would double the
    // buffer to 512 KiB, and take() would then not keep that capacity for the next burst.
    const out = this.out;
    const frameBytes = msg.length + subject.length + reply.length + MSG_LINE_SLACK_BYTES;
    if (out.length > 0 && out.length + frameBytes > OUTBOUND_FLUSH_HIGH_WATER_BYTES) {
      this.flush();
      if (this.closed) return;
    }
    writeMsg(out, subjectBytes ?? subject, sub.sidBytes, reply, hdrLen, msg, this.headers);
    this.outMsgs++;
    this.outBytes += msg.length;
    const stats = this.ctx.stats;
    stats.outMsgs++;
    stats.outBytes += msg.length;
    if (out.length > OUTBOUND_FLUSH_HIGH_WATER_BYTES) this.flush();
    else if (!this.queuedForFlush) this.ctx.flusher.markDirty(this);
  }

  subscriptionExpired(sub: Subscription): void {
    if (this.subs.get(sub.sid) === sub) this.subs.delete(sub.sid);
  }

  // ---- Flushable ----------------------------------------------------------------------------

  flush(): void {
    if (this.closed) return;
    const n = this.out.length;
    if (n === 0) return;
    if (this.transport.pendingWriteBytes() + n > this.ctx.options.maxPendingBytes) {
      this.slowConsumer();
      return;
    }
    this.transport.write(this.out.take());
    this.writeDeadline.wrote(n);
    if (!this.congested && this.transport.pendingWriteBytes() > this.stallThresholdBytes) this.congested = true;
  }

  // ---- backpressure -------------------------------------------------------------------------

  /**
   * Pauses reading from this (producing) connection until `consumer` drains or a short bound
   * passes: a consumer that is merely behind catches up instead of being cut off as slow, while a
   * consumer that never reads cannot hold producers for more than PRODUCER_MAX_STALL_MS.
   */
  private stallOn(consumer: MessageTarget): void {
    if (this.stalled || this.closed) return;
    this.stalled = true;
    this.transport.pause();
    this.stallTimer = this.ctx.clock.setTimeout(() => this.unstall(), PRODUCER_MAX_STALL_MS);
    consumer.holdProducer(this);
  }

  holdProducer(producer: StalledProducer): void {
    this.stalledProducers.hold(producer);
  }

  unstall(): void {
    if (!this.stalled) return;
    this.stalled = false;
    this.stallTimer?.cancel();
    this.stallTimer = undefined;
    if (!this.closed) this.transport.resume();
  }

  private onDrain(): void {
    this.writeDeadline.drained();
    this.congested = false;
    this.stalledProducers.releaseAll();
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Closes the connection from the server side (shutdown, admin). */
  close(reason: CloseReason): void {
    if (this.closed) return;
    this.flush();
    this.finish(reason);
    this.transport.end();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (!this.firstBytesSeen) {
      this.firstBytesSeen = true;
      // "GET " — someone pointed an HTTP/WebSocket client at the client port.
      this.startedWithHttp = chunk.length >= 4 && chunk[0] === 0x47 && chunk[1] === 0x45 && chunk[2] === 0x54 && chunk[3] === 0x20;
    }
    this.lastActivityMs = this.ctx.clock.nowMs();
    this.input.push(chunk);
  }

  private onTransportClosed(err?: Error): void {
    // The socket has let go of its queue by now (its cancelled writes have called back).
    if (this.droppedBytes > 0) reclaimDropped(this.droppedBytes);
    if (this.closed) return;
    this.finish(err ? CloseReason.ReadError : CloseReason.ClientClosed);
  }

  private onPingTimer(): void {
    if (this.closed) return;
    const now = this.ctx.clock.nowMs();
    if (now - this.lastActivityMs < this.ctx.options.pingIntervalMs) {
      // The client spoke recently: it is alive, no need to ask.
      this.pingsOutstanding = 0;
      return;
    }
    if (this.pingsOutstanding + 1 > this.ctx.options.maxPingsOutstanding) {
      this.closeWithError(ClientErr.StaleConnection, CloseReason.StaleConnection);
      return;
    }
    if (this.pingsOutstanding === 0) this.pingSentNs = this.ctx.clock.epochNs();
    this.pingsOutstanding++;
    writePing(this.out);
    this.flush();
  }

  private ok(): void {
    if (!this.verbose) return;
    writeOk(this.out);
    this.ctx.flusher.markDirty(this);
  }

  private sendErr(text: string): void {
    writeErr(this.out, text);
    this.ctx.flusher.markDirty(this);
  }

  private sendNoResponders(reply: string): void {
    const sub = this.router.findSubscriptionOf(this.id, reply);
    if (sub === undefined) return;
    this.deliverMsg(sub, null, reply, '', NO_RESPONDERS_BLOCK.length, NO_RESPONDERS_BLOCK);
  }

  private closeWithError(text: string, reason: CloseReason): void {
    if (this.closed) return;
    writeErr(this.out, text);
    this.close(reason);
  }

  private slowConsumer(): void {
    this.ctx.stats.slowConsumers++;
    this.droppedBytes = this.pendingBytes;
    this.log.warn({ pendingBytes: this.droppedBytes, name: this.name }, 'slow consumer detected, closing connection');
    this.out.clear();
    this.finish(CloseReason.SlowConsumerPendingBytes);
    // Closed at once, dropping what the socket still holds (up to max_pending, which an -ERR
    // would only queue behind), as nats-server skips the flush on a slow-consumer close: the
    // memory is free now instead of after end()'s grace period.
    this.transport.destroy();
  }

  /** A write waited longer than write_deadline: a slow consumer too, as in nats-server. The socket
   * is not taking bytes, so nothing more is sent; what is queued is dropped. */
  private writeDeadlineExceeded(): void {
    if (this.closed) return;
    this.ctx.stats.slowConsumers++;
    const writeDeadlineMs = this.ctx.options.writeDeadlineMs;
    this.droppedBytes = this.pendingBytes;
    this.log.warn({ pendingBytes: this.droppedBytes, name: this.name, writeDeadlineMs }, 'slow consumer detected: write deadline exceeded, closing connection');
    this.finish(CloseReason.SlowConsumerWriteDeadline);
    this.transport.destroy();
  }

  /** Releases everything the connection holds in the server. Idempotent. */
  private finish(reason: CloseReason): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.parser.stop();
    this.auth.release();
    this.pingTimer?.cancel();
    this.stallTimer?.cancel();
    this.writeDeadline.cancel();
    this.stalledProducers.releaseAll();
    // The map is kept, not cleared: the closed-connection record (/connz state=closed) lists
    // what the connection was subscribed to, as nats-server's does. Nothing reads it otherwise.
    for (const sub of this.subs.values()) this.router.unsubscribe(sub);
    this.ctx.connectionClosed(this, reason);
  }
}
