// Raft messages and entries are plain data: they survive a msgpackr round trip unchanged, which
// is what the cluster transport will put on the wire.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Packr } from 'msgpackr';
import { ConfChangeKind, EntryKind, MessageType, encodeConfChange, makeMessage, type Message } from '../../raft/types.ts';

/** Deep copy with every byte array turned into a plain number array. */
function norm(x: unknown): unknown {
  if (x instanceof Uint8Array) return [...x];
  if (Array.isArray(x)) return x.map(norm);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)]));
  return x;
}

test('raft messages round-trip through msgpackr', () => {
  const packr = new Packr({ useRecords: false });
  const msgs: Message[] = [
    makeMessage({
      type: MessageType.Append,
      from: 1,
      to: 2,
      term: 7,
      index: 41,
      logTerm: 6,
      commit: 40,
      entries: [
        { term: 7, index: 42, kind: EntryKind.Normal, data: new Uint8Array([1, 2, 3]) },
        { term: 7, index: 43, kind: EntryKind.ConfChange, data: encodeConfChange({ kind: ConfChangeKind.AddNode, nodeId: 4 }) },
      ],
    }),
    makeMessage({ type: MessageType.AppendResponse, from: 2, to: 1, term: 7, index: 41, reject: true, rejectHint: 30, logTerm: 5 }),
    makeMessage({ type: MessageType.Heartbeat, from: 1, to: 3, term: 7, commit: 40, context: new Uint8Array([9, 9]) }),
    makeMessage({
      type: MessageType.Snapshot,
      from: 1,
      to: 3,
      term: 7,
      snapshot: { metadata: { index: 40, term: 6, confState: { voters: [1, 2, 3] } }, data: new Uint8Array(1000).fill(5) },
    }),
    makeMessage({ type: MessageType.Vote, from: 3, to: 1, term: 8, index: 43, logTerm: 7, transfer: true }),
  ];
  for (const m of msgs) {
    const back = packr.unpack(packr.pack(m)) as Message;
    // Byte arrays come back as Buffers (a Uint8Array subclass): compare as plain bytes.
    assert.deepEqual(norm(back), norm(m));
    assert.ok(back.entries.every((e) => e.data instanceof Uint8Array));
  }
});
