// What a well-behaved client sees while another connection misbehaves: a bystander connection
// that does PING/PONG back to back (one in flight, the next after one event-loop turn) and keeps
// the worst round trip, and a sampler of the server's peak RSS (every 10 ms from /proc).

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoint } from './raw-conn.ts';
import { procRssKb } from './servers.ts';

/** One raw connection: CONNECT, then the first PONG, resolved once the server answered. */
export async function rawConnected(ep: Endpoint): Promise<net.Socket> {
  const sock = net.connect(ep.port, ep.host);
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (buf.includes('PONG\r\n')) {
        sock.off('data', onData);
        resolve();
      }
    };
    sock.on('data', onData);
    sock.once('error', reject);
    sock.once('connect', () => sock.write('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n'));
  });
  sock.on('error', () => {});
  return sock;
}

export class Bystander {
  worstMs = 0;
  pings = 0;
  private running = true;
  private sentAt = 0;
  private pending = '';
  private done: () => void = () => {};
  private readonly stopped = new Promise<void>((r) => (this.done = r));

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('close', () => this.done());
  }

  static async start(ep: Endpoint): Promise<Bystander> {
    const b = new Bystander(await rawConnected(ep));
    b.ping();
    return b;
  }

  private ping(): void {
    this.sentAt = performance.now();
    this.sock.write('PING\r\n');
  }

  private onData(d: Buffer): void {
    this.pending += d.toString('latin1');
    while (this.pending.includes('PONG\r\n')) {
      this.pending = this.pending.slice(this.pending.indexOf('PONG\r\n') + 6);
      this.worstMs = Math.max(this.worstMs, performance.now() - this.sentAt);
      this.pings++;
      if (!this.running) {
        this.done();
        return;
      }
      setImmediate(() => this.ping());
    }
  }

  /** Stops after the PING in flight (counting it, however late), and closes. */
  async stop(): Promise<number> {
    this.running = false;
    // A PING still unanswered is at least this late.
    this.worstMs = Math.max(this.worstMs, performance.now() - this.sentAt);
    await Promise.race([this.stopped, new Promise((r) => setTimeout(r, 30_000).unref())]);
    this.sock.destroy();
    return this.worstMs;
  }
}

/** The server's peak VmRSS while running, in MiB (null without a pid). */
export class RssSampler {
  peakKb = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number | undefined) {
    if (pid === undefined) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), 10);
  }

  sample(): number | null {
    if (this.pid === undefined) return null;
    const kb = procRssKb(this.pid);
    if (kb !== null) this.peakKb = Math.max(this.peakKb, kb);
    return kb;
  }

  stop(): number | null {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.sample();
    return this.pid === undefined ? null : this.peakKb / 1024;
  }
}
