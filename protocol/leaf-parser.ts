// The leafnode wire protocol, inbound side: what one server reads from another over a leaf
// connection (docs/leafnodes.md). Text lines like the client protocol, with their own verbs:
//
//   INFO {json}            CONNECT {json}         PING  PONG  +OK  -ERR 'text'
//   LS+ <subject> [<queue> <weight>]              interest gained (queue: the member count)
//   LS- <subject> [<queue>]                       interest gone
//   LMSG <subject> [+ <reply> <queue>... | | <queue>... | <reply>] <size>\r\n<payload>\r\n
//   HMSG <subject> [same reply/queue forms] <hdr size> <size>\r\n<headers+payload>\r\n
//
// The link is bound to one account at CONNECT, so no line names an account.
//
// Contracts: never throws on input (a malformed line ends in one sink.error(), after which the
// parser is dead); payloads are never decoded; the only strings made are subjects, replies,
// queue names and the JSON/-ERR text of the control plane. A frame split across reads is
// gathered from a list of chunks, concatenated once when enough bytes have arrived.

import { Buffer } from 'node:buffer';
import { SubjectCache } from './parser.ts';

export interface LeafOpSink {
  info(json: string): void;
  connect(json: string): void;
  ping(): void;
  pong(): void;
  ok(): void;
  /** -ERR; the text between the quotes. */
  err(text: string): void;
  /** LS+; `queue` '' for plain interest, `weight` 1 then. */
  sub(subject: string, queue: string, weight: number): void;
  /** LS-. */
  unsub(subject: string, queue: string): void;
  /**
   * LMSG or HMSG. `msg` holds `hdrLen` header bytes then the payload, a view valid only during the
   * call. `reply` '' when absent; `queues` the groups the sender picked this server for.
   */
  msg(subject: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void;
  /** The input is not the leafnode protocol; called once, then the parser stops. */
  error(detail: string): void;
}

export interface LeafParserLimits {
  maxControlLineBytes: number;
  maxPayloadBytes: number;
}

const CR = 0x0d;
const LF = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;
const NO_QUEUES: readonly string[] = [];

/** Argument boundaries of the current line, reused (no allocation per line). */
const MAX_ARGS = 64;

export class LeafParser {
  private readonly sink: LeafOpSink;
  private readonly limits: LeafParserLimits;
  /** Bytes of an unfinished frame, in arrival order. */
  private parts: Buffer[] = [];
  private partsLength = 0;
  /** Total bytes the unfinished frame needs before it can be parsed (0 = its line has not ended). */
  private needed = 0;
  private dead = false;
  private readonly argStart = new Int32Array(MAX_ARGS);
  private readonly argEnd = new Int32Array(MAX_ARGS);
  private argc = 0;
  /** Where the line being handled starts (an LMSG waiting for its payload is re-read from there). */
  private lineStart = 0;
  /** A link carries runs of one subject: its string is made once per change. */
  private readonly subjects = new SubjectCache();

  constructor(sink: LeafOpSink, limits: LeafParserLimits) {
    this.sink = sink;
    this.limits = limits;
  }

  get isDead(): boolean {
    return this.dead;
  }

  parse(chunk: Buffer): void {
    if (this.dead) return;
    let data = chunk;
    if (this.partsLength > 0) {
      this.parts.push(chunk);
      this.partsLength += chunk.length;
      if (this.needed > 0 && this.partsLength < this.needed) return;
      if (this.needed === 0 && chunk.indexOf(LF) < 0) {
        if (this.partsLength > this.limits.maxControlLineBytes + 2) this.fail('control line too long');
        return;
      }
      data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
      this.parts = [];
      this.partsLength = 0;
    }
    this.needed = 0;
    let pos = 0;
    const n = data.length;
    while (pos < n && !this.dead) {
      const eol = data.indexOf(LF, pos);
      if (eol < 0) {
        if (n - pos > this.limits.maxControlLineBytes + 2) {
          this.fail('control line too long');
          return;
        }
        this.keep(data, pos, 0);
        return;
      }
      const lineEnd = eol > pos && data[eol - 1] === CR ? eol - 1 : eol;
      if (lineEnd - pos > this.limits.maxControlLineBytes) {
        this.fail('control line too long');
        return;
      }
      const next = this.line(data, pos, lineEnd, eol + 1);
      if (next < 0) return; // waiting for a payload (kept) or dead
      pos = next;
    }
  }

  /** Keeps data[from..] for the next chunk; `needed` is the frame's full size when known. */
  private keep(data: Buffer, from: number, needed: number): void {
    // Copy: the caller's chunk may be reused after parse() returns.
    const rest = Buffer.from(data.subarray(from));
    this.parts = [rest];
    this.partsLength = rest.length;
    this.needed = needed === 0 ? 0 : needed - from;
  }

  /** Handles the line data[start..end); returns where the next frame starts, or -1. */
  private line(data: Buffer, start: number, end: number, after: number): number {
    if (end === start) return after; // a blank line between frames is harmless
    this.lineStart = start;
    const c0 = data[start]! | 0x20;
    const c1 = end - start > 1 ? data[start + 1]! | 0x20 : 0;
    if (c0 === 0x6c /* l */ && c1 === 0x73 /* s */ && end - start >= 3) {
      const sign = data[start + 2]!;
      if (sign !== 0x2b && sign !== 0x2d) return this.fail('unknown verb');
      if (!this.split(data, start + 3, end)) return -1;
      return sign === 0x2b ? this.ls(data, true, after) : this.ls(data, false, after);
    }
    if ((c0 === 0x6c /* l */ || c0 === 0x68) /* h */ && c1 === 0x6d /* m */ && isVerb(data, start, end, 'msg', 1)) {
      if (!this.split(data, start + 4, end)) return -1;
      return this.lmsg(data, c0 === 0x68, after);
    }
    if (c0 === 0x70 /* p */) {
      if (isVerb(data, start, end, 'ping', 0)) {
        this.sink.ping();
        return after;
      }
      if (isVerb(data, start, end, 'pong', 0)) {
        this.sink.pong();
        return after;
      }
    }
    if (c0 === 0x69 /* i */ && isVerb(data, start, end, 'info', 0)) {
      this.sink.info(data.toString('utf8', start + 4, end).trim());
      return this.dead ? -1 : after;
    }
    if (c0 === 0x63 /* c */ && isVerb(data, start, end, 'connect', 0)) {
      this.sink.connect(data.toString('utf8', start + 7, end).trim());
      return this.dead ? -1 : after;
    }
    if (data[start] === 0x2b /* + */ && end - start === 3 && (data[start + 1]! | 0x20) === 0x6f && (data[start + 2]! | 0x20) === 0x6b) {
      this.sink.ok();
      return after;
    }
    if (data[start] === 0x2d /* - */ && end - start >= 4 && (data[start + 1]! | 0x20) === 0x65) {
      let text = data.toString('utf8', start + 4, end).trim();
      if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) text = text.slice(1, -1);
      this.sink.err(text);
      return this.dead ? -1 : after;
    }
    return this.fail(`unknown verb in ${JSON.stringify(data.toString('latin1', start, Math.min(end, start + 16)))}`);
  }

  private ls(data: Buffer, add: boolean, after: number): number {
    const argc = this.argc;
    const subject = this.arg(data, 0);
    if (add) {
      if (argc === 1) this.sink.sub(subject, '', 1);
      else if (argc === 3) {
        const weight = this.int(data, 2);
        if (weight < 0) return this.fail('bad LS+ weight');
        this.sink.sub(subject, this.arg(data, 1), weight);
      } else return this.fail('malformed LS+');
    } else {
      if (argc === 1) this.sink.unsub(subject, '');
      else if (argc === 2) this.sink.unsub(subject, this.arg(data, 1));
      else return this.fail('malformed LS-');
    }
    return this.dead ? -1 : after;
  }

  private lmsg(data: Buffer, headers: boolean, after: number): number {
    const argc = this.argc;
    const sizes = headers ? 2 : 1;
    if (argc < 1 + sizes) return this.fail('malformed LMSG');
    const size = this.int(data, argc - 1);
    const hdrLen = headers ? this.int(data, argc - 2) : 0;
    if (size < 0 || hdrLen < 0 || hdrLen > size) return this.fail('bad LMSG size');
    if (size > this.limits.maxPayloadBytes) return this.fail('LMSG larger than max_payload');
    const frameEnd = after + size + 2;
    if (frameEnd > data.length) {
      // Re-read from the start of the line once the whole payload is here.
      this.keep(data, this.lineStart, frameEnd);
      return -1;
    }
    if (data[frameEnd - 2] !== CR || data[frameEnd - 1] !== LF) return this.fail('LMSG payload not followed by CRLF');
    this.subjects.set(data, this.argStart[0]!, this.argEnd[0]!);
    const subject = this.subjects.str;
    let reply = '';
    let queues = NO_QUEUES;
    const middle = argc - 1 - sizes; // arguments between the subject and the size(s)
    if (middle === 1) {
      reply = this.arg(data, 1);
    } else if (middle > 1) {
      const ind = data[this.argStart[1]!]!;
      if (this.argEnd[1]! - this.argStart[1]! !== 1 || (ind !== 0x2b && ind !== 0x7c)) return this.fail('bad LMSG reply indicator');
      let q = 2;
      if (ind === 0x2b /* + */) reply = this.arg(data, q++);
      const list: string[] = [];
      for (; q < argc - sizes; q++) list.push(this.arg(data, q));
      queues = list;
    }
    this.sink.msg(subject, reply, queues, hdrLen, data.subarray(after, after + size));
    return this.dead ? -1 : frameEnd;
  }

  /** Splits data[from..end) on spaces/tabs into the arg arrays; false when there are too many. */
  private split(data: Buffer, from: number, end: number): boolean {
    let argc = 0;
    let i = from;
    while (i < end) {
      while (i < end && (data[i] === SPACE || data[i] === TAB)) i++;
      if (i >= end) break;
      const s = i;
      while (i < end && data[i] !== SPACE && data[i] !== TAB) i++;
      if (argc === MAX_ARGS) {
        this.fail('too many arguments');
        return false;
      }
      this.argStart[argc] = s;
      this.argEnd[argc] = i;
      argc++;
    }
    this.argc = argc;
    if (argc === 0) {
      this.fail('missing arguments');
      return false;
    }
    return true;
  }

  private arg(data: Buffer, i: number): string {
    return data.toString('utf8', this.argStart[i]!, this.argEnd[i]!);
  }

  /** The i-th argument as a non-negative integer, -1 if it is not one. */
  private int(data: Buffer, i: number): number {
    const s = this.argStart[i]!;
    const e = this.argEnd[i]!;
    if (e - s > 15 || e === s) return -1;
    let v = 0;
    for (let k = s; k < e; k++) {
      const d = data[k]! - 0x30;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }

  private fail(detail: string): number {
    if (!this.dead) {
      this.dead = true;
      this.parts = [];
      this.partsLength = 0;
      this.sink.error(detail);
    }
    return -1;
  }
}

/** The verb is the 4 (LMSG/HMSG: `lead` + 3) letters `word` then a separator or the line's end. */
function isVerb(data: Buffer, start: number, end: number, word: string, lead: number): boolean {
  const len = lead + word.length;
  if (end - start < len) return false;
  for (let i = 0; i < word.length; i++) if ((data[start + lead + i]! | 0x20) !== word.charCodeAt(i)) return false;
  if (end - start === len) return true;
  const sep = data[start + len];
  return sep === SPACE || sep === TAB;
}
