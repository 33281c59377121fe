import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultOptions,
  MAX_PAYLOAD_HARD_CAP_BYTES,
  OptionsError,
  parseDurationMs,
  parseSize,
  resolveOptions,
  resolveOptionsWithWarnings,
} from './options.ts';
import { DEFAULT_MAX_CONTROL_LINE_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_PORT } from '../protocol/limits.ts';

/** Asserts that resolving `partial` throws one OptionsError line naming `field`. */
function assertRejected(partial: Record<string, unknown>, field: string, expected: RegExp): void {
  assert.throws(
    () => resolveOptions(partial as never),
    (err: unknown) => {
      assert.ok(err instanceof OptionsError, `expected OptionsError, got ${String(err)}`);
      assert.equal(err.field, field);
      assert.ok(!err.message.includes('\n'), `message must be one line: ${err.message}`);
      assert.ok(err.message.includes(`"${field}"`), `message must name the field: ${err.message}`);
      assert.match(err.message, expected);
      return true;
    },
  );
}

describe('defaultOptions', () => {
  test('match the documented defaults', () => {
    const d = defaultOptions();
    assert.equal(d.host, '0.0.0.0');
    assert.equal(d.port, DEFAULT_PORT);
    assert.equal(d.serverName, '');
    assert.equal(d.httpPort, undefined);
    assert.equal(d.storeDir, undefined);
    assert.equal(d.portsFileDir, undefined);
    assert.equal(d.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES);
    assert.equal(d.maxControlLineBytes, DEFAULT_MAX_CONTROL_LINE_BYTES);
    assert.equal(d.logLevel, 'info');
  });

  test('are valid and return a fresh object each time', () => {
    assert.deepEqual(resolveOptions({}), defaultOptions());
    const a = defaultOptions();
    a.port = 1;
    assert.equal(defaultOptions().port, DEFAULT_PORT);
  });
});

describe('resolveOptions', () => {
  test('overlays the given fields on the defaults', () => {
    const o = resolveOptions({ port: 0, serverName: 'n1', httpPort: 8222, storeDir: '/tmp/x', logLevel: 'debug' });
    assert.equal(o.port, 0);
    assert.equal(o.serverName, 'n1');
    assert.equal(o.httpPort, 8222);
    assert.equal(o.storeDir, '/tmp/x');
    assert.equal(o.logLevel, 'debug');
    assert.equal(o.maxPayloadBytes, DEFAULT_MAX_PAYLOAD_BYTES);
  });

  test('undefined means "not given"', () => {
    assert.equal(resolveOptions({ port: undefined }).port, DEFAULT_PORT);
  });

  test('httpHost follows host unless given', () => {
    assert.equal(resolveOptions({ host: '127.0.0.1' }).httpHost, '127.0.0.1');
    assert.equal(resolveOptions({ host: '127.0.0.1', httpHost: '0.0.0.0' }).httpHost, '0.0.0.0');
  });

  test('rejects each invalid value with one line naming the field', () => {
    assertRejected({ port: 'abc' }, 'port', /expected an integer 0\.\.65535, got "abc"$/);
    assertRejected({ port: 65536 }, 'port', /got 65536$/);
    assertRejected({ port: -1 }, 'port', /0\.\.65535/);
    assertRejected({ port: 1.5 }, 'port', /got 1\.5$/);
    assertRejected({ httpPort: 70000 }, 'httpPort', /0\.\.65535/);
    assertRejected({ host: '' }, 'host', /non-empty/);
    assertRejected({ httpHost: ' ' }, 'httpHost', /non-empty/);
    assertRejected({ serverName: 'has space' }, 'serverName', /without whitespace/);
    assertRejected({ storeDir: '' }, 'storeDir', /non-empty path/);
    assertRejected({ portsFileDir: 42 }, 'portsFileDir', /got 42$/);
    assertRejected({ maxPayloadBytes: 0 }, 'maxPayloadBytes', /positive size/);
    assertRejected({ maxPayloadBytes: -5 }, 'maxPayloadBytes', /got -5$/);
    assertRejected({ maxPayloadBytes: MAX_PAYLOAD_HARD_CAP_BYTES + 1 }, 'maxPayloadBytes', /up to 67108864/);
    assertRejected({ maxControlLineBytes: 0 }, 'maxControlLineBytes', /positive/);
    assertRejected({ maxPendingBytes: '1MB' }, 'maxPendingBytes', /got "1MB"$/);
    assertRejected({ maxConnections: 0 }, 'maxConnections', /positive integer/);
    assertRejected({ maxSubscriptionsPerConnection: -1 }, 'maxSubscriptionsPerConnection', /0 = unlimited/);
    assertRejected({ pingIntervalMs: 0 }, 'pingIntervalMs', /milliseconds/);
    assertRejected({ maxPingsOutstanding: 0 }, 'maxPingsOutstanding', /positive/);
    assertRejected({ authTimeoutMs: -1 }, 'authTimeoutMs', /positive/);
    assertRejected({ writeDeadlineMs: NaN }, 'writeDeadlineMs', /got NaN$/);
    assertRejected({ logLevel: 'loud' }, 'logLevel', /one of trace, debug, info, warn, error, fatal, silent, got "loud"$/);
  });

  test('0 subscriptions means unlimited and is accepted', () => {
    assert.equal(resolveOptions({ maxSubscriptionsPerConnection: 0 }).maxSubscriptionsPerConnection, 0);
  });

  test('refuses unknown keys (typos from untyped callers)', () => {
    assert.throws(() => resolveOptions({ prot: 1 } as never), (err: unknown) => {
      assert.ok(err instanceof OptionsError);
      assert.equal(err.message, 'unknown option "prot"');
      return true;
    });
  });

  test('refuses a payload limit above the pending-bytes limit', () => {
    assertRejected({ maxPayloadBytes: 2 * 1024 * 1024, maxPendingBytes: 1024 * 1024 }, 'maxPayloadBytes', /maxPendingBytes/);
  });
});

describe('resolveOptionsWithWarnings', () => {
  test('no warnings for the defaults', () => {
    assert.deepEqual(resolveOptionsWithWarnings({}).warnings, []);
  });

  test('warns above 8 MiB of payload, accepts up to the 64 MiB cap', () => {
    const r = resolveOptionsWithWarnings({ maxPayloadBytes: 16 * 1024 * 1024 });
    assert.equal(r.options.maxPayloadBytes, 16 * 1024 * 1024);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /maxPayloadBytes.*8 MiB/);
    assert.equal(resolveOptionsWithWarnings({ maxPayloadBytes: 8 * 1024 * 1024 }).warnings.length, 0);
    assert.equal(resolveOptions({ maxPayloadBytes: MAX_PAYLOAD_HARD_CAP_BYTES }).maxPayloadBytes, MAX_PAYLOAD_HARD_CAP_BYTES);
  });
});

describe('parseSize', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['1024', 1024],
    ['1k', 1000],
    ['1K', 1000],
    ['1kb', 1024],
    ['1KB', 1024],
    ['1KiB', 1024],
    ['2m', 2_000_000],
    ['2MB', 2 * 1024 * 1024],
    ['1mib', 1024 * 1024],
    ['1G', 1_000_000_000],
    ['1GB', 1024 ** 3],
    ['64b', 64],
    [' 8MB ', 8 * 1024 * 1024],
    ['-5', undefined],
    ['1.5MB', undefined],
    ['MB', undefined],
    ['1XB', undefined],
    ['', undefined],
    ['9999999999EB', undefined],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)} -> ${want}`, () => assert.equal(parseSize(text), want));
  }
});

describe('parseDurationMs (Go syntax)', () => {
  const cases: [string, number | undefined][] = [
    ['0', 0],
    ['10s', 10_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['500ms', 500],
    ['250us', 0],
    ['1500us', 2],
    ['-1s', -1000],
    ['10', undefined],
    ['s', undefined],
    ['2 m', undefined],
    ['2d', undefined],
    ['', undefined],
  ];
  for (const [text, want] of cases) {
    test(`${JSON.stringify(text)} -> ${want}`, () => assert.equal(parseDurationMs(text), want));
  }
});

describe('auth, TLS and WebSocket options', () => {
  test('partial nested settings are completed with defaults', () => {
    const o = resolveOptions({ wsPort: 0, websocket: { compression: true } as never, tls: { certFile: 'c', keyFile: 'k' } as never });
    assert.equal(o.websocket.compression, true);
    assert.equal(o.websocket.noTls, false);
    assert.deepEqual(o.tls, { certFile: 'c', keyFile: 'k', caFile: undefined, verify: false, timeoutMs: 2000, handshakeFirst: false });
  });

  test('bad values are one line naming the field', () => {
    assertRejected({ wsPort: 70000 }, 'wsPort', /0\.\.65535/);
    assertRejected({ tls: { certFile: 'c' } }, 'tls', /tls\.keyFile to be a file path/);
    assertRejected({ websocket: { allowedOrigins: ['nope'] } }, 'websocket', /allowedOrigins\[0\]/);
    assertRejected({ websocket: { bogus: 1 } }, 'websocket', /no key "bogus"/);
    assertRejected({ users: [{ user: 'a', permissions: { publish: { allow: ['a..b'] } } }] }, 'users', /publish\.allow\[0\]/);
    assertRejected({ token: '' }, 'token', /non-empty token/);
  });

  test('combinations nats-server refuses', () => {
    assertRejected({ pass: 'x' }, 'pass', /needs a user/);
    assertRejected({ user: 'a', users: [{ user: 'b' }] }, 'user', /cannot be combined/);
    assertRejected({ token: 't', users: [{ user: 'b' }] }, 'token', /cannot be combined/);
    assertRejected({ token: 't', user: 'a' }, 'token', /cannot be combined/);
  });
});
