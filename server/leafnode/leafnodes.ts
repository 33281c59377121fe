// This server's leaf node connections (docs/leafnodes.md, docs/adr/0014-leaf-nodes.md): the
// listener edges dial (hub role), the hubs it dials itself (edge role, redialled with backoff),
// what interest each link is told and what it tells us, and messages arriving over links.
//
// Interest reuses the cluster's pieces: each link counts the subscriptions it may announce in its
// own LocalInterest (server/cluster/interest.ts) and sends LS+/LS- on the changes it reports; the
// other side's interest goes into the router's trie as remote subscriptions of the link, so one
// match answers for clients, routes and leaf links alike (server/router/router.ts passesOn).

import net from 'node:net';
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Rng } from '../../runtime/rng.ts';
import { isValidSubject } from '../../protocol/subject.ts';
import { ADVERTISED_SERVER_VERSION, PROTOCOL_VERSION } from '../../protocol/version.ts';
import { newNonce, signWithCreds } from '../auth/nkeys.ts';
import { advertiseHost } from '../cluster/advertise.ts';
import { LocalInterest, interestKey, type InterestChange } from '../cluster/interest.ts';
import type { Flusher } from '../connection/flusher.ts';
import type { LeafNodeOptions, LeafRemoteOptions } from '../options-types.ts';
import { GLOBAL_ACCOUNT, type LocalInterestListener, type Router } from '../router/router.ts';
import { LinkKind, Subscription } from '../router/subscription.ts';
import { denyList, isJetStreamApi } from './deny.ts';
import { LeafLink, type LeafConnect, type LeafHost, type LeafInfo } from './link.ts';
import { parseLeafUrl, type LeafUrl } from './options.ts';

/** Loop detection: every server announces `$LDS.<random>` on its links; hearing its own back is a loop. */
export const LOOP_DETECTION_PREFIX = '$LDS.';
const JS_ACK_PREFIX = '$JS.ACK.';
/** nats-server's text for a link replaced by a newer one from the same server. */
const DUPLICATE_LINK_ERR = 'Duplicate Remote LeafNode Connection';
/** nats-server waits this long before redialling after a loop was detected. */
const LOOP_RECONNECT_DELAY_MS = 30_000;
/** A dial that has not connected by then is abandoned (and retried). */
const DIAL_TIMEOUT_MS = 2000;
/** A dropped link is redialled after a short random delay, then with backoff up to 8 × reconnect. */
const FIRST_REDIAL_MAX_MS = 100;
const MAX_BACKOFF_FACTOR = 8;

export interface LeafNodesDeps {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: LeafNodeOptions;
  /** Server-wide settings the links share with client connections. */
  readonly clientHost: string;
  readonly maxPayloadBytes: number;
  readonly maxControlLineBytes: number;
  readonly pingIntervalMs: number;
  readonly maxPingsOutstanding: number;
  readonly authTimeoutMs: number;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly flusher: Flusher;
  /** The router of an account (a link's subject space: the account it is bound to). */
  routerOf(account: string): Router;
  /** The cluster's name when clustered ('' otherwise): sent in CONNECT, compared in admit. */
  clusterName(): string;
  /** This server runs JetStream, and its domain ('' = none): both named in INFO and CONNECT. */
  readonly jetstream: boolean;
  readonly jetstreamDomain: string;
  /** Subscriptions that stay on this server (the server's own internal handlers). */
  isServerLocal(sub: Subscription): boolean;
  /**
   * Operator mode: judges an edge's user JWT and its signature of `nonce` (from `host`), as a
   * LEAFNODE connection; the account to bind the link to, or why not.
   */
  readonly authenticateJwt?: (jwt: string, sig: string, nonce: string, host: string) => { ok: true; account: string } | { ok: false; reason: string };
}

/** One hub this server dials. */
interface Remote {
  readonly options: LeafRemoteOptions;
  urlIndex: number;
  attempts: number;
  timer: TimerHandle | undefined;
  link: LeafLink | undefined;
  connecting: boolean;
  /** Set by a loop detection or refusal: the next redial waits at least this long. */
  nextDelayMs: number;
}

export class LeafNodes implements LocalInterestListener, LeafHost {
  readonly flusher: Flusher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pingIntervalMs: number;
  readonly maxPingsOutstanding: number;
  readonly maxPendingBytes = 64 * 1024 * 1024;
  readonly limits: { maxControlLineBytes: number; maxPayloadBytes: number };
  readonly authTimeoutMs: number;
  /** The loop detection subject of this server's (one) account. */
  readonly lds = LOOP_DETECTION_PREFIX + newToken();
  private readonly deps: LeafNodesDeps;
  private readonly options: LeafNodeOptions;
  /** Every link, handshaking or open. */
  private readonly links = new Set<LeafLink>();
  /** Open links and what each was told (their interest counts). */
  private readonly open = new Map<LeafLink, LocalInterest>();
  private readonly remotes: Remote[];
  private readonly remoteOf = new Map<LeafLink, Remote>();
  private server: net.Server | undefined;
  private boundPort = 0;
  private hostPort = '';
  private closing = false;

  constructor(deps: LeafNodesDeps) {
    this.deps = deps;
    this.options = deps.options;
    this.flusher = deps.flusher;
    this.clock = deps.clock;
    this.logger = deps.logger.child({ component: 'leafnode' });
    this.pingIntervalMs = deps.pingIntervalMs;
    this.maxPingsOutstanding = deps.maxPingsOutstanding;
    this.authTimeoutMs = deps.authTimeoutMs;
    this.limits = { maxControlLineBytes: Math.max(deps.maxControlLineBytes, 4096), maxPayloadBytes: deps.maxPayloadBytes };
    this.remotes = deps.options.remotes.map((options) => ({
      options,
      urlIndex: 0,
      attempts: 0,
      timer: undefined,
      link: undefined,
      connecting: false,
      nextDelayMs: 0,
    }));
  }

  /** The bound leafnode port (0 when there is no listener). */
  get port(): number {
    return this.boundPort;
  }

  /** Listens for edges when a port is configured, then dials every remote. */
  async start(): Promise<void> {
    const o = this.options;
    if (o.port !== undefined) {
      const listenHost = o.host || this.deps.clientHost;
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, listenHost, () => {
          server.off('error', reject);
          server.on('error', (err) => this.logger.error({ err: String(err) }, 'leafnode listener error'));
          resolve();
        });
      });
      this.server = server;
      this.boundPort = (server.address() as net.AddressInfo).port;
      this.hostPort = `${advertiseHost(listenHost)}:${this.boundPort}`;
      this.logger.info({ port: this.boundPort, url: `nats-leaf://${this.hostPort}` }, 'listening for leafnode connections');
    }
    for (const r of this.remotes) this.dial(r);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const r of this.remotes) r.timer?.cancel();
    for (const link of [...this.links]) link.close('server shutdown');
    if (this.server !== undefined) await new Promise<void>((res) => this.server!.close(() => res()));
  }

  /** Open links, for /leafz and /varz. */
  openLinks(): LeafLink[] {
    return [...this.open.keys()];
  }

  // ---- this server's interest -> the links -------------------------------------------------

  localInterest(account: string, sub: Subscription, added: boolean): void {
    if (this.open.size === 0) return;
    for (const [link, told] of this.open) {
      if (link.account !== account || !this.announces(link, sub)) continue;
      const change = told.change(account, sub, added);
      if (change !== null) announce(link, change);
    }
  }

  /**
   * Whether `link` is told about `sub`: never its own interest; to a hub (we are its edge) only
   * interest of this server's clients and of the edges attached here, not what we learnt from our
   * cluster or from other hubs; to an edge, everything. The server's own internal handlers stay
   * local, and subjects the remote may not import are not announced.
   */
  private announces(link: LeafLink, sub: Subscription): boolean {
    const via = sub.route;
    if (via === link || isJetStreamApi(sub.subject)) return false;
    if (via === null) {
      if (this.deps.isServerLocal(sub)) return false;
    } else if (link.kind === LinkKind.LeafDialled && via.kind !== LinkKind.LeafAccepted) {
      return false;
    }
    if (link.denyIn !== null && link.denyIn.deniesAll(sub.subject) && !sub.subject.startsWith(LOOP_DETECTION_PREFIX)) return false;
    return true;
  }

  /** The subject space of the account `link` is bound to. */
  private routerOf(link: LeafLink): Router {
    return this.deps.routerOf(link.account);
  }

  // ---- LeafHost: what links ask ------------------------------------------------------------

  hubInfo(link: LeafLink): Record<string, unknown> {
    // Shaped like nats-server's leafnode INFO: a dialling nats-server checks client_id and
    // leafnode_urls to know it reached a leafnode port, and waits for connect_info.
    return {
      server_id: this.deps.serverId,
      server_name: this.deps.serverName,
      version: ADVERTISED_SERVER_VERSION,
      proto: PROTOCOL_VERSION,
      go: 'sluice',
      host: this.hostPort.slice(0, this.hostPort.lastIndexOf(':')),
      port: this.boundPort,
      headers: true,
      auth_required: true,
      max_payload: this.deps.maxPayloadBytes,
      ...(this.deps.jetstream ? { jetstream: true } : {}),
      client_id: link.cid,
      nonce: (link.nonce = newNonce()),
      ...(this.deps.clusterName() !== '' ? { cluster: this.deps.clusterName() } : {}),
      ...(this.deps.jetstreamDomain !== '' ? { domain: this.deps.jetstreamDomain } : {}),
      info_on_connect: true,
      leafnode_urls: [this.hostPort],
    };
  }

  admit(link: LeafLink, c: LeafConnect): string {
    if (this.closing) return 'Server Shutdown';
    // Clients send `lang`; servers do not.
    if (typeof c.lang === 'string' && c.lang !== '') return 'attempted to connect to leaf node port';
    if (typeof c.gateway === 'string' && c.gateway !== '') return `Rejecting connection from gateway "${c.gateway}" on the leafnode port`;
    let account = this.options.account === '' ? GLOBAL_ACCOUNT : this.options.account;
    const user = this.options.user;
    if (this.deps.authenticateJwt !== undefined) {
      // Operator mode: the edge presents a user JWT and its signature of our nonce (a .creds
      // remote), and the link is bound to that user's account, as nats-server binds it.
      const judged = this.deps.authenticateJwt(c.jwt ?? '', c.sig ?? '', link.nonce, link.remoteAddress);
      if (!judged.ok) {
        this.logger.warn({ ip: link.remoteAddress, reason: judged.reason }, 'leafnode authorization failed');
        return 'Authorization Violation';
      }
      account = judged.account;
    } else if (user !== undefined && (c.user !== user || (c.pass ?? '') !== (this.options.pass ?? ''))) {
      this.logger.warn({ ip: link.remoteAddress, user: c.user ?? '' }, 'leafnode authorization failed');
      return 'Authorization Violation';
    }
    const cluster = this.deps.clusterName();
    if (cluster !== '' && c.cluster === cluster) return 'remote leafnode has same cluster name';
    link.account = account;
    link.remoteName = String(c.name ?? c.server_id ?? '');
    link.remoteId = String(c.server_id ?? '');
    link.remoteCluster = typeof c.cluster === 'string' ? c.cluster : '';
    const denyPub = Array.isArray(c.deny_pub) ? c.deny_pub.filter((s): s is string => typeof s === 'string') : [];
    link.denyOut = denyList(denyPub);
    this.replaceStale(link);
    return '';
  }

  /**
   * An edge that dials again while its old link still looks open here (its network dropped the
   * old connection silently) replaces that link, as nats-server does: otherwise the old link's
   * interest, the edge's own loop detection subject among it, would come back over the new one.
   */
  private replaceStale(link: LeafLink): void {
    if (link.remoteName === '') return;
    for (const old of this.open.keys()) {
      if (old !== link && old.kind === LinkKind.LeafAccepted && old.remoteName === link.remoteName && old.remoteCluster === link.remoteCluster) {
        this.logger.warn({ remote: link.remoteName, ip: link.remoteAddress }, 'replacing the leafnode connection from the same server');
        old.close('replaced by a new connection from the same server', DUPLICATE_LINK_ERR);
      }
    }
  }

  connectInfo(link: LeafLink): Record<string, unknown> {
    const info = this.hubInfo(link);
    delete info.nonce;
    return { ...info, connect_info: true, remote_account: link.account };
  }

  edgeConnect(link: LeafLink, info: LeafInfo): Record<string, unknown> {
    const remote = this.remoteOf.get(link)!;
    const r = remote.options;
    const url = parseLeafUrl(link.dialUrl)!;
    const connect: Record<string, unknown> = {
      version: ADVERTISED_SERVER_VERSION,
      tls_required: r.tls !== undefined || url.tls || info.tls_required === true,
      server_id: this.deps.serverId,
      ...(this.deps.jetstreamDomain !== '' ? { domain: this.deps.jetstreamDomain } : {}),
      name: this.deps.serverName,
      cluster: this.deps.clusterName(),
      headers: true,
      jetstream: this.deps.jetstream,
    };
    if (r.denyImports.length > 0) connect.deny_pub = r.denyImports;
    if (r.credentials !== '') {
      try {
        Object.assign(connect, signWithCreds(readFileSync(r.credentials, 'utf8'), link.nonce));
      } catch (err) {
        this.logger.error({ credentials: r.credentials, err: String(err) }, 'cannot sign the hub nonce with the credentials file');
      }
    } else if (url.user !== '') {
      connect.user = url.user;
      connect.pass = url.pass;
    }
    return connect;
  }

  opened(link: LeafLink): void {
    const told = new LocalInterest();
    this.open.set(link, told);
    const remote = this.remoteOf.get(link);
    if (remote !== undefined) {
      remote.attempts = 0;
      remote.nextDelayMs = 0;
    }
    const account = link.account;
    for (const sub of this.routerOf(link).allSubscriptions()) if (this.announces(link, sub)) told.change(account, sub, true);
    // The loop detection subject first, then the full interest set; deltas follow.
    link.sendSub(this.lds, '', 1);
    for (const change of told.all()) announce(link, change);
    this.logger.info(
      { remote: link.remoteName, remote_id: link.remoteId, ip: link.remoteAddress, url: link.dialUrl || undefined, is_spoke: link.isSpoke },
      'leafnode connection opened',
    );
  }

  closed(link: LeafLink, reason: string): void {
    this.links.delete(link);
    const wasOpen = this.open.delete(link);
    for (const sub of link.remoteSubs.values()) this.routerOf(link).unsubscribe(sub);
    link.remoteSubs.clear();
    if (wasOpen) this.logger.info({ remote: link.remoteName, remote_id: link.remoteId, reason }, 'leafnode connection closed');
    else this.logger.debug({ ip: link.remoteAddress, url: link.dialUrl || undefined, reason }, 'leafnode attempt ended');
    const remote = this.remoteOf.get(link);
    this.remoteOf.delete(link);
    if (remote !== undefined && remote.link === link) {
      remote.link = undefined;
      this.scheduleDial(remote, wasOpen);
    }
  }

  sub(link: LeafLink, subject: string, queue: string, weight: number): void {
    if (!isValidSubject(subject)) return;
    if (subject === this.lds) {
      const text = `Loop detected for leafnode account="${link.account}". Delaying attempt to reconnect for ${LOOP_RECONNECT_DELAY_MS / 1000}s`;
      this.logger.error({ remote: link.remoteName }, text);
      this.delayRedial(link, LOOP_RECONNECT_DELAY_MS);
      link.close('loop detected', text);
      return;
    }
    // An edge ignores interest in subjects it may not send to its hub (nats-server does too).
    if (link.denyOut !== null && link.isSpoke && link.denyOut.deniesAll(subject)) return;
    // Never the other side's own JetStream API (deny.ts isJetStreamApi).
    if (isJetStreamApi(subject)) return;
    const key = interestKey('', subject, queue);
    const existing = link.remoteSubs.get(key);
    if (existing !== undefined) {
      existing.weight = Math.max(1, weight);
      return;
    }
    const sub = new Subscription(link, subject, queue, key, link, Math.max(1, weight));
    link.remoteSubs.set(key, sub);
    this.routerOf(link).subscribe(sub);
  }

  unsub(link: LeafLink, subject: string, queue: string): void {
    const key = interestKey('', subject, queue);
    const sub = link.remoteSubs.get(key);
    if (sub === undefined) return;
    link.remoteSubs.delete(key);
    this.routerOf(link).unsubscribe(sub);
  }

  msg(link: LeafLink, subject: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    // `$JS.ACK...@<subject>`: a JetStream delivery routed by `subject` (an inbox) that its
    // subscriber must see with the stored message's subject (LeafLink.forward writes it so).
    if (reply.startsWith(JS_ACK_PREFIX)) {
      const at = reply.lastIndexOf('@');
      if (at > 0 && at < reply.length - 1) {
        this.routerOf(link).deliverFromLink(link, subject, reply.slice(at + 1), reply.slice(0, at), queues, hdrLen, msg);
        return;
      }
    }
    this.routerOf(link).deliverFromLink(link, subject, '', reply, queues, hdrLen, msg);
  }

  remoteError(link: LeafLink, text: string): void {
    this.logger.warn({ remote: link.remoteName, url: link.dialUrl || undefined, error: text }, 'leafnode connection refused by the other side');
    if (text.includes('Loop detected')) this.delayRedial(link, LOOP_RECONNECT_DELAY_MS);
    // Two remotes that reach one hub replace each other there: not at once, then.
    else if (text.includes(DUPLICATE_LINK_ERR)) this.delayRedial(link, this.options.reconnectMs);
  }

  // ---- accepting and dialling --------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.links.add(new LeafLink(this, socket, ''));
  }

  /**
   * An edge that reached the WebSocket port at path `/leafnode` (nats-server serves leaf nodes
   * there, for edges that can only reach port 443): the same hub handshake inside binary frames.
   * Like nats-server, only a server that accepts leaf nodes (a leafnode port) takes them.
   */
  acceptWebSocket(stream: Duplex, address: string, port: number): void {
    if (this.closing || this.server === undefined) {
      if (!this.closing) this.logger.error({ ip: address }, 'not configured to accept leaf node connections (no leafnodes port)');
      stream.destroy();
      return;
    }
    this.links.add(new LeafLink(this, stream, '', undefined, { address, port }));
  }

  private dial(r: Remote): void {
    r.timer = undefined;
    if (this.closing || r.link !== undefined || r.connecting) return;
    const url = r.options.urls[r.urlIndex % r.options.urls.length]!;
    r.urlIndex++;
    const target = parseLeafUrl(url)!;
    r.connecting = true;
    r.attempts++;
    if (target.ws) {
      void this.dialWebSocket(r, url, target);
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true });
    const timer = this.clock.setTimeout(() => socket.destroy(), DIAL_TIMEOUT_MS);
    const failed = (): void => {
      timer.cancel();
      r.connecting = false;
      if (r.link === undefined) this.scheduleDial(r, false);
    };
    socket.once('error', failed);
    socket.once('close', failed);
    socket.once('connect', () => {
      timer.cancel();
      socket.off('error', failed);
      socket.off('close', failed);
      this.connected(r, url, target, socket);
    });
  }

  /**
   * A WebSocket remote (for edges that can only reach the hub's port 443): the HTTP upgrade to
   * the hub's `/leafnode` path, then the same leafnode protocol inside binary frames. `ws` (loaded
   * only here) masks what it sends, as a WebSocket client must.
   */
  private async dialWebSocket(r: Remote, url: string, target: LeafUrl): Promise<void> {
    const { WebSocket, createWebSocketStream } = await import('ws');
    const tlsConfig = r.options.tls;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const ws = new WebSocket(`${target.tls ? 'wss' : 'ws'}://${host}:${target.port}${target.path}`, {
      perMessageDeflate: false,
      handshakeTimeout: DIAL_TIMEOUT_MS,
      ...(target.tls
        ? {
            ca: tlsConfig?.caFile === undefined ? undefined : readFileSync(tlsConfig.caFile),
            cert: tlsConfig?.certFile === undefined ? undefined : readFileSync(tlsConfig.certFile),
            key: tlsConfig?.keyFile === undefined ? undefined : readFileSync(tlsConfig.keyFile),
            rejectUnauthorized: tlsConfig?.verify ?? true,
          }
        : {}),
    });
    const failed = (): void => {
      r.connecting = false;
      if (r.link === undefined) this.scheduleDial(r, false);
    };
    ws.once('error', failed);
    ws.once('open', () => {
      ws.off('error', failed);
      this.connected(r, url, target, createWebSocketStream(ws));
    });
  }

  private connected(r: Remote, url: string, target: LeafUrl, socket: Duplex): void {
    r.connecting = false;
    if (this.closing) {
      socket.destroy();
      return;
    }
    // TLS: upgraded after INFO on TCP; a wss:// remote already has it below the WebSocket.
    const tlsAfterInfo = !target.ws && (r.options.tls !== undefined || target.tls);
    const link = new LeafLink(this, socket, url, { host: target.host, config: r.options.tls, required: tlsAfterInfo });
    link.denyOut = denyList(r.options.denyExports);
    link.denyIn = denyList(r.options.denyImports);
    link.account = r.options.account === '' ? GLOBAL_ACCOUNT : r.options.account;
    r.link = link;
    this.remoteOf.set(link, r);
    this.links.add(link);
  }

  /** Redials a hub: soon after an open link dropped, else with backoff from the reconnect delay. */
  private scheduleDial(r: Remote, afterOpen: boolean): void {
    if (this.closing || r.timer !== undefined || r.link !== undefined || r.connecting) return;
    let delay: number;
    if (r.nextDelayMs > 0) delay = r.nextDelayMs;
    else if (afterOpen) delay = this.deps.rng.int(FIRST_REDIAL_MAX_MS);
    else {
      const base = this.options.reconnectMs * Math.min(MAX_BACKOFF_FACTOR, 2 ** Math.max(0, r.attempts - 1));
      delay = base / 2 + this.deps.rng.int(Math.max(1, Math.floor(base / 2)));
    }
    r.nextDelayMs = 0;
    r.timer = this.clock.setTimeout(() => this.dial(r), delay);
  }

  private delayRedial(link: LeafLink, ms: number): void {
    const r = this.remoteOf.get(link);
    if (r !== undefined) r.nextDelayMs = ms;
  }
}

function announce(link: LeafLink, c: InterestChange): void {
  if (c.weight === 0) link.sendUnsub(c.subject, c.queue);
  else link.sendSub(c.subject, c.queue, c.weight);
}
