// The resolved option set of one server. Flags, config files (JSON or nats-server syntax) and
// embedding callers all end up here; server/options.ts holds the defaults and the validation.

import type { LogLevel } from '../runtime/logger.ts';

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
  /** When set, the server writes `<dir>/<name>_<pid>.ports` listing its bound URLs. */
  portsFileDir: string | undefined;
}
