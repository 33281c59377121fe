// Micro-benchmark: a file mirror catching up with a pre-filled file origin, in process (no
// network, no API): msgs/s from the mirror's creation until it holds every message durably.
//   node --import tsx streams/sourcing/mirror.bench.ts [messages] [rounds]
// MIRROR_PROF=file.cpuprofile writes a CPU profile of the copies alone (not of the pre-fills).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../runtime/clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { FakeBus } from '../testing.ts';
import { normalizeStreamConfig } from '../stream/config.ts';
import { Stream } from '../stream/stream.ts';
import { openLmdbEnvironment } from '../store/lmdb-env.ts';
import { openLmdbStore } from '../store/lmdb-store.ts';
import { StreamSourcing } from './sourcing.ts';

const total = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const payload = Buffer.alloc(128, 0x61);
const profFile = process.env.MIRROR_PROF;
const session = profFile === undefined ? null : new Session();
if (session !== null) {
  session.connect();
  await session.post('Profiler.enable');
}
const deps = { bus: new FakeBus(), clock: systemClock, logger: silentLogger };

function config(body: Record<string, unknown>): StreamConfig {
  const r = normalizeStreamConfig({ storage: 'file', ...body });
  if (!r.ok) throw new Error(r.error.description);
  return r.config as StreamConfig;
}

/** Copy rate and the process's CPU time per message (all threads; steadier than wall time on a shared machine). */
async function round(): Promise<{ rate: number; cpuUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mirror-bench-'));
  const env = openLmdbEnvironment(dir);
  try {
    const origin = new Stream(config({ name: 'O', subjects: ['o.>'] }), await openLmdbStore(env, 'O'), 1n, deps);
    for (let seq = 1; seq <= total; seq++) {
      origin.store.applyAppend(seq, 'bench.mirror', null, payload, systemClock.epochNs());
      if (seq % 1000 === 0) await new Promise((r) => setImmediate(r));
    }
    await origin.store.durable();
    const sourcing = new StreamSourcing({ clock: systemClock, logger: silentLogger });
    sourcing.added(origin);
    const mirror = new Stream(config({ name: 'M', mirror: { name: 'O' } }), await openLmdbStore(env, 'M'), 1n, deps);
    await session?.post('Profiler.start');
    const t0 = systemClock.monoNs();
    const cpu0 = process.cpuUsage();
    // Told by the mirror's appends: a loop polling on setImmediate would spin while the copy
    // waits for commits, and its CPU would count as the copy's.
    const copied = new Promise<void>((resolve) => {
      const stop = mirror.addObserver({
        onAppend: (seq) => {
          if (seq < total) return;
          stop();
          resolve();
        },
      });
    });
    sourcing.added(mirror);
    await copied;
    await mirror.store.durable();
    const rate = total / ((systemClock.monoNs() - t0) / 1e9);
    const cpu = process.cpuUsage(cpu0);
    if (session !== null) profiles.push((await session.post('Profiler.stop')).profile);
    sourcing.close();
    await mirror.store.close();
    await origin.store.close();
    return { rate, cpuUs: (cpu.user + cpu.system) / total };
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const profiles: object[] = [];
for (let i = 0; i < rounds; i++) {
  const r = await round();
  console.log(`${total} x 128 B, round ${i + 1}: ${Math.round(r.rate).toLocaleString('en-US')} msgs/s, ${r.cpuUs.toFixed(2)} µs CPU/msg`);
}
// The last round's profile: the earlier ones include the JIT warming up.
if (profFile !== undefined) writeFileSync(profFile, JSON.stringify(profiles.at(-1)));
