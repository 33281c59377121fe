// A raw TCP peer for wire-level tests: send exact bytes, wait for exact bytes, observe close.

import net from 'node:net';
import { within } from './deadline.ts';

export class RawClient {
  readonly socket: net.Socket;
  private received = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, host);
      socket.once('connect', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  get bytes(): Buffer {
    return this.received;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves once everything received so far contains `needle`; returns the text. */
  async waitFor(needle: string, timeoutMs = 5000): Promise<string> {
    await within(
      (async () => {
        while (!this.text.includes(needle)) {
          if (this.closed) throw new Error(`connection closed before ${JSON.stringify(needle)}; got ${JSON.stringify(this.text)}`);
          await new Promise<void>((r) => this.waiters.push(r));
        }
      })(),
      timeoutMs,
      `raw client waiting for ${JSON.stringify(needle)}; got ${JSON.stringify(this.text.slice(-300))}`,
    );
    return this.text;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    await within(this.closedPromise, timeoutMs, 'raw client close');
  }

  clear(): void {
    this.received = Buffer.alloc(0);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
