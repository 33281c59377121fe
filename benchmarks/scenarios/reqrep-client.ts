// reqrep-client: sequential request/reply with the official client (@nats-io/transport-node v3) at
// both ends: a responder connection whose subscription callback calls msg.respond(), and a
// requester that awaits nc.request() one at a time. This is the "reqrep p99 (official client,
// sequential)" bar; it includes the client's own costs (inbox mux, promises), which are
// the same against both servers.

import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { summarizeLatencies } from '../lib/stats.ts';
import { LATENCY_METRICS } from './reqrep-raw.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

async function runClientReqRep(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const n = Number(p.requests);
  const warmup = Number(p.warmup);
  const subject = String(p.subject);
  const payload = new Uint8Array(Number(p.payloadBytes)).fill(0x78);
  const servers = `${ctx.server.host}:${ctx.server.port}`;

  const conns: NatsConnection[] = [];
  try {
    const responder = await connect({ servers, name: 'bench-responder', reconnect: false });
    conns.push(responder);
    responder.subscribe(subject, {
      callback: (err, msg) => {
        if (err === null) msg.respond(msg.data);
      },
    });
    await responder.flush();
    const requester = await connect({ servers, name: 'bench-requester', reconnect: false });
    conns.push(requester);

    const samplesUs = new Float64Array(n);
    const opts = { timeout: Number(p.requestTimeoutMs) };
    for (let i = 0; i < warmup; i++) await requester.request(subject, payload, opts);
    ctx.measureStart();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await requester.request(subject, payload, opts);
      samplesUs[i] = (performance.now() - s) * 1000;
    }
    const elapsed = performance.now() - t0;
    ctx.measureEnd();
    return { ...summarizeLatencies(samplesUs), reqPerSec: n / (elapsed / 1000), elapsedMs: elapsed };
  } finally {
    await Promise.allSettled(conns.map((c) => c.close()));
  }
}

export function reqrepClientScenario(requests: number): Scenario {
  return {
    name: 'reqrep-client',
    group: 'reqrep',
    description: 'sequential request/reply, official @nats-io/transport-node client at both ends, 16 B payload',
    params: { requests, warmup: 2000, payloadBytes: 16, subject: 'bench.svc', requestTimeoutMs: 5000 },
    countParam: 'requests',
    bar: { op: '<=', ratio: 2 },
    metrics: [...LATENCY_METRICS],
    primary: 'p99Us',
    run: runClientReqRep,
  };
}
