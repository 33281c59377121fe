// js-pub-refill, js-pub-conns100, js-pub-conns1000: JetStream publish shaped like real publishers,
// next to js-pub (scenarios/js-pub.ts), for issue 19's "publish that does not depend on how clients
// batch their writes". All three use the same file stream BENCH on `bench.js.>`, 128 B payloads,
// 1,000 PubAcks outstanding in total, raw sockets (no client library), and report acked msgs/s.
//
// - js-pub-refill: js-pub's one connection, but it reads into a 4 KiB buffer (`readBytes`, net's
//   onread) instead of Node's 64 KiB reads, and after each read writes exactly as many new PUB
//   frames as that read held acks, in one write. A server that acks a whole commit at once still
//   gets its refill in writes of ~60 frames (4 KiB of acks), as from a client with a small read
//   buffer or one that publishes as events happen. js-pub lets one read take up to 64 KiB of
//   acks, so against a server that acks in bursts it refills ~700 frames per write.
// - js-pub-conns100 / js-pub-conns1000: 100 connections with 10 in flight each / 1,000 with 1 in
//   flight each (services and devices each sending a few messages). Each connection has its own
//   inbox `_INBOX.b<i>.*` and refills after each read as js-pub does; with 1 in flight every
//   write is one PUB frame.
//
// Checks (besides the clock): every ack is a PubAck (`{"stream"...`, not `{"error"...`); in the
// many-publisher variants every ack's seq is read (the digits before the closing brace, no JSON),
// must lie in 1..msgs, be seen exactly once over all connections (a bitmap) and be larger than
// the previous ack's seq on the same connection (each connection's publishes are stored in the
// order it sent them); afterwards STREAM.INFO must report exactly msgs messages, 1..msgs.

import { performance } from 'node:perf_hooks';
import { RawConn } from '../lib/raw-conn.ts';
import { DURABILITY, JsPubConn, frameParts, runJsPub, writeDecimal } from './js-pub.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

const S_LOWER = 0x73;
const CLOSE_BRACE = 0x7d;
const ZERO = 48;
/** Connections opened at once while setting up (the servers' accept queues stay short). */
const CONNECT_PARALLEL = 50;

/** The PubAck's seq: the decimal digits right before its closing brace; -1 when there are none. */
export function ackSeq(payload: Buffer): number {
  let e = payload.length - 1;
  while (e >= 0 && payload[e] !== CLOSE_BRACE) e--;
  let i = e - 1;
  let n = 0;
  let mul = 1;
  while (i >= 0) {
    const d = payload[i]! - ZERO;
    if (d < 0 || d > 9) break;
    n += d * mul;
    mul *= 10;
    i--;
  }
  return i === e - 1 ? -1 : n;
}

/** What every publisher of one run shares: the seqs seen, counts and the first problem. */
class AckLedger {
  readonly seen: Uint8Array;
  acked = 0;
  problem = '';
  constructor(readonly msgs: number) {
    this.seen = new Uint8Array(msgs + 1);
  }
  bad(what: string): void {
    if (this.problem === '') this.problem = what;
  }
}

/** One publishing connection of the many-publisher variants. */
class Publisher {
  conn!: RawConn;
  sent = 0;
  acked = 0;
  writes = 0;
  private lastSeq = 0;
  private readonly head: Buffer;

  constructor(
    readonly id: number,
    private readonly quota: number,
    private readonly window: number,
    private readonly ledger: AckLedger,
    subject: string,
    private readonly tail: Buffer,
  ) {
    this.head = Buffer.from(`PUB ${subject} _INBOX.b${id}.`);
  }

  async connect(ctx: RunContext): Promise<void> {
    this.conn = await RawConn.connect(ctx.server, { name: `js-pub-${this.id}`, onMsg: (line, payload) => this.onAck(line, payload) });
    this.conn.sub(`_INBOX.b${this.id}.*`, 1);
    await this.conn.flush();
  }

  private onAck(line: Buffer, payload: Buffer): void {
    this.acked++;
    this.ledger.acked++;
    if (payload.length < 12 || payload[2] !== S_LOWER) {
      this.ledger.bad(`conn ${this.id}: not a PubAck: ${line.toString('latin1')}: ${payload.toString('utf8').slice(0, 300)}`);
      return;
    }
    const seq = ackSeq(payload);
    const l = this.ledger;
    if (seq < 1 || seq > l.msgs) l.bad(`conn ${this.id}: PubAck seq ${seq} outside 1..${l.msgs}: ${payload.toString('utf8')}`);
    else if (l.seen[seq] !== 0) l.bad(`conn ${this.id}: seq ${seq} acked twice`);
    else if (seq <= this.lastSeq) l.bad(`conn ${this.id}: seq ${seq} acked after ${this.lastSeq}`);
    else l.seen[seq] = 1;
    this.lastSeq = seq;
  }

  /** Fills this connection's window: the freed slots, in one write. */
  fill(): void {
    const room = Math.min(this.window - (this.sent - this.acked), this.quota - this.sent);
    if (room <= 0) return;
    const buf = Buffer.allocUnsafe(room * (this.head.length + 16 + this.tail.length));
    let at = 0;
    for (let k = 0; k < room; k++) {
      at += this.head.copy(buf, at);
      at = writeDecimal(buf, at, ++this.sent);
      at += this.tail.copy(buf, at);
    }
    this.writes++;
    this.conn.socket.write(buf.subarray(0, at));
  }
}

async function connectAll(ctx: RunContext, pubs: Publisher[]): Promise<void> {
  for (let i = 0; i < pubs.length; i += CONNECT_PARALLEL) {
    await Promise.all(pubs.slice(i, i + CONNECT_PARALLEL).map((p) => p.connect(ctx)));
  }
}

export async function runJsPubMany(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const msgs = Number(p.msgs);
  const conns = Number(p.conns);
  const window = Number(p.inflight);
  const timeoutMs = Number(p.timeoutMs);
  const { tail } = frameParts(String(p.subject), Number(p.payloadBytes));
  const ledger = new AckLedger(msgs);
  // The control connection creates the stream and checks it afterwards; it publishes nothing.
  const js = await JsPubConn.open(ctx, 'js-pub-control', Number.MAX_SAFE_INTEGER, msgs);
  const pubs = Array.from({ length: conns }, (_, i) => new Publisher(i, Math.floor(msgs / conns) + (i < msgs % conns ? 1 : 0), window, ledger, String(p.subject), tail));
  try {
    await connectAll(ctx, pubs);
    let timer: NodeJS.Timeout | undefined;
    let t0 = 0;
    const elapsedMs = await new Promise<number>((resolve, reject) => {
      let done = false;
      const onData = (pub: Publisher): void => {
        if (done) return;
        if (ledger.problem !== '') {
          done = true;
          reject(new Error(`PubAck check failed after ${ledger.acked} acks: ${ledger.problem}`));
          return;
        }
        if (ledger.acked >= msgs) {
          done = true;
          const ms = performance.now() - t0;
          ctx.measureEnd();
          resolve(ms);
          return;
        }
        pub.fill();
      };
      for (const pub of pubs) {
        pub.conn.onFailure = reject;
        pub.conn.onData = () => onData(pub);
      }
      const sentNow = (): number => pubs.reduce((n, x) => n + x.sent, 0);
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${ledger.acked} of ${msgs} acked, ${sentNow()} sent`)), timeoutMs);
      ctx.measureStart();
      t0 = performance.now();
      for (const pub of pubs) pub.fill();
    }).finally(() => clearTimeout(timer));
    for (const pub of pubs) pub.conn.onData = null;
    // Late duplicates would arrive before the PONGs.
    await Promise.all(pubs.map((x) => x.conn.flush()));
    if (ledger.problem !== '') throw new Error(`PubAck check failed: ${ledger.problem}`);
    if (ledger.acked !== msgs) throw new Error(`${ledger.acked} PubAcks for ${msgs} publishes`);
    await js.verifyStream();
    const writes = pubs.reduce((n, x) => n + x.writes, 0);
    return { msgsPerSec: msgs / (elapsedMs / 1000), elapsedMs, avgFramesPerWrite: msgs / writes };
  } finally {
    for (const pub of pubs) pub.conn?.close();
    js.conn.close();
  }
}

const COMMON = { payloadBytes: 128, subject: 'bench.js.x', timeoutMs: 300_000 };
const METRICS = [{ key: 'msgsPerSec', label: 'acked msgs/s', better: 'higher' as const }];

export function jsPubRefillScenario(msgs: number): Scenario {
  return {
    name: 'js-pub-refill',
    group: 'js-pub-load',
    description: `JetStream async publish, one connection, <= 1,000 PubAcks outstanding, refilled after each 4 KiB read with as many PUBs as acks it held, 128 B, file stream; acked msgs/s. ${DURABILITY}`,
    params: { msgs, ...COMMON, maxPending: 1000, refillMin: 1, readBytes: 4096, sampleEvery: 1000, connName: 'js-pub-refill' },
    countParam: 'msgs',
    metrics: METRICS,
    primary: 'msgsPerSec',
    needs: ['jetstream'],
    bar: { op: '>=', ratio: 1.5 },
    run: runJsPub,
  };
}

export function jsPubManyScenario(conns: number, inflight: number, msgs: number): Scenario {
  return {
    name: `js-pub-conns${conns}`,
    group: 'js-pub-load',
    description: `JetStream async publish from ${conns} connections with ${inflight} PubAcks outstanding each, refilled per read, 128 B, file stream; acked msgs/s; every ack's seq checked. ${DURABILITY}`,
    params: { msgs, ...COMMON, conns, inflight },
    countParam: 'msgs',
    metrics: METRICS,
    primary: 'msgsPerSec',
    needs: ['jetstream'],
    bar: { op: '>=', ratio: 1.5 },
    run: runJsPubMany,
  };
}
