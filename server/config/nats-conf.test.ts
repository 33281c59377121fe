import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsConfError, parseNatsConf, parseNatsConfFile, type ConfMap } from './nats-conf.ts';

const parse = (text: string, env: Record<string, string> = {}): ConfMap => parseNatsConf(text, { file: 't.conf', env }).root;

/** Asserts that `text` fails to parse at line:col with a reason matching `reason`. */
function assertParseError(text: string, line: number, col: number | undefined, reason: RegExp, env: Record<string, string> = {}): void {
  assert.throws(
    () => parse(text, env),
    (err: unknown) => {
      assert.ok(err instanceof NatsConfError, `expected NatsConfError, got ${String(err)}`);
      assert.equal(err.file, 't.conf');
      assert.equal(err.line, line, `line of: ${err.message}`);
      if (col !== undefined) assert.equal(err.col, col, `col of: ${err.message}`);
      assert.match(err.reason, reason);
      assert.ok(err.message.startsWith(`t.conf:${line}:`));
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
}

describe('nats conf: key/value forms', () => {
  test('colon, equals and whitespace separators', () => {
    assert.deepEqual(parse('a: 1\nb = 2\nc 3\nd:4\ne=5\n'), { a: 1, b: 2, c: 3, d: 4, e: 5 });
  });

  test('semicolons and commas end values too', () => {
    assert.deepEqual(parse('a: 1; b: 2, c: x;'), { a: 1, b: 2, c: 'x' });
  });

  test('quoted keys keep their text', () => {
    assert.deepEqual(parse('"a b": 1\n\'c.d\' = 2'), { 'a b': 1, 'c.d': 2 });
  });

  test('later definitions win', () => {
    assert.deepEqual(parse('a: 1\na: 2'), { a: 2 });
  });

  test('an empty document and a comment-only document are empty maps', () => {
    assert.deepEqual(parse(''), {});
    assert.deepEqual(parse('# nothing\n// here\n\n'), {});
  });

  test('the whole file may be wrapped in braces (JSON-like)', () => {
    assert.deepEqual(parse('{\n  "port": 4222,\n  "debug": true\n}\n'), { port: 4222, debug: true });
  });

  test('CRLF line endings', () => {
    assert.deepEqual(parse('a: 1\r\nb {\r\n  c: 2\r\n}\r\n'), { a: 1, b: { c: 2 } });
  });
});

describe('nats conf: maps and arrays', () => {
  test('maps with and without a separator, nested', () => {
    const doc = parse(`
      cluster {
        name: c1
        listen: 0.0.0.0:6222
        authorization { user: ruser, timeout: 2 }
      }
      jetstream: { store_dir: "/data" }
      jetstream2 = {}
    `);
    assert.deepEqual(doc, {
      cluster: { name: 'c1', listen: '0.0.0.0:6222', authorization: { user: 'ruser', timeout: 2 } },
      jetstream: { store_dir: '/data' },
      jetstream2: {},
    });
  });

  test('a key directly followed by a brace', () => {
    assert.deepEqual(parse('a{b: 1}'), { a: { b: 1 } });
  });

  test('arrays separated by commas, newlines, or both, with comments and a trailing comma', () => {
    const doc = parse(`
      a: [1, 2, 3]
      b: [
        nats://h1:4222   # first
        nats://h2:4222,  // second
        "nats://h3:4222",
      ]
      c: []
      d: [[1, 2], {x: y}]
    `);
    assert.deepEqual(doc, {
      a: [1, 2, 3],
      b: ['nats://h1:4222', 'nats://h2:4222', 'nats://h3:4222'],
      c: [],
      d: [[1, 2], { x: 'y' }],
    });
  });
});

describe('nats conf: scalars', () => {
  test('quoted strings: double with escapes, single raw', () => {
    const doc = parse(String.raw`a: "x\ty\n\"q\"\\ \x41"` + '\n' + String.raw`b: 'c:\dir\n'`);
    assert.equal(doc.a, 'x\ty\n"q"\\ A');
    assert.equal(doc.b, 'c:\\dir\\n');
  });

  test('unquoted strings end at blanks, terminators and comments', () => {
    const doc = parse('host: localhost # the host\nurl: nats://u:p@h:4222\nname: my-server;x: a#b');
    assert.deepEqual(doc, { host: 'localhost', url: 'nats://u:p@h:4222', name: 'my-server', x: 'a#b' });
  });

  test('booleans: true/false/yes/no/on/off in any case, but not when quoted', () => {
    const doc = parse('a: true\nb: FALSE\nc: yes\nd: No\ne: on\nf: off\ng: "true"');
    assert.deepEqual(doc, { a: true, b: false, c: true, d: false, e: true, f: false, g: 'true' });
  });

  test('integers with nats-server size suffixes', () => {
    const doc = parse(`
      plain: 1024
      neg: -1
      k: 1k
      kb: 1KB
      kib: 1KiB
      ki: 2ki
      m: 2m
      mb: 8MB
      g: 1G
      gb: 1gb
      t: 1T
    `);
    assert.deepEqual(doc, {
      plain: 1024,
      neg: -1,
      k: 1000,
      kb: 1024,
      kib: 1024,
      ki: 2048,
      m: 2_000_000,
      mb: 8 * 1024 * 1024,
      g: 1_000_000_000,
      gb: 1024 ** 3,
      t: 1e12,
    });
  });

  test('durations and other digit-led words stay strings', () => {
    const doc = parse('a: 10s\nb: 1h30m\nc: 500ms\nd: 1.5s\ne: "2m"\nf: 2001:db8::1');
    assert.deepEqual(doc, { a: '10s', b: '1h30m', c: '500ms', d: '1.5s', e: '2m', f: '2001:db8::1' });
  });

  test('floats, IP addresses and Zulu datetimes', () => {
    const doc = parse('f: 0.5\nip: 127.0.0.1\nlisten: 0.0.0.0:4222\nwhen: 2024-01-02T03:04:05Z');
    assert.deepEqual(doc, { f: 0.5, ip: '127.0.0.1', listen: '0.0.0.0:4222', when: '2024-01-02T03:04:05Z' });
  });

  test('a parenthesised block is a multi-line raw string', () => {
    assert.equal(parse('pem: (\n-----BEGIN-----\nabc)def\n)\nnext: 1').pem, '\n-----BEGIN-----\nabc)def\n');
  });

  test('a bcrypt hash without quotes is a string, not a variable', () => {
    const hash = '$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG';
    assert.equal(parse(`password: ${hash}`).password, hash);
  });

  test('keyInfo records where each key is and the raw text of unquoted values', () => {
    const p = parseNatsConf('a: 1\n  b {\n    c: 2m\n  }\n', { file: 'x.conf' });
    assert.deepEqual(p.keyInfo(p.root, 'a')?.loc, { file: 'x.conf', line: 1, col: 1 });
    assert.deepEqual(p.keyInfo(p.root, 'b')?.loc, { file: 'x.conf', line: 2, col: 3 });
    const b = p.root.b as ConfMap;
    assert.deepEqual(p.keyInfo(b, 'c')?.loc, { file: 'x.conf', line: 3, col: 5 });
    assert.equal(p.keyInfo(b, 'c')?.raw, '2m');
    assert.equal(p.keyInfo(p.root, 'b')?.raw, undefined);
  });
});

describe('nats conf: variables', () => {
  test('defined earlier in the file, block-scoped, marked as used', () => {
    const p = parseNatsConf(
      `
      TOKEN: s3cr3t
      limit: 5
      authorization { token: $TOKEN }
      outer {
        limit: 7
        inner { x: $limit }
      }
      y: $limit
    `,
      { file: 't.conf', env: {} },
    );
    assert.deepEqual(p.root.authorization, { token: 's3cr3t' });
    assert.deepEqual(p.root.outer, { limit: 7, inner: { x: 7 } });
    assert.equal(p.root.y, 5);
    assert.equal(p.keyInfo(p.root, 'TOKEN')?.usedAsVariable, true);
    assert.equal(p.keyInfo(p.root, 'y')?.usedAsVariable, false);
  });

  test('from the environment, parsed as a config value', () => {
    const doc = parse('port: $PORT\nname: $NAME\nflag: $FLAG\nlist: $LIST', {
      PORT: '4333',
      NAME: 'hello world',
      FLAG: 'true',
      LIST: '[1, 2]',
    });
    assert.deepEqual(doc, { port: 4333, name: 'hello world', flag: true, list: [1, 2] });
  });

  test('the file wins over the environment', () => {
    assert.equal(parse('A: 1\nb: $A', { A: '2' }).b, 1);
  });

  test('an undefined variable is an error at its position', () => {
    assertParseError('a: 1\nb: $NOPE', 2, 4, /"\$NOPE" is not defined/);
  });

  test('an environment variable that refers to itself is an error, not a hang', () => {
    assertParseError('a: $LOOP', 1, 4, /expands into itself/, { LOOP: '$LOOP' });
  });
});

describe('nats conf: include', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-conf-'));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'main.conf'), 'port: 4222\ninclude "sub/auth.conf"\ncluster {\n  include ./sub/cluster.conf\n}\nname: after\n');
    writeFileSync(join(dir, 'sub', 'auth.conf'), '# relative to this file\nauthorization { include \'users.conf\' }\n');
    writeFileSync(join(dir, 'sub', 'users.conf'), 'user: alice\npassword: pw\n');
    writeFileSync(join(dir, 'sub', 'cluster.conf'), 'name: c1\nport: 6222\n');
    writeFileSync(join(dir, 'loop.conf'), 'a: 1\ninclude loop2.conf\n');
    writeFileSync(join(dir, 'loop2.conf'), 'include "loop.conf"\n');
    writeFileSync(join(dir, 'missing.conf'), 'a: 1\n  include nothere.conf\n');
    writeFileSync(join(dir, 'bad-inner.conf'), 'include "sub/broken.conf"\n');
    writeFileSync(join(dir, 'sub', 'broken.conf'), 'ok: 1\nbad: [1,,2]\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('merges included keys in place, paths relative to the including file', () => {
    const p = parseNatsConfFile(join(dir, 'main.conf'), { env: {} });
    assert.deepEqual(p.root, {
      port: 4222,
      authorization: { user: 'alice', password: 'pw' },
      cluster: { name: 'c1', port: 6222 },
      name: 'after',
    });
    const cluster = p.root.cluster as ConfMap;
    assert.deepEqual(p.keyInfo(cluster, 'port')?.loc, { file: join(dir, 'sub', 'cluster.conf'), line: 2, col: 1 });
  });

  test('an include cycle is an error', () => {
    assert.throws(() => parseNatsConfFile(join(dir, 'loop.conf'), { env: {} }), /include cycle/);
  });

  test('a missing include names the file and the include line', () => {
    assert.throws(
      () => parseNatsConfFile(join(dir, 'missing.conf'), { env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof NatsConfError);
        assert.equal(err.line, 2);
        assert.match(err.message, /cannot read included file "nothere.conf".*ENOENT/);
        return true;
      },
    );
  });

  test('an error inside an included file points into that file', () => {
    assert.throws(
      () => parseNatsConfFile(join(dir, 'bad-inner.conf'), { env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof NatsConfError);
        assert.equal(err.file, join(dir, 'sub', 'broken.conf'));
        assert.equal(err.line, 2);
        return true;
      },
    );
  });
});

describe('nats conf: syntax errors carry file:line:col', () => {
  test('missing value', () => assertParseError('a: 1\nb:\nc: 2', 2, 3, /missing value for key "b"/));
  test('unclosed map', () => assertParseError('a {\n  b: 1\n', 3, undefined, /missing '}'/));
  test('unclosed array', () => assertParseError('a: [1, 2', 1, 4, /missing '\]'/));
  test('empty array element', () => assertParseError('a: [1,,2]', 1, 7, /unexpected ','/));
  test('unterminated string', () => assertParseError('a: 1\nb: "abc', 2, 4, /unterminated string/));
  test('two values on one line', () => assertParseError('a: 1 2', 1, 6, /expected a new line/));
  test('bad escape', () => assertParseError('a: "\\q"', 1, 5, /invalid escape/));
  test('bad size suffix', () => assertParseError('a: 1kbb', 1, 5, /invalid size suffix "kbb"/));
  test('stray closing brace', () => assertParseError('a: 1\n}', 2, 1, /unexpected '}'/));
  test('separator without key', () => assertParseError(': 1', 1, 1, /expected a key/));
  test('partial datetime', () => assertParseError('a: 2024-01-02', 1, 4, /Zulu/));
  test('integer out of range', () => assertParseError('a: 99999999999999999999', 1, 4, /out of range/));
  test('content after the closing brace of a wrapped file', () => assertParseError('{ a: 1 }\nb: 2', 2, 1, /after the closing/));
});
