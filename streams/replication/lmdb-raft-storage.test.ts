// The LMDB raft log: what is saved survives closing and reopening the environment, including
// truncation of a conflicting suffix, snapshots, compaction, and a snapshot received from a
// leader; and a RaftNode restarted over it recovers its state.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { seededRng } from '../../runtime/rng.ts';
import { RaftNode } from '../../raft/raft.ts';
import { CompactedError, UnavailableError, bootstrap } from '../../raft/storage.ts';
import { EntryKind, Role, type Entry } from '../../raft/types.ts';
import { LmdbRaftStorage, indexKey } from './lmdb-raft-storage.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const entry = (index: number, term: number, text: string): Entry => ({ index, term, kind: EntryKind.Normal, data: enc(text) });

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-raft-log-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function openRoot(dir: string): RootDatabase {
  return open({ path: dir, maxDbs: 16 });
}

test('index keys are 8-byte big-endian, so byte order is log order', () => {
  assert.deepEqual([...indexKey(1)], [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...indexKey(2 ** 32 + 2)], [0, 0, 0, 1, 0, 0, 0, 2]);
  assert.ok(Buffer.compare(indexKey(255), indexKey(256)) < 0);
});

test('writes, reopens and reads back: entries, hard state, truncation, snapshot, compaction', async () => {
  await withDir(async (dir) => {
    let root = openRoot(dir);
    let s = LmdbRaftStorage.open(root, 'g1');
    assert.equal(s.firstIndex(), 1);
    assert.equal(s.lastIndex(), 0);
    assert.equal(s.term(0), 0);

    await s.save({ hardState: { term: 2, vote: 3, commit: 2 }, entries: [1, 2, 3, 4, 5].map((i) => entry(i, i < 4 ? 1 : 2, `e${i}`)), snapshot: null });
    // A conflicting suffix from a new leader: index 4 onwards is replaced.
    await s.save({ hardState: { term: 3, vote: 0, commit: 3 }, entries: [entry(4, 3, 'x4')], snapshot: null });
    assert.equal(s.lastIndex(), 4);
    await root.close();

    root = openRoot(dir);
    s = LmdbRaftStorage.open(root, 'g1');
    assert.deepEqual(s.initialState().hardState, { term: 3, vote: 0, commit: 3 });
    assert.equal(s.firstIndex(), 1);
    assert.equal(s.lastIndex(), 4, 'entry 5 of the replaced suffix is gone');
    assert.deepEqual(s.entries(1, 5, Infinity).map((e) => [e.index, e.term, dec(e.data)]), [
      [1, 1, 'e1'],
      [2, 1, 'e2'],
      [3, 1, 'e3'],
      [4, 3, 'x4'],
    ]);
    assert.equal(s.entries(1, 5, 1).length, 1, 'size limit, but at least one entry');
    assert.throws(() => s.term(5), UnavailableError);

    await s.save({ hardState: null, entries: [entry(5, 3, 'e5'), entry(6, 3, 'e6')], snapshot: null });
    await s.createSnapshot(4, { voters: [1, 2, 3] }, enc('state@4'));
    await s.compact(3);
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.term(3), 1, 'the compacted position keeps its term');
    assert.throws(() => s.term(2), CompactedError);
    assert.throws(() => s.entries(3, 5, Infinity), CompactedError);
    await root.close();

    root = openRoot(dir);
    s = LmdbRaftStorage.open(root, 'g1');
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.lastIndex(), 6);
    assert.equal(s.term(3), 1);
    assert.deepEqual(s.entries(4, 7, Infinity).map((e) => dec(e.data)), ['x4', 'e5', 'e6']);
    const snap = s.snapshot();
    assert.deepEqual(snap.metadata, { index: 4, term: 3, confState: { voters: [1, 2, 3] } });
    assert.equal(dec(snap.data), 'state@4');
    assert.deepEqual(s.initialState().confState.voters, [1, 2, 3]);

    // A snapshot received from a leader replaces the whole log; entries after it follow.
    await s.save({
      hardState: { term: 5, vote: 2, commit: 10 },
      entries: [entry(11, 5, 'e11')],
      snapshot: { metadata: { index: 10, term: 4, confState: { voters: [1, 2, 3, 4] } }, data: enc('state@10') },
    });
    await root.close();

    root = openRoot(dir);
    s = LmdbRaftStorage.open(root, 'g1');
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 11);
    assert.equal(s.term(10), 4);
    assert.equal(dec(s.entries(11, 12, Infinity)[0].data), 'e11');
    assert.equal(dec(s.snapshot().data), 'state@10');
    assert.deepEqual(s.initialState(), { hardState: { term: 5, vote: 2, commit: 10 }, confState: { voters: [1, 2, 3, 4] } });
    // Nothing stale is left below the snapshot.
    assert.equal([...root.openDB({ name: 'g1:log', keyEncoding: 'binary', encoding: 'binary' }).getKeys()].length, 1);
    await root.close();
  });
});

test('two raft groups share one environment without seeing each other', async () => {
  await withDir(async (dir) => {
    const root = openRoot(dir);
    const a = LmdbRaftStorage.open(root, 'S-R3F-aaaa');
    const b = LmdbRaftStorage.open(root, 'S-R3F-bbbb');
    await a.save({ hardState: { term: 1, vote: 1, commit: 0 }, entries: [entry(1, 1, 'a1')], snapshot: null });
    assert.equal(b.lastIndex(), 0);
    assert.equal(b.initialState().hardState.term, 0);
    await root.close();
  });
});

test('a RaftNode restarted over the LMDB log recovers term, vote, membership and committed entries', async () => {
  await withDir(async (dir) => {
    let root = openRoot(dir);
    let storage = LmdbRaftStorage.open(root, 'solo');
    await bootstrap(storage, [1]);
    let node = new RaftNode({ id: 1, storage, rng: seededRng(1) });
    const applied: string[] = [];
    const pump = async (): Promise<void> => {
      while (node.hasReady()) {
        const rd = node.ready();
        await storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
        for (const e of rd.committedEntries) if (e.kind === EntryKind.Normal && e.data.length > 0) applied.push(dec(e.data));
        node.advance(rd);
      }
    };
    node.campaign();
    await pump();
    assert.equal(node.role, Role.Leader);
    node.propose([enc('a'), enc('b')]);
    await pump();
    assert.deepEqual(applied, ['a', 'b']);
    const term = node.term;
    await root.close();

    root = openRoot(dir);
    storage = LmdbRaftStorage.open(root, 'solo');
    node = new RaftNode({ id: 1, storage, rng: seededRng(2) });
    assert.equal(node.term, term);
    assert.equal(node.vote, 1);
    assert.deepEqual(node.voters, [1]);
    applied.length = 0;
    await pump();
    assert.deepEqual(applied, ['a', 'b'], 'committed entries are re-delivered after a restart');
    await root.close();
  });
});

test('the in-memory tail of recent entries reads the same as LMDB: beyond its size, after a truncation, after compaction', async () => {
  await withDir(async (dir) => {
    const root = openRoot(dir);
    const s = LmdbRaftStorage.open(root, 'tail');
    const texts = (es: Entry[]): string[] => es.map((e) => `${e.index}/${e.term}/${dec(e.data)}`);
    // More entries than the tail keeps (8,192), in batches as a node saves them.
    for (let lo = 1; lo <= 10_000; lo += 500) {
      await s.save({ hardState: null, snapshot: null, entries: Array.from({ length: 500 }, (_, k) => entry(lo + k, 1, `e${lo + k}`)) });
    }
    // A conflicting suffix inside the tail: 9,990.. replaced by a shorter one of term 2.
    await s.save({ hardState: null, snapshot: null, entries: [entry(9_990, 2, 'x'), entry(9_991, 2, 'y')] });
    await s.createSnapshot(100, { voters: [1] }, enc('snap'));
    await s.compact(100);
    const live = { first: s.firstIndex(), last: s.lastIndex(), ranges: [101, 1_500, 9_000, 9_985].map((lo) => texts(s.entries(lo, Math.min(lo + 10, 9_992), 1 << 20))), term: s.term(9_991) };
    assert.equal(live.last, 9_991);
    assert.deepEqual(live.ranges[3], ['9985/1/e9985', '9986/1/e9986', '9987/1/e9987', '9988/1/e9988', '9989/1/e9989', '9990/2/x', '9991/2/y']);
    assert.equal(live.term, 2);
    assert.throws(() => s.entries(100, 105, 1 << 20), CompactedError);
    // The same reads from LMDB alone, after a reopen.
    await s.whenIdle();
    root.close();
    const root2 = openRoot(dir);
    const r = LmdbRaftStorage.open(root2, 'tail');
    assert.deepEqual(
      { first: r.firstIndex(), last: r.lastIndex(), ranges: [101, 1_500, 9_000, 9_985].map((lo) => texts(r.entries(lo, Math.min(lo + 10, 9_992), 1 << 20))), term: r.term(9_991) },
      live,
    );
    await r.whenIdle();
    root2.close();
  });
});

test('drop() deletes the log and its state: reopened, the group starts empty', async () => {
  await withDir(async (dir) => {
    const root = openRoot(dir);
    const s = LmdbRaftStorage.open(root, 'gone');
    await s.save({ hardState: { term: 3, vote: 1, commit: 2 }, snapshot: null, entries: [entry(1, 3, 'a'), entry(2, 3, 'b')] });
    await s.drop();
    const again = LmdbRaftStorage.open(root, 'gone');
    assert.equal(again.lastIndex(), 0);
    assert.deepEqual(again.hardState(), { term: 0, vote: 0, commit: 0 });
    await again.whenIdle();
    root.close();
  });
});
