// A loopback TCP proxy that tests steer, to fault the traffic between two processes (e.g. the route
// between two cluster servers): cut every connection, black-hole one or both directions, or delay
// it. Bytes keep their order, backpressure is honoured (the reading side pauses while the writing
// side is full), and no socket error ever escapes: a failing socket takes its pair down quietly.
//
//   const proxy = await startTcpProxy({ port: b.routePort });
//   a = start({ routes: [proxy.url('nats-route')] });
//   proxy.drop('up'); ... proxy.heal(); ... proxy.cut(); ... await proxy.close();

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export type ProxyDirection = 'up' | 'down';

export interface TcpProxy {
  /** Listening on 127.0.0.1:port. */
  readonly port: number;
  /** `${scheme}://127.0.0.1:${port}`, e.g. url('nats-route'). */
  url(scheme: string): string;
  /**
   * Resets every proxied connection now (both sides see it close; anything in flight is lost) and
   * resets new connections as soon as they are accepted (a dialer sees ECONNRESET, like an
   * unreachable peer on loopback), until heal().
   */
  cut(): void;
  /**
   * Black-holes traffic: connections stay open but bytes in the given direction(s) are read and
   * thrown away (never buffered; whatever a delay() was still holding goes too). New connections
   * are accepted and black-holed alike. 'up' = client->target, 'down' = target->client. Adds to
   * what is already dropped. A FIN is not lost: it is held and passed on at heal(), like TCP
   * retransmitting it across a partition.
   */
  drop(direction: ProxyDirection | 'both'): void;
  /** Delays every chunk (and FIN) that arrives from now on by ms, in both directions; order is kept. 0 = none. */
  delay(ms: number): void;
  /**
   * Back to normal: ends cut, drop and delay for existing (non-cut) and new connections. Bytes a
   * delay() already holds still go out when due (order is kept); dropped bytes stay lost.
   */
  heal(): void;
  /** Proxied connection pairs that are not fully closed yet. */
  readonly connections: number;
  /** Bytes passed on so far, per direction. */
  readonly forwarded: { readonly up: number; readonly down: number };
  /** Bytes thrown away by drop() so far, per direction. */
  readonly dropped: { readonly up: number; readonly down: number };
  /** Closes the listener and every connection; resolves once all of them are closed. Idempotent. */
  close(): Promise<void>;
}

export interface TcpProxyTarget {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
}

export interface TcpProxyOptions {
  /** Port to listen on; default 0 (a free port). A fixed port lets a test restart a proxy in place. */
  port?: number;
}

/** Above this many delayed bytes in one direction the reading side is paused. */
const QUEUE_HIGH_WATER = 1 << 20;

interface Item {
  due: number;
  /** null = the source's FIN. */
  data: Buffer | null;
}

interface Control {
  readonly delayMs: number;
  isDropped(dir: ProxyDirection): boolean;
  count(kind: 'forwarded' | 'dropped', dir: ProxyDirection, n: number): void;
}

/** One direction of a pair: src's bytes, in order, to dst. */
class Flow {
  private queue: Item[] = [];
  private queuedBytes = 0;
  private needDrain = false;
  private timer: NodeJS.Timeout | undefined;
  /** src has sent its FIN. */
  srcEnded = false;

  constructor(
    private readonly src: net.Socket,
    private readonly dst: net.Socket,
    private readonly dir: ProxyDirection,
    private readonly ctl: Control,
  ) {
    src.on('data', (chunk: Buffer) => this.onData(chunk));
    src.on('end', () => {
      this.srcEnded = true;
      this.enqueue({ due: performance.now() + this.ctl.delayMs, data: null });
    });
    dst.on('drain', () => {
      this.needDrain = false;
      this.updateFlow();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.ctl.isDropped(this.dir)) {
      this.ctl.count('dropped', this.dir, chunk.length);
      return;
    }
    this.queuedBytes += chunk.length;
    this.enqueue({ due: performance.now() + this.ctl.delayMs, data: chunk });
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    // A pending timer is waiting for an older head; this item goes out after it anyway.
    if (this.timer === undefined) this.pump();
    else this.updateFlow();
  }

  /** Re-evaluates after a drop/heal/delay change. */
  kick(): void {
    if (this.ctl.isDropped(this.dir)) {
      // Black hole: what has not gone out yet is lost, except a FIN (see TcpProxy.drop).
      let lost = 0;
      this.queue = this.queue.filter((it) => {
        if (it.data === null) return true;
        lost += it.data.length;
        return false;
      });
      if (lost > 0) this.ctl.count('dropped', this.dir, lost);
      this.queuedBytes = 0;
    }
    this.stopTimer();
    this.pump();
  }

  private pump(): void {
    while (this.queue.length > 0 && !this.dst.destroyed) {
      const head = this.queue[0]!;
      if (head.data === null && this.ctl.isDropped(this.dir)) break; // held until heal()
      const wait = head.due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.ceil(wait));
        break;
      }
      this.queue.shift();
      if (head.data === null) {
        this.dst.end();
        break;
      }
      this.queuedBytes -= head.data.length;
      if (this.ctl.isDropped(this.dir)) {
        this.ctl.count('dropped', this.dir, head.data.length);
        continue;
      }
      this.ctl.count('forwarded', this.dir, head.data.length);
      if (!this.dst.write(head.data)) this.needDrain = true;
    }
    this.updateFlow();
  }

  /** Pauses src while dst is full or too much is delayed; a black-holed direction always reads. */
  private updateFlow(): void {
    if (this.src.destroyed) return;
    const hold = !this.ctl.isDropped(this.dir) && (this.needDrain || this.queuedBytes >= QUEUE_HIGH_WATER);
    if (hold && !this.src.isPaused()) this.src.pause();
    else if (!hold && this.src.isPaused()) this.src.resume();
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.stopTimer();
    this.queue = [];
    this.queuedBytes = 0;
  }
}

/** Ends a socket abruptly with an RST where possible; never throws. */
function resetSocket(s: net.Socket): void {
  if (s.destroyed) return;
  try {
    // No RST once end() was called: libuv refuses it (EINVAL) during a shutdown, and Node then
    // never closes the handle. Not connected yet: nothing to reset.
    if (s.connecting || s.pending || s.writableEnded) s.destroy();
    else s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

class Pair {
  readonly up: Flow;
  readonly down: Flow;
  readonly closed: Promise<void>;

  constructor(
    readonly client: net.Socket,
    readonly target: net.Socket,
    ctl: Control,
  ) {
    for (const s of [client, target]) {
      s.setNoDelay(true);
      // ECONNRESET, EPIPE, ECONNREFUSED...: the pair goes, and the other side is reset like it.
      s.on('error', () => this.abort(true));
    }
    this.up = new Flow(client, target, 'up', ctl);
    this.down = new Flow(target, client, 'down', ctl);
    const closeOf = (s: net.Socket, other: net.Socket) =>
      new Promise<void>((resolve) =>
        s.once('close', (hadError) => {
          // Done both ways (each side's FIN seen and passed on): the other side finishes on its
          // own once what is still queued for it has gone out. Otherwise it cannot go on alone.
          if (hadError || !(this.up.srcEnded && this.down.srcEnded)) other.destroy();
          resolve();
        }),
      );
    this.closed = Promise.all([closeOf(client, target), closeOf(target, client)]).then(() => {
      this.up.stop();
      this.down.stop();
    });
  }

  kick(): void {
    this.up.kick();
    this.down.kick();
  }

  abort(reset: boolean): void {
    this.up.stop();
    this.down.stop();
    for (const s of [this.client, this.target]) {
      if (reset) resetSocket(s);
      else s.destroy();
    }
  }
}

export async function startTcpProxy(target: TcpProxyTarget, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  const targetHost = target.host ?? '127.0.0.1';
  const pairs = new Set<Pair>();
  const forwarded = { up: 0, down: 0 };
  const dropped = { up: 0, down: 0 };
  const drops = { up: false, down: false };
  let delayMs = 0;
  let isCut = false;
  let closing: Promise<void> | undefined;

  const ctl: Control = {
    get delayMs() {
      return delayMs;
    },
    isDropped: (dir) => drops[dir],
    count: (kind, dir, n) => {
      (kind === 'forwarded' ? forwarded : dropped)[dir] += n;
    },
  };

  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    client.on('error', () => {});
    if (isCut || closing) {
      resetSocket(client);
      return;
    }
    const upstream = net.connect({ host: targetHost, port: target.port, allowHalfOpen: true });
    const pair = new Pair(client, upstream, ctl);
    pairs.add(pair);
    void pair.closed.then(() => pairs.delete(pair));
  });
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  const kickAll = () => {
    for (const p of pairs) p.kick();
  };

  return {
    port,
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    cut() {
      isCut = true;
      for (const p of pairs) p.abort(true);
    },
    drop(direction) {
      if (direction !== 'down') drops.up = true;
      if (direction !== 'up') drops.down = true;
      kickAll();
    },
    delay(ms) {
      if (!(ms >= 0)) throw new RangeError(`delay must be >= 0 ms, got ${ms}`);
      delayMs = ms;
    },
    heal() {
      isCut = false;
      drops.up = drops.down = false;
      delayMs = 0;
      kickAll();
    },
    get connections() {
      return pairs.size;
    },
    get forwarded() {
      return { ...forwarded };
    },
    get dropped() {
      return { ...dropped };
    },
    close() {
      closing ??= (async () => {
        const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        const all = [...pairs];
        for (const p of all) p.abort(false);
        await Promise.all([listenerClosed, ...all.map((p) => p.closed)]);
      })();
      return closing;
    },
  };
}
