// The publish headers a stream acts on, read in one pass over the header block, and the
// Nats-Expected-* checks with nats-server's err_codes:
//   Nats-Expected-Stream                 -> 10060 expected stream does not match
//   Nats-Expected-Last-Subject-Sequence  -> 10071 wrong last sequence: <last seq on subject>
//   Nats-Expected-Last-Sequence          -> 10071 wrong last sequence: <stream last seq>
//   Nats-Expected-Last-Msg-Id            -> 10070 wrong last msg ID: <last msg id>
// (checked in that order, the dedupe check sitting between the first and the rest, as in
// nats-server's processJetStreamMsg).

import { jsApiError, type ApiError } from '../../protocol/js-errors.ts';

export interface PublishHeaders {
  msgId: string;
  expectedStream: string;
  /** undefined when absent; -1 when present but not a number (never matches, like Go's parse). */
  expectedLastSeq: number | undefined;
  expectedLastSubjectSeq: number | undefined;
  expectedLastMsgId: string;
  /** Lower-cased value of Nats-Rollup, '' when absent. */
  rollup: string;
  ttl: string;
}

const NAMES: Readonly<Record<string, readonly [keyof PublishHeaders, number]>> = {
  'nats-msg-id': ['msgId', 1],
  'nats-expected-stream': ['expectedStream', 2],
  'nats-expected-last-sequence': ['expectedLastSeq', 4],
  'nats-expected-last-subject-sequence': ['expectedLastSubjectSeq', 8],
  'nats-expected-last-msg-id': ['expectedLastMsgId', 16],
  'nats-rollup': ['rollup', 32],
  'nats-ttl': ['ttl', 64],
};

/** Go's parseInt64 on header bytes: digits only, else -1. */
function parseSeq(v: string): number {
  if (v.length === 0 || v.length > 16) return -1;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Reads the stream-relevant headers. Only lines starting with "Nats-" (any case) are decoded, so a
 * block of application headers costs one byte scan and no strings. The first occurrence wins.
 */
export function readPublishHeaders(block: Uint8Array): PublishHeaders {
  const out: PublishHeaders = {
    msgId: '',
    expectedStream: '',
    expectedLastSeq: undefined,
    expectedLastSubjectSeq: undefined,
    expectedLastMsgId: '',
    rollup: '',
    ttl: '',
  };
  let seen = 0; // bit per field: the first occurrence wins
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const n = buf.length;
  let pos = buf.indexOf(0x0a, 0); // skip the NATS/1.0 line
  if (pos < 0) return out;
  pos++;
  while (pos < n) {
    let nl = buf.indexOf(0x0a, pos);
    if (nl < 0) nl = n;
    const end = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    if (end === pos) break; // blank line: end of block
    // Quick filter: "Nats-" in any case.
    if (
      end - pos > 5 &&
      (buf[pos]! | 0x20) === 0x6e &&
      (buf[pos + 1]! | 0x20) === 0x61 &&
      (buf[pos + 2]! | 0x20) === 0x74 &&
      (buf[pos + 3]! | 0x20) === 0x73 &&
      buf[pos + 4] === 0x2d
    ) {
      const colon = buf.indexOf(0x3a, pos);
      if (colon > 0 && colon < end) {
        const name = buf.toString('latin1', pos, colon).toLowerCase();
        const entry = NAMES[name];
        if (entry !== undefined && (seen & entry[1]) === 0) {
          seen |= entry[1];
          const field = entry[0];
          let s = colon + 1;
          let e = end;
          while (s < e && isSpace(buf[s]!)) s++;
          while (e > s && isSpace(buf[e - 1]!)) e--;
          const value = buf.toString('utf8', s, e);
          switch (field) {
            case 'expectedLastSeq':
            case 'expectedLastSubjectSeq':
              out[field] = parseSeq(value);
              break;
            case 'rollup':
              out.rollup = value.toLowerCase();
              break;
            default:
              out[field] = value;
          }
        }
      }
    }
    pos = nl + 1;
  }
  return out;
}

/** What the expectation checks need to know about the stream right now. */
export interface ExpectationContext {
  readonly lastSeq: number;
  readonly lastMsgId: string;
  /** Sequence of the newest message on `subject`, 0 when there is none. */
  lastSeqOnSubject(subject: string): number;
}

export function checkExpectedStream(h: PublishHeaders, streamName: string): ApiError | undefined {
  if (h.expectedStream !== '' && h.expectedStream !== streamName) return jsApiError('StreamNotMatch');
  return undefined;
}

/** The checks that follow the dedupe check. */
export function checkExpectations(h: PublishHeaders, subject: string, ctx: ExpectationContext): ApiError | undefined {
  if (h.expectedLastSubjectSeq !== undefined) {
    const actual = ctx.lastSeqOnSubject(subject);
    if (actual !== h.expectedLastSubjectSeq) return jsApiError('StreamWrongLastSequence', { seq: actual });
  }
  if (h.expectedLastSeq !== undefined && h.expectedLastSeq !== ctx.lastSeq) {
    return jsApiError('StreamWrongLastSequence', { seq: ctx.lastSeq });
  }
  if (h.expectedLastMsgId !== '' && h.expectedLastMsgId !== ctx.lastMsgId) {
    return jsApiError('StreamWrongLastMsgID', { id: ctx.lastMsgId });
  }
  return undefined;
}
