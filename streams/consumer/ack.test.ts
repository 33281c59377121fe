import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckKind, ackPrefix, ackReply, classifyAck, nakDelayNs, parseAckSubject, type AckTokens } from './ack.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('ack reply subjects are built and read back', () => {
  const pre = ackPrefix('ORDERS', 'worker');
  const subject = ackReply(pre, 2, 42, 17, 1714557600123456789n, 3);
  assert.equal(subject, '$JS.ACK.ORDERS.worker.2.42.17.1714557600123456789.3');
  const t: AckTokens = { dc: 0, sseq: 0, dseq: 0 };
  assert.equal(parseAckSubject(subject, pre.length, t), true);
  assert.deepEqual(t, { dc: 2, sseq: 42, dseq: 17 });
  for (const bad of ['1.2.3.4', '1.2.3.4.5.6', '1.x.3.4.5', '1..3.4.5', '1.2.3.4.']) {
    assert.equal(parseAckSubject(pre + bad, pre.length, t), false, bad);
  }
});

test('ack bodies', () => {
  assert.equal(classifyAck(b('')), AckKind.Ack);
  assert.equal(classifyAck(b('+ACK')), AckKind.Ack);
  assert.equal(classifyAck(b('+OK')), AckKind.Ack);
  assert.equal(classifyAck(b('-NAK')), AckKind.Nak);
  assert.equal(classifyAck(b('-NAK {"delay":5000000000}')), AckKind.Nak);
  assert.equal(classifyAck(b('+WPI')), AckKind.Progress);
  assert.equal(classifyAck(b('+TERM')), AckKind.Term);
  assert.equal(classifyAck(b('+TERM no more')), AckKind.Term);
  assert.equal(classifyAck(b('+NXT {"batch":2}')), AckKind.Next);
  assert.equal(classifyAck(b('+ACKX')), AckKind.Unknown);
  assert.equal(classifyAck(b('hello')), AckKind.Unknown);
});

test('NAK delays: JSON nanoseconds or a Go duration', () => {
  assert.equal(nakDelayNs(b('-NAK')), undefined);
  assert.equal(nakDelayNs(b('-NAK {"delay":2000000000}')), 2e9);
  assert.equal(nakDelayNs(b('-NAK 1.5s')), 1.5e9);
  assert.equal(nakDelayNs(b('-NAK {bad')), null);
  assert.equal(nakDelayNs(b('-NAK soon')), null);
});
