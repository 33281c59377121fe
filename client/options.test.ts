import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NatsError, ErrorCode } from './errors.ts';
import { parseServerUrl, resolveOptions } from './options.ts';

test('server URLs: schemes, default ports, bare host:port, credentials, ws paths, IPv6', () => {
  const cases: [string, string][] = [
    ['127.0.0.1:4222', 'nats://127.0.0.1:4222'],
    ['localhost', 'nats://localhost:4222'],
    ['nats://h:5', 'nats://h:5'],
    ['tls://h', 'tls://h:4222'],
    ['ws://h', 'ws://h:80'],
    ['wss://h/nats', 'wss://h:443/nats'],
    ['ws://h:8080/', 'ws://h:8080'],
    ['nats://[::1]:4222', 'nats://[::1]:4222'],
  ];
  for (const [raw, key] of cases) assert.equal(parseServerUrl(raw).key, key, raw);
  const u = parseServerUrl('nats://al%40ice:p%3Ass@h:1');
  assert.deepEqual([u.user, u.pass], ['al@ice', 'p:ss']);
  assert.equal(parseServerUrl('nats://tok@h').user, 'tok');
});

test('bad options are typed INVALID_OPTION errors', () => {
  const bad = (o: Parameters<typeof resolveOptions>[0]): void =>
    assert.throws(() => resolveOptions(o), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.InvalidOption);
  bad({ servers: [] });
  bad({ servers: 'http://h:1' });
  bad({ inboxPrefix: 'a.*' });
  bad({ token: 't', user: 'u' });
  bad({ timeoutMs: -1 });
  assert.equal(resolveOptions({ maxReconnectAttempts: -1 }).maxReconnectAttempts, -1);
  assert.equal(resolveOptions({ tls: true }).tls !== undefined, true);
});
