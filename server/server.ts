// Composition root: builds the parts, wires them, starts and stops them. No protocol logic here.

import type { Duplex } from 'node:stream';
import { systemClock, type Clock } from '../runtime/clock.ts';
import { newServerId } from '../runtime/ids.ts';
import type { Logger } from '../runtime/logger.ts';
import { systemRng, type Rng } from '../runtime/rng.ts';
import { writeErr, writeInfo, OutboundBuffer } from '../protocol/encoder.ts';
import { ClientErr, CloseReason } from '../protocol/errors.ts';
import { Authenticator, UserConnectionCounts } from './auth/authenticator.ts';
import { authenticateJwtUser } from './auth/jwt-users.ts';
import { PasswordChecker } from './auth/passwords.ts';
import { ClientConnection, type ConnectionContext } from './connection/client-connection.ts';
import type { AuthServices } from './connection/connection-auth.ts';
import { Flusher } from './connection/flusher.ts';
import { HandlerSubscription, InternalClient } from './internal-client.ts';
import { bindJetStreamDomain } from './js-domain.ts';

/** Internal subjects that never cross a leaf link: the JetStream API and the cluster's own. */
function isSideLocalSubject(subject: string): boolean {
  return subject.startsWith('$JS.API.') || subject.startsWith('$JSC.') || subject.startsWith('$SYS.');
}

/** The JetStream domain bridge's connection id: apart from clients (> 0), the server (0) and links. */
const JS_DOMAIN_BRIDGE_ID = -999_999;
// Loaded when first needed (in start()), not with the server: a broker without a store never reads
// the JetStream code or its LMDB binding, one without routes never reads the cluster's
// (docs/adr/0011-shipping-javascript.md, start-up and idle memory).
import type { JetStreamService } from '../streams/index.ts';
import { buildClientInfo, type InfoContext } from './info.ts';
import { createJsonLogger } from './logging.ts';
import { LameDuck, type LameDuckClient } from './lame-duck.ts';
import { AUTH_OPTIONS, planReload, type ReloadPlan } from './reload.ts';
import { callEndpoint, startMonitor, type MonitorServer } from './monitor/http.ts';
import type { Monitoring } from './monitor/endpoints.ts';
import { ClosedConnections } from './monitor/closed-connections.ts';
import { accountTraffic } from './monitor/accstatz.ts';
import { snapshotConnection } from './monitor/conn-info.ts';
import type { ServerOptions } from './options-types.ts';
import { resolveOptionsWithWarnings } from './options.ts';
import { removePortsFile, writePortsFile } from './ports-file.ts';
import type { Router } from './router/router.ts';
import { Accounts, type Account } from './accounts/accounts.ts';
import { OperatorMode } from './accounts/operator.ts';
import { ORIGIN_ONLY_TARGET_ID } from './accounts/bridge.ts';
import { AccountJetStreams } from './accounts/account-jetstream.ts';
import { clientInfo, eventClient, type SystemEvents } from './accounts/system-events.ts';
import { ADVERTISED_SERVER_VERSION } from '../protocol/version.ts';
import type { Cluster } from './cluster/cluster.ts';
import type { LeafNodes, LeafNodesDeps } from './leafnode/leafnodes.ts';
import { ServerStats } from './stats.ts';
import { startClientListeners, type ClientListeners } from './listeners.ts';
import type { ClientTransport } from './transport/types.ts';
import type { MessageTarget } from './router/subscription.ts';

export interface ServerDeps {
  logger?: Logger;
  clock?: Clock;
  rng?: Rng;
  /** JetStream's clock (timestamps, max_age, dedupe window); defaults to `clock`. */
  jetstreamClock?: Clock;
}

export interface BoundPorts {
  client: number;
  http?: number;
  ws?: number;
  cluster?: number;
  leafnode?: number;
}

export interface RunningServer {
  readonly serverId: string;
  readonly serverName: string;
  readonly ports: BoundPorts;
  /** nats://host:port for clients (loopback when listening on all interfaces). */
  readonly clientUrl: string;
  readonly httpUrl?: string;
  /** ws:// or wss:// URL of the WebSocket listener, when there is one. */
  readonly wsUrl?: string;
  /** Number of open client connections. */
  connectionCount(): number;
  /** The JetStream service when a store directory is configured. */
  readonly jetstream: JetStreamService | undefined;
  /** Lame-duck mode, then shutdown (server/lame-duck.ts); resolves once closed. */
  enterLameDuckMode(): Promise<void>;
  /** Applies a re-read configuration, or refuses all of it (server/reload.ts). */
  reload(next: ServerOptions): ReloadPlan;
  close(): Promise<void>;
}

function connectHost(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
}

export class SluiceServer implements RunningServer {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: ServerOptions;
  readonly ports: BoundPorts = { client: 0 };
  readonly stats = new ServerStats();
  /**
   * Clients accepted while start() still opens the other listeners (the client port is open
   * first, and reconnecting clients arrive at once): taken once INFO can be built. null after.
   */
  private acceptedEarly: ClientTransport[] | null = [];
  /** The global account's router ($G). */
  readonly router: Router;
  /** Every account's subject space, and the imports between them (server/accounts/). */
  readonly accounts: Accounts;
  /** The accounts JetStream serves; the first is `jetstream`'s, the others `accountJetStreams`. */
  private readonly jetstreamAccounts: readonly Account[];
  /** JetStream of the accounts after the first that enable it (server/accounts/account-jetstream.ts). */
  private readonly accountJetStreams = new AccountJetStreams();
  /** The system account's events and PING answers (started with the server). */
  private systemEvents: SystemEvents | undefined;
  private readonly clock: Clock;
  readonly logger: Logger;
  private readonly flusher: Flusher;
  /** The server's own pseudo-client: JetStream and other internal handlers subscribe through it. */
  private readonly internal: InternalClient;
  private readonly jetstreamClock: Clock;
  private readonly rng: Rng;
  jetstream: JetStreamService | undefined;
  /** The routes to the other servers, when clustered. */
  cluster: Cluster | undefined;
  /** Leaf node connections (hub listener and remotes), when configured. */
  leafnodes: LeafNodes | undefined;
  private readonly connections = new Map<number, ClientConnection>();
  private readonly connectionContext: ConnectionContext;
  private readonly startMs: number;
  private nextClientId = 1;
  private listeners: ClientListeners | undefined;
  private readonly passwords = new PasswordChecker();
  private readonly authServices: AuthServices;
  /** Operator mode's trusted keys and JWT accounts; undefined without operators. */
  private readonly operator: OperatorMode | undefined;
  private monitor: MonitorServer | undefined;
  private monitoringBuilt: Promise<Monitoring> | undefined;
  /** Recently closed connections for /connz; kept only when there is a monitoring port. */
  private closedConnections: ClosedConnections | undefined;
  private portsFilePath: string | undefined;
  private closing: Promise<void> | undefined;
  private infoContext: InfoContext | undefined;
  private listenersClosed: Promise<void> | undefined;
  private lameDuck: LameDuck | undefined;
  private lameDuckRun: Promise<void> | undefined;

  constructor(options: ServerOptions, deps: ServerDeps = {}) {
    this.options = options;
    this.clock = deps.clock ?? systemClock;
    this.logger = deps.logger ?? createJsonLogger(options.logLevel);
    this.serverId = newServerId();
    this.serverName = options.serverName || this.serverId;
    this.rng = deps.rng ?? systemRng();
    // Operator mode: the accounts come from the resolver's JWTs (options.ts checked them already).
    const operator = OperatorMode.build(options, this.clock.nowMs());
    if (Array.isArray(operator)) throw new Error(operator[1]);
    this.operator = operator;
    const accountOptions = operator === undefined ? options : { accounts: operator.accountConfigs(), systemAccount: options.systemAccount };
    this.accounts = new Accounts(accountOptions, this.rng, this.clock, (err, subject) =>
      this.logger.error({ err: String(err), stack: (err as Error)?.stack, subject }, 'account import failed'),
    );
    this.router = this.accounts.global.router;
    this.jetstreamAccounts = this.accounts.jetstreamAccounts();
    this.flusher = new Flusher(this.clock);
    this.jetstreamClock = deps.jetstreamClock ?? this.clock;
    this.internal = new InternalClient(0, (this.jetstreamAccounts[0] ?? this.accounts.global).router, (err, subject) =>
      this.logger.error({ err: String(err), stack: (err as Error)?.stack, subject }, 'internal handler failed'),
    );
    this.startMs = this.clock.nowMs();
    this.authServices = { authenticator: this.newAuthenticator(), userConnections: new UserConnectionCounts() };
    const server = this;
    this.connectionContext = {
      router: this.router,
      accounts: this.accounts,
      flusher: this.flusher,
      clock: this.clock,
      logger: this.logger,
      stats: this.stats,
      options,
      auth: this.authServices,
      infoFor: (conn) =>
        buildClientInfo(server.infoContext!, conn.id, conn.transport.remoteAddress, {
          transport: conn.transport.kind,
          nonce: conn.auth.nonce,
        }),
      connectionOpened: (conn) => server.systemEvents?.connected(eventClient(conn)),
      connectionClosed: (conn, reason) => server.onConnectionClosed(conn, reason),
    };
  }

  get clientUrl(): string {
    return `nats://${connectHost(this.options.host)}:${this.ports.client}`;
  }

  get httpUrl(): string | undefined {
    return this.ports.http === undefined ? undefined : `http://${connectHost(this.options.httpHost)}:${this.ports.http}`;
  }

  get wsUrl(): string | undefined {
    const info = this.listeners?.wsInfo;
    return info === undefined ? undefined : `${info.tlsRequired ? 'wss' : 'ws'}://${connectHost(info.host)}:${info.port}`;
  }

  connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<void> {
    const o = this.options;
    const [jsAccount, ...jsOthers] = this.jetstreamAccounts;
    if (o.storeDir !== undefined && jsAccount !== undefined) {
      const { startJetStream, ServerJetStreamLimits } = await import('../streams/index.ts');
      const shared = {
        // jetstream { max_mem, max_file }: what every account's streams hold together.
        serverLimits: new ServerJetStreamLimits(o.jetstreamMaxMemory, o.jetstreamMaxStore, this.jetstreamClock),
        clock: this.jetstreamClock,
        logger: this.logger,
        serverName: this.serverName,
        requester: () => this.requesterInfo(),
        maxPayloadBytes: o.maxPayloadBytes,
        readCacheBytes: o.jetstreamReadCacheBytes,
        sync: o.jetstreamSync,
        syncIntervalMs: o.jetstreamSyncIntervalMs,
        ...(o.jetstreamDomain !== undefined ? { domain: o.jetstreamDomain } : {}),
      };
      const storeDirOf = (a: Account): string => this.accounts.jetstreamStoreDir(o.storeDir!, a);
      const limits = jsAccount.config?.jetstreamLimits;
      this.jetstream = await startJetStream({ ...shared, storeDir: storeDirOf(jsAccount), bus: this.internal, ...(limits !== undefined ? { limits } : {}) });
      this.logger.info({ store_dir: o.storeDir, ...(o.jetstreamDomain !== undefined ? { domain: o.jetstreamDomain } : {}) }, 'JetStream enabled');
      await this.accountJetStreams.start(jsOthers, storeDirOf, shared, this.logger);
      if (o.jetstreamDomain !== undefined) {
        // Its own internal client, so its interest crosses leaf links and routes (js-domain.ts).
        for (const { account, internal } of [{ account: jsAccount, internal: this.internal }, ...this.accountJetStreams.internals()]) {
          const bridge = new InternalClient(JS_DOMAIN_BRIDGE_ID, account.router, (err, subject) =>
            this.logger.error({ err: String(err), subject }, 'JetStream domain bridge failed'),
          );
          bindJetStreamDomain(bridge, internal, o.jetstreamDomain);
        }
      }
    }
    this.accounts.bindImports();
    if (o.storeDir !== undefined) this.accounts.answerJetStreamDisabled(this.jetstreamAccounts);
    // The system account has members only with configured accounts (or users given to it); a
    // plain server keeps its subscription table as it was.
    if (this.accounts.configured || o.users.some((u) => u.account === this.accounts.system.name)) this.startSystemEvents();
    // A hub with a leafnode port also takes leaf nodes on its WebSocket port (path /leafnode), as
    // nats-server does; the link starts after the leafnode listener below is up.
    const onLeafNode =
      o.leafnodes?.port === undefined
        ? undefined
        : (stream: Duplex, address: string, port: number): void => {
            if (this.leafnodes !== undefined) this.leafnodes.acceptWebSocket(stream, address, port);
            else stream.destroy();
          };
    const listeners = await startClientListeners(o, this.clock, this.logger, (t) => this.accept(t), onLeafNode);
    this.listeners = listeners;
    this.ports.client = listeners.tcp.port;
    if (listeners.ws !== undefined) this.ports.ws = listeners.ws.port;
    this.infoContext = {
      identity: { serverId: this.serverId, serverName: this.serverName },
      options: o,
      boundPort: listeners.tcp.port,
      jetstream: this.jetstream !== undefined,
      authRequired: this.authServices.authenticator.advertised,
      tcp: listeners.tcpInfo,
      ws: listeners.wsInfo,
      wsConnectUrls: listeners.wsConnectUrls,
    };
    const early = this.acceptedEarly;
    this.acceptedEarly = null;
    for (const t of early ?? []) this.accept(t);
    this.logger.info({ url: this.clientUrl, port: this.ports.client, tls: o.tls !== undefined }, 'listening for client connections');
    if (this.wsUrl !== undefined) this.logger.info({ url: this.wsUrl, port: this.ports.ws }, 'listening for websocket clients');
    if (o.cluster !== undefined) await this.startCluster(o.cluster);
    if (o.leafnodes !== undefined) await this.startLeafNodes(o.leafnodes);
    if (o.httpPort !== undefined) await this.startMonitoring(o.httpPort);
    if (o.portsFileDir !== undefined) {
      this.portsFilePath = writePortsFile(o.portsFileDir, o.serverName || 'sluice', process.pid, {
        nats: [this.clientUrl],
        monitoring: this.httpUrl ? [this.httpUrl] : [],
        websocket: this.wsUrl ? [this.wsUrl] : [],
        cluster: this.cluster ? [this.cluster.listenUrl] : [],
        leafnodes: this.ports.leafnode !== undefined ? [`nats-leaf://${connectHost(o.leafnodes?.host || o.host)}:${this.ports.leafnode}`] : [],
      });
    }
    this.logger.info({ server_id: this.serverId, server_name: this.serverName }, 'server is ready');
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  get inLameDuckMode(): boolean {
    return this.lameDuck !== undefined;
  }

  /**
   * Lame-duck mode (server/lame-duck.ts): stop accepting, stop JetStream, tell the clients, close
   * them spread over lame_duck_duration, then shut down. Resolves once the server is closed.
   */
  enterLameDuckMode(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.lameDuckRun === undefined) {
      const server = this;
      const settings = { durationMs: this.options.lameDuckDurationMs, gracePeriodMs: this.options.lameDuckGracePeriodMs };
      this.lameDuck = new LameDuck(
        {
          stopAccepting: () => {
            server.infoContext = { ...server.infoContext!, ldm: true };
            void server.closeListeners();
          },
          stopJetStream: async () => {
            await server.jetstream?.close();
            await server.accountJetStreams.close();
          },
          openClients: () => [...server.connections.values()].map((conn): LameDuckClient => ({
            get closed() {
              return conn.closed;
            },
            notifyLameDuck: () => conn.sendAsyncInfo(),
            closeForShutdown: () => conn.close(CloseReason.ServerShutdown),
          })),
        },
        settings,
        this.clock,
        this.rng,
        this.logger,
      );
      this.lameDuckRun = this.lameDuck.run().then(() => this.close());
    }
    return this.lameDuckRun;
  }

  /**
   * Applies a re-read configuration (server/reload.ts): all of it, or nothing when a changed option
   * needs a restart. Logs one line either way; returns what changed and what was refused.
   */
  reload(next: ServerOptions): ReloadPlan {
    const plan = planReload(this.options, next);
    if (plan.refused.length > 0) {
      this.logger.error(
        { refused: plan.refused },
        `config reload refused: ${plan.refused.map((f) => JSON.stringify(f)).join(', ')} cannot change without a restart; the running configuration stays in force`,
      );
      return plan;
    }
    if (plan.changed.length === 0) {
      this.logger.info({}, 'config reloaded: nothing changed');
      return plan;
    }
    const o = this.options as unknown as Record<string, unknown>;
    for (const field of plan.changed) o[field] = next[field];
    const authChanged = plan.changed.some((f) => AUTH_OPTIONS.has(f));
    if (authChanged) {
      this.authServices.authenticator = this.newAuthenticator();
      this.infoContext = { ...this.infoContext!, authRequired: this.authServices.authenticator.advertised };
    }
    const logger = this.logger as Partial<{ setLevel(level: ServerOptions['logLevel']): void }>;
    if (plan.changed.includes('logLevel')) logger.setLevel?.(this.options.logLevel);
    for (const conn of this.connections.values()) conn.applyReload(authChanged);
    this.logger.info({ changed: plan.changed }, 'config reloaded');
    return plan;
  }

  /** Stops accepting clients; open connections stay. Once, whoever asks first (lame duck, shutdown). */
  private closeListeners(): Promise<void> {
    this.listenersClosed ??= this.listeners?.close() ?? Promise.resolve();
    return this.listenersClosed;
  }

  private async startCluster(options: NonNullable<ServerOptions['cluster']>): Promise<void> {
    const o = this.options;
    const { Cluster, advertiseHost } = await import('./cluster/cluster.ts');
    const clientUrls = [`${advertiseHost(o.host)}:${this.ports.client}`];
    const wsUrls = this.listeners?.wsConnectUrls ?? [];
    const cluster = new Cluster({
      serverId: this.serverId,
      serverName: this.serverName,
      options,
      clock: this.clock,
      rng: this.rng,
      logger: this.logger,
      flusher: this.flusher,
      routerFor: (account) => this.accounts.get(account)?.router,
      // The server's own handlers (JetStream's API, R1 streams) stay local unless they asked to be
      // reachable cluster-wide (a replicated stream's leader, the meta leader); so do the imports,
      // which every server runs for its own publishers (server/accounts/bridge.ts).
      isServerLocal: (sub) =>
        (this.isJetStreamInternal(sub.target) && !(sub as HandlerSubscription).clusterWide) || sub.target.id === ORIGIN_ONLY_TARGET_ID,
      clientUrls: () => clientUrls,
      wsUrls: () => wsUrls,
      membershipChanged: () => this.onClusterChanged(),
    });
    this.cluster = cluster;
    for (const { router } of this.accounts.all()) {
      router.interestListener = cluster;
      // Interest that exists before the first route (JetStream's consumers) is known from the start.
      for (const sub of router.localSubscriptions()) cluster.localInterest(router.account, sub, true);
    }
    this.infoContext = {
      ...this.infoContext!,
      cluster: { name: options.name, connectUrls: () => cluster.connectUrls(), wsConnectUrls: () => cluster.wsConnectUrls() },
    };
    await cluster.start(o.host);
    this.ports.cluster = cluster.port;
    // JetStream servers form the meta group over the routes; others say they hold no replicas.
    // Every account with JetStream replicates on its own, over its view of the routes.
    const network = cluster.raftNetwork();
    const services = this.jetstreamServices();
    if (services.length === 0) {
      network.setLocalState({ jetstream: false, metaMember: false });
      return;
    }
    const { AccountRaftNetworks } = await import('../streams/replication/account-networks.ts');
    const networks = new AccountRaftNetworks(network);
    for (const { account, service } of services) service.joinCluster(networks.for(account), this.rng, options.name);
  }

  /** Operator mode's check of an edge's user JWT (a LEAFNODE connection): the account it binds to. */
  private leafJwtAuthenticator(mode: OperatorMode): NonNullable<LeafNodesDeps['authenticateJwt']> {
    return (jwt, sig, nonce, host) => {
      const credentials = { user: '', pass: '', authToken: '', nkey: '', sig, jwt };
      const outcome = authenticateJwtUser(mode, credentials, nonce, { kind: 'LEAFNODE', host }, this.clock.nowMs());
      if (!outcome.ok) return { ok: false, reason: outcome.reason };
      return outcome.user === undefined ? { ok: false, reason: 'no user' } : { ok: true, account: outcome.user.account };
    };
  }

  /** One of the JetStreams' internal clients (their handlers stay local unless cluster-wide). */
  private isJetStreamInternal(target: MessageTarget): boolean {
    return target === this.internal || this.accountJetStreams.isInternal(target);
  }

  private async startLeafNodes(options: NonNullable<ServerOptions['leafnodes']>): Promise<void> {
    const o = this.options;
    const { LeafNodes } = await import('./leafnode/leafnodes.ts');
    const leafnodes = new LeafNodes({
      serverId: this.serverId,
      serverName: this.serverName,
      options,
      clientHost: o.host,
      maxPayloadBytes: o.maxPayloadBytes,
      maxControlLineBytes: o.maxControlLineBytes,
      pingIntervalMs: o.pingIntervalMs,
      maxPingsOutstanding: o.maxPingsOutstanding,
      authTimeoutMs: o.authTimeoutMs,
      clock: this.clock,
      rng: this.rng,
      logger: this.logger,
      flusher: this.flusher,
      routerOf: (account) => this.accounts.routerOf(account),
      clusterName: () => o.cluster?.name ?? '',
      jetstream: o.storeDir !== undefined,
      jetstreamDomain: o.jetstreamDomain ?? '',
      // The server's own JetStream API (and cluster-internal subjects) answers only its own side;
      // the other side reaches it by domain (js-domain.ts). Stream subjects and ack subjects are
      // announced, as nats-server does, so publishes and acks from the other side arrive; so are
      // the imports' subscriptions (the other side does not run this server's imports).
      isServerLocal: (sub) =>
        (sub.target === this.internal || sub.target.id === ORIGIN_ONLY_TARGET_ID || this.accountJetStreams.isInternal(sub.target)) &&
        isSideLocalSubject(sub.subject),
      ...(this.operator !== undefined ? { authenticateJwt: this.leafJwtAuthenticator(this.operator) } : {}),
    });
    this.leafnodes = leafnodes;
    for (const { router } of this.accounts.all()) router.leafInterestListener = leafnodes;
    await leafnodes.start();
    if (options.port !== undefined) this.ports.leafnode = leafnodes.port;
  }

  /** A peer came or went: clients learn the new set of URLs (nats-server's async INFO). */
  private onClusterChanged(): void {
    for (const conn of this.connections.values()) conn.sendAsyncInfo();
  }

  private async shutdown(): Promise<void> {
    this.lameDuck?.cancel();
    await this.leafnodes?.close();
    await this.cluster?.close();
    for (const t of this.acceptedEarly ?? []) t.destroy();
    const listenerClosed = this.closeListeners();
    for (const conn of [...this.connections.values()]) conn.close(CloseReason.ServerShutdown);
    await listenerClosed;
    await this.passwords.close();
    this.accounts.close();
    await this.jetstream?.close();
    await this.accountJetStreams.close();
    await this.monitor?.close();
    if (this.portsFilePath) removePortsFile(this.portsFilePath);
    this.logger.info({}, 'server stopped');
  }

  private accept(transport: ClientTransport): void {
    if (this.closing || this.lameDuck !== undefined) {
      transport.destroy();
      return;
    }
    if (this.acceptedEarly !== null) {
      this.acceptedEarly.push(transport);
      return;
    }
    const id = this.nextClientId++;
    if (this.connections.size >= this.options.maxConnections) {
      const out = new OutboundBuffer();
      writeInfo(out, buildClientInfo(this.infoContext!, id, transport.remoteAddress, { transport: transport.kind, nonce: '' }));
      writeErr(out, ClientErr.MaximumConnectionsExceeded);
      transport.start({ data: () => {}, close: () => {}, drain: () => {} });
      transport.write(out.take());
      transport.end();
      this.logger.warn({ max: this.options.maxConnections }, 'maximum connections exceeded, refusing client');
      return;
    }
    const conn = new ClientConnection(id, transport, this.connectionContext);
    this.connections.set(id, conn);
    this.stats.totalConnections++;
    conn.start();
  }

  private newAuthenticator(): Authenticator {
    return new Authenticator(this.options, this.passwords, this.operator, () => this.clock.nowMs());
  }

  /** Every account's JetStream: the first account's (the one `jetstream` holds), then the others'. */
  private jetstreamServices(): { account: string; service: JetStreamService }[] {
    const first = this.jetstreamAccounts[0];
    if (this.jetstream === undefined || first === undefined) return [];
    return [{ account: first.name, service: this.jetstream }, ...this.accountJetStreams.services().map(({ account, service }) => ({ account: account.name, service }))];
  }

  /** The client whose request is being delivered now, as the JetStream API audit names it. */
  private requesterInfo(): Record<string, unknown> | undefined {
    const conn = this.accounts.requester;
    if (conn === null) return undefined;
    const cluster = this.options.cluster?.name;
    return { ...clientInfo(eventClient(conn)), server: this.serverName, ...(cluster !== undefined ? { cluster } : {}) };
  }

  private startSystemEvents(): void {
    const o = this.options;
    const server = this;
    this.systemEvents = this.accounts.startSystemEvents(
      {
        name: this.serverName,
        host: o.host,
        id: this.serverId,
        cluster: o.cluster?.name ?? '',
        domain: o.jetstreamDomain ?? '',
        version: ADVERTISED_SERVER_VERSION,
        jetstream: () => server.jetstream !== undefined,
      },
      {
        startMs: this.startMs,
        connections: () => server.connections.size,
        totalConnections: () => server.stats.totalConnections,
        activeAccounts: () => new Set([...server.connections.values()].map((c) => c.account)).size,
        subscriptions: () => server.accounts.all().reduce((n, a) => n + a.router.subscriptionCount, 0),
        sent: () => ({ msgs: server.stats.outMsgs, bytes: server.stats.outBytes }),
        received: () => ({ msgs: server.stats.inMsgs, bytes: server.stats.inBytes }),
        slowConsumers: () => server.stats.slowConsumers,
        activeServers: () => 1 + (server.cluster?.openLinks().length ?? 0),
        routes: () =>
          (server.cluster?.openLinks() ?? []).map((r) => ({
            rid: r.rid,
            ...(r.peer ? { name: r.peer.name } : {}),
            sent: { msgs: r.outMsgs, bytes: r.outBytes },
            received: { msgs: r.inMsgs, bytes: r.inBytes },
            pending: r.pendingBytes,
          })),
        jetstream: () => {
          const js = server.jetstream;
          if (js === undefined) return undefined;
          const st = js.stats();
          // As /varz shows it: no memory or storage limit is configured in sluice.
          return {
            config: { max_memory: 0, max_storage: 0 },
            stats: { memory: st.memory, storage: st.storage, reserved_memory: 0, reserved_storage: 0, accounts: server.jetstreamAccounts.length, ha_assets: 0, api: { ...js.api.stats } },
          };
        },
        accountTraffic: (account) => {
          const a = server.accounts.get(account);
          return a && accountTraffic(a, server.connections.values(), server.leafnodes?.openLinks() ?? []);
        },
      },
      async (path, query) => callEndpoint((await server.monitoring()).endpoints, path, query),
    );
    // $SYS.REQ...CONNZ lists closed connections too, as the monitoring port does.
    this.closedConnections ??= new ClosedConnections();
  }

  private onConnectionClosed(conn: ClientConnection, reason: CloseReason): void {
    this.connections.delete(conn.id);
    if (conn.connectReceived) this.systemEvents?.disconnected(eventClient(conn), reason);
    this.accounts.get(conn.account)?.retire(conn, reason.startsWith('Slow Consumer'));
    this.closedConnections?.add(snapshotConnection(conn, true, { ms: this.clock.nowMs(), reason }));
    conn.logger.debug({ reason }, 'client connection closed');
  }

  private async startMonitoring(port: number): Promise<void> {
    const { endpoints, requestCounts } = await this.monitoring();
    this.monitor = await startMonitor(this.options.httpHost, port, endpoints, this.logger, requestCounts);
    this.ports.http = this.monitor.port;
    this.logger.info({ url: this.httpUrl, port: this.ports.http }, 'listening for monitoring requests');
  }

  /**
   * The monitoring endpoints, built once for the HTTP port and the system account's requests
   * alike (whichever asks first; the module is loaded only then).
   */
  private monitoring(): Promise<Monitoring> {
    this.monitoringBuilt ??= this.buildMonitoring();
    return this.monitoringBuilt;
  }

  private async buildMonitoring(): Promise<Monitoring> {
    const { monitorEndpoints } = await import('./monitor/endpoints.ts');
    const server = this;
    const closed = (this.closedConnections ??= new ClosedConnections());
    return monitorEndpoints({
      serverId: this.serverId,
      serverName: this.serverName,
      options: this.options,
      stats: this.stats,
      startMs: this.startMs,
      clock: this.clock,
      router: this.router,
      accounts: this.accounts,
      ports: this.ports,
      closed,
      authRequired: () => server.authServices.authenticator.required,
      wsTls: () => server.listeners?.wsInfo?.tlsRequired === true,
      connections: () => server.connections.values(),
      connectionCount: () => server.connections.size,
      routes: () => server.cluster?.openLinks() ?? [],
      leafs: () => server.leafnodes?.openLinks() ?? [],
      leafPort: () => server.ports.leafnode,
      jetstream: () => server.jetstream,
      jetstreams: () => server.jetstreamServices(),
    });
  }
}

/** Starts a broker in-process. Port 0 picks free ports; read them from `ports`. */
export async function startServer(opts: Partial<ServerOptions> = {}, deps: ServerDeps = {}): Promise<RunningServer> {
  const { options, warnings } = resolveOptionsWithWarnings(opts);
  const server = new SluiceServer(options, deps);
  for (const w of warnings) server.logger.warn({}, w);
  await server.start();
  return server;
}
