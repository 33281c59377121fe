// The overlap index answers exactly what comparing every pair with subjectsCollide answers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { subjectsCollide } from './subject.ts';
import { SubjectOverlapIndex } from './subject-overlap.ts';

// A tiny alphabet so that collisions are common; `>` only as the last token, as in valid subjects.
const literal = fc.constantFrom('a', 'b', 'c');
const pattern = fc
  .tuple(fc.array(fc.oneof(literal, fc.constant('*')), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([tokens, gt]) => (gt ? [...tokens.slice(0, -1), '>'] : tokens).join('.'));

function collisions(index: SubjectOverlapIndex<number>, p: string): number[] {
  const out: number[] = [];
  index.forEachCollision(p, (v) => out.push(v));
  return out.sort((x, y) => x - y);
}

test('the index finds exactly the stored patterns that collide (property)', () => {
  fc.assert(
    fc.property(fc.array(pattern, { maxLength: 12 }), pattern, (stored, query) => {
      const index = new SubjectOverlapIndex<number>();
      stored.forEach((p, i) => index.add(p, i));
      const expected = stored.flatMap((p, i) => (subjectsCollide(p, query) ? [i] : []));
      assert.deepEqual(collisions(index, query), expected, `${JSON.stringify(stored)} vs ${query}`);
    }),
    { numRuns: 3000 },
  );
});

test('examples', () => {
  const index = new SubjectOverlapIndex<string>();
  for (const p of ['a', 'a.>', 'a.*.c', 'b.*', '>']) index.add(p, p);
  const of = (q: string): string[] => {
    const out: string[] = [];
    index.forEachCollision(q, (v) => out.push(v));
    return out.sort();
  };
  assert.deepEqual(of('a'), ['>', 'a']);
  assert.deepEqual(of('a.b.c'), ['>', 'a.*.c', 'a.>']);
  assert.deepEqual(of('b.>'), ['>', 'b.*']);
  assert.deepEqual(of('c'), ['>']);
});
