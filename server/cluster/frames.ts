// The route wire format between sluice servers (docs/adr/0009-cluster-routes.md). Not nats-server's
// text route protocol: peers are always sluice, so frames are length-prefixed binary, which costs
// no line scanning or digit parsing per forwarded message.
//
//   frame  := u32 length (of kind + body) | u8 kind | body
//   str    := u16 byte length | UTF-8 bytes
//   HELLO  := msgpack object (RouteHello)          PEERS := msgpack object (RoutePeers)
//   SUB    := str account | str subject | str queue | u32 weight
//   UNSUB  := str account | str subject | str queue
//   MSG    := str account | str subject | str deliverAs | str reply | u8 nQueues | nQueues × str
//             | u32 hdrLen | header block and payload (the rest of the frame)
//   PING, PONG := empty            ERR := UTF-8 reason (the sender closes after it)
//   RAFT   := str group | raft message batch (raft/wire.ts: everything one Ready sends that peer)
//
// `subject` routes the message; `deliverAs` ('' = same) is the subject its MSG lines show (a
// JetStream delivery routed by an inbox carries its stored subject). `queues` names the queue
// groups the receiver must deliver to (one member each); plain subscribers always get it.

import { Packr } from 'msgpackr';
import type { OutboundBuffer } from '../../protocol/encoder.ts';
import type { Message } from '../../raft/types.ts';
import { decodeMessages, encodeMessages } from '../../raft/wire.ts';
import type { PeerState } from '../../streams/replication/network.ts';

export const FrameKind = { Hello: 1, Peers: 2, Sub: 3, Unsub: 4, Msg: 5, Ping: 6, Pong: 7, Err: 8, Raft: 9 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** What the dialer sends first after the listener's INFO line: anything else is not a route. */
export const ROUTE_MAGIC = Buffer.from('SLUICE-ROUTE/1\r\n', 'latin1');

/** Both sides introduce themselves with this; the listener answers the dialer's. */
export interface RouteHello {
  /** Wire version; a peer refuses versions it does not speak. */
  readonly v: 1;
  readonly id: string;
  readonly name: string;
  readonly cluster: string;
  /** Where other servers can dial this one: nats-route://host:port. */
  readonly routeUrl: string;
  /** host:port clients can use (INFO connect_urls). */
  readonly clientUrls: readonly string[];
  readonly wsUrls: readonly string[];
}

/** The servers a peer is connected to: how a newcomer learns the rest of the mesh. */
export interface RoutePeers {
  readonly peers: readonly { readonly id: string; readonly url: string }[];
  /** The sender's replication state (streams/replication/network.ts PeerState); absent = none. */
  readonly state?: PeerState;
}

export interface RouteFrameSink {
  hello(h: RouteHello): void;
  peers(p: RoutePeers): void;
  sub(account: string, subject: string, queue: string, weight: number): void;
  unsub(account: string, subject: string, queue: string): void;
  /** `msg` (hdrLen header bytes, then the payload) is a view valid only during the call. */
  msg(account: string, subject: string, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void;
  ping(): void;
  pong(): void;
  err(reason: string): void;
  /** Raft messages for `group`, still msgpack-encoded (decoded by decodeRaftMessages). */
  raft(group: string, payload: Buffer): void;
}

export class FrameError extends Error {
  override name = 'FrameError';
}

const packr = new Packr({ useRecords: false });
/** Strings remembered by the decoder (a power of two). */
const RECENT_STRINGS = 4;
/** Longer strings (rare) are not remembered. */
const MAX_RECENT_STRING_BYTES = 256;
const NO_QUEUES: readonly string[] = [];

function beginFrame(out: OutboundBuffer, kind: FrameKind): number {
  const at = out.length;
  out.appendU32(0);
  out.appendByte(kind);
  return at;
}

function endFrame(out: OutboundBuffer, at: number): void {
  out.patchU32(at, out.length - at - 4);
}

function appendStr(out: OutboundBuffer, s: string): void {
  if (s.length === 0) {
    out.appendU16(0);
    return;
  }
  const at = out.length;
  out.appendU16(0);
  out.appendUtf8(s);
  const n = out.length - at - 2;
  if (n > 0xffff) throw new FrameError(`string of ${n} bytes does not fit a route frame`);
  out.patchU16(at, n);
}

export function writeHello(out: OutboundBuffer, h: RouteHello): void {
  const at = beginFrame(out, FrameKind.Hello);
  out.appendBytes(packr.pack(h));
  endFrame(out, at);
}

export function writePeers(out: OutboundBuffer, p: RoutePeers): void {
  const at = beginFrame(out, FrameKind.Peers);
  out.appendBytes(packr.pack(p));
  endFrame(out, at);
}

export function writeSub(out: OutboundBuffer, account: string, subject: string, queue: string, weight: number): void {
  const at = beginFrame(out, FrameKind.Sub);
  appendStr(out, account);
  appendStr(out, subject);
  appendStr(out, queue);
  out.appendU32(weight);
  endFrame(out, at);
}

export function writeUnsub(out: OutboundBuffer, account: string, subject: string, queue: string): void {
  const at = beginFrame(out, FrameKind.Unsub);
  appendStr(out, account);
  appendStr(out, subject);
  appendStr(out, queue);
  endFrame(out, at);
}

/** A string already in its wire form (length prefix and bytes), for the account of every frame. */
export function strBytes(s: string): Buffer {
  const body = Buffer.from(s, 'utf8');
  if (body.length > 0xffff) throw new FrameError(`string of ${body.length} bytes does not fit a route frame`);
  const b = Buffer.allocUnsafe(2 + body.length);
  b.writeUInt16BE(body.length, 0);
  body.copy(b, 2);
  return b;
}

/**
 * `account` is in wire form (strBytes); `subjectBytes`, when given, is `subject` as UTF-8 (the
 * router's cached copy), so the hot path copies bytes instead of encoding strings.
 */
export function writeMsg(
  out: OutboundBuffer,
  account: Buffer,
  subject: string,
  subjectBytes: Buffer | null,
  deliverAs: string,
  reply: string,
  queues: readonly string[],
  hdrLen: number,
  msg: Uint8Array,
): void {
  const at = beginFrame(out, FrameKind.Msg);
  out.appendBytes(account);
  if (subjectBytes !== null && subjectBytes.length <= 0xffff) {
    out.appendU16(subjectBytes.length);
    out.appendBytes(subjectBytes);
  } else {
    appendStr(out, subject);
  }
  appendStr(out, deliverAs);
  appendStr(out, reply);
  out.appendByte(queues.length);
  for (let i = 0; i < queues.length; i++) appendStr(out, queues[i]!);
  out.appendU32(hdrLen);
  out.appendBytes(msg);
  endFrame(out, at);
}

export function writeEmpty(out: OutboundBuffer, kind: typeof FrameKind.Ping | typeof FrameKind.Pong): void {
  const at = beginFrame(out, kind);
  endFrame(out, at);
}

/** Raft messages for one group and one peer, in one frame (the transport batches per Ready). */
export function writeRaft(out: OutboundBuffer, group: string, messages: readonly Message[]): void {
  const at = beginFrame(out, FrameKind.Raft);
  appendStr(out, group);
  out.appendBytes(encodeMessages(messages));
  endFrame(out, at);
}

/**
 * The messages of a RAFT frame. `payload` is copied once first: the entries refer into the copy
 * (raft keeps them in its log), never into the read buffer the frame came in.
 */
export function decodeRaftMessages(payload: Buffer): Message[] {
  try {
    return decodeMessages(Buffer.from(payload));
  } catch (err) {
    throw new FrameError(`unreadable route RAFT frame: ${String(err)}`);
  }
}

export function writeErrFrame(out: OutboundBuffer, reason: string): void {
  const at = beginFrame(out, FrameKind.Err);
  out.appendUtf8(reason);
  endFrame(out, at);
}

/**
 * Splits a byte stream into frames and hands each to the sink. Resumable: a frame cut across
 * chunks is kept (only its bytes) until the rest arrives. Throws FrameError on a malformed or
 * oversized frame; the link is then closed.
 */
export class RouteFrameDecoder {
  private readonly sink: RouteFrameSink;
  private readonly maxFrameBytes: number;
  /** Bytes of an incomplete frame, in arrival order, and how many the frame needs in all. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private wanted = 0;
  /** The last few strings decoded, with their bytes (see str()). */
  private readonly recent: ({ bytes: Buffer; text: string } | undefined)[] = new Array(RECENT_STRINGS).fill(undefined);
  private recentSlot = 0;
  // Cursor over the frame being decoded.
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private end = 0;

  constructor(sink: RouteFrameSink, maxFrameBytes: number) {
    this.sink = sink;
    this.maxFrameBytes = maxFrameBytes;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.heldBytes > 0) {
      // A large frame arrives in many chunks: keep them aside until it is whole, then join once.
      this.held.push(Buffer.from(chunk)); // a copy: the caller may reuse its buffer
      this.heldBytes += chunk.length;
      if (this.heldBytes < this.wanted) return;
      data = Buffer.concat(this.held, this.heldBytes);
      this.held = [];
      this.heldBytes = 0;
      this.wanted = 0;
    }
    let at = 0;
    const n = data.length;
    while (n - at >= 4) {
      const len = data.readUInt32BE(at);
      if (len < 1 || len > this.maxFrameBytes) throw new FrameError(`route frame of ${len} bytes (limit ${this.maxFrameBytes})`);
      if (n - at - 4 < len) {
        this.wanted = 4 + len;
        break;
      }
      this.frame(data, at + 4, at + 4 + len);
      at += 4 + len;
    }
    if (at < n) {
      // Copied: `data` may be the transport's buffer, reused after this call.
      const rest = Buffer.from(data.subarray(at));
      this.held.push(rest);
      this.heldBytes = rest.length;
      if (this.wanted === 0 || rest.length < 4) this.wanted = 4;
    }
  }

  private frame(data: Buffer, start: number, end: number): void {
    this.buf = data;
    this.pos = start + 1;
    this.end = end;
    const sink = this.sink;
    switch (data[start]) {
      case FrameKind.Msg: {
        const account = this.str(true);
        const subject = this.str(true);
        const deliverAs = this.str(false);
        const reply = this.str(false);
        const nq = this.u8();
        let queues = NO_QUEUES;
        if (nq > 0) {
          const list: string[] = [];
          for (let i = 0; i < nq; i++) list.push(this.str(true));
          queues = list;
        }
        const hdrLen = this.u32();
        if (hdrLen > end - this.pos) throw new FrameError('route MSG header length past the frame');
        sink.msg(account, subject, deliverAs, reply, queues, hdrLen, data.subarray(this.pos, end));
        return;
      }
      case FrameKind.Sub: {
        const account = this.str(false);
        const subject = this.str(false);
        const queue = this.str(false);
        sink.sub(account, subject, queue, this.u32());
        return;
      }
      case FrameKind.Unsub:
        sink.unsub(this.str(false), this.str(false), this.str(false));
        return;
      case FrameKind.Ping:
        sink.ping();
        return;
      case FrameKind.Pong:
        sink.pong();
        return;
      case FrameKind.Hello:
        sink.hello(this.object('HELLO') as RouteHello);
        return;
      case FrameKind.Peers:
        sink.peers(this.object('PEERS') as RoutePeers);
        return;
      case FrameKind.Err:
        sink.err(data.toString('utf8', this.pos, end));
        return;
      case FrameKind.Raft: {
        const group = this.str(false);
        sink.raft(group, data.subarray(this.pos, end));
        return;
      }
      default:
        throw new FrameError(`unknown route frame kind ${data[start]}`);
    }
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new FrameError('truncated route frame');
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /**
   * A length-prefixed string. `repeats`: a field consecutive frames mostly repeat (a MSG's account,
   * subject and queue names, not its reply inbox), worth remembering.
   */
  private str(repeats: boolean): string {
    this.need(2);
    const buf = this.buf;
    const n = (buf[this.pos]! << 8) | buf[this.pos + 1]!;
    this.pos += 2;
    if (n === 0) return '';
    this.need(n);
    const at = this.pos;
    this.pos += n;
    if (!repeats) return buf.toString('utf8', at, at + n);
    // Consecutive frames mostly repeat their account and subject: reuse the last string decoded
    // from the same bytes instead of making a new one (measured: string decoding was a quarter of
    // a receiving server's time on cluster-pubsub).
    for (let i = 0; i < RECENT_STRINGS; i++) {
      const r = this.recent[i];
      if (r !== undefined && r.bytes.length === n && buf.compare(r.bytes, 0, n, at, at + n) === 0) return r.text;
    }
    const text = buf.toString('utf8', at, at + n);
    if (n <= MAX_RECENT_STRING_BYTES) this.recent[this.recentSlot++ & (RECENT_STRINGS - 1)] = { bytes: Buffer.from(buf.subarray(at, at + n)), text };
    return text;
  }

  private object(what: string): unknown {
    let v: unknown;
    try {
      v = packr.unpack(this.buf.subarray(this.pos, this.end));
    } catch (err) {
      throw new FrameError(`unreadable route ${what}: ${String(err)}`);
    }
    if (v === null || typeof v !== 'object') throw new FrameError(`route ${what} is not an object`);
    return v;
  }
}
