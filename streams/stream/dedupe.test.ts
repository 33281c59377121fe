import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DedupeWindow } from './dedupe.ts';

const S = 1_000_000_000n;

test('an id is a duplicate inside the window and not after it', () => {
  const d = new DedupeWindow(2e9);
  d.record('a', 1, 10n * S);
  assert.equal(d.lookup('a', 10n * S), 1);
  assert.equal(d.lookup('a', 12n * S), 1);
  assert.equal(d.lookup('a', 12n * S + 1n), undefined, 'expired even before a sweep');
  assert.equal(d.lookup('b', 10n * S), undefined);
});

test('expire drops only entries older than the window, from the front', () => {
  const d = new DedupeWindow(2e9);
  for (let i = 0; i < 10; i++) d.record(`id${i}`, i + 1, BigInt(i) * S);
  assert.equal(d.size, 10);
  const oldest = d.expire(5n * S);
  assert.equal(d.size, 7);
  assert.equal(oldest, 3n * S);
  assert.equal(d.lookup('id2', 5n * S), undefined);
  assert.equal(d.lookup('id3', 5n * S), 4);
  assert.equal(d.expire(100n * S), null);
  assert.equal(d.size, 0);
});

test('a re-recorded id keeps its newest entry when the old one expires', () => {
  const d = new DedupeWindow(2e9);
  d.record('x', 1, 0n);
  d.record('x', 5, 3n * S);
  d.expire(4n * S);
  assert.equal(d.lookup('x', 4n * S), 5);
});

test('memory is bounded: past maxEntries the oldest ids go first', () => {
  const d = new DedupeWindow(60e9, 3);
  for (let i = 1; i <= 5; i++) d.record(`m${i}`, i, BigInt(i));
  assert.equal(d.size, 3);
  assert.equal(d.evictedEarly, 2);
  assert.equal(d.lookup('m1', 5n), undefined);
  assert.equal(d.lookup('m5', 5n), 5);
});

test('a zero window disables dedupe', () => {
  const d = new DedupeWindow(0);
  d.record('a', 1, 0n);
  assert.equal(d.size, 0);
  assert.equal(d.enabled, false);
  const e = new DedupeWindow(1e9);
  e.record('a', 1, 0n);
  e.setWindow(0);
  assert.equal(e.size, 0);
});
