import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights, Progress, ProgressState } from './progress.ts';
import { committedIndex, majority, voteResult, VoteResult } from './quorum.ts';

test('inflights: a bounded window freed by acknowledgements', () => {
  const w = new Inflights(3);
  w.add(5);
  w.add(7);
  w.add(9);
  assert.equal(w.full(), true);
  assert.throws(() => w.add(10));
  w.freeLE(7);
  assert.equal(w.count, 1);
  w.add(11);
  w.add(12);
  w.freeLE(100);
  assert.equal(w.count, 0);
});

test('probe sends one append at a time; replicate pipelines until the window is full', () => {
  const pr = new Progress(10, 2);
  assert.equal(pr.state, ProgressState.Probe);
  pr.sentEntries(3, 12);
  assert.equal(pr.isPaused(), true, 'probe waits for the answer');
  assert.equal(pr.maybeUpdate(12), true);
  pr.becomeReplicate();
  assert.equal(pr.next, 13);
  pr.sentEntries(2, 14);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(2, 16);
  assert.equal(pr.isPaused(), true, 'window of 2 is full');
  assert.equal(pr.next, 17);
  assert.equal(pr.maybeUpdate(14), true);
  pr.inflights.freeLE(14);
  assert.equal(pr.isPaused(), false);
});

test('rejections: stale ones are ignored; in probe the hint moves next back', () => {
  const pr = new Progress(11, 4);
  pr.match = 3;
  pr.sentEntries(1, 11);
  assert.equal(pr.maybeDecrTo(7, 5), false, 'not the probe we sent (next-1 = 10)');
  assert.equal(pr.maybeDecrTo(10, 5), true);
  assert.equal(pr.next, 6);
  assert.equal(pr.isPaused(), false);
  pr.becomeReplicate();
  assert.equal(pr.maybeDecrTo(2, 0), false, 'at or below match: stale');
  assert.equal(pr.maybeDecrTo(8, 0), true);
  assert.equal(pr.next, pr.match + 1);
});

test('a follower that lost what it acknowledged (a wiped disk) is probed and its match lowered', () => {
  const pr = new Progress(11, 4);
  pr.match = 10;
  pr.becomeReplicate();
  assert.equal(pr.maybeDecrTo(10, 10), false, 'a rejection at match with a hint at match: stale');
  assert.equal(pr.maybeDecrTo(10, 3), true, 'anchored at match with a hint below it: probe');
  pr.becomeProbe();
  assert.equal(pr.next, 11);
  assert.equal(pr.maybeDecrTo(10, 3), true, 'the probe at match rejected again: its log ends at 3');
  assert.equal(pr.match, 3);
  assert.equal(pr.next, 4);
  assert.equal(pr.isPaused(), false);
});

test('snapshot state pauses until the follower catches up; probing resumes after it', () => {
  const pr = new Progress(5, 4);
  pr.becomeSnapshot(50);
  assert.equal(pr.isPaused(), true);
  pr.becomeProbe();
  assert.equal(pr.next, 51);
});

test('quorum: majority, commit index and vote tallies', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map(majority), [1, 2, 2, 3, 3]);
  const prs = new Map([
    [1, { match: 9 }],
    [2, { match: 4 }],
    [3, { match: 7 }],
  ]);
  assert.equal(committedIndex([1, 2, 3], prs), 7);
  assert.equal(committedIndex([1, 2, 3, 4], prs), 4, 'a voter without progress counts as 0');
  assert.equal(committedIndex([], prs), 0);
  const votes = new Map([
    [1, true],
    [2, false],
  ]);
  assert.equal(voteResult([1, 2, 3], votes), VoteResult.Pending);
  votes.set(3, true);
  assert.equal(voteResult([1, 2, 3], votes), VoteResult.Won);
  assert.equal(voteResult([1, 2, 3, 4, 5], new Map([[1, false], [2, false], [3, false]])), VoteResult.Lost);
});
