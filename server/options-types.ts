// The resolved option set of one server. Flags, config files (JSON or nats-server syntax) and
// embedding callers all end up here; server/options.ts holds the defaults and the validation.

import type { LogLevel } from '../runtime/logger.ts';
import type { SyncMode } from '../streams/index.ts';
import type { AccountConfig } from './accounts/config.ts';
import type { UserConfig } from './auth/users.ts';

/** TLS material and policy of one listener (client port or WebSocket port). Paths are PEM files. */
export interface TlsOptions {
  certFile: string;
  keyFile: string;
  /** CA bundle that client certificates must chain to; needed when `verify` is on. */
  caFile: string | undefined;
  /** Require and verify a client certificate (nats-server's `verify: true`). */
  verify: boolean;
  /** How long a client may take to finish the TLS handshake. */
  timeoutMs: number;
  /** TLS before INFO (nats-server's `handshake_first`); clients must ask for it too. */
  handshakeFirst: boolean;
}

/** One hub this server dials as a leaf node (an entry of `leafnodes.remotes`); docs/leafnodes.md. */
export interface LeafRemoteOptions {
  /** nats-leaf://[user:pass@]host:port (or nats://, tls://); tried in turn when several. */
  urls: string[];
  /** A .creds file (user JWT and nkey seed) whose seed signs the hub's nonce; '' = none. */
  credentials: string;
  /** The local account the link is bound to ('' = the global account, $G). */
  account: string;
  /** TLS towards the hub; also used when the hub's INFO requires TLS. */
  tls: LeafRemoteTlsOptions | undefined;
  /** Subjects this server does not take from the hub: no interest sent for them, messages dropped. */
  denyImports: string[];
  /** Subjects this server does not send to the hub. */
  denyExports: string[];
}

export interface LeafRemoteTlsOptions {
  caFile: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  /** Check the hub's certificate (default true; false only for tests and self-signed setups). */
  verify: boolean;
}

/** nats-server's `leafnodes {}` block: a listener for edges (hub role) and remotes (edge role). */
export interface LeafNodeOptions {
  /** Interface for the leafnode listener; '' = the client `host`. */
  host: string;
  /** Leafnode listener port; undefined = no listener (edge only); 0 = a free port. */
  port: number | undefined;
  /** Credentials an edge must present in its CONNECT (`authorization { user, password }`). */
  user: string | undefined;
  pass: string | undefined;
  /** The local account edges accepted with those credentials are bound to ('' = $G). */
  account: string;
  remotes: LeafRemoteOptions[];
  /** Delay before redialling a hub after a failed attempt or a dropped link. */
  reconnectMs: number;
}

/** The cluster listener and routes (nats-server's `cluster {}` block); docs/adr/0009-cluster-routes.md. */
export interface ClusterOptions {
  /** Cluster name; a route from a server with another name is refused. */
  name: string;
  /** Interface for the cluster listener; '' = the client `host`. */
  host: string;
  /** Cluster port; 0 picks a free one. */
  port: number;
  /** Seed routes to dial, nats-route://host:port; the rest of the mesh is learnt from them. */
  routes: string[];
  /**
   * host:port the other servers should dial to reach this one (behind NAT, a proxy, a container
   * port mapping); '' = the listener's own address.
   */
  advertise: string;
  /** Keep-alive on each route: a PING this often, the link dropped after `maxPingsOutstanding` unanswered. */
  pingIntervalMs: number;
  maxPingsOutstanding: number;
  /** Bytes queued to one peer before the route is dropped as a slow consumer (it reconnects). */
  maxPendingBytes: number;
}

/** The WebSocket listener's settings besides its port (nats-server's `websocket {}` block). */
export interface WebSocketOptions {
  /** Interface for the WebSocket listener; '' = the client `host`. */
  host: string;
  /** Plain ws:// even when TLS is configured (dev, or TLS ended by a proxy). */
  noTls: boolean;
  /** TLS for this listener; undefined = use the client listener's `tls` (unless noTls). */
  tls: TlsOptions | undefined;
  /** Offer permessage-deflate (no context takeover, like nats-server). */
  compression: boolean;
  /** Browser Origins allowed to connect ("https://app.example.com"); empty = any. */
  allowedOrigins: string[];
  /** Only allow a browser Origin equal to the request's own scheme://Host. */
  sameOrigin: boolean;
  /** host:port announced in `ws_connect_urls`; undefined = derived from the listen address. */
  advertise: string | undefined;
  /** Bound on reading the HTTP upgrade request; 0 = none (nats-server's default). */
  handshakeTimeoutMs: number;
}

export interface ServerOptions {
  /** Interface to listen on for clients. */
  host: string;
  /** Client port; 0 picks a free port (nats-server's -1 maps to 0). */
  port: number;
  /** server_name in INFO; defaults to the generated server id. */
  serverName: string;
  /** Monitoring HTTP port; undefined = no monitoring listener; 0 = a free port. */
  httpPort: number | undefined;
  /** Monitoring HTTP host; defaults to `host`. */
  httpHost: string;
  /** JetStream store directory; undefined = JetStream disabled. */
  storeDir: string | undefined;
  /** JetStream domain (nats-server's `jetstream { domain }`): its API is also reachable as
   * `$JS.<domain>.API.>`, also from the other side of leaf node links. undefined = none. */
  jetstreamDomain: string | undefined;
  /** Memory for recently written JetStream messages, served to consumers without a disk read; 0 = none. */
  jetstreamReadCacheBytes: number;
  /**
   * nats-server's `jetstream { max_mem, max_file }`: what all accounts' memory and file streams
   * may hold on this server together (streams/limits.ts); -1 = no limit (the default).
   */
  jetstreamMaxMemory: number;
  jetstreamMaxStore: number;
  /**
   * When a JetStream write counts as done (a PubAck is sent): 'committed' (the default) at the
   * LMDB commit, 'durable' after its fdatasync, 'none' never fsynced. docs/adr/0008-sync-modes.md.
   */
  jetstreamSync: SyncMode;
  /** 'committed' mode: how often the store is fsynced (nats-server's sync_interval). */
  jetstreamSyncIntervalMs: number;
  maxPayloadBytes: number;
  maxControlLineBytes: number;
  maxPendingBytes: number;
  maxConnections: number;
  /** 0 = unlimited. */
  maxSubscriptionsPerConnection: number;
  pingIntervalMs: number;
  maxPingsOutstanding: number;
  authTimeoutMs: number;
  writeDeadlineMs: number;
  logLevel: LogLevel;
  /** Append log lines to this file instead of stdout (nats-server's `logfile`, `--log`). */
  logFile: string | undefined;
  /** Write the process id to this file while running (nats-server's `pid_file`, `--pid`). */
  pidFile: string | undefined;
  /** Lame-duck mode: how long the whole drain of client connections may take (nats-server's `lame_duck_duration`). */
  lameDuckDurationMs: number;
  /** Lame-duck mode: the wait before the first client is closed, so clients can move on their own. */
  lameDuckGracePeriodMs: number;
  /** When set, the server writes `<dir>/<name>_<pid>.ports` listing its bound URLs. */
  portsFileDir: string | undefined;
  /** WebSocket listener port; undefined = no WebSocket listener; 0 = a free port. */
  wsPort: number | undefined;
  websocket: WebSocketOptions;
  /** undefined = not clustered. */
  cluster: ClusterOptions | undefined;
  /** undefined = no leaf node listener and no remotes. */
  leafnodes: LeafNodeOptions | undefined;
  /** TLS on the client port; undefined = plain TCP. */
  tls: TlsOptions | undefined;
  /** With `tls`, also accept clients that never start TLS (nats-server's `allow_non_tls`): INFO
   * says tls_available instead of tls_required, and each client's first byte decides. */
  allowNonTls: boolean;
  /** Single-token authentication (plain or bcrypt hash). */
  token: string | undefined;
  /** Single user/password authentication (password plain or bcrypt hash). */
  user: string | undefined;
  pass: string | undefined;
  /** Users (password or nkey) with optional permissions and limits; empty = none. A user's
   * `account` names the account it belongs to (absent = the global account, $G). */
  users: UserConfig[];
  /** Accounts besides the global one (nats-server's `accounts {}`); empty = $G only (docs/accounts.md). */
  accounts: AccountConfig[];
  /** The user a client that presents no credentials is taken for (nats-server's `no_auth_user`). */
  noAuthUser: string | undefined;
  /** The system account's name (nats-server's `system_account`; in operator mode its public key). */
  systemAccount: string;
  /**
   * Operator mode (docs/accounts.md): the trusted operators' JWTs (nats-server's `operator`, given
   * there as JWTs or files); empty = off. Accounts then come from `resolverPreload`, users connect
   * with user JWTs.
   */
  operators: string[];
  /** The account resolver: 'MEMORY' (the accounts of `resolverPreload`); undefined = none. */
  resolver: string | undefined;
  /** Account JWTs by account public key (nats-server's `resolver_preload`). */
  resolverPreload: Record<string, string>;
}
