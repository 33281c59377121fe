// ws-pubsub: 1 publisher -> 1 subscriber, both over WebSocket (its bar: >= 0.5x nats-server's
// WebSocket listener). The generator speaks the client protocol inside binary WebSocket messages
// through the `ws` package: the publisher sends the same ~256 KiB blocks of PUB frames as the TCP
// pubsub scenario (one block per WebSocket message, sequence-stamped), the subscriber feeds every
// message's bytes to the same MsgScanner. Checks that all messages arrive in publish order.

import { performance } from 'node:perf_hooks';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import WebSocket from 'ws';
import { completion } from '../lib/completion.ts';
import { MsgScanner, type ScannerSink, type SeqHandler } from '../lib/msg-scanner.ts';
import { buildPubBlock } from '../lib/publisher.ts';
import type { RunContext, Scenario } from './types.ts';

const PING = Buffer.from('PING\r\n');
const PONG = Buffer.from('PONG\r\n');
/** Publisher backpressure: stop sending while this much is queued in the WebSocket. */
const HIGH_WATER_BYTES = 1024 * 1024;

/** One NATS connection over WebSocket for the load generator (the RawConn of ws://). */
export class RawWsConn implements ScannerSink {
  readonly scanner: MsgScanner;
  failure: Error | null = null;
  onData: (() => void) | null = null;
  onFailure: ((err: Error) => void) | null = null;
  private readonly pongWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private infoWaiter: (() => void) | null = null;
  private closing = false;

  private constructor(
    readonly ws: WebSocket,
    readonly name: string,
    onSeq: SeqHandler | undefined,
  ) {
    this.scanner = new MsgScanner(this, null, onSeq ?? null);
    ws.on('message', (data: Buffer) => {
      try {
        this.scanner.feed(data);
      } catch (err) {
        this.fail(err as Error);
        ws.terminate();
        return;
      }
      if (this.onData !== null) this.onData();
    });
    ws.on('error', (err) => this.fail(err));
    ws.on('close', () => {
      if (!this.closing) this.fail(new Error(`${name}: websocket closed by server after ${this.scanner.count} msgs`));
    });
  }

  static async connect(url: string, name: string, onSeq?: SeqHandler): Promise<RawWsConn> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const conn = new RawWsConn(ws, name, onSeq);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no INFO within 10 s`)), 10_000);
      conn.infoWaiter = () => {
        clearTimeout(timer);
        resolve();
      };
      conn.onFailure = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
    conn.onFailure = null;
    const connect = { verbose: false, pedantic: false, headers: true, protocol: 1, name, lang: 'sluice-bench', version: '0' };
    ws.send(Buffer.from(`CONNECT ${JSON.stringify(connect)}\r\n`));
    await conn.flush();
    return conn;
  }

  onPing(): void {
    this.ws.send(PONG);
  }
  onPong(): void {
    this.pongWaiters.shift()?.resolve();
  }
  onInfo(): void {
    const w = this.infoWaiter;
    this.infoWaiter = null;
    w?.();
  }
  onErr(text: string): void {
    this.fail(new Error(`${this.name}: server sent -ERR ${text} (after ${this.scanner.count} msgs)`));
  }

  flush(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pongWaiters.push({ resolve, reject });
      this.ws.send(PING);
    });
  }

  send(data: Buffer): void {
    this.ws.send(data, { binary: true });
  }

  close(): void {
    this.closing = true;
    this.ws.terminate();
    for (const w of this.pongWaiters.splice(0)) w.reject(new Error(`${this.name}: closed`));
  }

  private fail(err: Error): void {
    if (this.failure !== null || this.closing) return;
    this.failure = err;
    for (const w of this.pongWaiters.splice(0)) w.reject(err);
    this.onFailure?.(err);
  }
}

/** Sends `count` stamped PUB frames, one block per WebSocket message, with backpressure. */
async function publish(conn: RawWsConn, subject: string, payloadBytes: number, count: number): Promise<void> {
  const { block, frameBytes, framesPerBlock, payloadOffset } = buildPubBlock(subject, payloadBytes);
  const stamp = payloadBytes >= 4;
  let seq = 0;
  let left = count;
  while (left > 0) {
    const frames = Math.min(framesPerBlock, left);
    // A fresh buffer per message: ws may still hold the previous one in its send queue.
    const chunk = Buffer.allocUnsafe(frames * frameBytes);
    block.copy(chunk, 0, 0, chunk.length);
    if (stamp) for (let f = 0, at = payloadOffset; f < frames; f++, at += frameBytes) chunk.writeUInt32BE(seq++ >>> 0, at);
    left -= frames;
    if (conn.ws.bufferedAmount > HIGH_WATER_BYTES) {
      await new Promise<void>((resolve, reject) => conn.ws.send(chunk, { binary: true }, (err) => (err ? reject(err) : resolve())));
    } else {
      conn.send(chunk);
      await yieldTurn();
    }
    if (conn.failure !== null) throw conn.failure;
  }
}

async function runWsPubsub(ctx: RunContext): Promise<Record<string, number>> {
  const p = ctx.params;
  const wsPort = ctx.server.wsPort;
  if (wsPort === undefined) throw new Error('ws-pubsub needs the server started with a WebSocket port (needs: websocket)');
  const url = `ws://${ctx.server.host}:${wsPort}`;
  const subject = String(p.subject);
  const payloadBytes = Number(p.payloadBytes);
  const msgs = Number(p.msgs);
  let expected = 0;
  let seqErrors = 0;
  let firstError = '';
  const onSeq =
    payloadBytes >= 4
      ? (seq: number): void => {
          if (seq !== expected && seqErrors++ === 0) firstError = `expected ${expected}, got ${seq}`;
          expected = seq + 1;
        }
      : undefined;
  const conns: RawWsConn[] = [];
  try {
    const sub = await RawWsConn.connect(url, 'ws-sub', onSeq);
    conns.push(sub);
    sub.send(Buffer.from(`SUB ${subject} 1\r\n`));
    await sub.flush();
    const pub = await RawWsConn.connect(url, 'ws-pub');
    conns.push(pub);

    const done = completion<number>(Number(p.timeoutMs), () => `timed out waiting for ${msgs} deliveries (have ${sub.scanner.count})`);
    sub.onData = () => {
      if (sub.scanner.count >= msgs) done.resolve(performance.now());
    };
    for (const c of conns) c.onFailure = done.reject;

    ctx.measureStart();
    const t0 = performance.now();
    await publish(pub, subject, payloadBytes, msgs);
    const tPub = performance.now();
    const tEnd = await done.promise;
    ctx.measureEnd();
    sub.onData = null;
    await Promise.all([pub.flush(), sub.flush()]);
    if (sub.scanner.count !== msgs) throw new Error(`expected ${msgs} deliveries, got ${sub.scanner.count}`);
    if (seqErrors > 0) throw new Error(`${seqErrors} ordering errors; first: ${firstError}`);
    const sec = (tEnd - t0) / 1000;
    return {
      msgsPerSec: msgs / sec,
      mbPerSec: (msgs * payloadBytes) / sec / 1e6,
      pubMsgsPerSec: msgs / ((tPub - t0) / 1000),
      elapsedMs: tEnd - t0,
    };
  } finally {
    for (const c of conns) c.close();
  }
}

export function wsPubsubScenario(msgs: number): Scenario {
  return {
    name: 'ws-pubsub',
    group: 'ws-pubsub',
    description: '1 publisher -> 1 subscriber over WebSocket, 16B payload',
    params: { msgs, payloadBytes: 16, subject: 'bench.ws', timeoutMs: 120_000 },
    countParam: 'msgs',
    needs: ['websocket'],
    bar: { op: '>=', ratio: 0.5 },
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'mbPerSec', label: 'payload MB/s', better: 'higher' },
      { key: 'pubMsgsPerSec', label: 'publish msgs/s', better: 'higher' },
    ],
    primary: 'msgsPerSec',
    run: runWsPubsub,
  };
}
