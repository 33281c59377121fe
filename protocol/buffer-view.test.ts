import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { bufferView } from './buffer-view.ts';

test('bufferView is a Buffer sharing the bytes of its source', () => {
  const src = Buffer.from('xxhello worldyy');
  const v = bufferView(src, 2, 13);
  assert.ok(Buffer.isBuffer(v));
  assert.ok(v instanceof Buffer);
  assert.equal(v.length, 11);
  assert.equal(v.toString(), 'hello world');
  assert.equal(v.toString('base64'), Buffer.from('hello world').toString('base64'));
  assert.ok(v.equals(Buffer.from('hello world')));
  assert.equal(v.indexOf(' '), 5);
  assert.equal(v.readUInt8(0), 0x68);
  assert.equal(Buffer.concat([v, v]).toString(), 'hello worldhello world');
  const sub = v.subarray(6);
  assert.ok(Buffer.isBuffer(sub));
  assert.equal(sub.toString(), 'world');
  src[2] = 0x48; // shared memory, as with subarray
  assert.equal(v.toString(), 'Hello world');
  assert.deepEqual(JSON.parse(JSON.stringify(v)), { type: 'Buffer', data: [...Buffer.from('Hello world')] });
});

test('bufferView of a pooled Buffer honours its byteOffset', () => {
  const pooled = Buffer.alloc(32).subarray(5, 11);
  pooled.write('abcdef');
  assert.equal(pooled.byteOffset, 5);
  assert.equal(bufferView(pooled, 1, 4).toString(), 'bcd');
  assert.equal(bufferView(pooled, 3, 3).length, 0);
});
