// reqrep-raw: sequential request/reply over raw sockets. One responder connection subscribed to
// the service subject echoes each request to its reply subject; one requester sends a request, waits
// for the reply, records the round trip, sends the next. Reports latency percentiles in µs.
// The clients add almost nothing here, so this isolates the server's per-hop cost.

import { performance } from 'node:perf_hooks';
import { RawConn } from '../lib/raw-conn.ts';
import { summarizeLatencies } from '../lib/stats.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

export const LATENCY_METRICS = [
  { key: 'p50Us', label: 'p50 µs', better: 'lower' },
  { key: 'p99Us', label: 'p99 µs', better: 'lower' },
  { key: 'p999Us', label: 'p99.9 µs', better: 'lower' },
  { key: 'reqPerSec', label: 'requests/s', better: 'higher' },
] as const;

const SP = 0x20;
const TAB = 0x09;

/** Token boundaries of a control line view: [start0, end0, start1, end1, ...]. */
function tokens(line: Buffer): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && (line[i] === SP || line[i] === TAB)) i++;
    if (i >= line.length) break;
    const s = i;
    while (i < line.length && line[i] !== SP && line[i] !== TAB) i++;
    out.push(s, i);
  }
  return out;
}

/** Responder: for `MSG <subj> <sid> <reply> <n>` publish the payload back to <reply>. */
function echoHandler(getConn: () => RawConn | null): (line: Buffer, payload: Buffer) => void {
  return (line, payload) => {
    const t = tokens(line);
    if (t.length !== 10) return; // no reply subject: nothing to answer
    const reply = line.subarray(t[6], t[7]);
    const size = String(payload.length);
    const out = Buffer.allocUnsafe(4 + reply.length + 1 + size.length + 2 + payload.length + 2);
    let at = out.write('PUB ', 0, 'latin1');
    at += reply.copy(out, at);
    at += out.write(` ${size}\r\n`, at, 'latin1');
    at += payload.copy(out, at);
    out.write('\r\n', at, 'latin1');
    getConn()?.socket.write(out);
  };
}

export async function runRawReqRep(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const n = Number(p.requests);
  const warmup = Number(p.warmup);
  const subject = String(p.subject);
  const payloadBytes = Number(p.payloadBytes);
  const timeoutMs = Number(p.timeoutMs);

  let responder: RawConn | null = null;
  let requester: RawConn | null = null;
  try {
    responder = await RawConn.connect(ctx.server, { name: 'responder', onMsg: echoHandler(() => responder) });
    responder.sub(subject, 1);
    await responder.flush();
    const inbox = '_INBOX.bench.r';
    requester = await RawConn.connect(ctx.server, { name: 'requester' });
    requester.sub(inbox, 1);
    await requester.flush();

    const frame = Buffer.concat([Buffer.from(`PUB ${subject} ${inbox} ${payloadBytes}\r\n`), Buffer.alloc(payloadBytes, 0x78), Buffer.from('\r\n')]);
    const samplesUs = new Float64Array(n);
    const req = requester;
    const resp = responder;
    let timer: NodeJS.Timeout | undefined;
    const started = { t: 0 };
    const elapsed = await new Promise<number>((resolve, reject) => {
      let i = -warmup;
      let received = 0;
      let sentAt = 0;
      const send = (): void => {
        sentAt = performance.now();
        req.socket.write(frame);
      };
      req.onFailure = reject;
      resp.onFailure = reject;
      req.onData = () => {
        while (req.scanner.count > received) {
          received++;
          const now = performance.now();
          if (i >= 0) samplesUs[i] = (now - sentAt) * 1000;
          i++;
          if (i === 0) {
            ctx.measureStart();
            started.t = performance.now();
          }
          if (i < n) send();
          else {
            ctx.measureEnd();
            resolve(performance.now() - started.t);
            return;
          }
        }
      };
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms with ${i} of ${n} requests done`)), timeoutMs);
      if (warmup === 0) {
        ctx.measureStart();
        started.t = performance.now();
      }
      send();
    }).finally(() => clearTimeout(timer));
    return { ...summarizeLatencies(samplesUs), reqPerSec: n / (elapsed / 1000), elapsedMs: elapsed };
  } finally {
    responder?.close();
    requester?.close();
  }
}

export function reqrepRawScenario(requests: number): Scenario {
  return {
    name: 'reqrep-raw',
    group: 'reqrep',
    description: 'sequential request/reply, raw-socket requester and responder, 16 B payload',
    params: { requests, warmup: 2000, payloadBytes: 16, subject: 'bench.svc', timeoutMs: 120_000 },
    countParam: 'requests',
    metrics: [...LATENCY_METRICS],
    primary: 'p99Us',
    run: runRawReqRep,
  };
}
