// Typed client errors. Every error the client raises or reports is a NatsError with a stable
// `code`; callers switch on the code (or instanceof), never on the message text.

import type { ApiError } from '../protocol/js-errors.ts';

export const ErrorCode = {
  /** A request, flush or connect did not complete in time. */
  Timeout: 'TIMEOUT',
  /** A request was published but nobody was subscribed to its subject (status 503). */
  NoResponders: 'NO_RESPONDERS',
  /** -ERR 'Permissions Violation for ...'. */
  PermissionsViolation: 'PERMISSIONS_VIOLATION',
  /** -ERR 'Authorization Violation', expired or revoked credentials. */
  AuthorizationViolation: 'AUTHORIZATION_VIOLATION',
  /** The connection is closed (by close(), drain(), or after giving up reconnecting). */
  ConnectionClosed: 'CONNECTION_CLOSED',
  /** The connection is draining: no new subscriptions or requests. */
  ConnectionDraining: 'CONNECTION_DRAINING',
  /** Could not connect to any server. */
  ConnectionRefused: 'CONNECTION_REFUSED',
  /** The connection to the server was lost (e.g. while a request was pending). */
  Disconnected: 'DISCONNECTED',
  /** The server sent something that is not the NATS protocol, or an unexpected -ERR. */
  Protocol: 'PROTOCOL_ERROR',
  /** The server stopped answering PINGs. */
  StaleConnection: 'STALE_CONNECTION',
  /** A publish larger than the server's max_payload. */
  MaxPayloadExceeded: 'MAX_PAYLOAD_EXCEEDED',
  /** Publishing while disconnected filled the reconnect buffer. */
  ReconnectBufferExceeded: 'RECONNECT_BUFFER_EXCEEDED',
  InvalidSubject: 'INVALID_SUBJECT',
  InvalidOption: 'INVALID_OPTION',
  /** The server does not support headers, but headers were used. */
  HeadersNotSupported: 'HEADERS_NOT_SUPPORTED',
  /** A subscription's client-side pending limit was exceeded; messages were dropped. */
  SlowConsumer: 'SLOW_CONSUMER',
  /** A payload could not be decoded by a codec (e.g. bad JSON). */
  BadPayload: 'BAD_PAYLOAD',
  /** Another -ERR from the server (text in `serverText`). */
  ServerError: 'SERVER_ERROR',
  /** A JetStream API call answered with an error object. */
  JetStreamApi: 'JETSTREAM_API_ERROR',
  /** A JetStream request got no responders: JetStream is not enabled. */
  JetStreamNotEnabled: 'JETSTREAM_NOT_ENABLED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class NatsError extends Error {
  override name = 'NatsError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class TimeoutError extends NatsError {
  override name = 'TimeoutError';
  constructor(what = 'request') {
    super(ErrorCode.Timeout, `${what} timed out`);
  }
}

export class NoRespondersError extends NatsError {
  override name = 'NoRespondersError';
  readonly subject: string;
  constructor(subject: string) {
    super(ErrorCode.NoResponders, `no responders for '${subject}'`);
    this.subject = subject;
  }
}

export type PermissionOperation = 'publish' | 'subscription' | 'reply';

export class PermissionsError extends NatsError {
  override name = 'PermissionsError';
  readonly operation: PermissionOperation;
  readonly subject: string;
  /** Queue group of a denied subscription, '' when none. */
  readonly queue: string;
  constructor(operation: PermissionOperation, subject: string, queue: string, serverText: string) {
    super(ErrorCode.PermissionsViolation, serverText);
    this.operation = operation;
    this.subject = subject;
    this.queue = queue;
  }
}

export class AuthorizationError extends NatsError {
  override name = 'AuthorizationError';
  readonly serverText: string;
  constructor(serverText: string) {
    super(ErrorCode.AuthorizationViolation, serverText);
    this.serverText = serverText;
  }
}

export class ConnectionClosedError extends NatsError {
  override name = 'ConnectionClosedError';
  constructor(message = 'connection closed') {
    super(ErrorCode.ConnectionClosed, message);
  }
}

export class ProtocolError extends NatsError {
  override name = 'ProtocolError';
  constructor(message: string) {
    super(ErrorCode.Protocol, message);
  }
}

/** Any other -ERR text from the server. */
export class ServerError extends NatsError {
  override name = 'ServerError';
  readonly serverText: string;
  constructor(serverText: string) {
    super(ErrorCode.ServerError, serverText);
    this.serverText = serverText;
  }
}

/** A JetStream API error response ({code, err_code, description}). */
export class JetStreamApiError extends NatsError {
  override name = 'JetStreamApiError';
  /** HTTP-like status code. */
  readonly status: number;
  /** JetStream error code, as in nats-server's errors.json. */
  readonly errCode: number;
  readonly description: string;
  constructor(err: ApiError) {
    super(ErrorCode.JetStreamApi, err.description);
    this.status = err.code;
    this.errCode = err.err_code;
    this.description = err.description;
  }
}

const PERMISSION_PREFIX = 'permissions violation for ';

/**
 * Classify a -ERR text. Permissions violations are parsed (nats-server's exact forms:
 * `Permissions Violation for Publish to "x"`, `... for Subscription to "x"[ using queue "q"]`,
 * `... for Publish with Reply of "x"`).
 */
export function errorFromServerText(text: string): NatsError {
  const lower = text.toLowerCase();
  if (lower.startsWith(PERMISSION_PREFIX)) {
    const rest = text.slice(PERMISSION_PREFIX.length);
    const quoted = [...rest.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
    const subject = quoted[0] ?? '';
    const rl = rest.toLowerCase();
    const op: PermissionOperation = rl.startsWith('subscription')
      ? 'subscription'
      : rl.startsWith('publish with reply')
        ? 'reply'
        : 'publish';
    return new PermissionsError(op, subject, op === 'subscription' ? (quoted[1] ?? '') : '', text);
  }
  if (
    lower.startsWith('authorization violation') ||
    lower.startsWith('user authentication') ||
    lower.startsWith('account authentication') ||
    lower.startsWith('authentication timeout')
  ) {
    return new AuthorizationError(text);
  }
  if (lower === 'stale connection') return new NatsError(ErrorCode.StaleConnection, text);
  if (lower === 'maximum payload violation') return new NatsError(ErrorCode.MaxPayloadExceeded, text);
  return new ServerError(text);
}

/** -ERR texts after which the server keeps the connection open. */
export function serverKeepsConnection(err: NatsError): boolean {
  if (err.code === ErrorCode.PermissionsViolation) return true;
  if (err instanceof ServerError) {
    const t = err.serverText.toLowerCase();
    return t === 'invalid subject' || t === 'invalid publish subject' || t === 'maximum subscriptions exceeded';
  }
  return false;
}
