// One leaf connection (docs/leafnodes.md, docs/adr/0014-leaf-nodes.md): the link between a hub and
// an edge over one TCP (or TLS) socket, speaking nats-server's leafnode protocol so that either
// end may be a nats-server. It runs the handshake for its role, parses frames into calls on its
// host (LeafNodes), writes through one outbound buffer flushed once per turn, keeps the link alive
// with PING/PONG, and is the router's target for everything the other side has interest in.
//
// Handshake, as the two sides see it:
//   hub (accepted)                                edge (dialled)
//   INFO {client_id, nonce, leafnode_urls, info_on_connect, ...}
//                                                 checks it is a leafnode port (client_id, leafnode_urls)
//                                                 TLS when asked or configured
//                                                 CONNECT {name, user/pass | jwt/sig, deny_pub, ...}
//   checks auth, then INFO {connect_info:true}    (waits for it when info_on_connect was set)
//   open: LS+ for its interest                    open: LS+ for its interest
// Then both send LS+/LS-, LMSG/HMSG, PING/PONG.

import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { PING_BYTES, PONG_BYTES, writeErr } from '../../protocol/encoder.ts';
import { writeLeafMsg, writeLeafSub, writeLeafUnsub } from '../../protocol/leaf-encoder.ts';
import { LeafParser, type LeafOpSink } from '../../protocol/leaf-parser.ts';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { PeerLink, type PeerLinkHost } from '../connection/peer-link.ts';
import type { LeafRemoteTlsOptions } from '../options-types.ts';
import { GLOBAL_ACCOUNT } from '../accounts/config.ts';
import { LinkKind, type RouteTarget, type Subscription } from '../router/subscription.ts';
import { isJetStreamApi, type SubjectDenyList } from './deny.ts';

/** How long a dialled link waits for the hub's INFO, and then for its connect_info INFO. */
const INFO_WAIT_MS = 2000;
/** Queued bytes past which publishers that feed this link pause briefly (see ClientConnection). */

export const LeafState = { AwaitInfo: 0, AwaitConnect: 1, AwaitConnectInfo: 2, Open: 3, Closed: 4 } as const;
export type LeafState = (typeof LeafState)[keyof typeof LeafState];

/** The hub's INFO fields a dialling edge reads. */
export interface LeafInfo {
  server_id?: string;
  server_name?: string;
  name?: string;
  client_id?: number;
  nonce?: string;
  leafnode_urls?: string[] | null;
  tls_required?: boolean;
  info_on_connect?: boolean;
  connect_info?: boolean;
  cluster?: string;
  headers?: boolean;
  version?: string;
}

/** The edge's CONNECT fields a hub reads. */
export interface LeafConnect {
  lang?: string;
  name?: string;
  server_id?: string;
  cluster?: string;
  is_hub?: boolean;
  user?: string;
  pass?: string;
  jwt?: string;
  sig?: string;
  deny_pub?: string[];
  headers?: boolean;
  version?: string;
  gateway?: string;
}

/** What a link asks of the leaf nodes it belongs to. */
export interface LeafHost extends PeerLinkHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: { maxControlLineBytes: number; maxPayloadBytes: number };
  readonly authTimeoutMs: number;
  /** Hub role: the first INFO for a new edge. */
  hubInfo(link: LeafLink): Record<string, unknown>;
  /** Hub role: judges the edge's CONNECT; '' to accept, else the -ERR text. Fills link fields. */
  admit(link: LeafLink, connect: LeafConnect): string;
  /** Hub role: the INFO that confirms the CONNECT (connect_info). */
  connectInfo(link: LeafLink): Record<string, unknown>;
  /** Edge role: the CONNECT for the hub's INFO (credentials, deny_pub, ...). */
  edgeConnect(link: LeafLink, info: LeafInfo): Record<string, unknown>;
  opened(link: LeafLink): void;
  closed(link: LeafLink, reason: string): void;
  sub(link: LeafLink, subject: string, queue: string, weight: number): void;
  unsub(link: LeafLink, subject: string, queue: string): void;
  msg(link: LeafLink, subject: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void;
  /** The other side sent -ERR; the link closes after this. */
  remoteError(link: LeafLink, text: string): void;
}

let nextLeafId = 1;

export class LeafLink extends PeerLink implements RouteTarget, LeafOpSink {
  /** Negative, so it never equals a client connection id (echo checks), and apart from routes'. */
  readonly id: number;
  readonly cid: number;
  readonly kind: LinkKind;
  /** The hub URL dialled (edge role), for logs and /leafz. */
  readonly dialUrl: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly startMs: number;
  state: LeafState;
  /** The other server's name (hub: from CONNECT; edge: from INFO). */
  remoteName = '';
  remoteId = '';
  remoteCluster = '';
  /**
   * The nonce of this link's INFO: received from the hub (edge role; signed when credentials are
   * configured), or sent to the edge (hub role; an operator-mode edge signs it).
   */
  nonce = '';
  /** Subjects not sent over this link (edge: deny_exports; hub: the edge's deny_pub). */
  denyOut: SubjectDenyList | null = null;
  /** Subjects not taken from this link (edge: deny_imports). */
  denyIn: SubjectDenyList | null = null;
  /** The local account the link is bound to (edge: the remote's `account`; hub: leafnodes.account). */
  account = GLOBAL_ACCOUNT;
  /** Interest learnt on this link, keyed by subject and queue. */
  readonly remoteSubs = new Map<string, Subscription>();
  private readonly host: LeafHost;
  private readonly parser: LeafParser;
  private timer: TimerHandle | undefined;
  private readonly tlsOptions: { host: string; config: LeafRemoteTlsOptions | undefined; required: boolean };

  /**
   * `dialUrl` '' for a link accepted on the leafnode port (hub role); otherwise this server dialled
   * it (edge role) and `tlsTo` says whether and how to start TLS. `peer` names the other end when
   * `socket` is not a TCP socket (a WebSocket's stream).
   */
  constructor(
    host: LeafHost,
    socket: Duplex,
    dialUrl: string,
    tlsTo: { host: string; config: LeafRemoteTlsOptions | undefined; required: boolean } = { host: '', config: undefined, required: false },
    peer?: { address: string; port: number },
  ) {
    // `socket`: a TCP or TLS socket, or a WebSocket remote's stream (createWebSocketStream).
    super(host, socket);
    this.host = host;
    this.dialUrl = dialUrl;
    this.kind = dialUrl === '' ? LinkKind.LeafAccepted : LinkKind.LeafDialled;
    this.cid = nextLeafId++;
    this.id = -1_000_000 - this.cid;
    this.tlsOptions = tlsTo;
    const address = socket instanceof net.Socket ? socket : null;
    this.remoteAddress = address?.remoteAddress ?? peer?.address ?? tlsTo.host;
    this.remotePort = address?.remotePort ?? peer?.port ?? 0;
    this.startMs = this.lastActivityMs;
    this.parser = new LeafParser(this, host.limits);
    this.attach(socket);
    if (this.kind === LinkKind.LeafAccepted) {
      this.state = LeafState.AwaitConnect;
      this.timer = host.clock.setTimeout(() => this.close('authentication timeout', 'Authentication Timeout'), host.authTimeoutMs);
      this.sendInfo(host.hubInfo(this));
    } else {
      this.state = LeafState.AwaitInfo;
      this.timer = host.clock.setTimeout(() => this.close('no INFO from the hub'), INFO_WAIT_MS);
    }
  }

  get isOpen(): boolean {
    return this.state === LeafState.Open;
  }

  /** True when this server dialled the link (it is the edge, the other side its hub). */
  get isSpoke(): boolean {
    return this.kind === LinkKind.LeafDialled;
  }

  protected get isClosed(): boolean {
    return this.state === LeafState.Closed;
  }

  private attach(socket: Duplex): void {
    if (socket instanceof net.Socket) socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {
      // 'close' follows; the reason is recorded there.
    });
    // The other side finished sending: close our side too. A WebSocket's stream reports the
    // socket going away only this way ('close' waits for our side to end).
    socket.on('end', () => this.close(this.closeReason || 'connection closed'));
    socket.on('close', () => this.finish(this.closeReason || 'connection closed'));
  }

  // ---- sending ------------------------------------------------------------------------------

  forward(_account: string, subject: string, subjectBytes: Buffer | null, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    if (this.state !== LeafState.Open) return;
    if (isJetStreamApi(subject) || (this.denyOut !== null && this.denyOut.denies(subject))) return;
    // A JetStream delivery routed by an inbox shows the stored subject: nats-server carries it
    // after an '@' at the end of the ack reply (the receiver splits it off, see LeafNodes.msg).
    const wireReply = deliverAs !== '' && reply !== '' ? `${reply}@${deliverAs}` : reply;
    writeLeafMsg(this.out, subject, subjectBytes, wireReply, queues, hdrLen, msg);
    this.outMsgs++;
    this.outBytes += msg.length;
    this.host.flusher.markDirty(this);
  }

  sendSub(subject: string, queue: string, weight: number): void {
    if (this.state !== LeafState.Open) return;
    writeLeafSub(this.out, subject, queue, weight);
    this.host.flusher.markDirty(this);
  }

  sendUnsub(subject: string, queue: string): void {
    if (this.state !== LeafState.Open) return;
    writeLeafUnsub(this.out, subject, queue);
    this.host.flusher.markDirty(this);
  }

  private sendInfo(info: Record<string, unknown>): void {
    this.out.appendAscii('INFO ');
    this.out.appendUtf8(JSON.stringify(info));
    this.out.appendCrlf();
    this.flush();
  }

  /** The router hands messages for the other side to forward() (once per link), never to its subscriptions. */
  deliverMsg(): void {
    throw new Error('leaf subscriptions are forwarded, never delivered');
  }

  subscriptionExpired(): void {}

  protected closeSlow(): void {
    this.close(`slow leaf node: more than ${this.host.maxPendingBytes} bytes queued`, 'Slow Consumer');
  }

  protected closeStale(): void {
    this.close('stale leaf node connection: no PONG', 'Stale Connection');
  }

  protected writePing(): void {
    this.out.appendBytes(PING_BYTES);
  }

  /** Closes the link, first sending `-ERR '<errText>'` when given. */
  close(reason: string, errText = ''): void {
    if (this.state === LeafState.Closed) return;
    this.closeReason ||= reason;
    if (errText !== '') writeErr(this.out, errText);
    this.endSocket();
    this.finish(reason);
  }

  // ---- receiving ----------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === LeafState.Closed) return;
    this.lastActivityMs = this.host.clock.nowMs();
    this.inBytes += chunk.length;
    try {
      this.parser.parse(chunk);
    } catch (err) {
      this.host.logger.error({ err: String(err), stack: (err as Error)?.stack }, 'leaf node handler failed');
      this.close(`leaf node handler failed: ${String(err)}`);
    }
  }

  error(detail: string): void {
    this.close(`protocol error: ${detail}`, 'Unknown Protocol Operation');
  }

  info(json: string): void {
    let info: LeafInfo;
    try {
      info = JSON.parse(json) as LeafInfo;
    } catch {
      this.close('unreadable INFO', 'Invalid INFO');
      return;
    }
    if (info === null || typeof info !== 'object') return this.close('unreadable INFO', 'Invalid INFO');
    if (this.state === LeafState.AwaitInfo) {
      // A leafnode port's INFO carries a client id and the list of leafnode URLs; a client or
      // route port's does not (nats-server tells the wrong port apart the same way).
      if (typeof info.client_id !== 'number' || info.client_id === 0 || !Array.isArray(info.leafnode_urls)) {
        this.close('attempted to connect to a port that is not a leafnode port');
        return;
      }
      this.remoteId = String(info.server_id ?? '');
      this.remoteName = String(info.server_name ?? info.name ?? this.remoteId);
      this.remoteCluster = typeof info.cluster === 'string' ? info.cluster : '';
      this.nonce = typeof info.nonce === 'string' ? info.nonce : '';
      this.timer?.cancel();
      this.timer = undefined;
      const waitForConnectInfo = info.info_on_connect === true;
      if (this.tlsOptions.required || info.tls_required === true) this.startTls(info, waitForConnectInfo);
      else this.sendConnect(info, waitForConnectInfo);
      return;
    }
    if (this.state === LeafState.AwaitConnectInfo && info.connect_info === true) {
      this.timer?.cancel();
      this.timer = undefined;
      this.open();
    }
    // Other INFOs (URL updates) change nothing sluice uses.
  }

  private sendConnect(info: LeafInfo, waitForConnectInfo: boolean): void {
    if (this.state === LeafState.Closed) return;
    this.out.appendAscii('CONNECT ');
    this.out.appendUtf8(JSON.stringify(this.host.edgeConnect(this, info)));
    this.out.appendCrlf();
    this.flush();
    if (waitForConnectInfo) {
      this.state = LeafState.AwaitConnectInfo;
      this.timer = this.host.clock.setTimeout(() => this.close('stale leaf node connection: no answer to CONNECT'), INFO_WAIT_MS);
    } else {
      this.open();
    }
  }

  /** Edge role: upgrades the socket to TLS, then sends CONNECT over it. */
  private startTls(info: LeafInfo, waitForConnectInfo: boolean): void {
    const raw = this.socket;
    if (!(raw instanceof net.Socket) || raw instanceof tls.TLSSocket) {
      // A WebSocket remote (wss:// did TLS below the WebSocket) or a socket already secured.
      this.sendConnect(info, waitForConnectInfo);
      return;
    }
    raw.removeAllListeners('data');
    raw.removeAllListeners('drain');
    raw.removeAllListeners('close');
    raw.removeAllListeners('error');
    raw.on('error', () => {});
    const c = this.tlsOptions.config;
    let secure: tls.TLSSocket;
    try {
      secure = tls.connect({
        socket: raw,
        servername: isIp(this.tlsOptions.host) ? undefined : this.tlsOptions.host,
        ca: c?.caFile === undefined ? undefined : readFileSync(c.caFile),
        cert: c?.certFile === undefined ? undefined : readFileSync(c.certFile),
        key: c?.keyFile === undefined ? undefined : readFileSync(c.keyFile),
        rejectUnauthorized: c?.verify ?? true,
      });
    } catch (err) {
      raw.destroy();
      this.finish(`TLS setup failed: ${String(err)}`);
      return;
    }
    this.socket = secure;
    this.attach(secure);
    secure.on('error', (err) => {
      this.closeReason ||= `TLS: ${String(err)}`;
    });
    this.timer = this.host.clock.setTimeout(() => this.close('TLS handshake timed out'), INFO_WAIT_MS);
    secure.once('secureConnect', () => {
      this.timer?.cancel();
      this.timer = undefined;
      this.sendConnect(info, waitForConnectInfo);
    });
  }

  connect(json: string): void {
    if (this.state !== LeafState.AwaitConnect) {
      this.close('CONNECT out of order', 'Unknown Protocol Operation');
      return;
    }
    let connect: LeafConnect;
    try {
      connect = JSON.parse(json) as LeafConnect;
    } catch {
      this.close('unreadable CONNECT', 'Invalid CONNECT');
      return;
    }
    if (connect === null || typeof connect !== 'object') return this.close('unreadable CONNECT', 'Invalid CONNECT');
    const refusal = this.host.admit(this, connect);
    if (refusal !== '') {
      this.close(`refused: ${refusal}`, refusal);
      return;
    }
    this.timer?.cancel();
    this.timer = undefined;
    this.sendInfo(this.host.connectInfo(this));
    this.open();
  }

  private open(): void {
    this.state = LeafState.Open;
    this.startKeepAlive();
    this.host.opened(this);
    this.flush();
  }

  sub(subject: string, queue: string, weight: number): void {
    if (this.state !== LeafState.Open) return this.close('LS+ before CONNECT', 'Unknown Protocol Operation');
    this.host.sub(this, subject, queue, weight);
  }

  unsub(subject: string, queue: string): void {
    if (this.state !== LeafState.Open) return this.close('LS- before CONNECT', 'Unknown Protocol Operation');
    this.host.unsub(this, subject, queue);
  }

  msg(subject: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    if (this.state !== LeafState.Open) return this.close('LMSG before CONNECT', 'Unknown Protocol Operation');
    this.inMsgs++;
    if (isJetStreamApi(subject) || (this.denyIn !== null && this.denyIn.denies(subject))) return;
    this.host.msg(this, subject, reply, queues, hdrLen, msg);
  }

  ping(): void {
    this.out.appendBytes(PONG_BYTES);
    this.host.flusher.markDirty(this);
  }

  ok(): void {}

  err(text: string): void {
    this.host.remoteError(this, text);
    this.close(`error from the other side: ${text}`);
  }

  // ---- keep-alive and teardown --------------------------------------------------------------

  private finish(reason: string): void {
    if (this.state === LeafState.Closed) return;
    this.state = LeafState.Closed;
    this.timer?.cancel();
    this.stopLink();
    this.host.closed(this, reason);
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
