// ws:// and wss://. Uses the global WebSocket (browsers, Node >= 22) and falls back to the `ws`
// package in Node 20, imported only then. NATS over WebSocket is the plain protocol in binary
// frames; a frame may hold several operations or part of one (the parser does not care).

import { Buffer } from 'node:buffer';
import { NatsError, ErrorCode, TimeoutError } from '../errors.ts';
import type { DialOptions, Transport, TransportHandlers } from './types.ts';

/** The part of the WebSocket API shared by browsers, undici and `ws`. */
interface WsLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
}

type WsCtor = new (url: string, options?: unknown) => WsLike;

const OPEN = 1;

function toBuffer(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Buffer.concat(data as Uint8Array[]); // ws 'fragments'
  throw new NatsError(ErrorCode.Protocol, 'unexpected WebSocket message type');
}

class WsTransport implements Transport {
  private readonly ws: WsLike;
  private handlers: TransportHandlers | undefined;
  private pre: Buffer[] = [];
  private closed = false;
  private err: Error | undefined;
  readonly encrypted: boolean;

  constructor(ws: WsLike, encrypted: boolean, early: Buffer[]) {
    this.ws = ws;
    this.encrypted = encrypted;
    this.pre = early;
    ws.onmessage = (ev) => {
      const chunk = toBuffer(ev.data);
      if (this.handlers === undefined) this.pre.push(chunk);
      else this.handlers.data(chunk);
    };
    ws.onerror = (ev) => {
      this.err ??= new NatsError(ErrorCode.Disconnected, `websocket error: ${describe(ev)}`);
    };
    ws.onclose = () => this.finish();
  }

  start(h: TransportHandlers): void {
    this.handlers = h;
    const pre = this.pre;
    this.pre = [];
    for (const chunk of pre) h.data(chunk);
    if (this.closed) h.close(this.err);
  }

  write(bytes: Uint8Array): void {
    if (this.ws.readyState === OPEN) this.ws.send(bytes);
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  close(): void {
    this.ws.close(1000);
  }

  destroy(err?: Error): void {
    this.err ??= err;
    const ws = this.ws as WsLike & { terminate?: () => void };
    if (typeof ws.terminate === 'function') ws.terminate();
    else ws.close();
    // Browsers report close asynchronously; the protocol layer needs to know now.
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers?.close(this.err);
  }
}

function describe(ev: unknown): string {
  const e = ev as { message?: string; error?: { message?: string } };
  return e?.error?.message ?? e?.message ?? 'connection failed';
}

async function constructor(): Promise<{ ctor: WsCtor; node: boolean }> {
  const g = (globalThis as { WebSocket?: WsCtor }).WebSocket;
  if (g !== undefined) return { ctor: g, node: false };
  const m = (await import('ws')) as unknown as { WebSocket: WsCtor };
  return { ctor: m.WebSocket, node: true };
}

export async function dialWebSocket(o: DialOptions): Promise<Transport> {
  const u = o.url;
  const host = u.host.includes(':') ? `[${u.host}]` : u.host;
  const href = `${u.scheme}://${host}:${u.port}${u.path === '' ? '/' : u.path}`;
  const { ctor, node } = await constructor();
  const t = o.tls ?? {};
  const ws = node
    ? new ctor(href, { ca: t.ca, cert: t.cert, key: t.key, rejectUnauthorized: t.rejectUnauthorized ?? true, perMessageDeflate: false })
    : new ctor(href);
  ws.binaryType = node ? 'nodebuffer' : 'arraybuffer';
  return new Promise<Transport>((resolve, reject) => {
    const early: Buffer[] = [];
    const timer = o.clock.setTimeout(() => {
      cleanup();
      try {
        ws.close();
      } catch {
        // not open yet
      }
      reject(new TimeoutError('connect'));
    }, o.timeoutMs);
    const cleanup = (): void => {
      timer.cancel();
      ws.onopen = null;
      ws.onerror = null;
      ws.onclose = null;
    };
    ws.onmessage = (ev) => void early.push(toBuffer(ev.data));
    ws.onerror = (ev) => {
      cleanup();
      reject(new NatsError(ErrorCode.ConnectionRefused, `${u.key}: ${describe(ev)}`));
    };
    ws.onclose = () => {
      cleanup();
      reject(new NatsError(ErrorCode.ConnectionRefused, `${u.key}: closed before open`));
    };
    ws.onopen = () => {
      cleanup();
      resolve(new WsTransport(ws, u.scheme === 'wss', early));
    };
  });
}
