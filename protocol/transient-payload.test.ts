import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerParser } from './parser.ts';
import { TRANSIENT_MAX_BYTES, deliverTransient, isTransient } from './transient-payload.ts';

test('a small payload is copied into the reused buffer of its size; a nested delivery is refused', () => {
  const src = Buffer.from('xxhello worldyy');
  const seen: string[] = [];
  let nested: boolean | undefined;
  const ok = deliverTransient(src, 2, 11, (msg) => {
    assert.ok(isTransient(msg));
    seen.push(msg.toString());
    nested = deliverTransient(src, 0, 2, () => assert.fail('must not run'));
  });
  assert.equal(ok, true);
  assert.equal(nested, false);
  assert.deepEqual(seen, ['hello world']);
  let again: Buffer | undefined;
  deliverTransient(Buffer.from('abcdefghijk'), 0, 11, (msg) => (again = msg));
  assert.equal(again!.toString(), 'abcdefghijk');
  assert.ok(!isTransient(Buffer.from('hello world')));
  // Longer payloads are copied natively: the same bytes either way.
  const long = Buffer.from('z'.repeat(3) + 'abcdefghij'.repeat(20) + 'z');
  let copied = '';
  assert.ok(deliverTransient(long, 3, 200, (msg) => (copied = msg.toString())));
  assert.equal(copied, 'abcdefghij'.repeat(20));
});

test('the server parser hands small payloads over in reused buffers, larger ones as views, each valid during its call', () => {
  const got: { text: string; transient: boolean; same: Buffer }[] = [];
  const sink = {
    pub: (_subject: string, _reply: string, _hdrLen: number, msg: Buffer) => got.push({ text: msg.toString(), transient: isTransient(msg), same: msg }),
    sub: () => {},
    unsub: () => {},
    ping: () => {},
    pong: () => {},
    connect: () => {},
    error: (e: unknown) => assert.fail(String(e)),
  };
  const p = new ServerParser(sink as never, { maxControlLineBytes: 4096, maxPayloadBytes: 1 << 20 });
  const big = 'b'.repeat(TRANSIENT_MAX_BYTES + 1);
  p.parse(Buffer.from(`PUB a 3\r\none\r\nPUB a 3\r\ntwo\r\nPUB a ${big.length}\r\n${big}\r\nPUB a 0\r\n\r\n`));
  assert.deepEqual(
    got.map((g) => [g.text, g.transient]),
    [
      ['one', true],
      ['two', true],
      [big, false],
      ['', false],
    ],
  );
  // The first delivery's buffer was reused for the second: whoever keeps bytes must copy them.
  assert.equal(got[0]!.same, got[1]!.same);
  assert.equal(got[0]!.same.toString(), 'two');
});
