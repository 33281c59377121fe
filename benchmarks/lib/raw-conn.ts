// RawConn: one NATS client connection over a plain TCP socket, for the load generator.
// No official client anywhere on this path: CONNECT/SUB/PUB are written as bytes and inbound frames
// go through MsgScanner. A connection answers server PINGs, resolves its own PINGs in order, and
// turns socket errors, early closes and -ERR into one failure reported through `onFailure`.

import net from 'node:net';
import { MsgScanner } from './msg-scanner.ts';
import type { MsgHandler, ScannerSink, SeqHandler } from './msg-scanner.ts';

export interface Endpoint {
  host: string;
  port: number;
}

export interface RawConnOptions {
  /** Whole-message callback (responders). Mutually exclusive with onSeq. */
  onMsg?: MsgHandler;
  /** First 4 payload bytes as a uint32, per message (sequence checks). */
  onSeq?: SeqHandler;
  name?: string;
  connectTimeoutMs?: number;
  /** CONNECT with no_responders: a request to a subject nobody listens on is answered at once
   * with an `HMSG` whose header block is `NATS/1.0 503`. */
  noResponders?: boolean;
  /**
   * Read into one reused buffer of this many bytes (net's `onread`) instead of Node's 64 KiB
   * reads: each read hands the scanner at most this much, and `onData` runs after each read, so a
   * publisher that refills per read writes in steps this size allows (a client with a small read
   * buffer). 0 or unset: ordinary 'data' events.
   */
  readBytes?: number;
}

const PING = Buffer.from('PING\r\n');
const PONG = Buffer.from('PONG\r\n');

export class RawConn implements ScannerSink {
  readonly socket: net.Socket;
  readonly scanner: MsgScanner;
  readonly name: string;
  serverInfo: Record<string, unknown> | null = null;
  /** Called after every inbound chunk has been scanned (check counters here, not per message). */
  onData: (() => void) | null = null;
  /** Called once when the connection fails or closes unexpectedly. */
  onFailure: ((err: Error) => void) | null = null;
  failure: Error | null = null;

  private readonly pongWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private infoWaiter: ((info: Record<string, unknown>) => void) | null = null;
  private closing = false;
  private draining: Promise<void> | null = null;

  private constructor(socket: net.Socket, opts: RawConnOptions) {
    this.socket = socket;
    this.name = opts.name ?? 'conn';
    this.scanner = new MsgScanner(this, opts.onMsg ?? null, opts.onSeq ?? null);
    if (!((opts.readBytes ?? 0) > 0)) socket.on('data', (chunk: Buffer) => this.onChunk(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      if (!this.closing) this.fail(new Error(`${this.name}: connection closed by server after ${this.scanner.count} msgs`));
    });
  }

  /** One inbound chunk (a 'data' event or an `onread` read): scan it, then tell the scenario. */
  private onChunk(chunk: Buffer): void {
    try {
      this.scanner.feed(chunk);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      this.socket.destroy();
      return;
    }
    if (this.onData !== null) this.onData();
  }

  static async connect(ep: Endpoint, opts: RawConnOptions = {}): Promise<RawConn> {
    const readBytes = opts.readBytes ?? 0;
    // The onread callback needs the connection, which needs the socket: a late-bound holder.
    const self: { conn: RawConn | null } = { conn: null };
    const onread: net.OnReadOpts | undefined =
      readBytes > 0
        ? {
            buffer: Buffer.allocUnsafe(readBytes),
            callback: (n: number, buf: Uint8Array): boolean => {
              self.conn?.onChunk((buf as Buffer).subarray(0, n));
              return true;
            },
          }
        : undefined;
    const socket = net.createConnection({ host: ep.host, port: ep.port, noDelay: true, ...(onread !== undefined ? { onread } : {}) });
    const conn = new RawConn(socket, opts);
    self.conn = conn;
    const timeoutMs = opts.connectTimeoutMs ?? 10_000;
    const info = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${conn.name}: no INFO within ${timeoutMs} ms`)), timeoutMs);
      conn.infoWaiter = (i) => {
        clearTimeout(timer);
        resolve(i);
      };
      conn.onFailure = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
    try {
      conn.serverInfo = await info;
      conn.onFailure = null;
      const connect = {
        verbose: false,
        pedantic: false,
        headers: true,
        protocol: 1,
        name: conn.name,
        lang: 'sluice-bench',
        version: '0',
        ...(opts.noResponders === true ? { no_responders: true } : {}),
      };
      socket.write(`CONNECT ${JSON.stringify(connect)}\r\n`);
      await conn.flush();
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  // ScannerSink
  onPing(): void {
    this.socket.write(PONG);
  }
  onPong(): void {
    const w = this.pongWaiters.shift();
    if (w !== undefined) w.resolve();
  }
  onInfo(json: string): void {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(json) as Record<string, unknown>;
    } catch {
      this.fail(new Error(`${this.name}: bad INFO json`));
      return;
    }
    if (this.infoWaiter !== null) {
      const w = this.infoWaiter;
      this.infoWaiter = null;
      w(parsed);
    }
  }
  onErr(text: string): void {
    this.fail(new Error(`${this.name}: server sent -ERR ${text} (after ${this.scanner.count} msgs)`));
  }

  /** Sends PING and resolves on the matching PONG: everything written before has been processed. */
  flush(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.pongWaiters.push({ resolve, reject });
      this.socket.write(PING);
    });
  }

  sub(subject: string, sid: string | number, queue?: string): void {
    this.socket.write(queue === undefined ? `SUB ${subject} ${sid}\r\n` : `SUB ${subject} ${queue} ${sid}\r\n`);
  }

  /** Writes with backpressure: resolves immediately when the socket accepted the bytes, else on 'drain'. */
  write(buf: Buffer): Promise<void> | null {
    if (this.socket.write(buf)) return null;
    if (this.draining === null) {
      this.draining = new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.socket.off('close', onClose);
          this.draining = null;
          resolve();
        };
        const onClose = (): void => {
          this.socket.off('drain', onDrain);
          this.draining = null;
          reject(this.failure ?? new Error(`${this.name}: closed while writing`));
        };
        this.socket.once('drain', onDrain);
        this.socket.once('close', onClose);
      });
    }
    return this.draining;
  }

  close(): void {
    this.closing = true;
    this.socket.destroy();
    const err = new Error(`${this.name}: closed`);
    for (const w of this.pongWaiters.splice(0)) w.reject(err);
  }

  private fail(err: Error): void {
    if (this.failure !== null || this.closing) return;
    this.failure = err;
    for (const w of this.pongWaiters.splice(0)) w.reject(err);
    if (this.onFailure !== null) this.onFailure(err);
  }
}
