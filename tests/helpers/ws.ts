// WebSocket clients for tests: the official nats.js v3 WebSocket client (`wsconnect`, the successor
// of nats.ws) over the `ws` package, and a raw WebSocket peer for wire-level checks.

import { wsconnect, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import WebSocket from 'ws';
import { within } from './deadline.ts';

export interface WsClientOptions extends Partial<ConnectionOptions> {
  /** Options for the `ws` socket: a CA for wss://, client certificates, headers such as Origin. */
  socket?: WebSocket.ClientOptions;
}

/**
 * Connects the official client over WebSocket. Node 20 has no global WebSocket; instead of
 * patching globalThis, the client is handed a `ws` socket through its wsFactory option.
 */
export function wsConnect(url: string, opts: WsClientOptions = {}): Promise<NatsConnection> {
  const { socket, ...rest } = opts;
  return wsconnect({
    servers: url,
    ...rest,
    wsFactory: async (u: string) => ({ socket: new WebSocket(u, socket) as never, encrypted: u.startsWith('wss://') }),
  });
}

/** A raw WebSocket peer: send frames, wait for protocol text, observe close. */
export class RawWsClient {
  readonly ws: WebSocket;
  private received = '';
  private waiters: (() => void)[] = [];
  closed = false;
  closeCode = 0;
  readonly closedPromise: Promise<void>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.received += data.toString('latin1');
      this.wake();
    });
    ws.on('error', () => {});
    this.closedPromise = new Promise((resolve) => {
      ws.on('close', (code) => {
        this.closed = true;
        this.closeCode = code;
        this.wake();
        resolve();
      });
    });
  }

  /** Resolves when the upgrade succeeded; rejects with the HTTP status when it was refused. */
  static connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<RawWsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, opts);
      ws.once('open', () => resolve(new RawWsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  get text(): string {
    return this.received;
  }

  send(data: string | Buffer, binary = true): void {
    this.ws.send(data, { binary });
  }

  async waitFor(needle: string, timeoutMs = 5000): Promise<string> {
    await within(
      (async () => {
        while (!this.received.includes(needle)) {
          if (this.closed) throw new Error(`closed before ${JSON.stringify(needle)}; got ${JSON.stringify(this.received)}`);
          await new Promise<void>((r) => this.waiters.push(r));
        }
      })(),
      timeoutMs,
      `ws client waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(this.received.slice(-300))}`,
    );
    return this.received;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await within(this.closedPromise, timeoutMs, 'ws client close');
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
