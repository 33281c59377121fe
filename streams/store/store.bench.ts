// Micro-benchmark: appends/s of 128 B messages, counted when durable.
//   node --import tsx streams/store/store.bench.ts [messages]
// pipelined: a batch of 1,000 appends per turn, up to 4 batches in flight (like a publisher with
//            acks outstanding); awaited: 1,000 appends, wait until durable, repeat.
// Each append is what a leader's apply does: applyAppend at lastSeq + 1 with the clock's time.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../runtime/clock.ts';
import { openLmdbEnvironment, type SyncMode } from './lmdb-env.ts';
import { openLmdbStore } from './lmdb-store.ts';
import { MemoryStore } from './memory-store.ts';
import type { StreamStore } from './types.ts';

const total = Number(process.argv[2] ?? 300_000);
const batch = 1000;
const payload = Buffer.alloc(128, 0x61);
const turn = () => new Promise<void>((resolve) => systemClock.setImmediate(resolve));

function appendBatch(store: StreamStore, firstSeq: number): void {
  for (let seq = firstSeq; seq < firstSeq + batch; seq++) {
    store.applyAppend(seq, 'bench.orders', null, payload, systemClock.epochNs());
  }
}

async function pipelined(store: StreamStore): Promise<number> {
  const t0 = systemClock.monoNs();
  const inflight: Promise<void>[] = [];
  for (let n = 0; n < total; n += batch) {
    appendBatch(store, n + 1);
    inflight.push(store.durable());
    if (inflight.length >= 4) await inflight.shift();
    else await turn();
  }
  await Promise.all(inflight);
  return total / ((systemClock.monoNs() - t0) / 1e9);
}

async function awaited(store: StreamStore): Promise<number> {
  const t0 = systemClock.monoNs();
  for (let n = 0; n < total; n += batch) {
    appendBatch(store, n + 1);
    await store.durable();
  }
  return total / ((systemClock.monoNs() - t0) / 1e9);
}

async function lmdb(sync: SyncMode, mode: typeof pipelined): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const env = openLmdbEnvironment(dir, { sync });
  try {
    const store = await openLmdbStore(env, 'BENCH');
    const rate = await mode(store);
    await store.close();
    await env.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Best of three runs: the first pays for JIT warm-up and the machine is shared. */
async function best(run: () => Promise<number>): Promise<string> {
  let top = 0;
  for (let i = 0; i < 3; i++) top = Math.max(top, await run());
  return `${Math.round(top).toLocaleString('en-US').padStart(10)} appends/s`;
}

console.log(`${total} x 128 B appends, batches of ${batch}, best of 3, node ${process.version}`);
console.log(`memory   pipelined           ${await best(() => pipelined(new MemoryStore('BENCH')))}`);
for (const sync of ['durable', 'committed', 'none'] as const) {
  console.log(`lmdb     pipelined ${sync.padEnd(9)} ${await best(() => lmdb(sync, pipelined))}`);
  console.log(`lmdb     awaited   ${sync.padEnd(9)} ${await best(() => lmdb(sync, awaited))}`);
}
