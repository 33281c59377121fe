import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import vm from 'node:vm';
import { SteadyCollections, growYoungGenerationWhenBusy, tuneHeap } from './heap-tuning.ts';
import { installGarbageCollector } from '../server/index.ts';
import { reclaimDropped } from '../runtime/reclaim.ts';

test('tuneHeap installs V8 collector for dropped queues without exposing a global gc', async (t) => {
  tuneHeap();
  t.after(() => installGarbageCollector(undefined));
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  assert.equal(vm.runInNewContext('typeof gc'), 'undefined');
  const major = new Promise<void>((resolve) => {
    const obs = new PerformanceObserver((list) => {
      const entries = list.getEntries() as Array<{ detail?: { kind?: number } }>;
      if (entries.some((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
        obs.disconnect();
        resolve();
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  });
  // The observer does not keep the process alive; this bounds the wait.
  const deadline = setTimeout(() => assert.fail('no major collection within 10 s'), 10_000);
  reclaimDropped(64 * 1024 * 1024);
  await major;
  clearTimeout(deadline);
});

test('growYoungGenerationWhenBusy lets the young generation grow after steady allocation, not after a short burst', async () => {
  let grown = 0;
  const stop = growYoungGenerationWhenBusy(() => grown++, 5, 2);
  try {
    // A burst shorter than two seconds of steady collections: nothing happens.
    let keep: object[] = [];
    for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    // Steady allocation, yielding so the observer and the timer run, until it fires (or 15 s).
    const deadline = Date.now() + 15_000;
    while (grown === 0 && Date.now() < deadline) {
      for (let i = 0; i < 50_000; i++) keep.push({ i, s: `y${i}` });
      keep = [];
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(grown, 1, 'it fired once');
  } finally {
    stop();
  }
});

test('SteadyCollections: a burst does not count, steady collections for the whole stretch do', () => {
  const steady = new SteadyCollections(100, 2);
  const second = (minor: number): boolean => {
    for (let i = 0; i < minor; i++) steady.minorCollection();
    return steady.tick();
  };
  assert.equal(second(500), false, 'one busy second (a connection storm)');
  assert.equal(second(10), false, 'then quiet again: the streak restarts');
  assert.equal(second(150), false);
  assert.equal(second(99), false, 'just under the rate breaks the streak');
  assert.equal(second(120), false);
  assert.equal(second(300), true, 'two steady seconds in a row');
});
