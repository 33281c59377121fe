// Every default limit of the broker and the protocol, with its unit in its name.

export const DEFAULT_PORT = 4222;
export const DEFAULT_HOST = '0.0.0.0';
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
/** nats-server recommends never going above this; larger values are allowed with a warning. */
export const RECOMMENDED_MAX_PAYLOAD_CEILING_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_CONTROL_LINE_BYTES = 4096;
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_CONNECTIONS = 64 * 1024;
/** 0 = unlimited, as in nats-server. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 0;
export const DEFAULT_PING_INTERVAL_MS = 2 * 60 * 1000;
export const DEFAULT_MAX_PINGS_OUTSTANDING = 2;
export const DEFAULT_AUTH_TIMEOUT_MS = 2000;
/** Time a client has to complete the TLS handshake (nats-server: 2 s). */
export const DEFAULT_TLS_TIMEOUT_MS = 2000;
export const DEFAULT_WRITE_DEADLINE_MS = 10_000;
/** First capacity of a client connection's outbound buffer; it grows to what its traffic needs. */
export const CONNECTION_OUTBOUND_INITIAL_BYTES = 1024;
/** Outbound bytes above which a connection is flushed inline instead of at the end of the turn. */
export const OUTBOUND_FLUSH_HIGH_WATER_BYTES = 256 * 1024;
/** Entries in the router's subject -> matches cache before it is cleared. */
export const MATCH_CACHE_MAX_ENTRIES = 4096;
/** A consumer whose queued bytes pass this fraction of max_pending makes its producers pause. */
export const PRODUCER_STALL_FRACTION = 0.75;
/** Longest a producer is paused for one congested consumer; a slow consumer cannot hold it longer. */
export const PRODUCER_MAX_STALL_MS = 20;
