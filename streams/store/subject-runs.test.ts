import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLmdbEnvironment } from './lmdb-env.ts';
import { openLmdbStore, type LmdbStore } from './lmdb-store.ts';
import { MAX_RUN, decodeRunOffsets, encodeRun } from './subject-runs.ts';
import { appendNext } from './testing.ts';

const enc = (s: string): Buffer => Buffer.from(s);

describe('subject runs: encoding', () => {
  it('writes offsets from the base, and a run of its base alone as the single byte of one key per message', () => {
    const v = encodeRun(100, [100, 101, 105, 70_000], 0, 4);
    assert.deepEqual(decodeRunOffsets(v, v.length), [0, 1, 5, 69_900]);
    const slice = encodeRun(101, [100, 101, 105], 1, 3);
    assert.deepEqual(decodeRunOffsets(slice, slice.length), [0, 4]);
    const single = encodeRun(7, [7], 0, 1);
    assert.deepEqual([...single], [1]);
    assert.deepEqual(decodeRunOffsets(single, 1), [0]);
    // A lone sequence that is not its run's base keeps its offset.
    const moved = encodeRun(7, [9], 0, 1);
    assert.deepEqual(decodeRunOffsets(moved, moved.length), [2]);
  });
});

describe('subject runs: LMDB store', () => {
  async function withStore(fn: (s: { store: () => LmdbStore; reopen: () => Promise<void>; indexKeys: () => number }) => Promise<void>) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-runs-'));
    let env = openLmdbEnvironment(dir);
    let store = await openLmdbStore(env, 'RUNS');
    try {
      await fn({
        store: () => store,
        reopen: async () => {
          await store.close();
          await env.close();
          env = openLmdbEnvironment(dir);
          store = await openLmdbStore(env, 'RUNS');
        },
        indexKeys: () => env.openDb('stream:RUNS:i', { encoding: 'binary', keyEncoding: 'binary' }).getKeysCount(),
      });
    } finally {
      await store.close().catch(() => {});
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Every query of one subject the store answers from its index, against the expected seqs. */
  function checkSubject(store: LmdbStore, subject: string, want: number[]): void {
    assert.equal(store.lastBySubject(subject)?.seq, want[want.length - 1], `last ${subject}`);
    for (const from of [1, want[0] ?? 1, (want[want.length >> 1] ?? 1) + 1, 400, 700, 1_000]) {
      const after = want.filter((s) => s >= from);
      assert.equal(store.nextMatching(from, subject)?.seq, after[0], `next ${subject} from ${from}`);
      assert.equal(store.numPendingFrom(from, subject), after.length, `pending ${subject} from ${from}`);
    }
  }

  it('keeps one index key per subject per transaction, split at MAX_RUN, and edits runs on removal', () =>
    withStore(async ({ store, reopen, indexKeys }) => {
      const a: number[] = [];
      const b: number[] = [];
      // One batch: 2 x MAX_RUN + 40 appends to a, every 10th to b.
      const n = 2 * MAX_RUN + 40;
      for (let i = 0; i < n; i++) {
        const subject = i % 10 === 9 ? 'b' : 'a';
        (subject === 'a' ? a : b).push(appendNext(store(), subject, null, enc(`m${i}`)));
      }
      await store().durable();
      assert.equal(indexKeys(), Math.ceil(a.length / MAX_RUN) + Math.ceil(b.length / MAX_RUN));
      checkSubject(store(), 'a', a);
      checkSubject(store(), 'b', b);

      // Removals in a later batch: a run's first, middle and last sequence, all of b's run but
      // one, and appends in the same batch (removed again before they commit).
      const doomedA = [a[0]!, a[1]!, a[MAX_RUN - 1]!, a[MAX_RUN]!, a[300]!, a[a.length - 1]!];
      for (const seq of doomedA) assert.ok(store().delete(seq));
      const doomedB = b.slice(1);
      for (const seq of doomedB) assert.ok(store().delete(seq));
      const fresh = appendNext(store(), 'a', null, enc('fresh'));
      const gone = appendNext(store(), 'a', null, enc('gone'));
      assert.ok(store().delete(gone));
      const liveA = a.filter((s) => !doomedA.includes(s)).concat(fresh);
      const liveB = [b[0]!];
      checkSubject(store(), 'a', liveA);
      checkSubject(store(), 'b', liveB);
      await store().durable();
      checkSubject(store(), 'a', liveA);
      checkSubject(store(), 'b', liveB);

      // A restart reads the runs back from LMDB only.
      await reopen();
      checkSubject(store(), 'a', liveA);
      checkSubject(store(), 'b', liveB);
      assert.equal(store().state().messages, liveA.length + liveB.length);

      // Emptying a subject's runs removes their keys; the rest of a's stay.
      const before = indexKeys();
      assert.equal(store().purge({ subject: 'b' }), 1);
      await store().durable();
      assert.equal(indexKeys(), before - 1);
      checkSubject(store(), 'b', []);
      await reopen();
      checkSubject(store(), 'a', liveA);
    }));

  it('reads an index written one key per message (the first format) and edits it', () =>
    withStore(async ({ store, reopen, indexKeys }) => {
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) {
        seqs.push(appendNext(store(), 'k', null, enc(`v${i}`)));
        await store().durable(); // one transaction each: runs of one, the old format's bytes
      }
      assert.equal(indexKeys(), 5);
      assert.ok(store().delete(seqs[2]!));
      await store().durable();
      await reopen();
      checkSubject(store(), 'k', [seqs[0]!, seqs[1]!, seqs[3]!, seqs[4]!]);
      assert.equal(indexKeys(), 4);
    }));
});
