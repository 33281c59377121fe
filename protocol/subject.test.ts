import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isSubsetOf,
  isValidName,
  isValidPublishSubject,
  isValidQueueName,
  isValidSubject,
  subjectMatches,
  subjectsCollide,
  tokenize,
} from './subject.ts';

test('subject validity', () => {
  // [subject, valid for SUB, valid for PUB]
  const table: [string, boolean, boolean][] = [
    ['foo', true, true],
    ['foo.bar.baz', true, true],
    ['préfix.日本', true, true],
    ['$JS.API.INFO', true, true],
    ['foo*', true, true], // not a whole token: literal
    ['f>o.b*r', true, true],
    ['*', true, false],
    ['>', true, false],
    ['foo.*', true, false],
    ['foo.*.bar', true, false],
    ['foo.>', true, false],
    ['*.>', true, false],
    ['', false, false],
    ['.', false, false],
    ['.foo', false, false],
    ['foo.', false, false],
    ['foo..bar', false, false],
    ['foo.>.bar', false, false],
    ['>.>', false, false],
    ['foo bar', false, false],
    ['foo\tbar', false, false],
    ['foo\rbar', false, false],
    ['foo\nbar', false, false],
    ['foo\fbar', false, false],
  ];
  for (const [s, sub, pub] of table) {
    assert.equal(isValidSubject(s), sub, `isValidSubject(${JSON.stringify(s)})`);
    assert.equal(isValidPublishSubject(s), pub, `isValidPublishSubject(${JSON.stringify(s)})`);
  }
});

test('queue and stream names', () => {
  for (const q of ['workers', 'a.b', 'q-1_x']) assert.equal(isValidQueueName(q), true, q);
  for (const q of ['', 'a b', 'a\tb', 'a\r', 'a\n']) assert.equal(isValidQueueName(q), false, JSON.stringify(q));
  for (const n of ['ORDERS', 'kv_bucket-1', 'Ünïcode']) assert.equal(isValidName(n), true, n);
  for (const n of ['', 'a.b', 'a*', 'a>', 'a b', 'a/b', 'a\\b', 'a\tb', 'a\u0001']) {
    assert.equal(isValidName(n), false, JSON.stringify(n));
  }
});

test('tokenize', () => {
  assert.deepEqual(tokenize('a.b.>'), ['a', 'b', '>']);
  assert.deepEqual(tokenize('a'), ['a']);
});

test('subjectMatches', () => {
  const table: [string, string, boolean][] = [
    ['a', 'a', true],
    ['a', 'b', false],
    ['a', 'a.b', false],
    ['a.b', 'a', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.*', 'a', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.d', false],
    ['*.*.>', 'a.b.c', true],
    ['*.*.>', 'a.b', false],
    ['ab.c', 'a.bc', false],
  ];
  for (const [p, l, want] of table) assert.equal(subjectMatches(p, l), want, `${p} ~ ${l}`);
});

test('subjectsCollide', () => {
  const table: [string, string, boolean][] = [
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.*', 'a.b', true],
    ['a.*', '*.b', true],
    ['a.>', 'a', false],
    ['a.>', 'a.b.c', true],
    ['a.>', 'b.>', false],
    ['>', 'x.y', true],
    ['a.*', 'a.b.c', false],
    ['a.*.c', 'a.>', true],
    ['*.b', 'a.*.c', false],
  ];
  for (const [a, b, want] of table) {
    assert.equal(subjectsCollide(a, b), want, `${a} x ${b}`);
    assert.equal(subjectsCollide(b, a), want, `${b} x ${a}`);
  }
});

test('isSubsetOf', () => {
  const table: [string, string, boolean][] = [
    ['a.b', 'a.b', true],
    ['a.b', 'a.*', true],
    ['a.b', 'a.>', true],
    ['a.*', 'a.>', true],
    ['a.>', 'a.>', true],
    ['a.>', 'a.*', false],
    ['a.*', 'a.b', false],
    ['a.>', '>', true],
    ['>', 'a.>', false],
    ['a', 'a.>', false],
    ['a.b.c', 'a.*', false],
    ['*.*', '*.>', true],
    ['*', '*', true],
  ];
  for (const [s, p, want] of table) assert.equal(isSubsetOf(s, p), want, `${s} ⊆ ${p}`);
});
