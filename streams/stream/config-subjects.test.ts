// Stream subject lists: the overlap checks (within the list and against other streams) answer as
// nats-server 2.9.10 answered, and a list is bounded by MAX_SUBJECTS_PER_STREAM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findOverlap, MAX_SUBJECTS_PER_STREAM, normalizeStreamConfig } from './config.ts';

function errorOf(subjects: string[]): string | undefined {
  const r = normalizeStreamConfig({ name: 'S', subjects });
  return r.ok ? undefined : r.error.description;
}

test('the overlapping pair reported is nats-server\'s: first subject with a later collision, first such', () => {
  assert.equal(errorOf(['a.*', 'a.b']), 'subject "a.*" overlaps with "a.b"');
  assert.equal(errorOf(['a.b', 'c', 'a.*']), 'subject "a.b" overlaps with "a.*"');
  assert.equal(errorOf(['x', 'a.b', 'y.>', 'a.>', 'y.z']), 'subject "a.b" overlaps with "a.>"');
  assert.equal(errorOf(['a', 'a']), 'duplicate subjects detected');
  assert.equal(errorOf(['q', 'a..b', 'q']), 'invalid subject');
  assert.equal(errorOf(['a.b', 'a.c', 'b.*', 'c.>']), undefined);
});

test(`up to ${MAX_SUBJECTS_PER_STREAM} subjects, then a clear error`, () => {
  const many = Array.from({ length: MAX_SUBJECTS_PER_STREAM }, (_, i) => `orders.region${i % 100}.shop${i}`);
  assert.equal(errorOf(many), undefined);
  assert.equal(errorOf([...many, 'one.more']), `too many subjects: ${MAX_SUBJECTS_PER_STREAM + 1}, a stream takes at most ${MAX_SUBJECTS_PER_STREAM}`);
  // The last of many colliding with the first is still found.
  assert.equal(errorOf([...many.slice(1), 'orders.region0.*']), 'subject "orders.region0.shop100" overlaps with "orders.region0.*"');
});

test('overlap with other streams names the first stream that collides', () => {
  const others = [
    { name: 'A', subjects: ['a.>'] },
    { name: 'B', subjects: ['b.x', 'b.*'] },
    { name: 'C', subjects: ['c'] },
  ];
  assert.equal(findOverlap(['x', 'b.y'], others), 'B');
  assert.equal(findOverlap(['a'], others), undefined);
  assert.equal(findOverlap(['a.b.c'], others), 'A');
  assert.equal(findOverlap(['>'], others), 'A');
  assert.equal(findOverlap(['c'], others, 'C'), undefined);
});
