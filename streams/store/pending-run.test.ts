import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SubjectInfo } from './lmdb-index.ts';
import { PendingRun } from './pending-run.ts';

const info: SubjectInfo = { subject: 'a', id: 1, count: 0, last: 0 };
const rec = (seq: number): Buffer => Buffer.from([seq]);

function live(run: PendingRun): number[] {
  const out: number[] = [];
  for (let i = run.start; i < run.end; i++) if (run.recAt(i) !== undefined) out.push(run.seqAt(i));
  return out;
}

test('lookups with and without gaps, holes left by removals', () => {
  const run = new PendingRun();
  for (const seq of [3, 4, 5, 9, 10, 20]) run.push(seq, rec(seq), info);
  assert.equal(run.size, 6);
  for (const seq of [3, 5, 9, 20]) assert.equal(run.get(seq)?.[0], seq);
  for (const seq of [1, 6, 8, 11, 21]) assert.equal(run.get(seq), undefined);
  assert.equal(run.remove(3), true);
  assert.equal(run.remove(3), false);
  assert.equal(run.remove(7), false);
  assert.equal(run.get(3), undefined);
  assert.equal(run.size, 5);
  assert.equal(run.firstLive(), 4);
  assert.equal(run.seqAt(run.lowerBound(6)), 9);
  assert.equal(run.lowerBound(21), run.end);
});

test('a commit takes its appends off the front and hands the live ones on', () => {
  const run = new PendingRun();
  for (let seq = 1; seq <= 6; seq++) run.push(seq, rec(seq), info);
  run.remove(2);
  const committed: number[] = [];
  run.shift([1, 2, 3], (seq) => committed.push(seq));
  assert.deepEqual(committed, [1, 3]);
  assert.deepEqual(live(run), [4, 5, 6]);
  run.shift([4, 5, 6], null);
  assert.equal(run.size, 0);
  assert.equal(run.start, run.end);
  assert.equal(run.firstLive(), Infinity);
});

test('a commit of seqs no longer held (after a clear) leaves newer appends alone', () => {
  const run = new PendingRun();
  run.push(1, rec(1), info);
  run.clear();
  run.push(7, rec(7), info);
  run.push(8, rec(8), info);
  run.shift([1, 2], null);
  assert.deepEqual(live(run), [7, 8]);
  run.shift([8], null); // not at the front: handled slot by slot
  assert.deepEqual(live(run), [7]);
});

test('long runs are compacted as commits take their fronts', () => {
  const run = new PendingRun();
  for (let seq = 1; seq <= 5000; seq++) run.push(seq, rec(seq & 0xff), info);
  const batch: number[] = [];
  for (let seq = 1; seq <= 3000; seq++) batch.push(seq);
  run.shift(batch, null);
  assert.equal(run.start, 0, 'the committed front was dropped');
  assert.equal(run.end, 2000);
  assert.equal(run.get(4000)?.[0], 4000 & 0xff);
});
