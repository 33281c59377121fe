// Leafnode parser transcripts: bytes in, ops out, whole, a byte at a time and in random chunks
// (seed printed; rerun with SEED=n). The encoder's frames read back as what was written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { OutboundBuffer } from './encoder.ts';
import { writeLeafMsg, writeLeafSub, writeLeafUnsub } from './leaf-encoder.ts';
import { LeafParser, type LeafOpSink } from './leaf-parser.ts';
import { byteChunks, randomChunks, seededRng, testSeed } from './testing.ts';

const SEED = testSeed();
console.log(`# leaf-parser.test.ts SEED=${SEED}`);

type LeafOp = (string | number | string[])[];

class Recorder implements LeafOpSink {
  ops: LeafOp[] = [];
  info(json: string): void {
    this.ops.push(['info', json]);
  }
  connect(json: string): void {
    this.ops.push(['connect', json]);
  }
  ping(): void {
    this.ops.push(['ping']);
  }
  pong(): void {
    this.ops.push(['pong']);
  }
  ok(): void {
    this.ops.push(['ok']);
  }
  err(text: string): void {
    this.ops.push(['err', text]);
  }
  sub(subject: string, queue: string, weight: number): void {
    this.ops.push(['sub', subject, queue, weight]);
  }
  unsub(subject: string, queue: string): void {
    this.ops.push(['unsub', subject, queue]);
  }
  msg(subject: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void {
    this.ops.push(['msg', subject, reply, [...queues], hdrLen, msg.toString('latin1')]);
  }
  error(detail: string): void {
    this.ops.push(['error', detail]);
  }
}

const LIMITS = { maxControlLineBytes: 4096, maxPayloadBytes: 1024 * 1024 };

function feed(chunks: readonly Buffer[]): LeafOp[] {
  const r = new Recorder();
  const p = new LeafParser(r, LIMITS);
  for (const c of chunks) p.parse(c);
  return r.ops;
}

function transcript(input: string | Buffer, expected: LeafOp[]): void {
  const b = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const rng = seededRng(SEED);
  assert.deepEqual(feed([b]), expected, 'whole');
  assert.deepEqual(feed(byteChunks(b)), expected, 'byte at a time');
  for (let k = 0; k < 5; k++) assert.deepEqual(feed(randomChunks(b, rng)), expected, `random chunks SEED=${SEED}`);
}

test('control lines', () => {
  transcript('INFO {"server_id":"X"}\r\nCONNECT {"name":"a"}\r\nPING\r\nPONG\r\n+OK\r\n-ERR \'Loop detected\'\r\n', [
    ['info', '{"server_id":"X"}'],
    ['connect', '{"name":"a"}'],
    ['ping'],
    ['pong'],
    ['ok'],
    ['err', 'Loop detected'],
  ]);
});

test('LS+ and LS- with and without queues', () => {
  transcript('LS+ foo.*\r\nLS+ foo bar 3\r\nLS- foo.*\r\nLS- foo bar\r\n', [
    ['sub', 'foo.*', '', 1],
    ['sub', 'foo', 'bar', 3],
    ['unsub', 'foo.*', ''],
    ['unsub', 'foo', 'bar'],
  ]);
});

test('LMSG and HMSG with every reply and queue form', () => {
  transcript(
    'LMSG a 5\r\nhello\r\nLMSG a r 2\r\nhi\r\nLMSG a + r q1 q2 0\r\n\r\nLMSG a | q1 1\r\nx\r\nHMSG a r 12 14\r\nNATS/1.0\r\n\r\nok\r\n',
    [
      ['msg', 'a', '', [], 0, 'hello'],
      ['msg', 'a', 'r', [], 0, 'hi'],
      ['msg', 'a', 'r', ['q1', 'q2'], 0, ''],
      ['msg', 'a', '', ['q1'], 0, 'x'],
      ['msg', 'a', 'r', [], 12, 'NATS/1.0\r\n\r\nok'],
    ],
  );
});

test('what the encoder writes reads back', () => {
  const out = new OutboundBuffer();
  writeLeafSub(out, 'svc.>', '', 1);
  writeLeafSub(out, 'svc.a', 'workers', 7);
  writeLeafUnsub(out, 'svc.a', 'workers');
  writeLeafMsg(out, 'svc.a', null, '_INBOX.1', ['workers'], 0, Buffer.from('body'));
  writeLeafMsg(out, 'svc.a', Buffer.from('svc.a'), '', ['w1', 'w2'], 12, Buffer.from('NATS/1.0\r\n\r\nzz'));
  writeLeafMsg(out, 'x', null, 'r', [], 0, Buffer.alloc(0));
  transcript(out.take(), [
    ['sub', 'svc.>', '', 1],
    ['sub', 'svc.a', 'workers', 7],
    ['unsub', 'svc.a', 'workers'],
    ['msg', 'svc.a', '_INBOX.1', ['workers'], 0, 'body'],
    ['msg', 'svc.a', '', ['w1', 'w2'], 12, 'NATS/1.0\r\n\r\nzz'],
    ['msg', 'x', 'r', [], 0, ''],
  ]);
});

test('malformed input ends in one error and nothing after it', () => {
  for (const bad of ['PUB foo 1\r\nx\r\n', 'LS+\r\n', 'LS+ a b\r\n', 'LMSG a\r\n', 'LMSG a ? x 1\r\nx\r\n', 'LMSG a 1\r\nxyz\r\n', 'HMSG a 5 2\r\n']) {
    const ops = feed([Buffer.from(bad + 'PING\r\n', 'latin1')]);
    assert.equal(ops.length, 1, bad);
    assert.equal(ops[0]![0], 'error', bad);
  }
  const long = feed([Buffer.from('LS+ ' + 'a'.repeat(5000), 'latin1')]);
  assert.deepEqual(long.map((o) => o[0]), ['error']);
  const big = feed([Buffer.from(`LMSG a ${LIMITS.maxPayloadBytes + 1}\r\n`, 'latin1')]);
  assert.deepEqual(big.map((o) => o[0]), ['error']);
});
