// js-mirror: mirror catch-up. An origin stream is pre-filled with `msgs` messages of
// `payloadBytes`, then a mirror of it is created; the clock runs from the STREAM.CREATE of the
// mirror until its STREAM.INFO shows every message stored and lag 0 (polled every `pollMs`, which
// bounds the resolution). Metric: messages copied per second.

import { performance } from 'node:perf_hooks';
import { ApiClient, prefill } from './js-consume.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

const ORIGIN = 'BENCH_ORIGIN';
const MIRROR = 'BENCH_MIRROR';

export async function runJsMirror(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const msgs = Number(p.msgs);
  const pollMs = Number(p.pollMs);
  const timeoutMs = Number(p.timeoutMs);
  const api = await ApiClient.open(ctx);
  try {
    await prefill(ctx, api, msgs, Number(p.payloadBytes), 'bench.mirror', ORIGIN);
    ctx.measureStart();
    const t0 = performance.now();
    await api.request(`$JS.API.STREAM.CREATE.${MIRROR}`, { name: MIRROR, mirror: { name: ORIGIN }, storage: 'file' });
    for (;;) {
      const info = await api.request(`$JS.API.STREAM.INFO.${MIRROR}`, '');
      const stored = (info.state as { messages: number }).messages;
      const lag = (info.mirror as { lag?: number } | undefined)?.lag ?? -1;
      if (stored >= msgs && lag === 0) break;
      if (performance.now() - t0 > timeoutMs) throw new Error(`mirror holds ${stored} of ${msgs} (lag ${lag}) after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    const elapsedMs = performance.now() - t0;
    ctx.measureEnd();
    return { msgsPerSec: msgs / (elapsedMs / 1000), elapsedMs };
  } finally {
    api.conn.close();
  }
}

export function jsMirrorScenario(msgs: number): Scenario {
  return {
    name: 'js-mirror',
    group: 'js-mirror',
    description: 'JetStream: a mirror of a pre-filled stream catches up (create to lag 0)',
    params: { msgs, payloadBytes: 128, pollMs: 5, timeoutMs: 180_000 },
    countParam: 'msgs',
    metrics: [{ key: 'msgsPerSec', label: 'msgs/s', better: 'higher' }],
    primary: 'msgsPerSec',
    needs: ['jetstream'],
    bar: { op: '>=', ratio: 1.0 },
    run: runJsMirror,
  };
}
