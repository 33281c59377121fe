import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock, systemClock } from '../../runtime/clock.ts';
import { conformanceSuite, type StoreHarness } from './conformance.ts';
import { META_KEY } from './lmdb-index.ts';
import { openLmdbEnvironment, type LmdbEnvironment, type SyncMode } from './lmdb-env.ts';
import { openLmdbStore } from './lmdb-store.ts';
import { appendNext } from './testing.ts';
import type { StreamStore } from './types.ts';

const enc = (s: string): Buffer => Buffer.from(s);
const turn = () => new Promise<void>((resolve) => systemClock.setImmediate(resolve));

// The default read cache; a tiny one (slabs of a few records, evicted all the time); none (every
// committed read goes to LMDB).
for (const [label, readCacheBytes] of [
  ['lmdb', undefined],
  ['lmdb, tiny read cache', 2048],
  ['lmdb, no read cache', 0],
] as const) {
  conformanceSuite(label, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    const envOpts = readCacheBytes === undefined ? {} : { readCacheBytes };
    let env = openLmdbEnvironment(dir, envOpts);
    const h: StoreHarness = {
      store: await openLmdbStore(env, 'TEST'),
      turn,
      reopen: async () => {
        await h.store.close();
        await env.close();
        env = openLmdbEnvironment(dir, envOpts);
        h.store = await openLmdbStore(env, 'TEST');
      },
      cleanup: async () => {
        try {
          await h.store.close().catch(() => {});
          await env.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
    return h;
  });
}

/** A temp store dir, an environment, and a way to reopen both (as a restart would). */
async function withEnv(fn: (ctx: { dir: string; env: () => LmdbEnvironment; restart: () => Promise<void> }) => Promise<void>, sync?: SyncMode) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
  let env = openLmdbEnvironment(dir, sync === undefined ? {} : { sync });
  try {
    await fn({
      dir,
      env: () => env,
      restart: async () => {
        await env.close();
        env = openLmdbEnvironment(dir, sync === undefined ? {} : { sync });
      },
    });
  } finally {
    await env.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

function snapshot(s: StreamStore) {
  return {
    state: s.state({ deleted: true }),
    subjects: s.subjectsState(),
    msgs: [...s.iterate(0)].map((m) => [m.seq, m.subject, Buffer.from(m.data).toString(), m.timeNs, m.hdr === null ? null : Buffer.from(m.hdr).toString()]),
  };
}

describe('LmdbStore specifics', () => {
  it('committed appends are served from the read cache; closing gives its memory back', () =>
    withEnv(async ({ env }) => {
      const budget = env().cacheBudget!;
      const s = await openLmdbStore(env(), 'RC');
      for (let i = 1; i <= 100; i++) appendNext(s, `a.${i % 3}`, i % 2 === 0 ? enc('NATS/1.0\r\nk: v\r\n\r\n') : null, enc(`m${i}`));
      await s.durable();
      await turn();
      assert.ok(budget.usedBytes > 0, 'the commit filled the cache');
      for (let i = 1; i <= 100; i++) {
        const m = s.get(i)!;
        assert.equal(m.subject, `a.${i % 3}`);
        assert.equal(Buffer.from(m.data).toString(), `m${i}`);
        assert.equal(m.hdr === null ? null : Buffer.from(m.hdr).toString(), i % 2 === 0 ? 'NATS/1.0\r\nk: v\r\n\r\n' : null);
      }
      s.delete(50);
      assert.equal(s.get(50), undefined);
      await s.durable();
      assert.equal(s.get(50), undefined);
      await s.close();
      assert.equal(budget.usedBytes, 0);
    }));

  it('bulk appends stay out of the read cache and read back from LMDB', () =>
    withEnv(async ({ env }) => {
      const budget = env().cacheBudget!;
      const s = await openLmdbStore(env(), 'BULK');
      s.bulkAppends(true);
      for (let i = 1; i <= 100; i++) appendNext(s, 'a', null, enc(`m${i}`));
      s.bulkAppends(false);
      await s.durable();
      await turn();
      assert.equal(budget.usedBytes, 0, 'nothing cached');
      assert.deepEqual([...s.iterate(0)].map((m) => Buffer.from(m.data).toString()), Array.from({ length: 100 }, (_, i) => `m${i + 1}`));
      appendNext(s, 'a', null, enc('m101'));
      await s.durable();
      await turn();
      assert.ok(budget.usedBytes > 0, 'appends after the bulk load are cached again');
      assert.equal(Buffer.from(s.get(101)!.data).toString(), 'm101');
      await s.close();
    }));

  it('accounts bytes like nats-server fileStoreMsgSize', () =>
    withEnv(async ({ env }) => {
      const s = await openLmdbStore(env(), 'B');
      appendNext(s, 'a.b', enc('NATS/1.0\r\n\r\n'), enc('hello'));
      assert.equal(s.state().bytes, 22 + 3 + 4 + 12 + 5 + 8);
      appendNext(s, 'a.b', null, enc('hello'));
      assert.equal(s.state().bytes, 54 + 22 + 3 + 5 + 8);
      await s.close();
    }));

  it('survives a restart: messages, sequences, deletes, subjects, counters', () =>
    withEnv(async ({ env, restart }) => {
      const clock = new ManualClock();
      let s = await openLmdbStore(env(), 'ORDERS');
      for (let i = 0; i < 200; i++) {
        clock.advance(1);
        appendNext(s, `orders.${i % 7}`, i % 3 === 0 ? enc('NATS/1.0\r\nX: y\r\n\r\n') : null, enc(`m${i}`), clock.epochNs());
        if (i % 50 === 49) await turn();
      }
      s.delete(10);
      s.delete(1);
      s.purge({ subject: 'orders.3', keep: 5 });
      await s.durable();
      s.delete(200); // the newest, pending at close
      const before = snapshot(s);
      await s.close();
      await restart();
      s = await openLmdbStore(env(), 'ORDERS');
      assert.deepEqual(snapshot(s), before);
      assert.equal(s.lastBySubject('orders.4')!.seq, 194);
      assert.equal(appendNext(s, 'orders.0', null, enc('next')), 201, 'continues after the last sequence');
      await s.close();
    }));

  it('keeps firstSeq = lastSeq + 1 across a restart after purging everything', () =>
    withEnv(async ({ env, restart }) => {
      let s = await openLmdbStore(env(), 'P');
      for (let i = 0; i < 10; i++) appendNext(s, 'a', null, enc('x'));
      s.purge();
      await s.close();
      await restart();
      s = await openLmdbStore(env(), 'P');
      const st = s.state();
      assert.deepEqual([st.messages, st.firstSeq, st.lastSeq, st.numSubjects], [0, 11, 10, 0]);
      assert.equal(appendNext(s, 'a', null, enc('y')), 11);
      await s.close();
    }));

  it('drop removes all data; the name can be reused', () =>
    withEnv(async ({ env, restart }) => {
      let s = await openLmdbStore(env(), 'D');
      appendNext(s, 'a', null, enc('x'));
      await s.drop();
      assert.throws(() => s.get(1), /closed/);
      await restart();
      s = await openLmdbStore(env(), 'D');
      assert.equal(s.state().messages, 0);
      assert.equal(s.state().lastSeq, 0);
      await s.close();
    }));

  it('streams in one environment are independent; a name opens once', () =>
    withEnv(async ({ env }) => {
      const a = await openLmdbStore(env(), 'A');
      const b = await openLmdbStore(env(), 'B');
      await assert.rejects(openLmdbStore(env(), 'A'), /already open/);
      appendNext(a, 'x', null, enc('1'));
      appendNext(a, 'x', null, enc('2'));
      appendNext(b, 'x', null, enc('3'));
      await Promise.all([a.durable(), b.durable()]);
      assert.equal(a.state().messages, 2);
      assert.equal(Buffer.from(b.get(1)!.data).toString(), '3');
      await a.close();
      await b.close();
    }));

  it('group commit: appends of one turn share one durability promise', () =>
    withEnv(async ({ env, restart }) => {
      let s = await openLmdbStore(env(), 'G');
      const acks: Promise<void>[] = [];
      for (let i = 0; i < 1000; i++) {
        appendNext(s, 'g', null, enc(`${i}`));
        acks.push(s.durable());
      }
      assert.ok(acks.every((a) => a === acks[0]));
      await turn();
      appendNext(s, 'g', null, enc('later'));
      const next = s.durable();
      assert.notEqual(next, acks[0], 'a new turn is a new transaction');
      await next;
      await s.close();
      await restart();
      s = await openLmdbStore(env(), 'G');
      assert.equal(s.state().messages, 1001);
      await s.close();
    }));

  it('rebuilds its summary from the records if the metadata is missing', () =>
    withEnv(async ({ env, restart }) => {
      let s = await openLmdbStore(env(), 'R');
      for (let i = 0; i < 30; i++) appendNext(s, `r.${i % 4}`, null, enc(`v${i}`));
      s.delete(5);
      await s.durable();
      const before = snapshot(s);
      await s.close();
      await env().root.openDB('stream:R:s', { encoding: 'binary' }).remove(META_KEY);
      await restart();
      s = await openLmdbStore(env(), 'R');
      assert.deepEqual(snapshot(s), before);
      assert.equal(s.nextMatching(0, 'r.1')!.seq, 2);
      await s.close();
    }));

  it('a store dir wiped and recreated in the same process is a fresh environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-store-'));
    try {
      let env = openLmdbEnvironment(dir);
      let s = await openLmdbStore(env, 'W');
      appendNext(s, 'a', null, enc('x'));
      await s.close();
      await env.close();
      rmSync(dir, { recursive: true, force: true });
      env = openLmdbEnvironment(dir);
      s = await openLmdbStore(env, 'W');
      assert.equal(s.state().messages, 0);
      appendNext(s, 'a', null, enc('y'));
      await s.close();
      await env.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const sync of ['committed', 'none'] as const) {
    it(`sync: '${sync}' stores and reopens`, () =>
      withEnv(async ({ env, restart }) => {
        let s = await openLmdbStore(env(), 'S');
        for (let i = 0; i < 100; i++) appendNext(s, 's', null, enc(`${i}`));
        await s.durable();
        await s.close();
        await restart();
        s = await openLmdbStore(env(), 'S');
        assert.equal(s.state().messages, 100);
        await s.close();
      }, sync));
  }
});

// Pipelined group commit (commit-pipeline.ts): while a transaction with store writes commits, the
// stores stage their writes and write them together once it is done. lmdb-js closes a turn's batch
// in its own setImmediate, queued before the test's, so right after `turn()` that batch is
// committing: the writes that follow are staged.
describe('LmdbStore pipelined group commit', () => {
  it('writes made while a commit is in flight are read at once, then committed in order, in one transaction', () =>
    withEnv(async ({ env, restart }) => {
      const pipeline = env().pipeline;
      let s = await openLmdbStore(env(), 'P');
      const t = await openLmdbStore(env(), 'Q');
      for (let i = 1; i <= 5; i++) appendNext(s, `p.${i % 2}`, null, enc(`m${i}`));
      const firstBatch = s.durable();
      await turn();
      assert.equal(pipeline.staging, true, 'the first batch is committing');
      const stagedBefore = pipeline.stagedBatches;
      // Staged: appends on two stores, a delete of a committing message, a delete of a staged one.
      for (let i = 6; i <= 9; i++) appendNext(s, `p.${i % 2}`, i === 7 ? enc('NATS/1.0\r\nA: b\r\n\r\n') : null, enc(`m${i}`));
      appendNext(t, 'q', null, enc('q1'));
      assert.equal(s.delete(2), true);
      assert.equal(s.delete(8), true);
      const staged = s.durable();
      assert.notEqual(staged, firstBatch, 'the staged writes have a batch of their own');
      const stagedQ = t.durable();
      // Read-your-writes while nothing of it is in LMDB yet.
      assert.equal(s.get(2), undefined);
      assert.equal(s.get(8), undefined);
      assert.equal(Buffer.from(s.get(9)!.data).toString(), 'm9');
      assert.deepEqual(s.state(), { ...s.state(), messages: 7, firstSeq: 1, lastSeq: 9, numDeleted: 2 });
      assert.equal(s.lastBySubject('p.0')!.seq, 6);
      assert.equal(s.numPendingFrom(5, 'p.1'), 3);
      await firstBatch;
      await Promise.all([staged, stagedQ]);
      assert.equal(pipeline.stagedBatches, stagedBefore + 1, 'both stores wrote their staged writes as one batch');
      const before = snapshot(s);
      await s.close();
      await t.close();
      await restart();
      s = await openLmdbStore(env(), 'P');
      assert.deepEqual(snapshot(s), before, 'what was staged is what LMDB holds, metadata included');
      const q = await openLmdbStore(env(), 'Q');
      assert.equal(Buffer.from(q.get(1)!.data).toString(), 'q1');
      await q.close();
      await s.close();
    }));

  it('a purge of everything while staged, then appends, in order', () =>
    withEnv(async ({ env, restart }) => {
      let s = await openLmdbStore(env(), 'C');
      for (let i = 1; i <= 10; i++) appendNext(s, 'c', null, enc(`m${i}`));
      await turn();
      assert.equal(env().pipeline.staging, true);
      assert.equal(s.purge(), 10);
      appendNext(s, 'c', null, enc('after'));
      await s.durable();
      const before = snapshot(s);
      assert.deepEqual(before.msgs.map((m) => m[0]), [11]);
      await s.close();
      await restart();
      s = await openLmdbStore(env(), 'C');
      assert.deepEqual(snapshot(s), before);
      await s.close();
    }));

  it('one append per turn: transactions grow with the commit time instead of one per turn', () =>
    withEnv(async ({ env }) => {
      const s = await openLmdbStore(env(), 'T');
      const pipeline = env().pipeline;
      const commits0 = pipeline.commits;
      const acks: Promise<void>[] = [];
      for (let i = 0; i < 300; i++) {
        appendNext(s, 't', null, enc(`m${i}`));
        acks.push(s.durable());
        await turn();
      }
      await Promise.all(acks);
      const commits = pipeline.commits - commits0;
      assert.ok(commits < 300, `${commits} transactions for 300 appends in 300 turns`);
      assert.equal(s.state().messages, 300);
      await s.close();
    }));

  it('a dropped stream forgets what it staged', () =>
    withEnv(async ({ env }) => {
      const s = await openLmdbStore(env(), 'D');
      appendNext(s, 'd', null, enc('1'));
      await turn();
      appendNext(s, 'd', null, enc('2'));
      const staged = s.durable();
      await s.drop();
      await staged;
      const again = await openLmdbStore(env(), 'D');
      assert.equal(again.state().messages, 0);
      await again.close();
    }));
});
