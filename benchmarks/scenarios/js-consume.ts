// js-consume: JetStream pull consumption. A stream is pre-filled with `msgs` messages of
// `payloadBytes` (published without replies, then waited for with STREAM.INFO), one durable pull
// consumer with explicit acks is created, and a raw-socket client pulls it empty: it keeps
// `inflight` pull requests of `batch` messages outstanding and answers every delivered message
// with a raw `PUB <ack reply> 0` (+ACK), written once per received socket chunk. The clock runs
// from the first pull request to the last message received; afterwards CONSUMER.INFO must show
// every message acknowledged and none redelivered.

import { performance } from 'node:perf_hooks';
import { RawConn } from '../lib/raw-conn.ts';
import { buildPubBlock, publishFrames } from '../lib/publisher.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

const STREAM = 'BENCH_JS';
const CONSUMER = 'bench';
const API_INBOX = '_INBOX.jsbench.api';
const PULL_INBOX = '_INBOX.jsbench.pull';

/** One outstanding JetStream API request at a time over a raw connection. */
export class ApiClient {
  private waiter: ((json: Record<string, unknown>) => void) | null = null;
  conn!: RawConn;

  static async open(ctx: RunContext): Promise<ApiClient> {
    const api = new ApiClient();
    api.conn = await RawConn.connect(ctx.server, {
      name: 'js-api',
      onMsg: (_line, payload) => {
        const w = api.waiter;
        api.waiter = null;
        w?.(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      },
    });
    api.conn.sub(API_INBOX, 1);
    await api.conn.flush();
    return api;
  }

  request(subject: string, body: unknown, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    const payload = Buffer.from(body === '' ? '' : JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${subject} within ${timeoutMs} ms`)), timeoutMs);
      this.waiter = (json) => {
        clearTimeout(timer);
        if (json.error !== undefined) reject(new Error(`${subject}: ${JSON.stringify(json.error)}`));
        else resolve(json);
      };
      this.conn.socket.write(Buffer.concat([Buffer.from(`PUB ${subject} ${API_INBOX} ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
    });
  }
}

/** Token boundaries [s0, e0, s1, e1, ...] of a control line. */
function tokenBounds(line: Buffer, out: number[]): number {
  let n = 0;
  let i = 0;
  while (i < line.length && n < 12) {
    while (i < line.length && line[i] === 0x20) i++;
    if (i >= line.length) break;
    out[n++] = i;
    while (i < line.length && line[i] !== 0x20) i++;
    out[n++] = i;
  }
  return n / 2;
}

export async function prefill(ctx: RunContext, api: ApiClient, msgs: number, payloadBytes: number, subject: string, stream = STREAM): Promise<void> {
  await api.request(`$JS.API.STREAM.CREATE.${stream}`, { name: stream, subjects: [subject], storage: 'file' });
  const pub = await RawConn.connect(ctx.server, { name: 'prefill' });
  try {
    await publishFrames(pub, buildPubBlock(subject, payloadBytes), { count: msgs, stampSeq: false });
    await pub.flush();
  } finally {
    pub.close();
  }
  const deadline = performance.now() + 120_000;
  for (;;) {
    const info = await api.request(`$JS.API.STREAM.INFO.${stream}`, '');
    const stored = (info.state as { messages: number }).messages;
    if (stored >= msgs) return;
    if (performance.now() > deadline) throw new Error(`stream holds ${stored} of ${msgs} messages after prefill`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runJsConsume(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const msgs = Number(p.msgs);
  const batch = Number(p.batch);
  const inflight = Number(p.inflight);
  const payloadBytes = Number(p.payloadBytes);
  const timeoutMs = Number(p.timeoutMs);
  const api = await ApiClient.open(ctx);
  let consumer: RawConn | null = null;
  try {
    await prefill(ctx, api, msgs, payloadBytes, 'bench.js');
    const cfg: Record<string, unknown> = { durable_name: CONSUMER, ack_policy: 'explicit' };
    if (Number(p.maxAckPending) > 0) cfg.max_ack_pending = Number(p.maxAckPending);
    await api.request(`$JS.API.CONSUMER.CREATE.${STREAM}.${CONSUMER}`, { stream_name: STREAM, config: cfg, action: 'create' });

    const pullFrame = (() => {
      const body = Buffer.from(JSON.stringify({ batch }));
      return Buffer.concat([Buffer.from(`PUB $JS.API.CONSUMER.MSG.NEXT.${STREAM}.${CONSUMER} ${PULL_INBOX} ${body.length}\r\n`), body, Buffer.from('\r\n')]);
    })();
    // Acks of one socket chunk are collected here and written once.
    let acks = Buffer.allocUnsafe(1 << 20);
    let ackLen = 0;
    let received = 0;
    let redelivered = 0;
    let statuses = 0;
    let sinceLastPull = 0;
    const bounds: number[] = [];
    const ACK_HEAD = Buffer.from('PUB ');
    const ACK_TAIL = Buffer.from(' 0\r\n\r\n');
    consumer = await RawConn.connect(ctx.server, {
      name: 'js-consumer',
      onMsg: (line) => {
        const n = tokenBounds(line, bounds);
        if (n !== 5 || line[0] !== 0x4d /* M */) {
          statuses++; // HMSG: a status (none expected without expires/max_bytes)
          return;
        }
        const rs = bounds[6]!;
        const re = bounds[7]!;
        // $JS.ACK.<stream>.<consumer>.<delivered count>.…: a count above 1 is a redelivery.
        const dcStart = rs + 9 + STREAM.length + 1 + CONSUMER.length;
        if (line[dcStart] !== 0x31 || line[dcStart + 1] !== 0x2e) redelivered++;
        const need = ACK_HEAD.length + (re - rs) + ACK_TAIL.length;
        if (ackLen + need > acks.length) {
          const bigger = Buffer.allocUnsafe(acks.length * 2);
          acks.copy(bigger, 0, 0, ackLen);
          acks = bigger;
        }
        ackLen += ACK_HEAD.copy(acks, ackLen);
        ackLen += line.copy(acks, ackLen, rs, re);
        ackLen += ACK_TAIL.copy(acks, ackLen);
        received++;
        if (++sinceLastPull === batch && received + (inflight - 1) * batch < msgs) {
          sinceLastPull = 0;
          const need2 = pullFrame.length;
          if (ackLen + need2 > acks.length) {
            const bigger = Buffer.allocUnsafe(acks.length * 2);
            acks.copy(bigger, 0, 0, ackLen);
            acks = bigger;
          }
          ackLen += pullFrame.copy(acks, ackLen);
        }
      },
    });
    consumer.sub(PULL_INBOX, 1);
    await consumer.flush();

    const conn = consumer;
    let timer: NodeJS.Timeout | undefined;
    const t0 = performance.now();
    const elapsedMs = await new Promise<number>((resolve, reject) => {
      conn.onFailure = reject;
      conn.onData = () => {
        if (ackLen > 0) {
          conn.socket.write(Buffer.from(acks.subarray(0, ackLen)));
          ackLen = 0;
        }
        if (received >= msgs) {
          ctx.measureEnd();
          resolve(performance.now() - t0);
        }
      };
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms with ${received} of ${msgs} messages`)), timeoutMs);
      ctx.measureStart();
      for (let i = 0; i < inflight; i++) conn.socket.write(pullFrame);
    }).finally(() => clearTimeout(timer));
    conn.onData = null;
    await conn.flush();

    // Every ack must have been taken: nothing pending, nothing redelivered.
    let info: Record<string, unknown> = {};
    for (let i = 0; i < 100; i++) {
      info = await api.request(`$JS.API.CONSUMER.INFO.${STREAM}.${CONSUMER}`, '');
      if ((info.ack_floor as { stream_seq: number }).stream_seq >= msgs) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const floor = (info.ack_floor as { stream_seq: number }).stream_seq;
    if (floor < msgs || redelivered > 0) {
      throw new Error(`ack floor ${floor} of ${msgs}, ${redelivered} redeliveries, ${info.num_ack_pending} pending, ${statuses} statuses`);
    }
    return { msgsPerSec: msgs / (elapsedMs / 1000), elapsedMs };
  } finally {
    consumer?.close();
    api.conn.close();
  }
}

export function jsConsumeScenario(msgs: number): Scenario {
  return {
    name: 'js-consume',
    group: 'js-consume',
    description: 'JetStream: drain a pre-filled stream with one durable pull consumer, explicit raw acks, batches of 500',
    params: { msgs, payloadBytes: 128, batch: 500, inflight: 2, maxAckPending: 0, timeoutMs: 180_000 },
    countParam: 'msgs',
    metrics: [{ key: 'msgsPerSec', label: 'msgs/s', better: 'higher' }],
    primary: 'msgsPerSec',
    needs: ['jetstream'],
    bar: { op: '>=', ratio: 1.0 },
    run: runJsConsume,
  };
}
