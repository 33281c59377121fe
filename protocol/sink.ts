// The contracts between the pure protocol parsers and whoever consumes them (server connection,
// client connection, tests, fuzzers). The parsers never know about sockets.
//
// Buffer lifetime: every Buffer handed to a sink method is a view that is valid only for the
// duration of that call (it may point into the caller's read chunk or into the parser's reused
// scratch buffer). A sink that keeps bytes must copy them, and must not write into them (the
// parser reuses its own buffers, e.g. its payload scratch for payloads split across chunks).

/** Why a parser stopped. After an error the parser is dead: further parse() calls do nothing. */
export const ProtocolErrorKind = {
  /** Unknown verb, malformed arguments, bad framing (e.g. payload not followed by CRLF). */
  Syntax: 'syntax',
  /** A control line longer than maxControlLineBytes (also enforced on a line that never ends). */
  ControlLineTooLong: 'control_line_too_long',
  /** PUB/HPUB total size above maxPayloadBytes (checked before the payload is read). */
  PayloadTooLarge: 'payload_too_large',
} as const;
export type ProtocolErrorKind = (typeof ProtocolErrorKind)[keyof typeof ProtocolErrorKind];

export interface ProtocolError {
  readonly kind: ProtocolErrorKind;
  /** Human-readable detail for logs (never sent to the peer verbatim). */
  readonly detail: string;
}

/** Operations a server receives from a client. */
export interface ServerOpSink {
  /** CONNECT; the JSON text after the verb (not yet parsed: control plane). */
  connect(json: string): void;
  /**
   * PUB or HPUB. `msg` holds header bytes followed by payload bytes (without the trailing CRLF);
   * `hdrLen` is 0 for PUB and the header-block length for HPUB. `reply` is '' when absent.
   */
  pub(subject: string, reply: string, hdrLen: number, msg: Buffer): void;
  /** SUB; `queue` is '' when absent. */
  sub(subject: string, queue: string, sid: string): void;
  /** UNSUB; `max` is -1 when absent. */
  unsub(sid: string, max: number): void;
  ping(): void;
  pong(): void;
  /** The parser hit a protocol error and stopped. Called at most once. */
  error(err: ProtocolError): void;
}

/** Operations a client receives from a server. */
export interface ClientOpSink {
  info(json: string): void;
  /**
   * MSG or HMSG. `msg` holds header bytes then payload bytes; `hdrLen` is 0 for MSG.
   * `sid` is parsed as a non-negative integer (clients choose numeric sids); a non-numeric sid
   * is a Syntax error. `reply` is '' when absent.
   */
  msg(subject: string, sid: number, reply: string, hdrLen: number, msg: Buffer): void;
  ok(): void;
  /** -ERR; the text between the single quotes (quotes removed; the raw text if unquoted). */
  err(text: string): void;
  ping(): void;
  pong(): void;
  error(err: ProtocolError): void;
}

export interface ParserLimits {
  /** Longest control line accepted, in bytes, excluding CRLF. */
  maxControlLineBytes: number;
  /** Largest PUB/HPUB total (headers + payload) accepted; server side only. */
  maxPayloadBytes: number;
}
