// CommitPipeline on its own: when writes are staged, in which order staged writes are made, which
// promise they settle with, and what a failed commit does to the batch staged behind it. The
// commit promises are plain promises settled by the test (lmdb-js is exercised in
// lmdb-store.test.ts and lmdb-crash.test.ts).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommitPipeline, type CommitPromise, type PipelineMember } from './commit-pipeline.ts';

function commit(): { promise: CommitPromise; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** Settles promise callbacks. */
const ticks = (): Promise<void> => new Promise((r) => setImmediate(r));

class Member implements PipelineMember {
  staged: string[] = [];
  constructor(
    readonly name: string,
    private readonly log: string[],
    private readonly onFlush: () => void = () => undefined,
  ) {}
  flushStaged(): void {
    for (const w of this.staged) this.log.push(`${this.name}:${w}`);
    this.staged = [];
    this.onFlush();
  }
  dropStaged(): void {
    this.log.push(`${this.name}:dropped ${this.staged.length}`);
    this.staged = [];
  }
}

describe('CommitPipeline', () => {
  it('writes go straight through until a batch with store writes closes, then are staged until it commits', async () => {
    const p = new CommitPipeline();
    assert.equal(p.staging, false);
    p.batchClosing(); // a batch without store writes (a consumer's state) changes nothing
    assert.equal(p.staging, false);
    const first = commit();
    p.wrote(first.promise);
    p.batchClosing();
    assert.equal(p.staging, true);
    const log: string[] = [];
    const next = commit();
    const a = new Member('a', log, () => p.wrote(next.promise));
    const b = new Member('b', log, () => p.wrote(next.promise));
    const pa = p.stage(a);
    a.staged.push('1', '2');
    const pb = p.stage(b);
    b.staged.push('x');
    assert.equal(pa, pb, 'one staged batch, one promise');
    assert.equal(p.stage(a), pa);
    a.staged.push('3');
    let settled = false;
    pa.then(() => (settled = true));
    await ticks();
    assert.deepEqual(log, [], 'nothing is written while the commit is in flight');
    first.resolve();
    await ticks();
    assert.equal(p.staging, false);
    assert.deepEqual(log, ['a:1', 'a:2', 'a:3', 'b:x'], "each member's writes in the order it staged them");
    assert.equal(settled, false, 'the staged batch is done when the batch it was written into commits');
    next.resolve();
    await pa;
    await pa.flushed;
    assert.equal(p.stagedBatches, 1);
  });

  it('a failed commit fails the batch staged behind it, which is never written', async () => {
    const p = new CommitPipeline();
    const first = commit();
    p.wrote(first.promise);
    p.batchClosing();
    const log: string[] = [];
    const m = new Member('m', log);
    const staged = p.stage(m);
    m.staged.push('1', '2');
    first.reject(new Error('MDB_MAP_FULL'));
    await assert.rejects(staged, /MDB_MAP_FULL/);
    await assert.rejects(staged.flushed!, /MDB_MAP_FULL/);
    assert.deepEqual(log, ['m:dropped 2']);
    assert.equal(p.staging, false, 'later writes go straight to lmdb-js again (the store refuses them itself)');
    await p.settled();
  });

  it('a staged batch whose members wrote nothing resolves at once', async () => {
    const p = new CommitPipeline();
    const first = commit();
    p.wrote(first.promise);
    p.batchClosing();
    const staged = p.stage(new Member('dropped', []));
    first.resolve();
    await staged;
    await p.settled();
  });
});
