import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessages, encodeMessages } from './wire.ts';
import { ConfChangeKind, EntryKind, MessageType, encodeConfChange, makeMessage, type Message } from './types.ts';

const norm = (x: unknown): unknown =>
  x instanceof Uint8Array ? [...x] : Array.isArray(x) ? x.map(norm) : x !== null && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, norm(v)])) : x;

test('every message shape round-trips exactly, one at a time and as a batch', () => {
  const msgs: Message[] = [
    makeMessage({
      type: MessageType.Append,
      from: 4_000_000_000,
      to: 2,
      term: 7,
      index: 2 ** 40,
      logTerm: 6,
      commit: 40,
      entries: [
        { term: 7, index: 42, kind: EntryKind.Normal, data: new Uint8Array([1, 2, 3]) },
        { term: 7, index: 43, kind: EntryKind.ConfChange, data: encodeConfChange({ kind: ConfChangeKind.AddNode, nodeId: 4 }) },
        { term: 7, index: 44, kind: EntryKind.Normal, data: new Uint8Array(0) },
      ],
    }),
    makeMessage({ type: MessageType.AppendResponse, from: 2, to: 1, term: 7, index: 41, reject: true, rejectHint: 30, logTerm: 5 }),
    makeMessage({ type: MessageType.Heartbeat, from: 1, to: 3, term: 7, commit: 40, context: new Uint8Array([9, 9]) }),
    makeMessage({ type: MessageType.Snapshot, from: 1, to: 3, term: 7, snapshot: { metadata: { index: 40, term: 6, confState: { voters: [1, 2, 3] } }, data: new Uint8Array(1000).fill(5) } }),
    makeMessage({ type: MessageType.Vote, from: 3, to: 1, term: 8, index: 43, logTerm: 7, transfer: true }),
    makeMessage({ type: MessageType.ReadIndexResponse, from: 1, to: 2, term: 8, index: 50, context: new Uint8Array(0) }),
  ];
  for (const m of msgs) assert.deepEqual(norm(decodeMessages(encodeMessages([m]))), norm([m]));
  assert.deepEqual(norm(decodeMessages(encodeMessages(msgs))), norm(msgs));
  assert.deepEqual(decodeMessages(encodeMessages([])), []);
});

test('truncated, trailing or unknown bytes are errors', () => {
  const b = encodeMessages([makeMessage({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 })]);
  assert.throws(() => decodeMessages(b.subarray(0, b.length - 1)), /truncated/);
  assert.throws(() => decodeMessages(Buffer.concat([b, Buffer.from([0])])), /trailing/);
  const bad = Buffer.from(b);
  bad[4] = 250;
  assert.throws(() => decodeMessages(bad), /unknown message type/);
});
