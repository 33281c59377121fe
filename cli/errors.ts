// Client errors as the one line a user reads. Commands match on error codes (never on message
// text) and add what they know: `stream NOPE not found` rather than `stream not found`.

import { ErrorCode, JetStreamApiError, NatsError } from '../client/index.ts';
import { humanDuration } from './format.ts';
import { CliError } from './io.ts';

/** JetStream err_codes the CLI turns into its own words (nats-server's errors.json numbers). */
export const JsErr = {
  StreamNotFound: 10059,
  ConsumerNotFound: 10014,
  NoMessageFound: 10037,
  StreamNameInUse: 10058,
  ConsumerNameExists: 10148,
  WrongLastSequence: 10071,
} as const;

const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

function socketReason(e: unknown): string | undefined {
  for (let c: unknown = e; c !== undefined && c !== null; c = (c as { cause?: unknown }).cause) {
    const code = (c as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && SOCKET_ERRORS[code] !== undefined) return SOCKET_ERRORS[code];
    if (c instanceof Error && c.message.includes('certificate')) return `TLS: ${c.message}`;
    if (c instanceof Error && /wrong version number|ssl|tls/i.test(c.message)) return `TLS: ${c.message}`;
  }
  return undefined;
}

/** One line for any failure of a client call. */
export function describeError(e: unknown, opts: { servers?: string | string[]; timeoutMs: number }): string {
  const servers = Array.isArray(opts.servers) ? opts.servers.join(', ') : (opts.servers ?? '');
  const within = humanDuration(opts.timeoutMs);
  if (e instanceof JetStreamApiError) return `${e.description} (JetStream error ${e.errCode})`;
  if (e instanceof NatsError) {
    switch (e.code) {
      case ErrorCode.ConnectionRefused:
        return `cannot connect to ${servers}: ${socketReason(e) ?? e.message.replace(/^could not connect to [^:]+:\/\/[^:]+:\d+: /, '')}`;
      case ErrorCode.Timeout:
        return e.message === 'connect timed out' ? `cannot connect to ${servers}: no answer within ${within}` : `no answer within ${within} (${e.message})`;
      case ErrorCode.AuthorizationViolation:
        return `cannot connect to ${servers}: ${e.message}`;
      case ErrorCode.JetStreamNotEnabled:
        return 'JetStream is not enabled on the server (start it with --store-dir)';
      case ErrorCode.NoResponders:
        return e.message;
      default:
        return e.message;
    }
  }
  if (e instanceof Error) return socketReason(e) ?? e.message;
  return String(e);
}

export function isJsError(e: unknown, errCode: number): boolean {
  return e instanceof JetStreamApiError && e.errCode === errCode;
}

/** Rethrows a "not found" API error as `<what> <name> not found`. */
export function notFound(e: unknown, errCode: number, what: string): never {
  if (isJsError(e, errCode)) throw new CliError(`${what} not found`);
  throw e;
}
