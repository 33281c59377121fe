import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeConsumerOp, decodeStreamOp, encodeConsumerOp, encodeStreamOp, type ConsumerLogOp } from './op-codec.ts';
import type { StreamOp } from '../stream/ops.ts';

const norm = (op: StreamOp): unknown => JSON.parse(JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v)));

test('every kind of op round-trips exactly (appends with and without headers, ids, rollups)', () => {
  const ops: StreamOp[] = [
    { op: 'append', seq: 1, timeNs: 1_733_550_000_123_456_789n, subject: 'a.b', hdr: null, data: Buffer.from('x'), msgId: '', rollup: '', skip: false },
    { op: 'append', seq: 2 ** 40, timeNs: 0n, subject: 'ünï.cödé', hdr: Buffer.from('NATS/1.0\r\nNats-Msg-Id: 7\r\n\r\n'), data: new Uint8Array(0), msgId: 'id-ü', rollup: 'sub', skip: true },
    { op: 'append', seq: 3, timeNs: 2n ** 63n + 5n, subject: 's', hdr: Buffer.alloc(0), data: Buffer.alloc(70_000, 1), msgId: 'm', rollup: 'all', skip: false },
    { op: 'delete', seq: 9, erase: true },
    { op: 'purge', subject: 'a.*', keep: 2 },
    { op: 'expire', upToSeq: 100 },
  ];
  for (const op of ops) assert.deepEqual(norm(decodeStreamOp(encodeStreamOp(op))), norm(op));
});

test('an unknown tag is an error, not a guess', () => {
  assert.throws(() => decodeStreamOp(Buffer.from([7, 1, 2])), /unknown stream op tag 7/);
});

test('consumer entries round-trip and are told apart from stream ops', () => {
  const ops: ConsumerLogOp[] = [
    { op: 'consumer-put', record: { v: 1, stream: 'S', name: 'd', config: { durable_name: 'd', ack_policy: 'explicit' } as never, created: '1733550000123456789' } },
    { op: 'consumer-state', stream: 'S', name: 'd', state: { v: 1, d: [5, 9], a: [3, 7], t: 1_733_550_000_000, p: [8, 4, 0, 1, 1, 3], r: [8, 2] } },
    { op: 'consumer-del', stream: 'S', name: 'd' },
  ];
  for (const op of ops) assert.deepEqual(decodeConsumerOp(encodeConsumerOp(op)), op);
  assert.equal(decodeConsumerOp(encodeStreamOp({ op: 'delete', seq: 1, erase: false })), undefined);
  assert.throws(() => decodeStreamOp(encodeConsumerOp(ops[2]!)), /unknown stream op tag 2/);
});
