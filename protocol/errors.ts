// The error catalogue: the exact -ERR texts nats-server sends (clients match on them, and nats.go
// closes the connection for any text it does not know, so never invent new ones), and whether each
// one closes the connection.

export const ClientErr = {
  UnknownProtocolOperation: 'Unknown Protocol Operation',
  AuthorizationViolation: 'Authorization Violation',
  AuthenticationTimeout: 'Authentication Timeout',
  /** A user JWT (or its account's) expired while connected (nats-server's authExpired). */
  UserAuthenticationExpired: 'User Authentication Expired',
  AccountAuthenticationExpired: 'Account Authentication Expired',
  SecureConnectionTlsRequired: 'Secure Connection - TLS Required',
  MaximumPayloadViolation: 'Maximum Payload Violation',
  MaximumControlLineExceeded: 'maximum control line exceeded',
  MaximumConnectionsExceeded: 'maximum connections exceeded',
  /** An account JWT's `conn` limit (nats-server's ErrTooManyAccountConnections). */
  MaximumAccountConnectionsExceeded: 'maximum account active connections exceeded',
  InvalidClientProtocol: 'invalid client protocol',
  NoRespondersRequiresHeaders: 'no responders requires headers support',
  StaleConnection: 'Stale Connection',
  MaximumSubscriptionsExceeded: 'maximum subscriptions exceeded',
  InvalidSubject: 'Invalid Subject',
  InvalidPublishSubject: 'Invalid Publish Subject',
  SlowConsumer: 'Slow Consumer',
} as const;
export type ClientErr = (typeof ClientErr)[keyof typeof ClientErr];

export function permissionsViolationPublish(subject: string): string {
  return `Permissions Violation for Publish to "${subject}"`;
}
export function permissionsViolationSubscribe(subject: string, queue = ''): string {
  return queue
    ? `Permissions Violation for Subscription to "${subject}" using queue "${queue}"`
    : `Permissions Violation for Subscription to "${subject}"`;
}
export function permissionsViolationReply(subject: string): string {
  return `Permissions Violation for Publish with Reply of "${subject}"`;
}

/** Why a connection was closed; reported in logs and monitoring (like nats-server's ClosedState). */
export const CloseReason = {
  ClientClosed: 'Client Closed',
  ServerShutdown: 'Server Shutdown',
  ProtocolViolation: 'Protocol Violation',
  AuthenticationTimeout: 'Authentication Timeout',
  AuthenticationViolation: 'Authentication Failure',
  AuthenticationExpired: 'Authentication Expired',
  MaxPayloadExceeded: 'Maximum Payload Exceeded',
  MaxControlLineExceeded: 'Maximum Control Line Exceeded',
  MaxConnectionsExceeded: 'Maximum Connections Exceeded',
  MaxAccountConnectionsExceeded: 'Maximum Account Connections Exceeded',
  StaleConnection: 'Stale Connection',
  SlowConsumerPendingBytes: 'Slow Consumer (Pending Bytes)',
  SlowConsumerWriteDeadline: 'Slow Consumer (Write Deadline)',
  WriteError: 'Write Error',
  ReadError: 'Read Error',
  TlsHandshakeError: 'TLS Handshake Error',
} as const;
export type CloseReason = (typeof CloseReason)[keyof typeof CloseReason];
