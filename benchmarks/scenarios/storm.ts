// storm: hostile loads, each with a bystander doing PING/PONG throughout (lib/bystander.ts) and the
// server's RSS sampled every 10 ms. What matters is what everyone else sees: the bystander's worst
// round trip (target ≤ 50 ms) and how much memory the server takes and gives back.
//
// - storm-conns: `connections` (2,000) raw connections opened at once (CONNECT + PING, until every
//   PONG), then all closed; open time, peak RSS, and RSS `settleMs` after they closed.
// - storm-subs: one connection writes `subs` (50,000) SUBs and a PING in one write; time to its
//   PONG.
// - storm-stream: one STREAM.CREATE with `subjects` (10,000) subjects (JetStream on); time to the
//   reply, which must not be an error.
// - storm-flood: `mb` (200) MB of 64 KiB messages published to a subscriber that never reads (it
//   is expected to be cut off as a slow consumer); peak RSS.

import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bystander, rawConnected, RssSampler } from '../lib/bystander.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

const COMMON = [
  { key: 'worstPingMs', label: 'bystander worst PING ms', better: 'lower' },
  { key: 'peakRssMiB', label: 'peak RSS MiB', better: 'lower' },
] as const;

/** Runs `hostile` between a bystander's start and stop, with RSS sampling. */
async function withBystander(ctx: RunContext, hostile: () => Promise<Metrics>): Promise<Metrics> {
  const rss = new RssSampler(ctx.server.pid);
  const bystander = await Bystander.start(ctx.server);
  ctx.measureStart();
  let m: Metrics;
  try {
    m = await hostile();
  } finally {
    ctx.measureEnd();
  }
  const worstPingMs = await bystander.stop();
  const peak = rss.stop();
  return { ...m, worstPingMs, ...(peak !== null ? { peakRssMiB: peak } : {}), bystanderPings: bystander.pings };
}

/** Resolves once `text` has arrived on `sock` (scanning only what arrives from now on). */
function waitForText(sock: net.Socket, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString('latin1');
      if (buf.includes(text)) {
        clearTimeout(timer);
        sock.off('data', onData);
        resolve(buf);
      }
    };
    sock.on('data', onData);
  });
}

function scenario(name: string, description: string, params: Scenario['params'], countParam: string, extra: Scenario['metrics'], primary: string, run: (ctx: RunContext) => Promise<Metrics>, needsJs = false): Scenario {
  return {
    name,
    group: 'storm',
    description,
    params,
    countParam,
    metrics: [...COMMON, ...extra],
    primary,
    ...(needsJs ? { needs: ['jetstream' as const] } : {}),
    run,
  };
}

export function stormScenarios(): Scenario[] {
  return [
    scenario(
      'storm-conns',
      '2,000 connections at once, then closed; bystander PING, peak RSS, RSS after',
      { connections: 2000, settleMs: 2000 },
      'connections',
      [
        { key: 'openMs', label: 'all open ms', better: 'lower' },
        { key: 'rssAfterMiB', label: 'RSS after close MiB', better: 'lower' },
      ],
      'worstPingMs',
      async (ctx) => {
        let socks: net.Socket[] = [];
        const m = await withBystander(ctx, async () => {
          const t0 = performance.now();
          socks = await Promise.all(Array.from({ length: Number(ctx.params.connections) }, () => rawConnected(ctx.server)));
          return { openMs: performance.now() - t0 };
        });
        for (const s of socks) s.destroy();
        await sleep(Number(ctx.params.settleMs));
        const after = new RssSampler(ctx.server.pid).stop();
        return { ...m, ...(after !== null ? { rssAfterMiB: after } : {}) };
      },
    ),
    scenario(
      'storm-subs',
      '50,000 SUBs in one write on one connection; bystander PING',
      { subs: 50_000 },
      'subs',
      [{ key: 'doneMs', label: 'SUBs done ms', better: 'lower' }],
      'worstPingMs',
      async (ctx) => {
        const sock = await rawConnected(ctx.server);
        try {
          return await withBystander(ctx, async () => {
            const lines: string[] = [];
            for (let i = 0; i < Number(ctx.params.subs); i++) lines.push(`SUB storm.${i} ${i}\r\n`);
            const t0 = performance.now();
            const pong = waitForText(sock, 'PONG\r\n', 120_000);
            sock.write(`${lines.join('')}PING\r\n`);
            await pong;
            return { doneMs: performance.now() - t0 };
          });
        } finally {
          sock.destroy();
        }
      },
    ),
    scenario(
      'storm-stream',
      'one STREAM.CREATE with 10,000 subjects; bystander PING',
      { subjects: 10_000 },
      'subjects',
      [{ key: 'createMs', label: 'create ms', better: 'lower' }],
      'worstPingMs',
      async (ctx) => {
        const sock = await rawConnected(ctx.server);
        try {
          sock.write('SUB _INBOX.storm 1\r\nPING\r\n');
          await waitForText(sock, 'PONG\r\n', 10_000);
          return await withBystander(ctx, async () => {
            const subjects = Array.from({ length: Number(ctx.params.subjects) }, (_, i) => `storm.${i % 100}.${i}`);
            const body = Buffer.from(JSON.stringify({ name: 'STORM', subjects }));
            const t0 = performance.now();
            const reply = waitForText(sock, '}', 120_000);
            sock.write(Buffer.concat([Buffer.from(`PUB $JS.API.STREAM.CREATE.STORM _INBOX.storm ${body.length}\r\n`), body, Buffer.from('\r\n')]));
            const text = await reply;
            if (text.includes('"error"')) throw new Error(`STREAM.CREATE failed: ${text.slice(0, 300)}`);
            return { createMs: performance.now() - t0 };
          });
        } finally {
          sock.destroy();
        }
      },
      true,
    ),
    scenario(
      'storm-flood',
      '200 MB into a subscriber that never reads; bystander PING, peak RSS',
      { mb: 200 },
      'mb',
      [{ key: 'floodMs', label: 'flood written ms', better: 'lower' }],
      'peakRssMiB',
      async (ctx) => {
        const sub = await rawConnected(ctx.server);
        const pub = await rawConnected(ctx.server);
        try {
          sub.write('SUB storm.flood 1\r\nPING\r\n');
          await waitForText(sub, 'PONG\r\n', 10_000);
          sub.pause(); // never reads again
          return await withBystander(ctx, async () => {
            const payload = Buffer.alloc(64 * 1024, 0x61);
            const frame = Buffer.concat([Buffer.from(`PUB storm.flood ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
            const frames = Math.ceil((Number(ctx.params.mb) * 1e6) / payload.length);
            const t0 = performance.now();
            for (let i = 0; i < frames; i++) {
              if (!pub.write(frame)) await new Promise((r) => pub.once('drain', r));
            }
            const pong = waitForText(pub, 'PONG\r\n', 120_000);
            pub.write('PING\r\n');
            await pong;
            return { floodMs: performance.now() - t0 };
          });
        } finally {
          sub.destroy();
          pub.destroy();
        }
      },
    ),
  ];
}
