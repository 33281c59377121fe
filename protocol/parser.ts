// The NATS wire parsers: one resumable byte state machine, two verb sets.
//
// ServerParser reads what a client sends (CONNECT, PUB, HPUB, SUB, UNSUB, PING, PONG);
// ClientParser reads what a server sends (INFO, MSG, HMSG, +OK, -ERR, PING, PONG).
//
// Shape of the loop (model: nats-server server/parser.go, nats.js core/src/parser.ts):
//   START -> verb bytes matched one at a time (case-insensitive), so garbage fails on its first
//   byte instead of after a whole line -> ARG: the rest of the control line is found with a native
//   indexOf('\n'); when the line is wholly in the chunk its arguments are read in place, otherwise
//   the pieces go to one scratch buffer bounded by maxControlLineBytes -> PAYLOAD: when the
//   payload and its CRLF are wholly in the chunk the sink gets a zero-copy view (bufferView), or
//   for the server's small payloads a copy in a reused buffer (transient-payload.ts), otherwise
//   the bytes accumulate in a scratch buffer sized to the message. Either way a payload is valid
//   only during the sink's call.
//
// Contracts kept here:
// - Never throws on any input: malformed input ends in exactly one sink.error() and the parser is
//   dead afterwards (parse() ignores further input). Exceptions thrown by the sink propagate.
// - Limits are read from the limits object at check time, so a connection may tighten
//   maxPayloadBytes after CONNECT (per-user limits) without rebuilding the parser.
// - The control-line limit counts the whole line (verb included) without its CRLF, and is also
//   enforced on a line that has not ended yet.
// - The payload is never decoded; the only strings made are subject, reply, sid, queue and the
//   JSON / -ERR text of the control plane. The PUB/MSG subject is decoded once per change of
//   subject (see SubjectCache), since a connection tends to publish to the same one repeatedly.

import { Buffer } from 'node:buffer';
import type { ClientOpSink, ParserLimits, ProtocolError, ServerOpSink } from './sink.ts';
import { ProtocolErrorKind } from './sink.ts';
import { DEFAULT_MAX_CONTROL_LINE_BYTES } from './limits.ts';
import { bufferView } from './buffer-view.ts';
import { TRANSIENT_MAX_BYTES, deliverTransient } from './transient-payload.ts';

// --- states -----------------------------------------------------------------------------------
const S_START = 0;
const S_VERB_P = 1; // after 'P': PUB / PING / PONG are told apart by the second byte
const S_VERB = 2; // matching the rest of a known verb
const S_VERB_END = 3; // verb complete: the next byte must be a separator or a line end
const S_ARG = 4;
const S_PAYLOAD = 5;
const S_PAYLOAD_CR = 6;
const S_PAYLOAD_LF = 7;
const S_DEAD = 8;

// --- ops (index into VERBS) -------------------------------------------------------------------
const OP_NONE = 0;
const OP_CONNECT = 1;
const OP_PUB = 2;
const OP_HPUB = 3;
const OP_SUB = 4;
const OP_UNSUB = 5;
const OP_PING = 6;
const OP_PONG = 7;
const OP_INFO = 8;
const OP_MSG = 9;
const OP_HMSG = 10;
const OP_OK = 11;
const OP_ERR = 12;

/** Lower-case verb bytes; letters are compared as (b | 0x20), which maps only 'X'/'x' to 'x'. */
const VERBS: readonly Uint8Array[] = [
  new Uint8Array(0),
  ascii('connect'),
  ascii('pub'),
  ascii('hpub'),
  ascii('sub'),
  ascii('unsub'),
  ascii('ping'),
  ascii('pong'),
  ascii('info'),
  ascii('msg'),
  ascii('hmsg'),
  ascii('+ok'),
  ascii('-err'),
];

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** First byte -> op, per side. 'P' maps to OP_P_AMBIGUOUS. */
const OP_P_AMBIGUOUS = -1;
function firstByteTable(pairs: [string, number][]): Int8Array {
  const t = new Int8Array(256);
  for (const [ch, op] of pairs) {
    t[ch.toUpperCase().charCodeAt(0)] = op;
    t[ch.toLowerCase().charCodeAt(0)] = op;
  }
  return t;
}
const SERVER_FIRST = firstByteTable([
  ['c', OP_CONNECT],
  ['p', OP_P_AMBIGUOUS],
  ['h', OP_HPUB],
  ['s', OP_SUB],
  ['u', OP_UNSUB],
]);
const CLIENT_FIRST = firstByteTable([
  ['i', OP_INFO],
  ['p', OP_P_AMBIGUOUS],
  ['m', OP_MSG],
  ['h', OP_HMSG],
  ['+', OP_OK],
  ['-', OP_ERR],
]);

const MAX_ARGS = 5; // HMSG subject sid reply hdr total
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
/** Split payloads up to this size reuse one scratch buffer; bigger ones get their own. */
const REUSABLE_PAYLOAD_SCRATCH_BYTES = 64 * 1024;
/** nats-server refuses max_payload above 64 MiB; the client parser uses it as its default cap. */
const CLIENT_DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

// Buffer's native one-shot slicers skip the encoding switch of toString(); they are not in
// @types/node, hence the cast.
interface FastSlice {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** Decode an argument: latin1 when all bytes are ASCII (identical result, faster), else UTF-8. */
function decodeArg(buf: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) return (buf as unknown as FastSlice).utf8Slice(start, end);
  }
  return (buf as unknown as FastSlice).latin1Slice(start, end);
}

/** Non-negative decimal from digit bytes; -1 when empty, not all digits, or above 2^53-1. */
function parseUint(buf: Buffer, start: number, end: number): number {
  if (start >= end) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
    if (n > MAX_SAFE) return -1;
  }
  return n;
}

function makeError(kind: ProtocolErrorKind, detail: string): ProtocolError {
  return { kind, detail };
}

/**
 * The shared loop. Subclasses interpret complete control lines (onLine) and deliver payloads
 * (onPayload); everything about framing, splitting and limits lives here.
 */
abstract class ParserBase {
  protected state = S_START;
  protected op = OP_NONE;
  private verbPos = 0;
  private readonly firstByte: Int8Array;
  private readonly allowPub: boolean;

  /** Partial control line (bytes after the verb); allocated on first split line. */
  private lineScratch: Buffer = EMPTY;
  private lineLen = 0;

  // Argument boundaries of the current line, into `argBuf`. Fixed-size to keep the shape stable.
  protected argBuf: Buffer = EMPTY;
  protected readonly argStart: number[] = [0, 0, 0, 0, 0];
  protected readonly argEnd: number[] = [0, 0, 0, 0, 0];

  // Pending payload.
  protected need = 0;
  protected hdrLen = 0;
  private payloadScratch: Buffer = EMPTY;
  private payload: Buffer = EMPTY;
  private payloadPos = 0;

  /**
   * Small whole payloads are delivered in the process's reused buffers (transient-payload.ts)
   * instead of a view each: only for receivers that copy what they keep (the server's).
   */
  private readonly transientPayloads: boolean;
  private readonly deliverPayload = (msg: Buffer): void => this.onPayload(msg);

  protected constructor(firstByte: Int8Array, allowPub: boolean, transientPayloads = false) {
    this.firstByte = firstByte;
    this.allowPub = allowPub;
    this.transientPayloads = transientPayloads;
  }

  protected abstract maxControlLineBytes(): number;
  /** A complete control line; args are in argBuf[argStart[i], argEnd[i]). */
  protected abstract onLine(buf: Buffer, start: number, end: number): void;
  protected abstract onPayload(msg: Buffer): void;
  protected abstract emitError(err: ProtocolError): void;

  /** True once the parser has reported an error or been stopped; parse() then does nothing. */
  get dead(): boolean {
    return this.state === S_DEAD;
  }

  /** Stop parsing (e.g. the connection is closing); the rest of the current chunk is ignored. */
  stop(): void {
    this.state = S_DEAD;
  }

  parse(chunk: Buffer): void {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      switch (this.state) {
        case S_START:
        case S_VERB_P:
        case S_VERB:
        case S_VERB_END:
          // One call walks the whole verb when its bytes are in the chunk (the common case);
          // otherwise it records how far it got and resumes on the next chunk.
          i = this.verb(chunk, i, len);
          if (i < 0) return this.fail(ProtocolErrorKind.Syntax, 'unknown protocol operation');
          break;
        case S_ARG: {
          const nl = chunk.indexOf(10, i);
          const verbLen = VERBS[this.op].length;
          const max = this.maxControlLineBytes();
          if (nl < 0) {
            if (!this.appendLine(chunk, i, len, verbLen, max)) return;
            i = len;
            break;
          }
          let buf: Buffer;
          let start: number;
          let end: number;
          if (this.lineLen === 0) {
            buf = chunk;
            start = i;
            end = nl;
          } else {
            if (!this.appendLine(chunk, i, nl, verbLen, max)) return;
            buf = this.lineScratch;
            start = 0;
            end = this.lineLen;
            this.lineLen = 0;
          }
          if (end > start && buf[end - 1] === 13) end--;
          i = nl + 1;
          if (verbLen + end - start > max) {
            return this.fail(ProtocolErrorKind.ControlLineTooLong, `control line over ${max} bytes`);
          }
          this.state = S_START;
          this.onLine(buf, start, end);
          break;
        }
        case S_PAYLOAD: {
          const need = this.need;
          const avail = len - i;
          if (this.payloadPos === 0 && this.payload === EMPTY && avail >= need + 2) {
            // Whole payload and its CRLF are here: zero-copy.
            const at = i + need;
            if (chunk[at] !== 13 || chunk[at + 1] !== 10) {
              return this.fail(ProtocolErrorKind.Syntax, 'payload not followed by CRLF');
            }
            i = at + 2;
            this.state = S_START;
            if (need === 0) {
              // An empty payload (JetStream acks, bare requests) has no bytes to share: one
              // empty Buffer serves them all.
              this.onPayload(EMPTY);
              break;
            }
            if (this.transientPayloads && need <= TRANSIENT_MAX_BYTES && deliverTransient(chunk, at - need, need, this.deliverPayload)) {
              break;
            }
            this.onPayload(bufferView(chunk, at - need, at));
            break;
          }
          if (this.payload === EMPTY && need > 0) this.payload = this.payloadBuffer(need);
          const n = Math.min(avail, need - this.payloadPos);
          if (n > 0) {
            copyInto(this.payload, this.payloadPos, chunk, i, i + n);
            this.payloadPos += n;
            i += n;
          }
          if (this.payloadPos === need) this.state = S_PAYLOAD_CR;
          break;
        }
        case S_PAYLOAD_CR: {
          if (chunk[i++] !== 13) return this.fail(ProtocolErrorKind.Syntax, 'payload not followed by CRLF');
          this.state = S_PAYLOAD_LF;
          break;
        }
        case S_PAYLOAD_LF: {
          if (chunk[i++] !== 10) return this.fail(ProtocolErrorKind.Syntax, 'payload not followed by CRLF');
          const msg = this.need === 0 ? EMPTY : this.payload.subarray(0, this.need);
          this.payload = EMPTY;
          this.payloadPos = 0;
          this.state = S_START;
          this.onPayload(msg);
          break;
        }
        default: // S_DEAD
          return;
      }
    }
  }

  /** Advance through verb bytes from `i`; returns the new index, or -1 on an unknown verb. */
  private verb(chunk: Buffer, i: number, len: number): number {
    let state = this.state;
    if (state === S_START) {
      const op = this.firstByte[chunk[i++]];
      if (op === OP_NONE) return -1;
      if (op === OP_P_AMBIGUOUS) {
        state = S_VERB_P;
      } else {
        this.op = op;
        this.verbPos = 1;
        state = S_VERB;
      }
      if (i === len) {
        this.state = state;
        return i;
      }
    }
    if (state === S_VERB_P) {
      const b = chunk[i++] | 0x20;
      if (b === 0x75 /* u */ && this.allowPub) this.op = OP_PUB;
      else if (b === 0x69 /* i */) this.op = OP_PING;
      else if (b === 0x6f /* o */) this.op = OP_PONG;
      else return -1;
      this.verbPos = 2;
      state = S_VERB;
    }
    if (state === S_VERB) {
      const verb = VERBS[this.op];
      let pos = this.verbPos;
      while (pos < verb.length && i < len) {
        if ((chunk[i] | 0x20) !== verb[pos]) return -1;
        pos++;
        i++;
      }
      this.verbPos = pos;
      if (pos < verb.length || i === len) {
        this.state = pos < verb.length ? S_VERB : S_VERB_END;
        return i;
      }
    }
    // Verb complete; the next byte must be a separator or a line end. It stays part of the
    // argument text (argument splitting skips it).
    const b = chunk[i];
    if (b !== 32 && b !== 9 && b !== 13 && b !== 10) return -1;
    this.state = S_ARG;
    this.lineLen = 0;
    return i;
  }

  /** Enter payload state for `need` bytes; called from onLine. */
  protected expectPayload(need: number, hdrLen: number): void {
    this.need = need;
    this.hdrLen = hdrLen;
    this.payloadPos = 0;
    this.payload = EMPTY;
    this.state = S_PAYLOAD;
  }

  /** Split [start,end) at runs of space/tab; returns the count, or -1 when above MAX_ARGS. */
  protected splitArgs(buf: Buffer, start: number, end: number): number {
    this.argBuf = buf;
    let n = 0;
    let i = start;
    for (;;) {
      while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
      if (i >= end) return n;
      if (n === MAX_ARGS) return -1;
      this.argStart[n] = i;
      while (i < end && buf[i] !== 32 && buf[i] !== 9) i++;
      this.argEnd[n] = i;
      n++;
    }
  }

  protected arg(n: number): string {
    return decodeArg(this.argBuf, this.argStart[n], this.argEnd[n]);
  }

  protected uintArg(n: number): number {
    return parseUint(this.argBuf, this.argStart[n], this.argEnd[n]);
  }

  /** The whole argument text with surrounding spaces/tabs removed, as UTF-8. */
  protected static trimmedText(buf: Buffer, start: number, end: number): string {
    while (start < end && (buf[start] === 32 || buf[start] === 9)) start++;
    while (end > start && (buf[end - 1] === 32 || buf[end - 1] === 9)) end--;
    return buf.toString('utf8', start, end);
  }

  protected fail(kind: ProtocolErrorKind, detail: string): void {
    if (this.state === S_DEAD) return;
    this.state = S_DEAD;
    this.lineScratch = EMPTY;
    this.payloadScratch = EMPTY;
    this.payload = EMPTY;
    this.emitError(makeError(kind, detail));
  }

  private appendLine(src: Buffer, from: number, to: number, verbLen: number, max: number): boolean {
    const total = this.lineLen + (to - from);
    // A trailing CR may still be followed by LF, so it does not count yet.
    const counted = total > 0 && (to > from ? src[to - 1] : this.lineScratch[total - 1]) === 13 ? total - 1 : total;
    if (verbLen + counted > max) {
      this.fail(ProtocolErrorKind.ControlLineTooLong, `control line over ${max} bytes`);
      return false;
    }
    const scratch = this.ensureLineScratch(total);
    copyInto(scratch, this.lineLen, src, from, to);
    this.lineLen = total;
    return true;
  }

  private ensureLineScratch(min: number): Buffer {
    if (this.lineScratch.length < min) {
      const next = Buffer.allocUnsafe(Math.max(min, this.maxControlLineBytes() + 2, 256));
      if (this.lineLen > 0) this.lineScratch.copy(next, 0, 0, this.lineLen);
      this.lineScratch = next;
    }
    return this.lineScratch;
  }

  private payloadBuffer(need: number): Buffer {
    if (need > REUSABLE_PAYLOAD_SCRATCH_BYTES) return Buffer.allocUnsafe(need);
    if (this.payloadScratch.length < need) {
      let size = Math.max(this.payloadScratch.length, 1024);
      while (size < need) size *= 2;
      this.payloadScratch = Buffer.allocUnsafe(size);
    }
    return this.payloadScratch;
  }
}

/** Copy with a JS loop for tiny ranges (cheaper than the native call there), else native. */
function copyInto(dst: Buffer, at: number, src: Buffer, from: number, to: number): void {
  const n = to - from;
  if (n < 64) {
    for (let k = 0; k < n; k++) dst[at + k] = src[from + k];
  } else {
    src.copy(dst, at, from, to);
  }
}

/**
 * The subject of the pending PUB/MSG as a string and as bytes the parser owns. A connection
 * usually publishes to the same subject again and again, so when the bytes equal the previous
 * subject's, both are reused: no decode, no allocation. Owning the bytes also keeps them valid
 * when the payload arrives in a later chunk than the control line.
 */
/** The last subject decoded, reused while the same bytes keep coming (also used by leaf-parser.ts). */
export class SubjectCache {
  str = '';
  /** `str` is all ASCII, so its char codes are its wire bytes and can be compared with them. */
  private ascii = true;

  set(buf: Buffer, start: number, end: number): void {
    const n = end - start;
    const prev = this.str;
    if (this.ascii && prev.length === n) {
      let k = 0;
      while (k < n && prev.charCodeAt(k) === buf[start + k]) k++;
      if (k === n) return;
    }
    // A new subject (every ack and reply subject is one): decoded once, nothing else kept.
    for (let i = start; i < end; i++) {
      if (buf[i] >= 0x80) {
        this.str = (buf as unknown as FastSlice).utf8Slice(start, end);
        this.ascii = false;
        return;
      }
    }
    this.str = (buf as unknown as FastSlice).latin1Slice(start, end);
    this.ascii = true;
  }
}

/** Parses client -> server traffic. */
export class ServerParser extends ParserBase {
  private readonly sink: ServerOpSink;
  private readonly limits: ParserLimits;
  // Pending PUB/HPUB, kept from its control line until its payload is complete.
  private reply = '';
  private readonly subject = new SubjectCache();

  constructor(sink: ServerOpSink, limits: ParserLimits) {
    // The server copies whatever it keeps of a payload (see transient-payload.ts).
    super(SERVER_FIRST, true, true);
    this.sink = sink;
    this.limits = limits;
  }

  protected maxControlLineBytes(): number {
    return this.limits.maxControlLineBytes;
  }

  protected emitError(err: ProtocolError): void {
    this.sink.error(err);
  }

  protected onLine(buf: Buffer, start: number, end: number): void {
    switch (this.op) {
      case OP_PUB:
      case OP_HPUB:
        return this.onPub(buf, start, end);
      case OP_SUB: {
        const n = this.splitArgs(buf, start, end);
        if (n !== 2 && n !== 3) return this.fail(ProtocolErrorKind.Syntax, 'SUB needs 2 or 3 arguments');
        return this.sink.sub(this.arg(0), n === 3 ? this.arg(1) : '', this.arg(n - 1));
      }
      case OP_UNSUB: {
        const n = this.splitArgs(buf, start, end);
        if (n !== 1 && n !== 2) return this.fail(ProtocolErrorKind.Syntax, 'UNSUB needs 1 or 2 arguments');
        let max = -1;
        if (n === 2) {
          max = this.uintArg(1);
          if (max < 0) return this.fail(ProtocolErrorKind.Syntax, 'UNSUB max is not a number');
        }
        return this.sink.unsub(this.arg(0), max);
      }
      case OP_PING:
      case OP_PONG: {
        if (this.splitArgs(buf, start, end) !== 0) {
          return this.fail(ProtocolErrorKind.Syntax, 'unexpected arguments');
        }
        return this.op === OP_PING ? this.sink.ping() : this.sink.pong();
      }
      case OP_CONNECT: {
        const json = ParserBase.trimmedText(buf, start, end);
        if (json.length === 0) return this.fail(ProtocolErrorKind.Syntax, 'CONNECT without arguments');
        return this.sink.connect(json);
      }
      default:
        return this.fail(ProtocolErrorKind.Syntax, 'unknown protocol operation');
    }
  }

  private onPub(buf: Buffer, start: number, end: number): void {
    const n = this.splitArgs(buf, start, end);
    const isH = this.op === OP_HPUB;
    let hdr = 0;
    let total: number;
    if (isH) {
      if (n !== 3 && n !== 4) return this.fail(ProtocolErrorKind.Syntax, 'HPUB needs 3 or 4 arguments');
      hdr = this.uintArg(n - 2);
      total = this.uintArg(n - 1);
    } else {
      if (n !== 2 && n !== 3) return this.fail(ProtocolErrorKind.Syntax, 'PUB needs 2 or 3 arguments');
      total = this.uintArg(n - 1);
    }
    if (total < 0 || hdr < 0) return this.fail(ProtocolErrorKind.Syntax, 'bad size');
    const max = this.limits.maxPayloadBytes;
    if (total > max) {
      return this.fail(ProtocolErrorKind.PayloadTooLarge, `payload of ${total} bytes over ${max}`);
    }
    if (hdr > total) return this.fail(ProtocolErrorKind.Syntax, 'header size above total size');
    this.subject.set(buf, this.argStart[0], this.argEnd[0]);
    this.reply = n === (isH ? 4 : 3) ? this.arg(1) : '';
    this.expectPayload(total, hdr);
  }

  protected onPayload(msg: Buffer): void {
    this.sink.pub(this.subject.str, this.reply, this.hdrLen, msg);
  }
}

/** Limits of the client-side parser; maxPayloadBytes defaults to 64 MiB (nats-server's ceiling). */
export interface ClientParserLimits {
  maxControlLineBytes: number;
  maxPayloadBytes?: number;
}

/** Parses server -> client traffic. */
export class ClientParser extends ParserBase {
  private readonly sink: ClientOpSink;
  private readonly limits: ClientParserLimits;
  private readonly subject = new SubjectCache();
  private reply = '';
  private sid = 0;

  constructor(sink: ClientOpSink, limits?: ClientParserLimits) {
    super(CLIENT_FIRST, false);
    this.sink = sink;
    this.limits = limits ?? { maxControlLineBytes: DEFAULT_MAX_CONTROL_LINE_BYTES };
  }

  protected maxControlLineBytes(): number {
    return this.limits.maxControlLineBytes;
  }

  protected emitError(err: ProtocolError): void {
    this.sink.error(err);
  }

  protected onLine(buf: Buffer, start: number, end: number): void {
    switch (this.op) {
      case OP_MSG:
      case OP_HMSG:
        return this.onMsg(buf, start, end);
      case OP_PING:
      case OP_PONG:
      case OP_OK: {
        if (this.splitArgs(buf, start, end) !== 0) {
          return this.fail(ProtocolErrorKind.Syntax, 'unexpected arguments');
        }
        if (this.op === OP_PING) return this.sink.ping();
        return this.op === OP_PONG ? this.sink.pong() : this.sink.ok();
      }
      case OP_INFO: {
        const json = ParserBase.trimmedText(buf, start, end);
        if (json.length === 0) return this.fail(ProtocolErrorKind.Syntax, 'INFO without arguments');
        return this.sink.info(json);
      }
      case OP_ERR: {
        let text = ParserBase.trimmedText(buf, start, end);
        if (text.length >= 2 && text.charCodeAt(0) === 39 && text.charCodeAt(text.length - 1) === 39) {
          text = text.slice(1, -1);
        }
        return this.sink.err(text);
      }
      default:
        return this.fail(ProtocolErrorKind.Syntax, 'unknown protocol operation');
    }
  }

  private onMsg(buf: Buffer, start: number, end: number): void {
    const n = this.splitArgs(buf, start, end);
    const isH = this.op === OP_HMSG;
    let hdr = 0;
    let total: number;
    if (isH) {
      if (n !== 4 && n !== 5) return this.fail(ProtocolErrorKind.Syntax, 'HMSG needs 4 or 5 arguments');
      hdr = this.uintArg(n - 2);
      total = this.uintArg(n - 1);
    } else {
      if (n !== 3 && n !== 4) return this.fail(ProtocolErrorKind.Syntax, 'MSG needs 3 or 4 arguments');
      total = this.uintArg(n - 1);
    }
    const sid = this.uintArg(1);
    if (total < 0 || hdr < 0 || sid < 0) return this.fail(ProtocolErrorKind.Syntax, 'bad number');
    const max = this.limits.maxPayloadBytes ?? CLIENT_DEFAULT_MAX_PAYLOAD_BYTES;
    if (total > max) {
      return this.fail(ProtocolErrorKind.PayloadTooLarge, `payload of ${total} bytes over ${max}`);
    }
    if (hdr > total) return this.fail(ProtocolErrorKind.Syntax, 'header size above total size');
    this.subject.set(buf, this.argStart[0], this.argEnd[0]);
    this.sid = sid;
    this.reply = n === (isH ? 5 : 4) ? this.arg(2) : '';
    this.expectPayload(total, hdr);
  }

  protected onPayload(msg: Buffer): void {
    this.sink.msg(this.subject.str, this.sid, this.reply, this.hdrLen, msg);
  }
}
