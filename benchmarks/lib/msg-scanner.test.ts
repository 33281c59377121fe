// MsgScanner must count the same frames however the byte stream is cut. Not part of `npm test`
// (its globs do not include benchmarks/); run with:
//   node --import tsx --test benchmarks/lib/msg-scanner.test.ts

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MsgScanner, ScanError } from './msg-scanner.ts';
import type { ScannerSink } from './msg-scanner.ts';

interface Seen {
  pings: number;
  pongs: number;
  infos: string[];
  errs: string[];
}

function sink(seen: Seen): ScannerSink {
  return {
    onPing: () => void seen.pings++,
    onPong: () => void seen.pongs++,
    onInfo: (j) => void seen.infos.push(j),
    onErr: (t) => void seen.errs.push(t),
  };
}

function seqPayload(seq: number, size: number): Buffer {
  const b = Buffer.alloc(size, 0x0d); // CR bytes inside payloads must not confuse the scanner
  if (size >= 4) b.writeUInt32BE(seq, 0);
  return b;
}

/** A server->client stream: MSG (with and without reply), HMSG, and control ops between them. */
function buildStream(sizes: number[]): { stream: Buffer; lines: string[]; payloads: Buffer[] } {
  const parts: Buffer[] = [Buffer.from('INFO {"server_id":"x","max_payload":1048576}\r\n')];
  const lines: string[] = [];
  const payloads: Buffer[] = [];
  sizes.forEach((size, seq) => {
    const payload = seqPayload(seq, size);
    let line: string;
    if (seq % 3 === 0) line = `MSG bench.a 1 ${size}`;
    else if (seq % 3 === 1) line = `MSG bench.b.c 22 _INBOX.x.${seq} ${size}`;
    else line = `HMSG bench.h 3 0 ${size}`; // header bytes are part of the counted payload
    lines.push(line);
    payloads.push(payload);
    parts.push(Buffer.from(`${line}\r\n`), payload, Buffer.from('\r\n'));
    if (seq % 7 === 0) parts.push(Buffer.from('PING\r\n'));
    if (seq % 11 === 0) parts.push(Buffer.from('PONG\r\n+OK\r\n'));
  });
  return { stream: Buffer.concat(parts), lines, payloads };
}

function cut(stream: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of sorted) {
    out.push(Buffer.from(stream.subarray(prev, p))); // copies: the scanner may not keep views
    prev = p;
  }
  out.push(Buffer.from(stream.subarray(prev)));
  return out;
}

const sizesArb = fc.array(fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 16), fc.integer({ min: 0, max: 700 })), { minLength: 1, maxLength: 60 });

test('counts and sequence numbers are the same for any chunking', () => {
  fc.assert(
    fc.property(sizesArb, fc.array(fc.nat(), { maxLength: 40 }), (sizes, points) => {
      const { stream } = buildStream(sizes);
      const seqs: number[] = [];
      const seen: Seen = { pings: 0, pongs: 0, infos: [], errs: [] };
      const sc = new MsgScanner(sink(seen), null, (s) => seqs.push(s));
      for (const chunk of cut(stream, points)) sc.feed(chunk);
      assert.equal(sc.count, sizes.length);
      const expected = sizes.map((size, i) => (size >= 4 ? i : -1)).filter((i) => i >= 0);
      assert.deepEqual(seqs, expected);
      assert.equal(seen.pings, Math.ceil(sizes.length / 7));
      assert.equal(seen.pongs, Math.ceil(sizes.length / 11));
      assert.equal(seen.infos.length, 1);
    }),
  );
});

test('whole-message mode hands out each control line and payload intact, even byte by byte', () => {
  fc.assert(
    fc.property(sizesArb, fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (sizes, points, byteByByte) => {
      const { stream, lines, payloads } = buildStream(sizes);
      const got: Array<[string, Buffer]> = [];
      const sc = new MsgScanner(sink({ pings: 0, pongs: 0, infos: [], errs: [] }), (line, payload) => {
        got.push([line.toString('latin1'), Buffer.from(payload)]);
      });
      const chunks = byteByByte ? [...stream].map((b) => Buffer.from([b])) : cut(stream, points);
      for (const chunk of chunks) sc.feed(chunk);
      assert.equal(sc.count, sizes.length);
      assert.deepEqual(
        got.map(([l]) => l),
        lines,
      );
      got.forEach(([, p], i) => assert.ok(p.equals(payloads[i]), `payload ${i}`));
    }),
  );
});

test('-ERR reaches the sink with its text', () => {
  const seen: Seen = { pings: 0, pongs: 0, infos: [], errs: [] };
  const sc = new MsgScanner(sink(seen));
  sc.feed(Buffer.from("-ERR 'Slow Consumer'\r\n"));
  assert.deepEqual(seen.errs, ["'Slow Consumer'"]);
});

test('a payload not followed by CRLF is a scan error, in one chunk or split', () => {
  const bad = Buffer.from('MSG a 1 3\r\nabcXY');
  assert.throws(() => new MsgScanner(sink({ pings: 0, pongs: 0, infos: [], errs: [] })).feed(bad), ScanError);
  const split = new MsgScanner(sink({ pings: 0, pongs: 0, infos: [], errs: [] }));
  split.feed(bad.subarray(0, 12));
  assert.throws(() => split.feed(bad.subarray(12)), ScanError);
});

test('an unknown op is a scan error, not a silent miscount', () => {
  assert.throws(() => new MsgScanner(sink({ pings: 0, pongs: 0, infos: [], errs: [] })).feed(Buffer.from('BOGUS\r\n')), ScanError);
});
