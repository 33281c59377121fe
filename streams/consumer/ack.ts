// Ack reply subjects and ack bodies.
//
// Every delivered message carries the reply subject (nats-server's "v1" format, 9 tokens)
//   $JS.ACK.<stream>.<consumer>.<delivery count>.<stream seq>.<consumer seq>.<timestamp ns>.<pending>
// Clients parse it for JsMsg.info and publish their ack to it, from any connection. The consumer
// subscribes to `$JS.ACK.<stream>.<consumer>.*.*.*.*.*` and reads the numbers back from the
// subject; the body says what kind of ack it is:
//   empty | +ACK | +OK           ack
//   -NAK [ {"delay":ns} | 5s ]   redeliver (after the delay)
//   +WPI                         in progress: restart the ack wait
//   +TERM [reason]               never redeliver
//   +NXT [n | {pull request}]    ack, then a pull request answered to the ack's reply subject
// Anything else is ignored (nats-server does the same).

import { parseGoDuration } from '../time.ts';

const ACK_SUBJECT_PREFIX = '$JS.ACK.';

/** `$JS.ACK.<stream>.<consumer>.` — the constant part of a consumer's ack subjects. */
export function ackPrefix(stream: string, consumer: string): string {
  return `${ACK_SUBJECT_PREFIX}${stream}.${consumer}.`;
}

/** The subscription that receives a consumer's acks (exactly the five numeric tokens). */
export function ackSubscription(stream: string, consumer: string): string {
  return `${ackPrefix(stream, consumer)}*.*.*.*.*`;
}

/** Builds one delivery's reply subject from the consumer's prefix. */
export function ackReply(prefix: string, dc: number, sseq: number, dseq: number, tsNs: bigint, pending: number): string {
  return `${prefix}${dc}.${sseq}.${dseq}.${tsNs}.${pending}`;
}

/** The numbers carried by an ack subject. */
export interface AckTokens {
  dc: number;
  sseq: number;
  dseq: number;
}

/**
 * Reads delivery count, stream and consumer sequence from the tokens after `from` (the prefix
 * length) into `out`. False when the subject does not have five numeric tokens there. The
 * timestamp and pending tokens are checked for shape only; nothing uses them.
 */
export function parseAckSubject(subject: string, from: number, out: AckTokens): boolean {
  let pos = from;
  for (let t = 0; t < 5; t++) {
    let n = 0;
    const start = pos;
    const end = subject.length;
    while (pos < end) {
      const c = subject.charCodeAt(pos);
      if (c === 0x2e) break;
      if (c < 0x30 || c > 0x39) return false;
      // Timestamps exceed 2^53; they are not needed, so stop accumulating (keep validating).
      if (t < 3) n = n * 10 + (c - 0x30);
      pos++;
    }
    if (pos === start) return false;
    if (t === 0) out.dc = n;
    else if (t === 1) out.sseq = n;
    else if (t === 2) out.dseq = n;
    if (t < 4) {
      if (pos >= subject.length) return false;
      pos++; // the dot
    } else if (pos !== subject.length) {
      return false;
    }
  }
  return true;
}

export const AckKind = {
  Ack: 1,
  Nak: 2,
  Progress: 3,
  Term: 4,
  Next: 5,
  Unknown: 0,
} as const;
export type AckKind = (typeof AckKind)[keyof typeof AckKind];

const PLUS = 0x2b;
const MINUS = 0x2d;

function startsWith(b: Uint8Array, text: string): boolean {
  if (b.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[i] !== text.charCodeAt(i)) return false;
  return true;
}

function equals(b: Uint8Array, text: string): boolean {
  return b.length === text.length && startsWith(b, text);
}

/** What an ack body asks for. Byte comparisons only: this runs once per acknowledged message. */
export function classifyAck(body: Uint8Array): AckKind {
  if (body.length === 0) return AckKind.Ack;
  const c = body[0];
  if (c === PLUS) {
    if (equals(body, '+ACK') || equals(body, '+OK')) return AckKind.Ack;
    if (startsWith(body, '+NXT')) return AckKind.Next;
    if (equals(body, '+WPI')) return AckKind.Progress;
    if (startsWith(body, '+TERM')) return AckKind.Term;
    return AckKind.Unknown;
  }
  if (c === MINUS && startsWith(body, '-NAK')) return AckKind.Nak;
  return AckKind.Unknown;
}

/** The text after a body's 4- or 5-letter keyword, trimmed. */
export function ackArgument(body: Uint8Array, keywordLength: number): string {
  if (body.length <= keywordLength) return '';
  return Buffer.from(body.buffer, body.byteOffset + keywordLength, body.length - keywordLength).toString('utf8').trim();
}

/**
 * The delay of a `-NAK` body in nanoseconds: undefined for a plain NAK, null when the argument
 * cannot be read (nats-server then treats it as a plain NAK and logs a warning).
 */
export function nakDelayNs(body: Uint8Array): number | undefined | null {
  const arg = ackArgument(body, 4);
  if (arg === '') return undefined;
  if (arg.startsWith('{')) {
    try {
      const v = JSON.parse(arg) as { delay?: unknown };
      if (v === null || typeof v !== 'object') return null;
      if (v.delay === undefined || v.delay === null) return 0;
      return typeof v.delay === 'number' && Number.isFinite(v.delay) ? Math.trunc(v.delay) : null;
    } catch {
      return null;
    }
  }
  const d = parseGoDuration(arg);
  return d === undefined ? null : d;
}
