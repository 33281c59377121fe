import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from './clock.ts';
import { MemoryReclaimer, RECLAIM_MIN_BYTES, RECLAIM_MIN_INTERVAL_MS } from './reclaim.ts';

function setup(): { clock: ManualClock; r: MemoryReclaimer; runs: number[] } {
  const clock = new ManualClock();
  const runs: number[] = [];
  const r = new MemoryReclaimer(clock, () => runs.push(clock.nowMs()));
  return { clock, r, runs };
}

test('a large drop is collected after the current turn, a small one is left to V8', () => {
  const { clock, r, runs } = setup();
  r.dropped(RECLAIM_MIN_BYTES - 1);
  clock.advance(0);
  assert.equal(runs.length, 0);
  r.dropped(RECLAIM_MIN_BYTES);
  assert.equal(runs.length, 0, 'not inside the turn that dropped it');
  clock.advance(0);
  assert.equal(runs.length, 1);
});

test('drops within the interval share one collection at its end', () => {
  const { clock, r, runs } = setup();
  r.dropped(64 << 20);
  clock.advance(0);
  const first = runs[0]!;
  clock.advance(100);
  r.dropped(64 << 20);
  r.dropped(64 << 20);
  clock.advance(200);
  r.dropped(64 << 20);
  clock.advance(RECLAIM_MIN_INTERVAL_MS);
  assert.deepEqual(runs, [first, first + RECLAIM_MIN_INTERVAL_MS]);
  assert.equal(r.collections, 2);
});

test('cancel drops a pending collection', () => {
  const { clock, r, runs } = setup();
  r.dropped(RECLAIM_MIN_BYTES);
  r.cancel();
  clock.advance(RECLAIM_MIN_INTERVAL_MS * 2);
  assert.equal(runs.length, 0);
});
