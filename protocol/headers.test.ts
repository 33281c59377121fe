import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { encodeStatusBlock, findHeaderValue, HeaderParseError, MsgHeaders } from './headers.ts';

test('build, encode, decode round trip with multi-values and case preserved', () => {
  const h = new MsgHeaders();
  h.set('Nats-Msg-Id', 'a1');
  h.append('X-Multi', 'one');
  h.append('X-Multi', 'two');
  h.append('x-multi', 'lower');
  assert.equal(h.size, 3);
  const bytes = h.encode();
  assert.equal(
    bytes.toString(),
    'NATS/1.0\r\nNats-Msg-Id: a1\r\nX-Multi: one\r\nX-Multi: two\r\nx-multi: lower\r\n\r\n',
  );
  const d = MsgHeaders.decode(bytes);
  assert.deepEqual(d.keys(), ['Nats-Msg-Id', 'X-Multi', 'x-multi']);
  assert.deepEqual(d.getAll('X-Multi'), ['one', 'two']);
  assert.deepEqual(d.getAll('X-MULTI', false), ['one', 'two', 'lower']);
  assert.equal(d.get('nats-msg-id'), '');
  assert.equal(d.get('nats-msg-id', false), 'a1');
  assert.equal(d.has('Nats-Msg-Id'), true);
  assert.equal(d.code, 0);
  assert.equal(d.description, '');
});

test('set replaces, delete removes', () => {
  const h = new MsgHeaders();
  h.append('A', '1');
  h.append('A', '2');
  h.set('A', '3');
  assert.deepEqual(h.getAll('A'), ['3']);
  h.append('a', 'x');
  assert.equal(h.delete('A', false), true);
  assert.equal(h.size, 0);
  assert.equal(h.delete('A'), false);
});

test('status lines', () => {
  const cases: [string, number, string][] = [
    ['NATS/1.0 503\r\n\r\n', 503, ''],
    ['NATS/1.0 408 Request Timeout\r\n\r\n', 408, 'Request Timeout'],
    ['NATS/1.0 100 FlowControl Request\r\n\r\n', 100, 'FlowControl Request'],
    ['NATS/1.0 404 No Messages\r\nNats-Pending-Messages: 3\r\n\r\n', 404, 'No Messages'],
  ];
  for (const [block, code, desc] of cases) {
    const h = MsgHeaders.decode(Buffer.from(block));
    assert.equal(h.code, code, block);
    assert.equal(h.description, desc, block);
  }
  assert.equal(MsgHeaders.fromStatus(408, 'Request Timeout').encode().toString(), 'NATS/1.0 408 Request Timeout\r\n\r\n');
  assert.equal(MsgHeaders.fromStatus(503).encode().toString(), 'NATS/1.0 503\r\n\r\n');
});

test('decode: values trimmed, split at first colon, bare LF and missing final blank line tolerated', () => {
  const h = MsgHeaders.decode(Buffer.from('NATS/1.0\nA:  x:y:z  \nB:\r\nC: 1'));
  assert.equal(h.get('A'), 'x:y:z');
  assert.equal(h.get('B'), '');
  assert.equal(h.get('C'), '1');
  assert.equal(MsgHeaders.decode(new Uint8Array(Buffer.from('NATS/1.0\r\nK: v\r\n\r\n'))).get('K'), 'v');
});

test('decode rejects garbage', () => {
  const bad = [
    '',
    'HTTP/1.1 200\r\n\r\n',
    'NATS/1.0x\r\n\r\n',
    'NATS/1.0 50\r\n\r\n',
    'NATS/1.0 5034\r\n\r\n',
    'NATS/1.0 abc\r\n\r\n',
    'NATS/1.0\r\nno colon here\r\n\r\n',
    'NATS/1.0\r\n: empty name\r\n\r\n',
    'NATS/1.0\r\nbad name: v\r\n\r\n',
  ];
  for (const b of bad) assert.throws(() => MsgHeaders.decode(Buffer.from(b)), HeaderParseError, JSON.stringify(b));
});

test('invalid names and values are refused when building', () => {
  const h = new MsgHeaders();
  for (const name of ['', 'a b', 'a:b', 'a\r\n', 'a\tb']) assert.throws(() => h.set(name, 'v'), TypeError, name);
  for (const value of ['a\r\nb', 'a\nb', 'a\r']) assert.throws(() => h.append('A', value), TypeError);
  assert.throws(() => MsgHeaders.fromStatus(99));
  assert.throws(() => encodeStatusBlock(503, 'x\r\n'));
});

test('findHeaderValue scans bytes case-insensitively', () => {
  const block = Buffer.from('NATS/1.0 100 Idle Heartbeat\r\nNats-Msg-Id:  id-1 \r\nNats-Msg-Idx: no\r\nX: ü\r\n\r\nA: after\r\n');
  assert.equal(findHeaderValue(block, 'nats-msg-id'), 'id-1');
  assert.equal(findHeaderValue(block, 'NATS-MSG-IDX'), 'no');
  assert.equal(findHeaderValue(block, 'x'), 'ü');
  assert.equal(findHeaderValue(block, 'Nats-Msg'), undefined);
  assert.equal(findHeaderValue(block, 'A'), undefined, 'stops at the blank line');
  assert.equal(findHeaderValue(Buffer.from('NATS/1.0'), 'A'), undefined);
});

test('encodeStatusBlock', () => {
  assert.equal(encodeStatusBlock(503).toString(), 'NATS/1.0 503\r\n\r\n');
  assert.equal(encodeStatusBlock(503, '', [['Nats-Subject', 'svc.echo']]).toString(), 'NATS/1.0 503\r\nNats-Subject: svc.echo\r\n\r\n');
  assert.equal(encodeStatusBlock(408, 'Request Timeout').toString(), 'NATS/1.0 408 Request Timeout\r\n\r\n');
  const h = MsgHeaders.decode(encodeStatusBlock(409, 'Consumer Deleted', [['A', '1']]));
  assert.equal(h.code, 409);
  assert.equal(h.description, 'Consumer Deleted');
  assert.equal(h.get('A'), '1');
});
