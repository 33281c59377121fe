import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readBigU64BE, writeBigU64BE } from './big-u64.ts';

test('writes and reads the same bytes as Buffer#writeBigUInt64BE', () => {
  for (const v of [0n, 1n, 255n, 256n, 1733570000123456789n, 2n ** 63n, 2n ** 64n - 1n]) {
    const ours = Buffer.alloc(12, 0xaa);
    const node = Buffer.alloc(12, 0xaa);
    writeBigU64BE(ours, v, 3);
    node.writeBigUInt64BE(v, 3);
    assert.deepEqual(ours, node, `write ${v}`);
    assert.equal(readBigU64BE(node, 3), v, `read ${v}`);
  }
});

test('a value outside 64 bits or a read past the end is refused', () => {
  assert.throws(() => writeBigU64BE(Buffer.alloc(8), 2n ** 64n, 0), RangeError);
  assert.throws(() => writeBigU64BE(Buffer.alloc(8), -1n, 0), RangeError);
  assert.throws(() => readBigU64BE(Buffer.alloc(8), 1), RangeError);
});

test('a write past the end is refused', () => {
  assert.throws(() => writeBigU64BE(Buffer.alloc(10), 1n, 3), RangeError);
});
