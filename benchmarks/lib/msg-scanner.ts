// MsgScanner: the load generator's client-side frame scanner.
//
// Contract: feed() takes raw socket chunks in arrival order, split anywhere, and
//  - counts every complete MSG/HMSG frame in `count` (a frame counts once its payload and trailing
//    CRLF have arrived);
//  - optionally reports the first 4 payload bytes of each message as a big-endian uint32 (`onSeq`),
//    which the publisher stamps with a sequence number so scenarios can check order/exactly-once;
//  - optionally hands out whole messages (`onMsg`, used by request/reply responders);
//  - dispatches PING/PONG/INFO/-ERR to the sink.
// The hot path makes no strings: the control line is found with indexOf(LF), the size is parsed from
// the digits of its last token (the size is always last in MSG and HMSG), and the payload is jumped
// over. Only split frames take the slow path (a bounded line scratch and a payload countdown).

const LF = 10;
const CR = 13;
const ZERO = 48;
const NINE = 57;
const LOWER = 0x20;
const MAX_LINE_BYTES = 8192;

export interface ScannerSink {
  onPing(): void;
  onPong(): void;
  onInfo(json: string): void;
  onErr(text: string): void;
}

/** line: the control line without CRLF; payload: the message bytes (HMSG: headers + payload). Views
 * into reused memory: valid only during the call. */
export type MsgHandler = (line: Buffer, payload: Buffer) => void;
export type SeqHandler = (seq: number) => void;

export class ScanError extends Error {}

export class MsgScanner {
  /** Complete MSG/HMSG frames seen. */
  count = 0;

  private readonly sink: ScannerSink;
  private readonly onMsg: MsgHandler | null;
  private readonly onSeq: SeqHandler | null;
  private readonly lineBuf: Buffer = Buffer.allocUnsafe(MAX_LINE_BYTES);
  private lineLen = 0;
  /** Bytes of the current frame's payload + CRLF still to arrive (slow path only). */
  private skip = 0;
  private payloadSize = 0;
  private payloadGot = 0;
  private seq = 0;
  private captureLine: Buffer | null = null;
  private capturePayload: Buffer | null = null;

  constructor(sink: ScannerSink, onMsg: MsgHandler | null = null, onSeq: SeqHandler | null = null) {
    this.sink = sink;
    this.onMsg = onMsg;
    this.onSeq = onSeq;
  }

  feed(chunk: Buffer): void {
    const len = chunk.length;
    let pos = 0;
    while (pos < len) {
      if (this.skip > 0) {
        pos = this.continuePayload(chunk, pos);
        continue;
      }
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.appendLine(chunk, pos, len);
        return;
      }
      let buf: Buffer;
      let s: number;
      let e: number;
      if (this.lineLen > 0) {
        this.appendLine(chunk, pos, nl);
        buf = this.lineBuf;
        s = 0;
        e = this.lineLen;
        this.lineLen = 0;
      } else {
        buf = chunk;
        s = pos;
        e = nl;
      }
      if (e > s && buf[e - 1] === CR) e--;
      pos = nl + 1;
      const c0 = buf[s] | LOWER;
      if (c0 === 0x6d /* m */ || c0 === 0x68 /* h */) {
        // size = digits of the last token
        let i = e - 1;
        let size = 0;
        let mul = 1;
        while (i > s) {
          const d = buf[i];
          if (d < ZERO || d > NINE) break;
          size += (d - ZERO) * mul;
          mul *= 10;
          i--;
        }
        if (mul === 1) throw new ScanError(`no size in control line: ${buf.toString('latin1', s, e)}`);
        const end = pos + size;
        if (end + 2 <= len) {
          // whole payload and trailer in this chunk: the fast path
          if (chunk[end] !== CR || chunk[end + 1] !== LF) throw new ScanError('payload not followed by CRLF');
          if (this.onMsg !== null) this.onMsg(buf.subarray(s, e), chunk.subarray(pos, end));
          else if (this.onSeq !== null && size >= 4) this.onSeq(chunk.readUInt32BE(pos));
          this.count++;
          pos = end + 2;
        } else {
          this.startPayload(buf, s, e, size);
        }
      } else {
        this.control(buf, s, e);
      }
    }
  }

  private startPayload(buf: Buffer, s: number, e: number, size: number): void {
    this.skip = size + 2;
    this.payloadSize = size;
    this.payloadGot = 0;
    this.seq = 0;
    if (this.onMsg !== null) {
      this.captureLine = Buffer.from(buf.subarray(s, e));
      this.capturePayload = Buffer.allocUnsafe(size);
    }
  }

  /** Consumes payload bytes of a frame that was split across chunks; returns the new position. */
  private continuePayload(chunk: Buffer, pos: number): number {
    const n = Math.min(this.skip, chunk.length - pos);
    const got = this.payloadGot; // offset (within payload+CRLF) of chunk[pos]
    const size = this.payloadSize;
    if (this.capturePayload !== null && got < size) {
      chunk.copy(this.capturePayload, got, pos, pos + Math.min(n, size - got));
    } else if (this.onSeq !== null && got < 4 && size >= 4) {
      const stop = Math.min(4, got + n);
      let seq = this.seq;
      for (let o = got; o < stop; o++) seq = ((seq << 8) | chunk[pos + o - got]) >>> 0;
      this.seq = seq;
    }
    // the trailer's CR sits at offset `size`
    if (got <= size && size < got + n && chunk[pos + size - got] !== CR) {
      throw new ScanError('payload not followed by CRLF');
    }
    this.payloadGot = got + n;
    this.skip -= n;
    if (this.skip === 0) {
      if (this.capturePayload !== null && this.captureLine !== null) {
        this.onMsg?.(this.captureLine, this.capturePayload);
        this.captureLine = null;
        this.capturePayload = null;
      } else if (this.onSeq !== null && size >= 4) {
        this.onSeq(this.seq);
      }
      this.count++;
    }
    return pos + n;
  }

  private appendLine(chunk: Buffer, from: number, to: number): void {
    const n = to - from;
    if (this.lineLen + n > MAX_LINE_BYTES) throw new ScanError('control line too long');
    chunk.copy(this.lineBuf, this.lineLen, from, to);
    this.lineLen += n;
  }

  private control(buf: Buffer, s: number, e: number): void {
    const c0 = buf[s] | LOWER;
    if (c0 === 0x70 /* p */ && e - s >= 4) {
      const c1 = buf[s + 1] | LOWER;
      if (c1 === 0x69 /* i */) return this.sink.onPing();
      if (c1 === 0x6f /* o */) return this.sink.onPong();
    } else if (c0 === 0x69 /* i */) {
      return this.sink.onInfo(buf.toString('utf8', s + 4, e).trim());
    } else if (c0 === 0x2b /* + */) {
      return; // +OK
    } else if (c0 === 0x2d /* - */) {
      return this.sink.onErr(buf.toString('utf8', s + 4, e).trim());
    } else if (e === s) {
      return; // tolerate a stray empty line
    }
    throw new ScanError(`unexpected server op: ${JSON.stringify(buf.toString('latin1', s, Math.min(e, s + 80)))}`);
  }
}
