// Micro-benchmark of the group commit when appends arrive a few per event-loop turn (issue 19):
//   node --import tsx streams/store/pipeline.bench.ts [messages] [per-turn list, default 1,10,60,1000] [sync mode]
// A publisher with at most 1,000 appends unacknowledged (an ack = its batch's durable()) appends
// k per turn (setImmediate), as a server reading k PUBs per turn would. Prints msgs/s, the
// process's CPU time per message (all threads: main and lmdb-js's writer) and messages per LMDB
// transaction (counted on the environment's aftercommit). Two rounds per k; sync mode committed
// unless given (durable: every transaction waits for its fdatasync, ~4 ms here).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../runtime/clock.ts';
import { openLmdbEnvironment, type SyncMode } from './lmdb-env.ts';
import { openLmdbStore } from './lmdb-store.ts';

const total = Number(process.argv[2] ?? 200_000);
const perTurn = (process.argv[3] ?? '1,10,60,1000').split(',').map(Number);
const sync = (process.argv[4] ?? 'committed') as SyncMode;
const WINDOW = 1000;
const payload = Buffer.alloc(128, 0x61);

async function run(k: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pipeline-'));
  const env = openLmdbEnvironment(dir, { sync });
  let commits = 0;
  (env.root as unknown as { on(e: string, f: () => void): void }).on('aftercommit', () => commits++);
  try {
    const store = await openLmdbStore(env, 'BENCH');
    commits = 0;
    let seq = 0;
    let acked = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        if (acked >= total) return resolve();
        const room = Math.min(k, WINDOW - (seq - acked), total - seq);
        if (room > 0) {
          for (let i = 0; i < room; i++) store.applyAppend(++seq, 'bench.js.x', null, payload, systemClock.epochNs());
          void store.durable().then(() => (acked += room));
        }
        systemClock.setImmediate(tick);
      };
      tick();
    });
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await store.close();
    return `${String(k).padStart(5)} per turn: ${(total / ms).toFixed(1).padStart(6)}k msgs/s, CPU ${((cpu.user + cpu.system) / total).toFixed(2).padStart(5)} µs/msg, ${(total / Math.max(1, commits)).toFixed(0).padStart(4)} msgs/transaction`;
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${total} x 128 B appends, <= ${WINDOW} unacknowledged, sync ${sync}, node ${process.version}`);
for (let round = 0; round < 2; round++) for (const k of perTurn) console.log(await run(k));
