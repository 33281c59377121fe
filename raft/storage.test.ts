import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactedError, MemoryStorage, UnavailableError, bootstrapUpdate } from './storage.ts';
import { ConfChangeKind, EntryKind, decodeConfChange, encodeConfChange, type Entry } from './types.ts';

const e = (index: number, term: number): Entry => ({ index, term, kind: EntryKind.Normal, data: new Uint8Array(4) });

test('MemoryStorage: append truncates from the first new index; compaction keeps the dummy term', () => {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 1), e(3, 2), e(4, 2)]);
  s.append([e(3, 3)]);
  assert.equal(s.lastIndex(), 3);
  assert.equal(s.term(3), 3);
  s.createSnapshot(2, { voters: [1, 2, 3] }, new Uint8Array([7]));
  s.compact(2);
  assert.equal(s.firstIndex(), 3);
  assert.equal(s.term(2), 1);
  assert.throws(() => s.term(1), CompactedError);
  assert.throws(() => s.entries(2, 4, Infinity), CompactedError);
  assert.throws(() => s.entries(3, 5, Infinity), UnavailableError);
  assert.throws(() => s.compact(3), /beyond snapshot/);
  // Appending entries that overlap the compacted prefix keeps only the new part.
  s.append([e(2, 1), e(3, 3), e(4, 3)]);
  assert.deepEqual(s.entries(3, 5, Infinity).map((x) => [x.index, x.term]), [[3, 3], [4, 3]]);
});

test('MemoryStorage: save() applies snapshot, then entries, then hard state', () => {
  const s = new MemoryStorage();
  s.save({
    hardState: { term: 4, vote: 2, commit: 10 },
    entries: [e(11, 4)],
    snapshot: { metadata: { index: 10, term: 3, confState: { voters: [1, 2] } }, data: new Uint8Array() },
  });
  assert.equal(s.firstIndex(), 11);
  assert.equal(s.lastIndex(), 11);
  assert.equal(s.term(10), 3);
  assert.deepEqual(s.initialState(), { hardState: { term: 4, vote: 2, commit: 10 }, confState: { voters: [1, 2] } });
});

test('bootstrap: one committed AddNode entry per initial voter, identical on every member', () => {
  const a = bootstrapUpdate([3, 1, 2]);
  const b = bootstrapUpdate([1, 2, 3, 3]);
  assert.deepEqual(a, b);
  assert.deepEqual(a.hardState, { term: 1, vote: 0, commit: 3 });
  assert.deepEqual(a.entries.map((x) => decodeConfChange(x.data)), [1, 2, 3].map((nodeId) => ({ kind: ConfChangeKind.AddNode, nodeId })));
});

test('conf change codec round-trips and rejects garbage', () => {
  const cc = { kind: ConfChangeKind.RemoveNode, nodeId: 123456789 } as const;
  assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
  assert.throws(() => decodeConfChange(new Uint8Array(3)));
  assert.throws(() => decodeConfChange(new Uint8Array(9)), /unknown kind/);
});
