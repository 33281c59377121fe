// The cluster: this server's routes to its peers (docs/adr/0009-cluster-routes.md). It listens on
// the cluster port, dials the seed routes and the peers it learns of, keeps one open link per
// peer, tells every peer this server's interest and registers each peer's interest with the
// router, hands messages arriving from peers to the router, and tells the server when the set
// of client URLs in the cluster changes (INFO connect_urls).

import net from 'node:net';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Rng } from '../../runtime/rng.ts';
import { isValidSubject } from '../../protocol/subject.ts';
import { ADVERTISED_SERVER_VERSION } from '../../protocol/version.ts';
import type { Flusher } from '../connection/flusher.ts';
import type { ClusterOptions } from '../options-types.ts';
import type { LocalInterestListener, Router } from '../router/router.ts';
import { Subscription } from '../router/subscription.ts';
import type { Message } from '../../raft/types.ts';
import type { PeerState, RaftNetwork } from '../../streams/replication/network.ts';
import { FrameError, decodeRaftMessages, type RouteHello, type RoutePeers } from './frames.ts';
import { LocalInterest, interestKey, type InterestChange } from './interest.ts';
import { parseRouteUrl } from './options.ts';
import { advertiseHost } from './advertise.ts';

export { advertiseHost };
import { RouteLink, type RouteHost } from './route.ts';

/** Redial backoff: doubling from the first delay up to the cap, with jitter. */
const DIAL_FIRST_DELAY_MS = 50;
const DIAL_MAX_DELAY_MS = 2000;
/** A dial that has not connected by then is abandoned (and retried). */
const DIAL_TIMEOUT_MS = 2000;

export interface ClusterDeps {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: ClusterOptions;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly flusher: Flusher;
  /** The router of an account; undefined for an account this server does not have. */
  routerFor(account: string): Router | undefined;
  /** Subscriptions that stay on this server (the server's own internal handlers). */
  isServerLocal(sub: Subscription): boolean;
  /** host:port for clients and WebSocket clients of this server. */
  clientUrls(): readonly string[];
  wsUrls(): readonly string[];
  /** The client URLs of the cluster changed (a peer came or went). */
  membershipChanged(): void;
}

/** A URL this server dials: a configured seed (forever) or a peer learnt by gossip. */
interface DialTarget {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly explicit: boolean;
  attempts: number;
  timer: TimerHandle | undefined;
  /** Dialling or open. */
  link: RouteLink | undefined;
  connecting: boolean;
  /** The server last found at this URL. */
  peerId: string;
  /** The URL reached this server itself: never dialled again. */
  self: boolean;
}

export class Cluster implements LocalInterestListener, RouteHost {
  readonly serverId: string;
  readonly flusher: Flusher;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pingIntervalMs: number;
  readonly maxPingsOutstanding: number;
  readonly maxPendingBytes: number;
  readonly name: string;
  private readonly deps: ClusterDeps;
  private readonly options: ClusterOptions;
  private readonly interest = new LocalInterest();
  /** Every link, handshaking or open. */
  private readonly links = new Set<RouteLink>();
  /** The one open link per peer, by server id. */
  private readonly peers = new Map<string, RouteLink>();
  private readonly targets = new Map<string, DialTarget>();
  /** Open links by the peer's server name (raft traffic is addressed by name). */
  private readonly byName = new Map<string, RouteLink>();
  private raftHandler: ((group: string, from: string, messages: readonly Message[]) => void) | null = null;
  private readonly peerChangeHandlers: ((name: string, connected: boolean) => void)[] = [];
  private localState: PeerState | undefined = undefined;
  private server: net.Server | undefined;
  private boundPort = 0;
  private routeUrl = '';
  private boundListenUrl = '';
  private closing = false;

  constructor(deps: ClusterDeps) {
    this.deps = deps;
    this.options = deps.options;
    this.serverId = deps.serverId;
    this.flusher = deps.flusher;
    this.clock = deps.clock;
    this.logger = deps.logger.child({ component: 'cluster' });
    this.name = deps.options.name;
    this.pingIntervalMs = deps.options.pingIntervalMs;
    this.maxPingsOutstanding = deps.options.maxPingsOutstanding;
    this.maxPendingBytes = deps.options.maxPendingBytes;
  }

  get port(): number {
    return this.boundPort;
  }

  /** nats-route://host:port other servers use to reach this one (the advertised address, if set). */
  get url(): string {
    return this.routeUrl;
  }

  /** nats-route://host:port of the listener itself (the ports file), whatever is advertised. */
  get listenUrl(): string {
    return this.boundListenUrl;
  }

  /** Listens on the cluster port, then dials the seeds. */
  async start(host: string): Promise<void> {
    const listenHost = this.options.host || host;
    const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, listenHost, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err: String(err) }, 'cluster listener error'));
        resolve();
      });
    });
    this.server = server;
    this.boundPort = (server.address() as net.AddressInfo).port;
    const advertised = this.options.advertise ?? '';
    this.boundListenUrl = `nats-route://${advertiseHost(listenHost)}:${this.boundPort}`;
    this.routeUrl = advertised !== '' ? `nats-route://${advertised}` : this.boundListenUrl;
    this.logger.info({ url: this.routeUrl, port: this.boundPort, cluster: this.name }, 'listening for route connections');
    for (const url of this.options.routes) {
      const target = this.target(url, true);
      if (target !== undefined) this.dial(target);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.targets.values()) t.timer?.cancel();
    for (const link of [...this.links]) link.close('server shutdown');
    if (this.server !== undefined) await new Promise<void>((res) => this.server!.close(() => res()));
  }

  /** Open links, for /routez. */
  openLinks(): RouteLink[] {
    return [...this.peers.values()];
  }

  /** Client URLs of every server in the cluster, this one first (INFO connect_urls). */
  connectUrls(): string[] {
    return this.urlsOf(this.deps.clientUrls(), (h) => h.clientUrls);
  }

  wsConnectUrls(): string[] {
    return this.urlsOf(this.deps.wsUrls(), (h) => h.wsUrls);
  }

  private urlsOf(own: readonly string[], of: (h: RouteHello) => readonly string[]): string[] {
    const urls = new Set(own);
    for (const link of this.peers.values()) for (const u of of(link.peer!)) urls.add(u);
    return [...urls];
  }

  /** True when the URL dialled was this server's own (configured seeds often include it). */
  isOwnUrl(url: string): boolean {
    return this.targets.get(url)?.self === true;
  }

  // ---- local interest -> peers --------------------------------------------------------------

  localInterest(account: string, sub: Subscription, added: boolean): void {
    if (this.deps.isServerLocal(sub)) return;
    const change = this.interest.change(account, sub, added);
    if (change === null || this.peers.size === 0) return;
    for (const link of this.peers.values()) announce(link, change);
  }

  // ---- RouteHost: what links ask of the cluster ---------------------------------------------

  hello(): RouteHello {
    return {
      v: 1,
      id: this.serverId,
      name: this.deps.serverName,
      cluster: this.name,
      routeUrl: this.routeUrl,
      clientUrls: this.deps.clientUrls(),
      wsUrls: this.deps.wsUrls(),
    };
  }

  infoLine(): Record<string, unknown> {
    // Shaped like nats-server's route INFO so a NATS client reading it behaves (it then sends
    // CONNECT and is refused); `sluice_route` tells a dialling sluice it reached a route port.
    return {
      server_id: this.serverId,
      server_name: this.deps.serverName,
      version: ADVERTISED_SERVER_VERSION,
      cluster: this.name,
      headers: true,
      sluice_route: 1,
    };
  }

  check(link: RouteLink, hello: RouteHello): string {
    if (this.closing) return 'server shutting down';
    if (hello.cluster !== this.name) {
      this.logger.warn(
        { remote: hello.name, remote_cluster: hello.cluster, cluster: this.name, ip: link.remoteAddress },
        `refusing route from cluster "${hello.cluster}": this server is in cluster "${this.name}"`,
      );
      return `cluster name "${hello.cluster}" does not match "${this.name}"`;
    }
    if (hello.id === this.serverId) {
      this.markSelf(link);
      return 'route to self';
    }
    // Names identify servers in raft groups and /routez: two servers may not share one.
    const holder = this.byName.get(hello.name);
    if (hello.name === this.deps.serverName || (holder !== undefined && holder.peer!.id !== hello.id)) {
      this.logger.warn({ remote: hello.name, remote_id: hello.id, ip: link.remoteAddress }, `refusing route: server name "${hello.name}" is already in use`);
      return `duplicate server name "${hello.name}"`;
    }
    const existing = this.peers.get(hello.id);
    if (existing !== undefined) {
      // Two links to one peer: both sides keep the one dialled by the smaller server id, so they
      // agree without talking about it.
      const preferred = this.serverId < hello.id ? this.serverId : hello.id;
      const dialerOf = (l: RouteLink): string => (l.outbound ? this.serverId : hello.id);
      if (dialerOf(existing) === preferred || dialerOf(link) !== preferred) return 'duplicate route';
      existing.close('duplicate route, replaced');
    }
    return '';
  }

  opened(link: RouteLink): void {
    const peer = link.peer!;
    this.peers.set(peer.id, link);
    this.byName.set(peer.name, link);
    const target = link.outbound ? this.targets.get(link.dialUrl) : undefined;
    if (target !== undefined) {
      target.attempts = 0;
      target.peerId = peer.id;
    }
    this.logger.info(
      { remote: peer.name, remote_id: peer.id, url: peer.routeUrl, ip: link.remoteAddress, outbound: link.outbound },
      'route connected',
    );
    // The full interest set first, then the mesh as this server sees it.
    for (const change of this.interest.all()) announce(link, change);
    this.gossip();
    this.deps.membershipChanged();
    for (const h of this.peerChangeHandlers) h(peer.name, true);
  }

  closed(link: RouteLink, reason: string): void {
    this.links.delete(link);
    // The dialler saw its own server id in the listener's INFO: a seed list that names this server.
    if (reason === 'route to self') this.markSelf(link);
    const peer = link.peer;
    const wasOpen = peer !== null && this.peers.get(peer.id) === link;
    if (wasOpen) {
      this.peers.delete(peer.id);
      if (this.byName.get(peer.name) === link) this.byName.delete(peer.name);
      for (const [key, sub] of link.remoteSubs) {
        this.deps.routerFor(key.slice(0, key.indexOf(' ')))?.unsubscribe(sub);
      }
      link.remoteSubs.clear();
      this.logger.info({ remote: peer.name, remote_id: peer.id, reason }, 'route disconnected');
    } else if (reason !== 'duplicate route' && reason !== 'route to self') {
      this.logger.debug({ ip: link.remoteAddress, url: link.dialUrl, reason }, 'route attempt ended');
    }
    if (this.closing) return;
    if (link.outbound) {
      const target = this.targets.get(link.dialUrl);
      if (target !== undefined && target.link === link) {
        target.link = undefined;
        // Who answers at this URL: a seed that had already connected to us is not redialled.
        if (link.listenerId !== '' && target.peerId === '') target.peerId = link.listenerId;
        this.scheduleDial(target);
      }
    }
    if (wasOpen) {
      // Targets that reach this peer wake up: an explicit seed is redialled even when the peer
      // had connected to us.
      for (const t of this.targets.values()) if (t.peerId === peer.id && t.link === undefined) this.scheduleDial(t);
      this.pruneTargets();
      this.gossip();
      this.deps.membershipChanged();
      for (const h of this.peerChangeHandlers) h(peer.name, false);
    }
  }

  peersLearnt(link: RouteLink, p: RoutePeers): void {
    if (p.state !== undefined) for (const h of this.peerChangeHandlers) h(link.peer!.name, true);
    for (const entry of p.peers) {
      if (typeof entry?.id !== 'string' || typeof entry.url !== 'string') throw new FrameError('malformed PEERS entry');
      if (entry.id === this.serverId || this.peers.has(entry.id)) continue;
      // Of two servers that learn of each other, the one with the smaller id dials.
      if (this.serverId > entry.id) continue;
      const target = this.target(entry.url, false);
      if (target === undefined) continue;
      target.peerId = entry.id;
      if (target.link === undefined && target.timer === undefined) this.dial(target);
    }
    this.pruneTargets();
  }

  sub(link: RouteLink, account: string, subject: string, queue: string, weight: number): void {
    if (!isValidSubject(subject)) throw new FrameError(`invalid subject in route SUB: ${subject}`);
    const router = this.deps.routerFor(account);
    if (router === undefined) return;
    const key = interestKey(account, subject, queue);
    const existing = link.remoteSubs.get(key);
    if (existing !== undefined) {
      existing.weight = Math.max(1, weight);
      return;
    }
    const sub = new Subscription(link, subject, queue, key, link, Math.max(1, weight));
    link.remoteSubs.set(key, sub);
    router.subscribe(sub);
  }

  unsub(link: RouteLink, account: string, subject: string, queue: string): void {
    const key = interestKey(account, subject, queue);
    const sub = link.remoteSubs.get(key);
    if (sub === undefined) return;
    link.remoteSubs.delete(key);
    this.deps.routerFor(account)?.unsubscribe(sub);
  }

  msg(_link: RouteLink, account: string, subject: string, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    this.deps.routerFor(account)?.deliverFromRoute(subject, deliverAs, reply, queues, hdrLen, msg);
  }

  raft(link: RouteLink, group: string, payload: Buffer): void {
    const handler = this.raftHandler;
    if (handler === null) return;
    handler(group, link.peer!.name, decodeRaftMessages(payload));
  }

  /** The routes as replication's transport (streams/replication/network.ts). */
  raftNetwork(): RaftNetwork {
    return {
      self: this.deps.serverName,
      send: (group, to, messages) => this.byName.get(to)?.sendRaft(group, messages),
      onMessages: (handler) => {
        this.raftHandler = handler;
      },
      connected: () => [...this.byName.keys()],
      onPeerChange: (handler) => {
        this.peerChangeHandlers.push(handler);
      },
      setLocalState: (state) => {
        this.localState = state;
        this.gossip();
      },
      peerState: (name) => this.byName.get(name)?.peerState,
      configuredRoutesConnected: () => this.configuredRoutesConnected(),
    };
  }

  /** Every configured seed has an open route (or turned out to be this server). */
  configuredRoutesConnected(): boolean {
    for (const url of this.options.routes) {
      const t = this.targets.get(url);
      if (t === undefined || t.self) continue;
      if (t.peerId === '' || !this.peers.has(t.peerId)) return false;
    }
    return true;
  }

  refused(link: RouteLink, reason: string): void {
    if (reason === 'route to self') {
      this.markSelf(link);
      return;
    }
    if (reason !== 'duplicate route') this.logger.warn({ url: link.dialUrl, ip: link.remoteAddress, reason }, 'route refused by peer');
  }

  // ---- accepting and dialling ---------------------------------------------------------------

  private accept(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.links.add(new RouteLink(this, socket, false, ''));
  }

  private target(url: string, explicit: boolean): DialTarget | undefined {
    const existing = this.targets.get(url);
    if (existing !== undefined) return existing;
    const parsed = parseRouteUrl(url);
    if (parsed === undefined) {
      this.logger.warn({ url }, 'ignoring a route URL that cannot be parsed');
      return undefined;
    }
    const t: DialTarget = {
      url,
      host: parsed.host,
      port: parsed.port,
      explicit,
      attempts: 0,
      timer: undefined,
      link: undefined,
      connecting: false,
      peerId: '',
      self: false,
    };
    this.targets.set(url, t);
    return t;
  }

  private dial(t: DialTarget): void {
    t.timer = undefined;
    if (this.closing || t.self || t.link !== undefined || t.connecting) return;
    if (t.peerId !== '' && this.peers.has(t.peerId)) return; // connected the other way round
    t.connecting = true;
    t.attempts++;
    const socket = net.connect({ host: t.host, port: t.port, noDelay: true });
    const timer = this.clock.setTimeout(() => socket.destroy(), DIAL_TIMEOUT_MS);
    const failed = (): void => {
      timer.cancel();
      t.connecting = false;
      if (t.link === undefined) this.scheduleDial(t);
    };
    socket.once('error', failed);
    socket.once('close', failed);
    socket.once('connect', () => {
      timer.cancel();
      socket.off('error', failed);
      socket.off('close', failed);
      t.connecting = false;
      if (this.closing) {
        socket.destroy();
        return;
      }
      const link = new RouteLink(this, socket, true, t.url);
      t.link = link;
      this.links.add(link);
    });
  }

  private scheduleDial(t: DialTarget): void {
    if (this.closing || t.self || t.timer !== undefined || t.link !== undefined || t.connecting) return;
    if (!t.explicit && !this.wanted(t)) {
      this.targets.delete(t.url);
      return;
    }
    const base = Math.min(DIAL_MAX_DELAY_MS, DIAL_FIRST_DELAY_MS * 2 ** Math.min(t.attempts, 10));
    const delay = base / 2 + this.deps.rng.int(Math.max(1, Math.floor(base / 2)));
    t.timer = this.clock.setTimeout(() => this.dial(t), delay);
  }

  /** A learnt peer is worth redialling while some connected peer still reports it. */
  private wanted(t: DialTarget): boolean {
    for (const link of this.peers.values()) if (link.peerList.some((p) => p.url === t.url)) return true;
    return false;
  }

  private pruneTargets(): void {
    for (const t of this.targets.values()) {
      if (t.explicit || t.link !== undefined || t.connecting || this.wanted(t)) continue;
      t.timer?.cancel();
      this.targets.delete(t.url);
    }
  }

  private markSelf(link: RouteLink): void {
    const t = link.outbound ? this.targets.get(link.dialUrl) : undefined;
    if (t === undefined) return;
    t.self = true;
    t.timer?.cancel();
    t.timer = undefined;
  }

  /** Tells every peer which servers this one is connected to. */
  private gossip(): void {
    const list: { id: string; url: string }[] = [];
    for (const link of this.peers.values()) list.push({ id: link.peer!.id, url: link.peer!.routeUrl });
    const frame: RoutePeers = this.localState === undefined ? { peers: list } : { peers: list, state: this.localState };
    for (const link of this.peers.values()) link.sendPeers(frame);
  }
}

function announce(link: RouteLink, c: InterestChange): void {
  if (c.weight === 0) link.sendUnsub(c.account, c.subject, c.queue);
  else link.sendSub(c.account, c.subject, c.queue, c.weight);
}
