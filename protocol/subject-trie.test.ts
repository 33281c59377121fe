import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SubjectTrie } from './subject-trie.ts';
import { subjectMatches } from './subject.ts';

const PATTERNS = ['a', 'a.b', 'a.b.c', 'a.*', 'a.*.c', 'a.>', '*', '*.b', '>', 'x.*.*', 'x.y.>'];

test('match agrees with subjectMatches on a table', () => {
  const trie = new SubjectTrie<string>();
  for (const p of PATTERNS) trie.insert(p, p);
  const literals = ['a', 'b', 'a.b', 'a.c', 'a.b.c', 'a.b.d', 'a.b.c.d', 'x.y', 'x.y.z', 'x.y.z.w', 'q.b'];
  for (const l of literals) {
    const want = PATTERNS.filter((p) => subjectMatches(p, l)).sort();
    assert.deepEqual([...trie.match(l)].sort(), want, l);
    assert.equal(trie.hasMatch(l), want.length > 0, l);
    const into: string[] = [];
    trie.matchInto(l, into);
    assert.deepEqual(into.sort(), want, l);
  }
});

test('specific cases', () => {
  const t = new SubjectTrie<number>();
  t.insert('a.*', 1);
  assert.deepEqual(t.match('a.b.c'), []);
  t.insert('a.>', 2);
  assert.deepEqual(t.match('a'), []);
  assert.deepEqual(t.match('a.b.c'), [2]);
  t.insert('>', 3);
  assert.deepEqual(t.match('zzz'), [3]);
  t.insert('a.*.c', 4);
  assert.deepEqual(t.match('a.q.c').sort(), [2, 3, 4]);
  assert.deepEqual(t.match('a.q.d').sort(), [2, 3]);
});

test('no match returns the shared frozen empty array', () => {
  const t = new SubjectTrie<number>();
  t.insert('a', 1);
  const r1 = t.match('b');
  const r2 = t.match('c');
  assert.equal(r1, r2);
  assert.equal(Object.isFrozen(r1), true);
  assert.equal(r1, SubjectTrie.EMPTY);
});

test('set semantics per (pattern, value); insertion order within a pattern', () => {
  const t = new SubjectTrie<string>();
  const g0 = t.generation;
  t.insert('a', 'x');
  t.insert('a', 'y');
  t.insert('a', 'z');
  const g1 = t.generation;
  assert.ok(g1 > g0);
  t.insert('a', 'x');
  assert.equal(t.generation, g1, 'duplicate insert changes nothing');
  assert.equal(t.size, 3);
  assert.deepEqual(t.match('a'), ['x', 'y', 'z']);
  t.insert('*', 'x'); // same value, other pattern: stored separately
  assert.equal(t.size, 4);
  assert.deepEqual([...t.match('a')].sort(), ['x', 'x', 'y', 'z']);
});

test('remove prunes empty nodes and moves the generation', () => {
  const t = new SubjectTrie<number>();
  t.insert('a.b.c.d', 1);
  t.insert('a.*', 2);
  const g = t.generation;
  assert.equal(t.remove('a.b.c.d', 9), false, 'absent value');
  assert.equal(t.remove('a.b.x', 1), false, 'absent path');
  assert.equal(t.generation, g);
  assert.equal(t.remove('a.b.c.d', 1), true);
  assert.ok(t.generation > g);
  assert.equal(t.remove('a.b.c.d', 1), false, 'already gone');
  assert.equal(t.size, 1);
  // the a.b.c.d branch is gone, only a -> * remains
  const root = (t as unknown as { root: { literals: Map<string, { literals: Map<string, unknown> | null; star: unknown }> } }).root;
  const a = root.literals.get('a')!;
  assert.equal(a.literals?.size ?? 0, 0);
  assert.notEqual(a.star, null);
  assert.equal(t.remove('a.*', 2), true);
  assert.equal(root.literals.size, 0);
  assert.equal(t.size, 0);
  assert.equal(t.hasMatch('a.b'), false);
});

test('clear and invalid patterns', () => {
  const t = new SubjectTrie<number>();
  t.insert('a', 1);
  const g = t.generation;
  t.clear();
  assert.equal(t.size, 0);
  assert.ok(t.generation > g);
  assert.deepEqual(t.match('a'), []);
  for (const bad of ['', 'a..b', 'a.>.b', 'a b']) assert.throws(() => t.insert(bad, 1), bad);
});

test('random inserts and removes agree with subjectMatches (literal children cross the in-place scan limit)', () => {
  // A fixed LCG: the run is the same every time; seeds are looped so a failure names its seed.
  for (let seed = 1; seed <= 20; seed++) {
    let x = seed;
    const rand = (n: number): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
    const tokens = ['a', 'bb', 'c', 'dd', 'e', 'ff', 'a1', 'b', '*'];
    const pattern = (): string => {
      const n = 1 + rand(3);
      const t: string[] = [];
      for (let i = 0; i < n; i++) t.push(tokens[rand(tokens.length)]!);
      if (rand(5) === 0) t.push('>');
      return t.join('.');
    };
    const trie = new SubjectTrie<string>();
    const stored = new Set<string>();
    for (let step = 0; step < 400; step++) {
      const p = pattern();
      if (rand(3) === 0 && stored.size > 0) {
        const victim = [...stored][rand(stored.size)]!;
        trie.remove(victim, victim);
        stored.delete(victim);
      } else {
        trie.insert(p, p);
        stored.add(p);
      }
      const literal = pattern().replaceAll('*', 'zz').replaceAll('>', 'e.a');
      const want = [...stored].filter((s) => subjectMatches(s, literal)).sort();
      assert.deepEqual([...trie.match(literal)].sort(), want, `seed ${seed} step ${step}: ${literal}`);
      assert.equal(trie.hasMatch(literal), want.length > 0, `seed ${seed} step ${step}: ${literal}`);
    }
  }
});
