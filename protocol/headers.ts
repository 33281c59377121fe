// The NATS/1.0 header block: `NATS/1.0[ <3-digit status>[ <description>]]\r\n`, then
// `Name: value\r\n` lines, then `\r\n`. Names are case-preserving and may repeat (multi-values);
// a line is split at its first ':' and the value trimmed.
//
// Two tiers: MsgHeaders builds/reads whole blocks (control plane, clients, JetStream), while
// findHeaderValue and encodeStatusBlock work on bytes without building objects, for the paths
// that run per message (dedupe ids, no-responders statuses).

import { Buffer } from 'node:buffer';

export class HeaderParseError extends Error {
  override name = 'HeaderParseError';
}

const PREFIX = 'NATS/1.0';
const PREFIX_LEN = 8;

/** Status codes the server and JetStream put in header blocks. */
export const HeaderStatus = {
  IdleHeartbeat: 100, // also flow control: description says which
  BadRequest: 400,
  NotFound: 404,
  RequestTimeout: 408,
  Conflict: 409,
  NoResponders: 503,
} as const;

/** Header names: printable ASCII except ':' (no whitespace, no control characters). */
export function isValidHeaderName(name: string): boolean {
  const n = name.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3a) return false;
  }
  return true;
}

/** Header values: anything but CR and LF. */
export function isValidHeaderValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) return false;
  }
  return true;
}

function checkName(name: string): void {
  if (!isValidHeaderName(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
}

function checkValue(value: string): void {
  if (!isValidHeaderValue(value)) throw new TypeError(`invalid header value ${JSON.stringify(value)}`);
}

function checkDescription(description: string): void {
  if (!isValidHeaderValue(description)) {
    throw new TypeError(`invalid status description ${JSON.stringify(description)}`);
  }
}

function checkCode(code: number): void {
  if (!Number.isInteger(code) || code < 100 || code > 999) throw new TypeError(`invalid status code ${code}`);
}

export class MsgHeaders {
  /** Exact name -> values, in first-insertion order. */
  private readonly map = new Map<string, string[]>();
  /** Status code, 0 when the block has none. */
  code = 0;
  description = '';

  static fromStatus(code: number, description = ''): MsgHeaders {
    checkCode(code);
    checkDescription(description);
    const h = new MsgHeaders();
    h.code = code;
    h.description = description;
    return h;
  }

  /** Number of distinct names. */
  get size(): number {
    return this.map.size;
  }

  /**
   * Exact-case names with matchCase (the default), else the first name equal ignoring ASCII case.
   * The first value, or '' when absent.
   */
  get(name: string, matchCase = true): string {
    const values = this.lookup(name, matchCase);
    return values === undefined ? '' : values[0];
  }

  getAll(name: string, matchCase = true): string[] {
    if (matchCase) return [...(this.map.get(name) ?? [])];
    const out: string[] = [];
    const lower = name.toLowerCase();
    for (const [k, v] of this.map) if (k.toLowerCase() === lower) out.push(...v);
    return out;
  }

  has(name: string, matchCase = true): boolean {
    return this.lookup(name, matchCase) !== undefined;
  }

  /** Replace every value of `name` (exact case) with `value`. */
  set(name: string, value: string): void {
    checkName(name);
    checkValue(value);
    this.map.set(name, [value]);
  }

  append(name: string, value: string): void {
    checkName(name);
    checkValue(value);
    const values = this.map.get(name);
    if (values === undefined) this.map.set(name, [value]);
    else values.push(value);
  }

  /** Remove `name`; with matchCase false every case variant goes. Returns whether any was there. */
  delete(name: string, matchCase = true): boolean {
    if (matchCase) return this.map.delete(name);
    const lower = name.toLowerCase();
    let removed = false;
    for (const k of [...this.map.keys()]) {
      if (k.toLowerCase() === lower) removed = this.map.delete(k) || removed;
    }
    return removed;
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  entries(): [string, string[]][] {
    return [...this.map].map(([k, v]) => [k, [...v]]);
  }

  encode(): Buffer {
    let s = PREFIX;
    if (this.code !== 0) {
      s += ` ${this.code}`;
      if (this.description.length > 0) s += ` ${this.description}`;
    }
    s += '\r\n';
    for (const [name, values] of this.map) {
      for (const v of values) s += `${name}: ${v}\r\n`;
    }
    s += '\r\n';
    return Buffer.from(s, 'utf8');
  }

  /**
   * Parse a header block. Lines may end in CRLF or a bare LF; the block ends at the first empty
   * line or at the end of the bytes. Throws HeaderParseError on anything else.
   */
  static decode(bytes: Uint8Array): MsgHeaders {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const n = buf.length;
    if (n < PREFIX_LEN || buf.toString('latin1', 0, PREFIX_LEN) !== PREFIX) {
      throw new HeaderParseError('header block does not start with NATS/1.0');
    }
    const h = new MsgHeaders();
    let eol = lineEnd(buf, PREFIX_LEN);
    parseStatus(buf, PREFIX_LEN, eol.contentEnd, h);
    let pos = eol.next;
    while (pos < n) {
      eol = lineEnd(buf, pos);
      if (eol.contentEnd === pos) break; // blank line: end of block
      let colon = -1;
      for (let i = pos; i < eol.contentEnd; i++) {
        if (buf[i] === 0x3a) {
          colon = i;
          break;
        }
      }
      if (colon < 0) throw new HeaderParseError('header line without ":"');
      const name = buf.toString('utf8', pos, colon);
      if (!isValidHeaderName(name)) throw new HeaderParseError(`invalid header name ${JSON.stringify(name)}`);
      const [vs, ve] = trimRange(buf, colon + 1, eol.contentEnd);
      const value = buf.toString('utf8', vs, ve);
      const values = h.map.get(name);
      if (values === undefined) h.map.set(name, [value]);
      else values.push(value);
      pos = eol.next;
    }
    return h;
  }

  private lookup(name: string, matchCase: boolean): string[] | undefined {
    if (matchCase) return this.map.get(name);
    const exact = this.map.get(name);
    if (exact !== undefined) return exact;
    const lower = name.toLowerCase();
    for (const [k, v] of this.map) if (k.toLowerCase() === lower) return v;
    return undefined;
  }
}

interface LineEnd {
  /** End of the line's content (before CR LF / LF). */
  contentEnd: number;
  /** Start of the next line. */
  next: number;
}

function lineEnd(buf: Buffer, from: number): LineEnd {
  const nl = buf.indexOf(0x0a, from);
  if (nl < 0) {
    // Unterminated last line: accepted, as nats.js does.
    return { contentEnd: buf.length, next: buf.length };
  }
  const contentEnd = nl > from && buf[nl - 1] === 0x0d ? nl - 1 : nl;
  return { contentEnd, next: nl + 1 };
}

function trimRange(buf: Uint8Array, s: number, e: number): [number, number] {
  while (s < e && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
  while (e > s && (buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--;
  return [s, e];
}

/** The rest of the first line after `NATS/1.0`: empty, or ` <3 digits>[ <description>]`. */
function parseStatus(buf: Buffer, s: number, e: number, h: MsgHeaders): void {
  const [ts, te] = trimRange(buf, s, e);
  if (ts === te) return;
  if (ts === s) throw new HeaderParseError('garbage after NATS/1.0');
  if (te - ts < 3) throw new HeaderParseError('status code is not 3 digits');
  let code = 0;
  for (let i = ts; i < ts + 3; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) throw new HeaderParseError('status code is not 3 digits');
    code = code * 10 + d;
  }
  const after = ts + 3;
  if (after < te && buf[after] !== 0x20 && buf[after] !== 0x09) {
    throw new HeaderParseError('status code is not 3 digits');
  }
  h.code = code;
  const [ds, de] = trimRange(buf, after, te);
  h.description = buf.toString('utf8', ds, de);
}

/**
 * The first value of `name` (ASCII case-insensitive) in an encoded header block, trimmed, or
 * undefined. Scans bytes; builds only the returned string.
 */
export function findHeaderValue(block: Uint8Array, name: string): string | undefined {
  const n = block.length;
  const nameLen = name.length;
  if (nameLen === 0) return undefined;
  // Skip the NATS/1.0 line.
  let pos = indexOfByte(block, 0x0a, 0);
  if (pos < 0) return undefined;
  pos++;
  while (pos < n) {
    let nl = indexOfByte(block, 0x0a, pos);
    if (nl < 0) nl = n;
    let end = nl > pos && block[nl - 1] === 0x0d ? nl - 1 : nl;
    if (end === pos) return undefined; // blank line: end of block
    if (pos + nameLen < end && block[pos + nameLen] === 0x3a && sameAsciiCaseless(block, pos, name)) {
      let s = pos + nameLen + 1;
      while (s < end && (block[s] === 0x20 || block[s] === 0x09)) s++;
      while (end > s && (block[end - 1] === 0x20 || block[end - 1] === 0x09)) end--;
      return Buffer.from(block.buffer, block.byteOffset + s, end - s).toString('utf8');
    }
    pos = nl + 1;
  }
  return undefined;
}

function indexOfByte(b: Uint8Array, byte: number, from: number): number {
  return b.indexOf(byte, from);
}

function sameAsciiCaseless(block: Uint8Array, at: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) {
    let a = block[at + k];
    let c = name.charCodeAt(k);
    if (a >= 0x41 && a <= 0x5a) a |= 0x20;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (a !== c) return false;
  }
  return true;
}

/**
 * A header block carrying only a status (plus optional extra headers), e.g.
 * `NATS/1.0 503\r\n\r\n` or `NATS/1.0 408 Request Timeout\r\n\r\n`.
 */
export function encodeStatusBlock(code: number, description = '', extra?: readonly [string, string][]): Buffer {
  checkCode(code);
  checkDescription(description);
  let s = description.length > 0 ? `${PREFIX} ${code} ${description}\r\n` : `${PREFIX} ${code}\r\n`;
  if (extra !== undefined) {
    for (const [name, value] of extra) {
      checkName(name);
      checkValue(value);
      s += `${name}: ${value}\r\n`;
    }
  }
  s += '\r\n';
  return Buffer.from(s, 'utf8');
}
