import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../runtime/clock.ts';
import { MemoryLogger } from '../runtime/logger.ts';
import { seededRng } from '../runtime/rng.ts';
import { closePacing, LameDuck, type LameDuckClient, type LameDuckServer } from './lame-duck.ts';

interface Recorded {
  events: string[];
  clients: (LameDuckClient & { closed: boolean })[];
}

function fakeServer(clientCount: number, clock: ManualClock): { server: LameDuckServer; rec: Recorded } {
  const rec: Recorded = { events: [], clients: [] };
  for (let i = 0; i < clientCount; i++) {
    const c = {
      closed: false,
      notifyLameDuck: () => rec.events.push(`ldm ${i}`),
      closeForShutdown: () => {
        c.closed = true;
        rec.events.push(`close ${i} @${clock.nowMs() - START}`);
      },
    };
    rec.clients.push(c);
  }
  const server: LameDuckServer = {
    stopAccepting: () => rec.events.push('stop accepting'),
    stopJetStream: async () => {
      rec.events.push('stop jetstream');
    },
    openClients: () => rec.clients,
  };
  return { server, rec };
}

const START = 1_000_000;

/** Lets the drain's promise continuations run between clock steps. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

async function runOnClock(ld: LameDuck, clock: ManualClock, stepMs: number, maxMs: number): Promise<void> {
  let done = false;
  const run = ld.run().then(() => (done = true));
  for (let t = 0; t <= maxMs && !done; t += stepMs) {
    await settle();
    clock.advance(stepMs);
  }
  await settle();
  assert.ok(done, `the drain did not finish within ${maxMs} ms of virtual time`);
  await run;
}

test('order: stop accepting, stop JetStream, tell every client, wait the grace period, then close one by one', async () => {
  const clock = new ManualClock(START);
  const { server, rec } = fakeServer(4, clock);
  const ld = new LameDuck(server, { durationMs: 5000, gracePeriodMs: 1000 }, clock, seededRng(1), new MemoryLogger());
  await runOnClock(ld, clock, 10, 10_000);
  assert.deepEqual(rec.events.slice(0, 6), ['stop accepting', 'stop jetstream', 'ldm 0', 'ldm 1', 'ldm 2', 'ldm 3']);
  const closes = rec.events.slice(6).map((e) => Number(e.split('@')[1]));
  assert.equal(closes.length, 4);
  assert.ok(closes[0]! >= 1000, `no client closed during the grace period: ${closes[0]}`);
  // 4000 ms left for 4 clients: pauses of 500..1000 ms, so the last close is 1.5 s to 3 s after the first.
  const span = closes[3]! - closes[0]!;
  assert.ok(span >= 1500 && span <= 3000 + 30, `closes spread over the duration: ${closes.join(', ')}`);
});

test('a client that left during the grace period is not closed again; no clients means no waiting', async () => {
  const clock = new ManualClock(START);
  const { server, rec } = fakeServer(2, clock);
  rec.clients[0]!.notifyLameDuck = () => {
    rec.clients[0]!.closed = true; // it reconnected elsewhere at once
  };
  await runOnClock(new LameDuck(server, { durationMs: 3000, gracePeriodMs: 500 }, clock, seededRng(2), new MemoryLogger()), clock, 10, 5000);
  assert.deepEqual(rec.events.filter((e) => e.startsWith('close')).map((e) => e.split(' ')[1]), ['1']);

  const empty = fakeServer(0, clock);
  await new LameDuck(empty.server, { durationMs: 3000, gracePeriodMs: 500 }, clock, seededRng(3), new MemoryLogger()).run();
  assert.deepEqual(empty.rec.events, ['stop accepting', 'stop jetstream']);
});

test('cancel() during the grace period ends the drain without closing anyone', async () => {
  const clock = new ManualClock(START);
  const { server, rec } = fakeServer(3, clock);
  const ld = new LameDuck(server, { durationMs: 3000, gracePeriodMs: 1000 }, clock, seededRng(4), new MemoryLogger());
  const run = ld.run();
  await settle();
  clock.advance(100);
  ld.cancel();
  await run;
  assert.equal(rec.events.filter((e) => e.startsWith('close')).length, 0);
});

test('pacing: at most a second between clients, batches when there are more clients than milliseconds', () => {
  assert.deepEqual(closePacing(10, 110_000), { intervalMs: 1000, batch: 1 });
  assert.deepEqual(closePacing(100, 1000), { intervalMs: 10, batch: 1 });
  assert.deepEqual(closePacing(5000, 1000), { intervalMs: 1, batch: 5 });
  assert.deepEqual(closePacing(0, 1000), { intervalMs: 0, batch: 1 });
});
