import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import vm from 'node:vm';
import { tuneHeap } from './heap-tuning.ts';
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
