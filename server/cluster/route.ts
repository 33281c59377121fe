// One route: the link to one peer server over one TCP connection (docs/adr/0009-cluster-routes.md).
// It runs the handshake, decodes frames into calls on its host (the Cluster), writes frames
// through one outbound buffer flushed once per turn like a client connection, keeps the link
// alive with PING/PONG, and is the router's target for everything the peer has interest in.
//
// Handshake, as the two sides see it:
//   listener                                    dialer
//   INFO {...}\r\n  (NATS text: a client that dials the cluster port gets a line it understands)
//                                               reads the line, checks server_id is not its own
//                                               ROUTE_MAGIC, HELLO
//   checks the magic (else -ERR, close), the
//   HELLO (cluster name, not itself): HELLO or ERR
//                                               on HELLO: open
//   open after sending its HELLO
// Once open, each side sends its full interest set, then deltas; both forward messages.

import type net from 'node:net';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { PeerLink, type PeerLinkHost } from '../connection/peer-link.ts';
import type { Logger } from '../../runtime/logger.ts';
import { LinkKind, type RouteTarget, type Subscription } from '../router/subscription.ts';
import type { Message } from '../../raft/types.ts';
import {
  FrameError,
  FrameKind,
  ROUTE_MAGIC,
  RouteFrameDecoder,
  writeEmpty,
  writeErrFrame,
  writeHello,
  writeMsg,
  writePeers,
  writeRaft,
  writeSub,
  writeUnsub,
  strBytes,
  type RouteFrameSink,
  type RouteHello,
  type RoutePeers,
} from './frames.ts';

/** The NATS text a client gets when it dials the cluster port (nats-server's wording). */
export const ROUTE_PORT_ERR = "-ERR 'attempted to connect to route port'\r\n";
/** The INFO line and the HELLO are small; a peer sending more before either is not a route. */
const MAX_PREAMBLE_BYTES = 4096;
/** A frame may carry a message up to this size; the server's max_payload is far below it. */
const MAX_FRAME_BYTES = 80 * 1024 * 1024;
/** How long a new link has to finish its handshake. */
const HANDSHAKE_TIMEOUT_MS = 5000;
/** Queued bytes past which publishers that feed this route pause briefly (see ClientConnection). */

export const RouteState = { Preamble: 0, Hello: 1, Open: 2, Closed: 3 } as const;
export type RouteState = (typeof RouteState)[keyof typeof RouteState];

/** What a link asks of the cluster it belongs to. */
export interface RouteHost extends PeerLinkHost {
  readonly serverId: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The HELLO this server sends. */
  hello(): RouteHello;
  /** The INFO object the listener side sends first. */
  infoLine(): Record<string, unknown>;
  /** Judges a peer's HELLO: '' to accept, else the reason to refuse it (sent to the peer). */
  check(link: RouteLink, hello: RouteHello): string;
  opened(link: RouteLink): void;
  closed(link: RouteLink, reason: string): void;
  peersLearnt(link: RouteLink, p: RoutePeers): void;
  sub(link: RouteLink, account: string, subject: string, queue: string, weight: number): void;
  unsub(link: RouteLink, account: string, subject: string, queue: string): void;
  msg(link: RouteLink, account: string, subject: string, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void;
  /** The peer refused us with `reason` (ERR frame). */
  refused(link: RouteLink, reason: string): void;
  /** Raft traffic for `group` (msgpack, decoded by the host). */
  raft(link: RouteLink, group: string, payload: Buffer): void;
}

let nextRouteId = 1;

export class RouteLink extends PeerLink implements RouteTarget, RouteFrameSink {
  /** Route id (rid in /routez); negative so it never equals a client connection id (echo checks). */
  readonly id: number;
  readonly rid: number;
  readonly kind = LinkKind.Route;
  /** True when this server dialled the link. */
  readonly outbound: boolean;
  /** The URL dialled (outbound links), for reconnects and /routez. */
  readonly dialUrl: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly startMs: number;
  state: RouteState = RouteState.Preamble;
  /** The peer's HELLO, once received. */
  peer: RouteHello | null = null;
  /** Outbound links: the server id in the listener's INFO line (known before any HELLO). */
  listenerId = '';
  /** The peer's latest view of the mesh (its PEERS frame). */
  peerList: RoutePeers['peers'] = [];
  /** The peer's replication state from its latest PEERS frame. */
  peerState: RoutePeers['state'] = undefined;
  /** Remote interest learnt on this link, keyed by account, subject and queue. */
  readonly remoteSubs = new Map<string, Subscription>();
  private readonly host: RouteHost;
  private readonly decoder: RouteFrameDecoder;
  private preamble: Buffer | null = null;
  private handshakeTimer: TimerHandle | undefined;
  /** The account of the last forwarded message, in wire form (one account per link, usually). */
  private accountName = '';
  private accountBytes: Buffer | null = null;

  constructor(host: RouteHost, socket: net.Socket, outbound: boolean, dialUrl: string) {
    super(host, socket);
    this.host = host;
    this.outbound = outbound;
    this.dialUrl = dialUrl;
    this.rid = nextRouteId++;
    this.id = -this.rid;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.startMs = this.lastActivityMs;
    this.decoder = new RouteFrameDecoder(this, MAX_FRAME_BYTES);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {
      // 'close' follows; the reason is recorded there.
    });
    socket.on('close', () => this.finish(this.closeReason || 'connection closed'));
    this.handshakeTimer = host.clock.setTimeout(() => this.close('handshake timed out'), HANDSHAKE_TIMEOUT_MS);
    if (!outbound) {
      const line = Buffer.from(`INFO ${JSON.stringify(host.infoLine())}\r\n`, 'utf8');
      this.out.appendBytes(line);
      this.flush();
    }
  }

  get isOpen(): boolean {
    return this.state === RouteState.Open;
  }

  protected get isClosed(): boolean {
    return this.state === RouteState.Closed;
  }

  // ---- sending ------------------------------------------------------------------------------

  forward(account: string, subject: string, subjectBytes: Buffer | null, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    if (this.state !== RouteState.Open) return;
    let acct = this.accountBytes;
    if (acct === null || this.accountName !== account) {
      acct = this.accountBytes = strBytes(account);
      this.accountName = account;
    }
    writeMsg(this.out, acct, subject, subjectBytes, deliverAs, reply, queues, hdrLen, msg);
    this.outMsgs++;
    this.outBytes += msg.length;
    this.host.flusher.markDirty(this);
  }

  sendSub(account: string, subject: string, queue: string, weight: number): void {
    if (this.state !== RouteState.Open) return;
    writeSub(this.out, account, subject, queue, weight);
    this.host.flusher.markDirty(this);
  }

  sendUnsub(account: string, subject: string, queue: string): void {
    if (this.state !== RouteState.Open) return;
    writeUnsub(this.out, account, subject, queue);
    this.host.flusher.markDirty(this);
  }

  sendRaft(group: string, messages: readonly Message[]): void {
    if (this.state !== RouteState.Open) return;
    writeRaft(this.out, group, messages);
    this.host.flusher.markDirty(this);
  }

  sendPeers(p: RoutePeers): void {
    if (this.state !== RouteState.Open) return;
    writePeers(this.out, p);
    this.host.flusher.markDirty(this);
  }

  /**
   * The router hands messages for a peer to forward() (once per peer), never to its
   * subscriptions one by one: splitMatches keeps remote subscriptions out of the delivery lists.
   */
  deliverMsg(): void {
    throw new Error('route subscriptions are forwarded, never delivered');
  }

  /** Remote subscriptions carry no UNSUB max; nothing to do. */
  subscriptionExpired(): void {}

  protected closeSlow(): void {
    this.close(`slow route: more than ${this.host.maxPendingBytes} bytes queued`);
  }

  protected closeStale(): void {
    this.close('stale route: no PONG');
  }

  protected writePing(): void {
    writeEmpty(this.out, FrameKind.Ping);
  }

  /** Sends an ERR frame (when the handshake got that far), then closes. */
  refuse(reason: string): void {
    if (this.state === RouteState.Closed) return;
    writeErrFrame(this.out, reason);
    this.flush();
    this.close(reason);
  }

  close(reason: string): void {
    if (this.state === RouteState.Closed) return;
    this.closeReason ||= reason;
    this.endSocket();
    this.finish(reason);
  }

  // ---- receiving ----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === RouteState.Closed) return;
    this.lastActivityMs = this.host.clock.nowMs();
    try {
      if (this.state === RouteState.Preamble) {
        const rest = this.outbound ? this.readInfoLine(chunk) : this.readMagic(chunk);
        if (rest === null || rest.length === 0) return;
        chunk = rest;
      }
      this.inBytes += chunk.length;
      this.decoder.push(chunk);
    } catch (err) {
      const reason = err instanceof FrameError ? err.message : `route handler failed: ${String(err)}`;
      if (!(err instanceof FrameError)) this.host.logger.error({ err: String(err), stack: (err as Error)?.stack }, 'route handler failed');
      this.close(reason);
    }
  }

  private gather(chunk: Buffer): Buffer {
    const data = this.preamble === null ? chunk : Buffer.concat([this.preamble, chunk]);
    this.preamble = null;
    return data;
  }

  /** Dialer: the listener's INFO line. Returns the bytes after it, or null to wait for more. */
  private readInfoLine(chunk: Buffer): Buffer | null {
    const data = this.gather(chunk);
    const eol = data.indexOf('\r\n');
    if (eol < 0) {
      if (data.length > MAX_PREAMBLE_BYTES) throw new FrameError('no INFO line from the route listener');
      this.preamble = Buffer.from(data);
      return null;
    }
    const line = data.toString('utf8', 0, eol);
    if (!line.startsWith('INFO ')) throw new FrameError(`not a route listener: ${line.slice(0, 60)}`);
    let info: { server_id?: unknown; sluice_route?: unknown };
    try {
      info = JSON.parse(line.slice(5)) as typeof info;
    } catch {
      throw new FrameError('unreadable INFO from the route listener');
    }
    if (info.sluice_route !== 1) throw new FrameError('the route listener is not a sluice server');
    if (typeof info.server_id === 'string') this.listenerId = info.server_id;
    if (info.server_id === this.host.serverId) {
      this.closeReason = 'route to self';
      this.close('route to self');
      return null;
    }
    this.state = RouteState.Hello;
    this.out.appendBytes(ROUTE_MAGIC);
    writeHello(this.out, this.host.hello());
    this.flush();
    return data.subarray(eol + 2);
  }

  /** Listener: the dialer's magic, or a client that dialled the wrong port. */
  private readMagic(chunk: Buffer): Buffer | null {
    const data = this.gather(chunk);
    const n = Math.min(data.length, ROUTE_MAGIC.length);
    if (data.compare(ROUTE_MAGIC, 0, n, 0, n) !== 0) {
      // Most likely a NATS client answering our INFO with CONNECT.
      this.host.logger.info({ ip: this.remoteAddress, port: this.remotePort }, 'client connected to the route port; refusing');
      this.out.appendBytes(Buffer.from(ROUTE_PORT_ERR, 'latin1'));
      this.close('not a route');
      return null;
    }
    if (data.length < ROUTE_MAGIC.length) {
      this.preamble = Buffer.from(data);
      return null;
    }
    this.state = RouteState.Hello;
    return data.subarray(ROUTE_MAGIC.length);
  }

  hello(h: RouteHello): void {
    if (this.state !== RouteState.Hello) throw new FrameError('HELLO out of order');
    if (h.v !== 1 || typeof h.id !== 'string' || typeof h.cluster !== 'string') throw new FrameError('unsupported route HELLO');
    this.peer = h;
    const refusal = this.host.check(this, h);
    if (refusal !== '') {
      this.refuse(refusal);
      return;
    }
    if (!this.outbound) writeHello(this.out, this.host.hello());
    this.state = RouteState.Open;
    this.handshakeTimer?.cancel();
    this.handshakeTimer = undefined;
    this.startKeepAlive();
    this.host.opened(this);
    this.flush();
  }

  peers(p: RoutePeers): void {
    if (this.state !== RouteState.Open) throw new FrameError('PEERS before HELLO');
    if (!Array.isArray(p.peers)) throw new FrameError('malformed PEERS');
    this.peerList = p.peers;
    if (p.state !== undefined) this.peerState = p.state;
    this.host.peersLearnt(this, p);
  }

  sub(account: string, subject: string, queue: string, weight: number): void {
    if (this.state !== RouteState.Open) throw new FrameError('SUB before HELLO');
    this.host.sub(this, account, subject, queue, weight);
  }

  unsub(account: string, subject: string, queue: string): void {
    if (this.state !== RouteState.Open) throw new FrameError('UNSUB before HELLO');
    this.host.unsub(this, account, subject, queue);
  }

  msg(account: string, subject: string, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    if (this.state !== RouteState.Open) throw new FrameError('MSG before HELLO');
    this.inMsgs++;
    this.host.msg(this, account, subject, deliverAs, reply, queues, hdrLen, msg);
  }

  raft(group: string, payload: Buffer): void {
    if (this.state !== RouteState.Open) throw new FrameError('RAFT before HELLO');
    this.host.raft(this, group, payload);
  }

  ping(): void {
    writeEmpty(this.out, FrameKind.Pong);
    this.host.flusher.markDirty(this);
  }

  err(reason: string): void {
    this.host.refused(this, reason);
    this.close(`refused by peer: ${reason}`);
  }

  // ---- keep-alive and teardown --------------------------------------------------------------

  private finish(reason: string): void {
    if (this.state === RouteState.Closed) return;
    this.state = RouteState.Closed;
    this.handshakeTimer?.cancel();
    this.stopLink();
    this.host.closed(this, reason);
  }
}
