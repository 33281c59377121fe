// Parser transcripts: bytes in, ops out. Every transcript is also fed one byte at a time and in
// random chunks (seed printed; rerun with SEED=n) and must produce the same ops.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { ParserLimits } from './sink.ts';
import { ServerParser } from './parser.ts';
import { TRANSIENT_MAX_BYTES } from './transient-payload.ts';
import {
  byteChunks,
  feedClient,
  feedServer,
  randomChunks,
  RecordingServerSink,
  seededRng,
  testSeed,
  type Op,
} from './testing.ts';

const SEED = testSeed();
console.log(`# parser.test.ts SEED=${SEED}`);

const LIMITS: ParserLimits = { maxControlLineBytes: 4096, maxPayloadBytes: 1024 * 1024 };

function bytes(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
}

function server(input: string | Buffer, expected: Op[], limits: ParserLimits = LIMITS): void {
  const b = bytes(input);
  const rng = seededRng(SEED);
  assert.deepEqual(feedServer([Buffer.from(b)], { ...limits }).ops, expected, 'whole');
  assert.deepEqual(feedServer(byteChunks(b), { ...limits }).ops, expected, 'byte at a time');
  for (let k = 0; k < 5; k++) {
    assert.deepEqual(feedServer(randomChunks(b, rng), { ...limits }).ops, expected, `random chunks SEED=${SEED}`);
  }
}

function client(input: string | Buffer, expected: Op[], maxControlLineBytes = 4096): void {
  const b = bytes(input);
  const rng = seededRng(SEED);
  const limits = { maxControlLineBytes };
  assert.deepEqual(feedClient([Buffer.from(b)], limits).ops, expected, 'whole');
  assert.deepEqual(feedClient(byteChunks(b), limits).ops, expected, 'byte at a time');
  for (let k = 0; k < 5; k++) {
    assert.deepEqual(feedClient(randomChunks(b, rng), limits).ops, expected, `random chunks SEED=${SEED}`);
  }
}

describe('ServerParser', () => {
  test('CONNECT then PING', () => {
    server('CONNECT {"verbose":false,"name":"a b"}\r\nPING\r\n', [
      ['connect', '{"verbose":false,"name":"a b"}'],
      ['ping'],
    ]);
  });

  test('verbs are case-insensitive', () => {
    server('connect {}\r\nPiNg\r\npong\r\npub a 1\r\nx\r\nHpUb a 12 12\r\nNATS/1.0\r\n\r\n\r\nsub a 1\r\nunsub 1\r\n', [
      ['connect', '{}'],
      ['ping'],
      ['pong'],
      ['pub', 'a', '', 0, 'x'],
      ['pub', 'a', '', 12, 'NATS/1.0\r\n\r\n'],
      ['sub', 'a', '', '1'],
      ['unsub', '1', -1],
    ]);
  });

  test('PUB with and without reply, empty payload', () => {
    server('PUB orders.new 5\r\nhello\r\nPUB svc.echo _INBOX.x.1 2\r\nhi\r\nPUB a 0\r\n\r\n', [
      ['pub', 'orders.new', '', 0, 'hello'],
      ['pub', 'svc.echo', '_INBOX.x.1', 0, 'hi'],
      ['pub', 'a', '', 0, ''],
    ]);
  });

  test('HPUB with and without reply', () => {
    const hdr = 'NATS/1.0\r\nNats-Msg-Id: a1\r\n\r\n';
    server(`HPUB orders.new 29 31\r\n${hdr}hi\r\nHPUB a r 29 29\r\n${hdr}\r\n`, [
      ['pub', 'orders.new', '', 29, `${hdr}hi`],
      ['pub', 'a', 'r', 29, hdr],
    ]);
  });

  test('payload is binary and may contain CRLF and verbs', () => {
    const payload = Buffer.from([0, 13, 10, 0x50, 0x49, 0x4e, 0x47, 13, 10, 255, 128]);
    const input = Buffer.concat([Buffer.from(`PUB bin ${payload.length}\r\n`), payload, Buffer.from('\r\nPING\r\n')]);
    server(input, [['pub', 'bin', '', 0, payload.toString('latin1')], ['ping']]);
  });

  test('runs of spaces and tabs separate arguments; bare LF ends a line', () => {
    server('PUB \t a  \t r\t 2 \nhi\r\nSUB\tfoo.*\t\tq  7\r\nUNSUB 7  10 \r\nPING \t\n', [
      ['pub', 'a', 'r', 0, 'hi'],
      ['sub', 'foo.*', 'q', '7'],
      ['unsub', '7', 10],
      ['ping'],
    ]);
  });

  test('UTF-8 subjects decode as UTF-8, also right after an ASCII one of the same length', () => {
    const subj = 'préfix.日本';
    const raw = Buffer.from(subj, 'utf8');
    const ascii = 'a'.repeat(raw.length); // same byte length: the repeat check must not be fooled
    const pub = (s: Buffer): Buffer => Buffer.concat([Buffer.from('PUB '), s, Buffer.from(' 1\r\nx\r\n')]);
    const input = Buffer.concat([pub(Buffer.from(ascii)), pub(raw), pub(raw), pub(Buffer.from(ascii))]);
    server(input, [
      ['pub', ascii, '', 0, 'x'],
      ['pub', subj, '', 0, 'x'],
      ['pub', subj, '', 0, 'x'],
      ['pub', ascii, '', 0, 'x'],
    ]);
  });

  test('many ops in one chunk', () => {
    const one = 'PUB foo.bar 3\r\nabc\r\n';
    const ops: Op[] = [];
    for (let i = 0; i < 200; i++) ops.push(['pub', 'foo.bar', '', 0, 'abc']);
    server(one.repeat(200), ops);
  });

  test('payload split across chunks larger than the reusable scratch', () => {
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 255;
    const input = Buffer.concat([Buffer.from(`PUB big ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
    const expected: Op[] = [['pub', 'big', '', 0, payload.toString('latin1')]];
    assert.deepEqual(feedServer(randomChunks(input, seededRng(SEED), 70_000), { ...LIMITS }).ops, expected);
  });

  describe('syntax errors (parser dead afterwards)', () => {
    const cases: [string, string, Op[]][] = [
      ['unknown verb', 'PING\r\nXYZ\r\nPING\r\n', [['ping']]],
      ['client-only verb', 'MSG a 1 1\r\nx\r\n', []],
      ['verb without separator', 'PUBX a 1\r\n', []],
      ['PING with arguments', 'PING x\r\n', []],
      ['PUB with 1 arg', 'PUB 1\r\n', []],
      ['PUB with 4 args', 'PUB a b c 1\r\n', []],
      ['PUB with no args', 'PUB\r\n', []],
      ['PUB size not a number', 'PUB a 1x\r\n', []],
      ['PUB negative size', 'PUB a -1\r\n', []],
      ['PUB size above 2^53', 'PUB a 90071992547409930\r\n', []],
      ['HPUB with 2 args', 'HPUB a 1\r\n', []],
      ['HPUB with 5 args', 'HPUB a b c 1 2\r\n', []],
      ['HPUB header above total', 'HPUB a 5 4\r\n', []],
      ['SUB with 1 arg', 'SUB a\r\n', []],
      ['SUB with 4 args', 'SUB a b c d\r\n', []],
      ['UNSUB with 0 args', 'UNSUB\r\n', []],
      ['UNSUB with 3 args', 'UNSUB 1 2 3\r\n', []],
      ['UNSUB max not a number', 'UNSUB 1 x\r\n', []],
      ['CONNECT without JSON', 'CONNECT \r\n', []],
      ['payload followed by LF only', 'PUB a 1\r\nx\nPING\r\n', []],
      ['payload longer than announced', 'PUB a 1\r\nxy\r\n', []],
      ['leading blank line', '\r\nPING\r\n', []],
    ];
    for (const [name, input, before] of cases) {
      test(name, () => server(input, [...before, ['error', 'syntax']]));
    }
  });

  test('after an error parse() ignores input', () => {
    const sink = new RecordingServerSink();
    const p = new ServerParser(sink, { ...LIMITS });
    p.parse(Buffer.from('BOGUS\r\n'));
    p.parse(Buffer.from('PING\r\n'));
    assert.deepEqual(sink.ops, [['error', 'syntax']]);
    assert.equal(p.dead, true);
  });

  test('stop() from inside a sink callback ends parsing of the chunk', () => {
    const sink = new RecordingServerSink();
    const p = new ServerParser(sink, { ...LIMITS });
    sink.ping = () => {
      sink.ops.push(['ping']);
      p.stop();
    };
    p.parse(Buffer.from('PING\r\nPING\r\n'));
    assert.deepEqual(sink.ops, [['ping']]);
  });

  describe('limits', () => {
    const small: ParserLimits = { maxControlLineBytes: 16, maxPayloadBytes: 8 };

    test('control line of exactly the limit is accepted (CRLF not counted)', () => {
      server('SUB abcdefgh 123\r\n', [['sub', 'abcdefgh', '', '123']], small); // 16 bytes
    });

    test('control line one byte over the limit', () => {
      server('SUB abcdefgh 1234\r\nPING\r\n', [['error', 'control_line_too_long']], small);
    });

    test('a line that never ends fails once it passes the limit', () => {
      const sink = new RecordingServerSink();
      const p = new ServerParser(sink, { ...small });
      p.parse(Buffer.from('SUB abcdefgh 123'));
      assert.deepEqual(sink.ops, [], 'at the limit: still waiting');
      p.parse(Buffer.from('\r'));
      assert.deepEqual(sink.ops, [], 'a trailing CR may precede LF');
      p.parse(Buffer.from('4'));
      assert.deepEqual(sink.ops, [['error', 'control_line_too_long']]);
    });

    test('a never-ending line of spaces after PING hits the limit', () => {
      const sink = new RecordingServerSink();
      const p = new ServerParser(sink, { ...small });
      p.parse(Buffer.from('PING'));
      for (let i = 0; i < 100 && sink.ops.length === 0; i++) p.parse(Buffer.from(' '));
      assert.deepEqual(sink.ops, [['error', 'control_line_too_long']]);
    });

    test('payload too large is reported before the payload arrives', () => {
      const sink = new RecordingServerSink();
      const p = new ServerParser(sink, { ...small });
      p.parse(Buffer.from('PUB a 9\r\n'));
      assert.deepEqual(sink.ops, [['error', 'payload_too_large']]);
    });

    test('HPUB total counts against max payload', () => {
      server('HPUB a 4 9\r\n', [['error', 'payload_too_large']], small);
      server('HPUB a 8 8\r\n12345678\r\n', [['pub', 'a', '', 8, '12345678']], small);
    });

    test('limits are read at check time', () => {
      const limits = { ...LIMITS };
      const sink = new RecordingServerSink();
      const p = new ServerParser(sink, limits);
      p.parse(Buffer.from('PUB a 3\r\nabc\r\n'));
      limits.maxPayloadBytes = 2;
      p.parse(Buffer.from('PUB a 3\r\n'));
      assert.deepEqual(sink.ops, [['pub', 'a', '', 0, 'abc'], ['error', 'payload_too_large']]);
    });
  });

  test('pub views: zero-copy when whole (above the reused sizes), the subject survives a split', () => {
    const seen: { msg: Buffer; subj: string }[] = [];
    const sink = new RecordingServerSink();
    sink.pub = (subject, _r, _h, msg) => seen.push({ msg, subj: subject });
    const p = new ServerParser(sink, { ...LIMITS });
    const big = 'x'.repeat(TRANSIENT_MAX_BYTES + 1);
    const chunk = Buffer.from(`PUB abc ${big.length}\r\n${big}\r\n`);
    p.parse(chunk);
    assert.equal(seen[0].msg.buffer, chunk.buffer, 'payload is a view of the chunk');
    const first = Buffer.from('PUB abc 2\r\nh');
    p.parse(first);
    first.fill(0);
    p.parse(Buffer.from('i\r\n'));
    assert.equal(seen[1].subj, 'abc');
    assert.equal(seen[1].msg.toString(), 'hi');
  });
});

describe('ClientParser', () => {
  test('INFO, MSG, HMSG, +OK, -ERR, PING, PONG', () => {
    const hdr = 'NATS/1.0\r\nNats-Msg-Id: a1\r\n\r\n';
    client(
      `INFO {"server_id":"x","headers":true}\r\nMSG orders.new 3 5\r\nhello\r\n` +
        `HMSG orders.new 3 _INBOX.a.1 29 31\r\n${hdr}hi\r\nMSG a 9 r 0\r\n\r\nHMSG a 1 12 12\r\nNATS/1.0\r\n\r\n\r\n` +
        `+OK\r\n-ERR 'Stale Connection'\r\n-ERR Unquoted text\r\n-ERR\r\nPING\r\nPONG\r\n`,
      [
        ['info', '{"server_id":"x","headers":true}'],
        ['msg', 'orders.new', 3, '', 0, 'hello'],
        ['msg', 'orders.new', 3, '_INBOX.a.1', 29, `${hdr}hi`],
        ['msg', 'a', 9, 'r', 0, ''],
        ['msg', 'a', 1, '', 12, 'NATS/1.0\r\n\r\n'],
        ['ok'],
        ['err', 'Stale Connection'],
        ['err', 'Unquoted text'],
        ['err', ''],
        ['ping'],
        ['pong'],
      ],
    );
  });

  test('-ERR keeps inner quotes of permission violations', () => {
    client(`-ERR 'Permissions Violation for Publish to "foo"'\r\n`, [
      ['err', 'Permissions Violation for Publish to "foo"'],
    ]);
  });

  describe('syntax errors', () => {
    const cases: [string, string][] = [
      ['server-only verb', 'PUB a 1\r\nx\r\n'],
      ['MSG with 2 args', 'MSG a 1\r\n'],
      ['MSG with 5 args', 'MSG a 1 r x 1\r\n'],
      ['MSG non-numeric sid', 'MSG a s1 1\r\nx\r\n'],
      ['HMSG with 3 args', 'HMSG a 1 2\r\n'],
      ['HMSG with 6 args', 'HMSG a 1 r x 2 2\r\n'],
      ['HMSG header above total', 'HMSG a 1 3 2\r\n'],
      ['+OK with args', '+OK x\r\n'],
      ['INFO without JSON', 'INFO\r\n'],
      ['payload without CRLF', 'MSG a 1 1\r\nxyz'],
    ];
    for (const [name, input] of cases) test(name, () => client(input, [['error', 'syntax']]));
  });

  test('control line limit applies to the client too', () => {
    client(`INFO {"a":"${'x'.repeat(40)}"}\r\n`, [['error', 'control_line_too_long']], 32);
  });

  test('client max payload (defaults to 64 MiB)', () => {
    client(`MSG a 1 ${64 * 1024 * 1024 + 1}\r\n`, [['error', 'payload_too_large']]);
    const sink = feedClient([Buffer.from('MSG a 1 5\r\n')], { maxControlLineBytes: 100, maxPayloadBytes: 4 });
    assert.deepEqual(sink.ops, [['error', 'payload_too_large']]);
  });
});
