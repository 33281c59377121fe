// client-pubsub / client-reqrep: our client (sluice/client) against the official
// @nats-io/transport-node v3 on the SAME server in the same run — the client's performance bar
// (pubsub 16 B msgs/s >= 1.0x the official client; request/reply p99 <= 1.0x).
//
// Each run measures both clients, alternating official/ours over `rounds` rounds, and reports the
// medians and the ratios ours/official. The server comparison the framework adds on top (sluice vs
// nats-server) then says how each server treats the same client traffic.
//
// pubsub: one publisher connection and one subscriber connection (callback that counts), in this
// process; the publisher publishes `msgs` messages in batches of `batch`, yielding one event-loop
// turn between batches (both clients the same) so the subscriber can read. Clock: first publish
// to last message received.
// reqrep: a responder connection (callback -> respond) and a requester awaiting each request.

import { performance } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { connect as officialConnect, type NatsConnection as OfficialConnection } from '@nats-io/transport-node';
import { connect as oursConnect, type NatsConnection as OursConnection } from '../../client/index.ts';
import { median, summarizeLatencies } from '../lib/stats.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

type Which = 'ours' | 'official';

/** The few calls both clients share, so one driver measures both. */
interface BenchClient {
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, onMsg: (data: Uint8Array, reply: string) => void): void;
  respond(reply: string, data: Uint8Array): void;
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<unknown>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

async function open(which: Which, servers: string, name: string): Promise<BenchClient> {
  if (which === 'official') {
    const nc: OfficialConnection = await officialConnect({ servers, name, reconnect: false });
    return {
      publish: (s, d) => nc.publish(s, d),
      subscribe: (s, on) =>
        void nc.subscribe(s, {
          callback: (err, m) => {
            if (err === null) on(m.data, m.reply ?? '');
          },
        }),
      respond: (r, d) => nc.publish(r, d),
      request: (s, d, t) => nc.request(s, d, { timeout: t }),
      flush: () => nc.flush(),
      close: () => nc.close(),
    };
  }
  const nc: OursConnection = await oursConnect({ servers, name, reconnect: false });
  return {
    publish: (s, d) => nc.publish(s, d),
    subscribe: (s, on) => void nc.subscribe(s, { callback: (m) => on(m.data, m.reply) }),
    respond: (r, d) => nc.publish(r, d),
    request: (s, d, t) => nc.request(s, d, { timeoutMs: t }),
    flush: () => nc.flush(),
    close: () => nc.close(),
  };
}

function serversOf(ctx: RunContext): string {
  return `${ctx.server.host}:${ctx.server.port}`;
}

async function pubsubOnce(ctx: RunContext, which: Which): Promise<number> {
  const p = ctx.params;
  const n = Number(p.msgs);
  const batch = Number(p.batch);
  const subject = String(p.subject);
  const payload = new Uint8Array(Number(p.payloadBytes)).fill(0x61);
  const servers = serversOf(ctx);
  const sub = await open(which, servers, `bench-${which}-sub`);
  const pub = await open(which, servers, `bench-${which}-pub`);
  try {
    let got = 0;
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    sub.subscribe(subject, () => {
      if (++got === n) done();
    });
    await sub.flush();
    const t0 = performance.now();
    for (let sent = 0; sent < n; ) {
      const end = Math.min(n, sent + batch);
      for (; sent < end; sent++) pub.publish(subject, payload);
      await turn();
    }
    await pub.flush();
    await finished;
    return n / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.allSettled([pub.close(), sub.close()]);
  }
}

async function reqrepOnce(ctx: RunContext, which: Which): Promise<Float64Array> {
  const p = ctx.params;
  const n = Number(p.requests);
  const warmup = Number(p.warmup);
  const subject = String(p.subject);
  const timeoutMs = Number(p.requestTimeoutMs);
  const payload = new Uint8Array(Number(p.payloadBytes)).fill(0x78);
  const servers = serversOf(ctx);
  const responder = await open(which, servers, `bench-${which}-responder`);
  const requester = await open(which, servers, `bench-${which}-requester`);
  try {
    responder.subscribe(subject, (data, reply) => {
      if (reply !== '') responder.respond(reply, data);
    });
    await responder.flush();
    for (let i = 0; i < warmup; i++) await requester.request(subject, payload, timeoutMs);
    const samplesUs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      await requester.request(subject, payload, timeoutMs);
      samplesUs[i] = (performance.now() - s) * 1000;
    }
    return samplesUs;
  } finally {
    await Promise.allSettled([requester.close(), responder.close()]);
  }
}

export function clientPubsubScenario(msgs: number): Scenario {
  return {
    name: 'client-pubsub-16B',
    group: 'client',
    description: 'sluice/client vs @nats-io/transport-node: 1 publisher -> 1 subscriber, 16 B, same server, alternating',
    params: { msgs, payloadBytes: 16, batch: 1000, rounds: 3, subject: 'bench.client.pubsub' },
    countParam: 'msgs',
    metrics: [
      { key: 'oursMsgsPerSec', label: 'ours msgs/s', better: 'higher' },
      { key: 'officialMsgsPerSec', label: 'official msgs/s', better: 'higher' },
      { key: 'oursOverOfficial', label: 'ours/official', better: 'higher' },
    ],
    primary: 'oursMsgsPerSec',
    async run(ctx) {
      const rounds = Number(ctx.params.rounds);
      const ours: number[] = [];
      const official: number[] = [];
      ctx.measureStart();
      for (let r = 0; r < rounds; r++) {
        official.push(await pubsubOnce(ctx, 'official'));
        ours.push(await pubsubOnce(ctx, 'ours'));
        ctx.log(`round ${r + 1}: official ${official[r]!.toFixed(0)} msgs/s, ours ${ours[r]!.toFixed(0)} msgs/s`);
      }
      ctx.measureEnd();
      const o = median(ours);
      const f = median(official);
      return { oursMsgsPerSec: o, officialMsgsPerSec: f, oursOverOfficial: o / f } satisfies Metrics;
    },
  };
}

export function clientReqrepScenario(requests: number): Scenario {
  return {
    name: 'client-reqrep',
    group: 'client',
    description: 'sluice/client vs @nats-io/transport-node: sequential request/reply, 16 B, same server, alternating',
    params: { requests, warmup: 2000, rounds: 3, payloadBytes: 16, subject: 'bench.client.svc', requestTimeoutMs: 5000 },
    countParam: 'requests',
    metrics: [
      { key: 'oursP99Us', label: 'ours p99 µs', better: 'lower' },
      { key: 'officialP99Us', label: 'official p99 µs', better: 'lower' },
      { key: 'oursOverOfficialP99', label: 'ours/official p99', better: 'lower' },
      { key: 'oursP50Us', label: 'ours p50 µs', better: 'lower' },
      { key: 'officialP50Us', label: 'official p50 µs', better: 'lower' },
    ],
    primary: 'oursP99Us',
    async run(ctx) {
      const rounds = Number(ctx.params.rounds);
      const ours: ReturnType<typeof summarizeLatencies>[] = [];
      const official: ReturnType<typeof summarizeLatencies>[] = [];
      ctx.measureStart();
      for (let r = 0; r < rounds; r++) {
        official.push(summarizeLatencies(await reqrepOnce(ctx, 'official')));
        ours.push(summarizeLatencies(await reqrepOnce(ctx, 'ours')));
        ctx.log(`round ${r + 1}: p99 official ${official[r]!.p99Us.toFixed(0)} µs, ours ${ours[r]!.p99Us.toFixed(0)} µs`);
      }
      ctx.measureEnd();
      const o99 = median(ours.map((s) => s.p99Us));
      const f99 = median(official.map((s) => s.p99Us));
      return {
        oursP99Us: o99,
        officialP99Us: f99,
        oursOverOfficialP99: o99 / f99,
        oursP50Us: median(ours.map((s) => s.p50Us)),
        officialP50Us: median(official.map((s) => s.p50Us)),
      } satisfies Metrics;
    },
  };
}
