import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExpectations, checkExpectedStream, readPublishHeaders, type ExpectationContext } from './expectations.ts';
import { hdrs } from '../testing.ts';

test('publish headers are read in one pass, any case, first occurrence wins', () => {
  const h = readPublishHeaders(
    hdrs(
      ['App', 'x'],
      ['nats-msg-id', 'abc'],
      ['Nats-Msg-Id', 'ignored'],
      ['Nats-Expected-Stream', 'S'],
      ['Nats-Expected-Last-Sequence', '41'],
      ['Nats-Expected-Last-Subject-Sequence', '0'],
      ['Nats-Expected-Last-Msg-Id', 'prev'],
      ['Nats-Rollup', 'SUB'],
    ),
  );
  assert.deepEqual(h, {
    msgId: 'abc',
    expectedStream: 'S',
    expectedLastSeq: 41,
    expectedLastSubjectSeq: 0,
    expectedLastMsgId: 'prev',
    rollup: 'sub',
    ttl: '',
  });
  assert.equal(readPublishHeaders(hdrs(['Nats-Expected-Last-Sequence', 'abc'])).expectedLastSeq, -1);
  assert.equal(readPublishHeaders(hdrs()).msgId, '');
});

const ctx: ExpectationContext = {
  lastSeq: 7,
  lastMsgId: 'm7',
  lastSeqOnSubject: (s) => (s === 'a' ? 5 : 0),
};

test('expectation table: err_codes and descriptions as nats-server', () => {
  const table: [[string, string][], string, number | undefined, string][] = [
    [[['Nats-Expected-Last-Sequence', '7']], 'a', undefined, ''],
    [[['Nats-Expected-Last-Sequence', '6']], 'a', 10071, 'wrong last sequence: 7'],
    [[['Nats-Expected-Last-Sequence', 'zz']], 'a', 10071, 'wrong last sequence: 7'],
    [[['Nats-Expected-Last-Subject-Sequence', '5']], 'a', undefined, ''],
    [[['Nats-Expected-Last-Subject-Sequence', '4']], 'a', 10071, 'wrong last sequence: 5'],
    [[['Nats-Expected-Last-Subject-Sequence', '0']], 'b', undefined, ''],
    [[['Nats-Expected-Last-Subject-Sequence', '0']], 'a', 10071, 'wrong last sequence: 5'],
    [[['Nats-Expected-Last-Msg-Id', 'm7']], 'a', undefined, ''],
    [[['Nats-Expected-Last-Msg-Id', 'm6']], 'a', 10070, 'wrong last msg ID: m7'],
  ];
  for (const [pairs, subject, code, description] of table) {
    const e = checkExpectations(readPublishHeaders(hdrs(...pairs)), subject, ctx);
    assert.equal(e?.err_code, code, JSON.stringify(pairs));
    if (code !== undefined) assert.equal(e?.description, description);
  }
  const s = checkExpectedStream(readPublishHeaders(hdrs(['Nats-Expected-Stream', 'X'])), 'S');
  assert.deepEqual(s, { code: 400, err_code: 10060, description: 'expected stream does not match' });
  assert.equal(checkExpectedStream(readPublishHeaders(hdrs(['Nats-Expected-Stream', 'S'])), 'S'), undefined);
});
