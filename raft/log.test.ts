import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog, TERM_UNKNOWN } from './log.ts';
import { CompactedError, MemoryStorage, UnavailableError } from './storage.ts';
import { EntryKind, type Entry } from './types.ts';

const e = (index: number, term: number): Entry => ({ index, term, kind: EntryKind.Normal, data: new Uint8Array([index & 0xff]) });

function logWith(stableTerms: number[], unstable: Entry[] = []): RaftLog {
  const s = new MemoryStorage();
  s.append(stableTerms.map((t, i) => e(i + 1, t)));
  const log = new RaftLog(s, Infinity);
  if (unstable.length > 0) log.append(unstable);
  return log;
}

test('terms come from storage and the unstable tail; outside the log they are unknown', () => {
  const log = logWith([1, 1, 2], [e(4, 3), e(5, 3)]);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((i) => log.termAt(i)), [0, 1, 1, 2, 3, 3, TERM_UNKNOWN]);
  assert.equal(log.lastIndex(), 5);
  assert.equal(log.lastTerm(), 3);
  assert.throws(() => log.term(6), UnavailableError);
});

test('isUpToDate compares last term first, then length (§5.4.1)', () => {
  const log = logWith([1, 2, 2]);
  assert.equal(log.isUpToDate(1, 3), true);
  assert.equal(log.isUpToDate(3, 2), true);
  assert.equal(log.isUpToDate(2, 2), false);
  assert.equal(log.isUpToDate(9, 1), false);
});

test('maybeAppend: rejects on a prev mismatch, truncates a conflicting suffix, keeps a matching one', () => {
  const log = logWith([1, 1, 2, 2]);
  assert.equal(log.maybeAppend(4, 3, 0, [e(5, 3)]), -1, 'prev (4, term 3) does not match');
  // Entries already present are not rewritten (the tail stays in storage).
  assert.equal(log.maybeAppend(1, 1, 0, [e(2, 1), e(3, 2)]), 3);
  assert.equal(log.unstableEntries().length, 0);
  assert.equal(log.lastIndex(), 4, 'a matching prefix does not truncate what follows');
  // A conflict at index 3 replaces 3 and everything after.
  assert.equal(log.maybeAppend(2, 1, 3, [e(3, 3)]), 3);
  assert.equal(log.lastIndex(), 3);
  assert.equal(log.termAt(3), 3);
  assert.equal(log.committed, 3, 'commit advances to min(leader commit, last new index)');
});

test('maybeAppend refuses to truncate a committed entry', () => {
  const log = logWith([1, 1, 2]);
  log.commitTo(3);
  assert.throws(() => log.maybeAppend(2, 1, 3, [e(3, 5)]), /conflicts with committed/);
});

test('findConflictByTerm: the last index at or below `index` whose term is <= `term`', () => {
  const log = logWith([1, 3, 3, 3, 5, 5, 5, 5, 5]);
  assert.deepEqual(log.findConflictByTerm(9, 5), { index: 9, term: 5 });
  assert.deepEqual(log.findConflictByTerm(9, 4), { index: 4, term: 3 });
  assert.deepEqual(log.findConflictByTerm(6, 2), { index: 1, term: 1 });
  assert.deepEqual(log.findConflictByTerm(6, 0), { index: 0, term: 0 });
});

test('maybeCommit: only an entry of the given term commits (unless the test-only mutation asks)', () => {
  const log = logWith([1, 1, 2]);
  assert.equal(log.maybeCommit(3, 3), false);
  assert.equal(log.maybeCommit(3, 2), true);
  assert.equal(log.committed, 3);
  const mutated = logWith([1, 1, 2]);
  assert.equal(mutated.maybeCommit(3, 3, true), true);
});

test('stableTo drops persisted entries from the tail unless they were overwritten meanwhile', () => {
  const log = logWith([1], [e(2, 1), e(3, 1)]);
  log.stableTo(3, 2); // wrong term: stale acknowledgement
  assert.equal(log.unstableEntries().length, 2);
  log.stableTo(2, 1);
  assert.deepEqual(log.unstableEntries().map((x) => x.index), [3]);
});

test('slice stitches storage and the unstable tail and honours the byte limit', () => {
  const log = logWith([1, 1, 1], [e(4, 2), e(5, 2)]);
  assert.deepEqual(log.slice(2, 6, Infinity).map((x) => x.index), [2, 3, 4, 5]);
  assert.deepEqual(log.slice(2, 6, 1).map((x) => x.index), [2], 'at least one entry');
  assert.deepEqual(log.slice(3, 6, 2 * 25).map((x) => x.index), [3, 4]);
});

test('restore: a snapshot replaces the log and commits its index; entries before it are compacted', () => {
  const log = logWith([1, 1, 1]);
  log.restore({ metadata: { index: 10, term: 4, confState: { voters: [1] } }, data: new Uint8Array() });
  assert.equal(log.firstIndex(), 11);
  assert.equal(log.lastIndex(), 10);
  assert.equal(log.termAt(10), 4);
  assert.equal(log.termAt(9), TERM_UNKNOWN);
  assert.equal(log.committed, 10);
  assert.throws(() => log.slice(5, 6, Infinity), CompactedError);
  assert.deepEqual(log.nextCommittedEnts(), [], 'nothing to apply while the snapshot is pending');
});
