import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import {
  OutboundBuffer,
  writeConnect,
  writeErr,
  writeInfo,
  writeMsg,
  writeOk,
  writePing,
  writePong,
  writePub,
  writeSub,
  writeUnsub,
} from './encoder.ts';

function text(out: OutboundBuffer): string {
  return out.take().toString('latin1');
}

test('appendUint writes digits', () => {
  const out = new OutboundBuffer(64);
  for (const n of [0, 7, 10, 99, 100, 12345, 4294967296, Number.MAX_SAFE_INTEGER]) {
    out.appendUint(n);
    assert.equal(text(out), String(n));
  }
});

test('appendUtf8 / appendAscii / appendBytes, small and large, grow by doubling', () => {
  const out = new OutboundBuffer(64);
  out.appendUtf8('abc.');
  out.appendUtf8('préfix.日本.😀');
  out.appendAscii('x'.repeat(100));
  const big = Buffer.alloc(1000, 7);
  out.appendBytes(big);
  out.appendBytes(Buffer.from([1, 2, 3]));
  out.appendCrlf();
  assert.ok(out.capacity >= 1024 && (out.capacity & (out.capacity - 1)) === 0);
  const got = out.take();
  const want = Buffer.concat([
    Buffer.from('abc.préfix.日本.😀', 'utf8'),
    Buffer.from('x'.repeat(100)),
    big,
    Buffer.from([1, 2, 3, 13, 10]),
  ]);
  assert.deepEqual(got, want);
  assert.equal(out.length, 0);
});

test('take hands over or copies; the caller owns the result', () => {
  const out = new OutboundBuffer(1024);
  out.appendAscii('hello');
  const a = out.take();
  out.appendAscii('world');
  assert.equal(a.toString(), 'hello');
  assert.equal(out.take().toString(), 'world');
  const large = 'y'.repeat(300_000); // above the copy-out threshold: handed over
  out.appendAscii(large);
  const b = out.take();
  out.appendAscii('zzz');
  assert.ok(b.toString() === large, 'large take');
  assert.equal(out.take().toString(), 'zzz');
  out.appendAscii('gone');
  out.clear();
  assert.equal(out.length, 0);
  assert.equal(out.take().length, 0);
});

test('a hand-over keeps the capacity the traffic grew to, but not a huge burst', () => {
  const out = new OutboundBuffer(1024);
  out.appendAscii('a'.repeat(100_000)); // grows to 128 KiB; above the copy-out threshold
  const first = out.take();
  assert.equal(first.length, 100_000);
  assert.equal(out.capacity, 128 * 1024, 'no regrowth from 1 KiB on the next burst');
  out.appendAscii('b'.repeat(100_000));
  assert.equal(first.toString(), 'a'.repeat(100_000), 'the handed-over bytes are not reused');
  assert.equal(out.take().toString(), 'b'.repeat(100_000));
  out.appendAscii('c'.repeat(600_000)); // one huge frame: capacity 1 MiB
  out.take();
  assert.equal(out.capacity, 1024, 'back to the initial size after a burst past 256 KiB');
});

test('server frames', () => {
  const out = new OutboundBuffer();
  writeInfo(out, { server_id: 'x', max_payload: 1024 });
  writeOk(out);
  writeErr(out, 'Stale Connection');
  writePing(out);
  writePong(out);
  assert.equal(
    text(out),
    `INFO {"server_id":"x","max_payload":1024}\r\n+OK\r\n-ERR 'Stale Connection'\r\nPING\r\nPONG\r\n`,
  );
});

test('writeMsg: MSG, HMSG, headers stripped for receivers without header support', () => {
  const out = new OutboundBuffer();
  const subj = Buffer.from('orders.new');
  const sid = Buffer.from('3');
  const hdr = 'NATS/1.0\r\nNats-Msg-Id: a1\r\n\r\n';
  const msg = Buffer.from(`${hdr}hi`);
  writeMsg(out, subj, sid, '', 0, Buffer.from('hello'), true);
  assert.equal(text(out), 'MSG orders.new 3 5\r\nhello\r\n');
  writeMsg(out, subj, sid, '_INBOX.a.1', 29, msg, true);
  assert.equal(text(out), `HMSG orders.new 3 _INBOX.a.1 29 31\r\n${hdr}hi\r\n`);
  writeMsg(out, subj, sid, '_INBOX.a.1', 29, msg, false);
  assert.equal(text(out), 'MSG orders.new 3 _INBOX.a.1 2\r\nhi\r\n');
  writeMsg(out, subj, sid, '', 0, Buffer.alloc(0), true);
  assert.equal(text(out), 'MSG orders.new 3 0\r\n\r\n');
});

test('client frames', () => {
  const out = new OutboundBuffer();
  writeConnect(out, { verbose: false, name: 'ü' });
  writePub(out, 'a.b', '', null, Buffer.from('hello'));
  writePub(out, 'a.b', 'r', null, Buffer.alloc(0));
  writePub(out, 'a', '', Buffer.from('NATS/1.0\r\n\r\n'), Buffer.from('x'));
  writeSub(out, 'a.*', '', 1);
  writeSub(out, 'a.*', 'q', 22);
  writeUnsub(out, 22);
  writeUnsub(out, 1, 5);
  assert.equal(
    out.take().toString('utf8'),
    'CONNECT {"verbose":false,"name":"ü"}\r\nPUB a.b 5\r\nhello\r\nPUB a.b r 0\r\n\r\n' +
      'HPUB a 12 13\r\nNATS/1.0\r\n\r\nx\r\nSUB a.* 1\r\nSUB a.* q 22\r\nUNSUB 22\r\nUNSUB 1 5\r\n',
  );
});

test('writeMsg: UTF-8 subjects and replies, large bodies, headers stripped or kept', () => {
  const out = new OutboundBuffer(64);
  const subj = Buffer.from('préfixe.ünïcode', 'utf8');
  const body = Buffer.alloc(300, 0x61);
  writeMsg(out, subj, Buffer.from('12'), 'rép.ly', 0, body, true);
  assert.equal(out.take().toString('utf8'), `MSG préfixe.ünïcode 12 rép.ly 300\r\n${'a'.repeat(300)}\r\n`);
  const hdr = 'NATS/1.0\r\nA: b\r\n\r\n';
  const msg = Buffer.concat([Buffer.from(hdr), body]);
  writeMsg(out, subj, Buffer.from('7'), '', hdr.length, msg, true);
  assert.equal(out.take().toString('utf8'), `HMSG préfixe.ünïcode 7 ${hdr.length} ${hdr.length + 300}\r\n${hdr}${'a'.repeat(300)}\r\n`);
  writeMsg(out, subj, Buffer.from('7'), 'x', hdr.length, msg, false);
  assert.equal(out.take().toString('utf8'), `MSG préfixe.ünïcode 7 x 300\r\n${'a'.repeat(300)}\r\n`);
  out.appendUint(1234567890);
  out.appendUint(0);
  assert.equal(out.take().toString('latin1'), '12345678900');
});
