// Property tests for the wire layer (fast-check). Seed printed; rerun with SEED=n.
//  (a) any valid frame sequence cut at random points parses to the same ops as unsplit;
//  (b) random and mutated bytes never throw: ops and/or exactly one error(), error last;
//  (c) encoder -> parser round trips (writePub -> ServerParser, writeMsg -> ClientParser).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import type { ParserLimits } from './sink.ts';
import { OutboundBuffer, writeConnect, writeMsg, writePub, writeSub, writeUnsub, writeErr, writeInfo } from './encoder.ts';
import { MsgHeaders } from './headers.ts';
import { cutAt, feedClient, feedServer, testSeed, type Op } from './testing.ts';

const SEED = testSeed();
console.log(`# parser.prop.test.ts SEED=${SEED}`);
const RUNS = 200;
const LIMITS: ParserLimits = { maxControlLineBytes: 4096, maxPayloadBytes: 1024 * 1024 };

const tokenChar = fc.constantFrom(...'abcxyzABC019_-$*>'.split(''), 'é', '日', '😀');
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 6 });
const subject = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const payload = fc.oneof(fc.uint8Array({ maxLength: 0 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 600 }));
const headerName = fc.string({ unit: fc.constantFrom(...'abcXYZ-_09'.split('')), minLength: 1, maxLength: 8 });
const headerValue = fc.string({ unit: fc.constantFrom(...'ab c:é日\t'.split('')), maxLength: 12 }).map((s) => s.trim());
const headers = fc
  .record({
    pairs: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
    status: fc.option(fc.tuple(fc.integer({ min: 100, max: 599 }), fc.constantFrom('', 'Request Timeout', 'No Messages'))),
  })
  .map(({ pairs, status }) => {
    const h = status === null ? new MsgHeaders() : MsgHeaders.fromStatus(status[0], status[1]);
    for (const [k, v] of pairs) h.append(k, v);
    return h.encode();
  });
const sid = fc.nat({ max: 1_000_000 });
const json = fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean()), { maxKeys: 4 });

const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const utf8ToLatin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

type Frame = { bytes: Buffer; op: Op };

function frame(write: (out: OutboundBuffer) => void, op: Op): Frame {
  const out = new OutboundBuffer(64);
  write(out);
  return { bytes: out.take(), op };
}

const serverFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ subject, reply: fc.option(subject), hdr: fc.option(headers), payload }).map(({ subject: s, reply, hdr, payload: p }) => {
    const r = reply ?? '';
    const msg = hdr === null ? latin1(p) : latin1(hdr) + latin1(p);
    return frame((o) => writePub(o, s, r, hdr, p), ['pub', s, r, hdr?.length ?? 0, msg]);
  }),
  fc.record({ subject, queue: fc.option(token), sid }).map(({ subject: s, queue, sid: n }) =>
    frame((o) => writeSub(o, s, queue ?? '', n), ['sub', s, queue ?? '', String(n)]),
  ),
  fc.record({ sid, max: fc.option(fc.nat()) }).map(({ sid: n, max }) =>
    frame((o) => writeUnsub(o, n, max ?? undefined), ['unsub', String(n), max ?? -1]),
  ),
  json.map((j) => frame((o) => writeConnect(o, j), ['connect', JSON.stringify(j)])),
  fc.constant(frame((o) => o.appendAscii('PING\r\n'), ['ping'])),
  fc.constant(frame((o) => o.appendAscii('pong\r\n'), ['pong'])),
);

const clientFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc
    .record({ subject, sid, reply: fc.option(subject), hdr: fc.option(headers), payload })
    .map(({ subject: s, sid: n, reply, hdr, payload: p }) => {
      const r = reply ?? '';
      const msg = Buffer.concat([hdr ?? Buffer.alloc(0), p]);
      const hdrLen = hdr?.length ?? 0;
      return frame(
        (o) => writeMsg(o, Buffer.from(s), Buffer.from(String(n)), r, hdrLen, msg, true),
        ['msg', s, n, r, hdrLen, latin1(msg)],
      );
    }),
  json.map((j) => frame((o) => writeInfo(o, j), ['info', JSON.stringify(j)])),
  fc.constantFrom('Stale Connection', 'Permissions Violation for Publish to "a.b"', '').map((t) =>
    frame((o) => writeErr(o, t), ['err', t]),
  ),
  fc.constant(frame((o) => o.appendAscii('+OK\r\n'), ['ok'])),
  fc.constant(frame((o) => o.appendAscii('PING\r\n'), ['ping'])),
  fc.constant(frame((o) => o.appendAscii('PONG\r\n'), ['pong'])),
);

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 });

function cutPoints(len: number, fractions: number[]): number[] {
  return fractions.map((f) => Math.floor(f * len)).sort((a, b) => a - b);
}

const params = { seed: SEED, numRuns: RUNS };

test('(a) server: valid frames cut anywhere parse like the unsplit stream', () => {
  fc.assert(
    fc.property(fc.array(serverFrame, { minLength: 1, maxLength: 12 }), cuts, (frames, fr) => {
      const bytes = Buffer.concat(frames.map((f) => f.bytes));
      const expected = frames.map((f) => f.op);
      assert.deepEqual(feedServer([Buffer.from(bytes)], { ...LIMITS }).ops, expected);
      assert.deepEqual(feedServer(cutAt(bytes, cutPoints(bytes.length, fr)), { ...LIMITS }).ops, expected);
    }),
    params,
  );
});

test('(a) client: valid frames cut anywhere parse like the unsplit stream', () => {
  fc.assert(
    fc.property(fc.array(clientFrame, { minLength: 1, maxLength: 12 }), cuts, (frames, fr) => {
      const bytes = Buffer.concat(frames.map((f) => f.bytes));
      const expected = frames.map((f) => f.op);
      assert.deepEqual(feedClient([Buffer.from(bytes)]).ops, expected);
      assert.deepEqual(feedClient(cutAt(bytes, cutPoints(bytes.length, fr))).ops, expected);
    }),
    params,
  );
});

function checkOutcome(ops: Op[], errors: number): void {
  assert.ok(errors <= 1, 'at most one error()');
  if (errors === 1) assert.equal(ops[ops.length - 1][0], 'error', 'error() is the last call');
}

/** Random bytes biased towards protocol-looking input: verbs, digits, separators, CRLF. */
const noisyByte = fc.oneof(
  fc.integer({ min: 0, max: 255 }),
  fc.constantFrom(...Buffer.from('PUB HPUB SUB UNSUB PING PONG MSG HMSG INFO CONNECT +OK -ERR 0123456789 \t\r\n\r\n')),
);
const noise = fc.array(noisyByte, { maxLength: 400 }).map((a) => Buffer.from(a));

test('(b) random bytes never throw; at most one error(), and it comes last', () => {
  const small: ParserLimits = { maxControlLineBytes: 64, maxPayloadBytes: 128 };
  fc.assert(
    fc.property(noise, cuts, (bytes, fr) => {
      const whole = feedServer([Buffer.from(bytes)], { ...small });
      checkOutcome(whole.ops, whole.errors);
      const split = feedServer(cutAt(bytes, cutPoints(bytes.length, fr)), { ...small });
      assert.deepEqual(split.ops, whole.ops, 'split parses like whole');
      const client = feedClient([Buffer.from(bytes)], { maxControlLineBytes: 64, maxPayloadBytes: 128 });
      checkOutcome(client.ops, client.errors);
      const clientSplit = feedClient(cutAt(bytes, cutPoints(bytes.length, fr)), { maxControlLineBytes: 64, maxPayloadBytes: 128 });
      assert.deepEqual(clientSplit.ops, client.ops, 'client split parses like whole');
    }),
    { ...params, numRuns: RUNS * 5 },
  );
});

test('(b) mutated valid streams never throw and split like whole', () => {
  fc.assert(
    fc.property(
      fc.array(serverFrame, { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      cuts,
      (frames, mutations, fr) => {
        const bytes = Buffer.concat(frames.map((f) => f.bytes));
        for (const [at, b] of mutations) bytes[Math.floor(at * (bytes.length - 1))] = b;
        const whole = feedServer([Buffer.from(bytes)], { ...LIMITS });
        checkOutcome(whole.ops, whole.errors);
        assert.deepEqual(feedServer(cutAt(bytes, cutPoints(bytes.length, fr)), { ...LIMITS }).ops, whole.ops);
      },
    ),
    params,
  );
});

test('(c) writePub -> ServerParser and writeMsg -> ClientParser round trip', () => {
  fc.assert(
    fc.property(subject, fc.option(subject), fc.option(headers), payload, sid, fc.boolean(), (s, reply, hdr, p, n, withHeaders) => {
      const r = reply ?? '';
      const out = new OutboundBuffer(64);
      writePub(out, s, r, hdr, p);
      const pubs = feedServer([out.take()], { ...LIMITS }).ops;
      const msg = Buffer.concat([hdr ?? Buffer.alloc(0), p]);
      const hdrLen = hdr?.length ?? 0;
      assert.deepEqual(pubs, [['pub', s, r, hdrLen, latin1(msg)]]);

      writeMsg(out, Buffer.from(s), Buffer.from(String(n)), r, hdrLen, msg, withHeaders);
      const msgs = feedClient([out.take()]).ops;
      const delivered = withHeaders ? msg : msg.subarray(hdrLen);
      assert.deepEqual(msgs, [['msg', s, n, r, withHeaders ? hdrLen : 0, latin1(delivered)]]);
      if (withHeaders && hdr !== null) {
        assert.deepEqual(MsgHeaders.decode(msg.subarray(0, hdrLen)).encode(), hdr, 'header block round trips');
      }
    }),
    params,
  );
});
