// Config files: the authorization, tls and websocket blocks (nats-server syntax and JSON).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfigText } from './load.ts';
import { resolveOptions } from '../options.ts';

const load = (text: string): ReturnType<typeof loadConfigText> => loadConfigText(text, 'c.conf', { env: {} });

function assertConfigError(text: string, re: RegExp): void {
  assert.throws(
    () => load(text),
    (err: unknown) => err instanceof ConfigError && !err.message.includes('\n') && re.test(err.message),
  );
}

describe('authorization block', () => {
  test('token, user/password, timeout', () => {
    assert.deepEqual(load('authorization { token: s3cret, timeout: 1.5 }').options, { token: 's3cret', authTimeoutMs: 1500 });
    assert.deepEqual(load('authorization { user: a, password: b }').options, { user: 'a', pass: 'b' });
  });

  test('users with permissions in all of nats-server\'s shapes, default_permissions and limits', () => {
    const r = load(`
      authorization {
        default_permissions { publish: "public.>" }
        users: [
          { user: alice, password: "$2a$04$abcdefghijklmnopqrstuu0eMJ2rVCdOeXJMtQ8i1TvzB3u9m1YOa",
            permissions: {
              publish: { allow: ["orders.>", "_INBOX.>"], deny: "orders.secret" }
              subscribe: ["orders.>", "jobs.> workers"]
              allow_responses: { max: 2, expires: 1m }
            },
            max_connections: 3, max_subs: 10, max_payload: 64KB }
          { user: bob, password: b }
          { nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4 }
          { user: carol, password: c, permissions: { allow_responses: true } }
        ]
      }`);
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.options.users, [
      {
        user: 'alice',
        password: '$2a$04$abcdefghijklmnopqrstuu0eMJ2rVCdOeXJMtQ8i1TvzB3u9m1YOa',
        permissions: {
          publish: { allow: ['orders.>', '_INBOX.>'], deny: ['orders.secret'] },
          subscribe: { allow: ['orders.>', 'jobs.> workers'] },
          allowResponses: { maxMsgs: 2, expiresMs: 60_000 },
        },
        maxConnections: 3,
        maxSubscriptions: 10,
        maxPayloadBytes: 64 * 1024,
      },
      { user: 'bob', password: 'b', permissions: { publish: { allow: ['public.>'] } } },
      { nkey: 'UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4', permissions: { publish: { allow: ['public.>'] } } },
      { user: 'carol', password: 'c', permissions: { allowResponses: true } },
    ]);
    assert.doesNotThrow(() => resolveOptions(r.options));
  });

  test('unknown user keys are warnings; bad values are one line naming the key', () => {
    const r = load('authorization { users: [{ user: a, password: b, allowed_connection_types: [STANDARD] }] }');
    assert.deepEqual(r.warnings, ['unsupported config key "authorization.users[0].allowed_connection_types" ignored (c.conf:1:49)']);
    assertConfigError('authorization { users: [{ user: a, permissions: { publish: { allow: [1] } } }] }', /"authorization\.users\[0\]\.permissions\.publish\.allow": expected a subject or a list of subjects/);
    assertConfigError('authorization { users: [{ user: a, permissions: { publish: { maybe: x } } }] }', /permissions\.publish\.maybe/);
    assertConfigError('authorization { users: [{ user: a, permissions: { publish: "a..b" } }] }', /"authorization\.users": expected users\[0\]\.permissions\.publish\.allow\[0\] to be a valid subject/);
    assertConfigError('authorization { users: [{ nkey: UBAD }] }', /users\[0\]\.nkey to be a user public nkey/);
    assertConfigError('authorization { users: [{ user: a }, { user: a }] }', /unique/);
    assertConfigError('authorization { users: { user: a } }', /"authorization\.users": expected a list of users/);
  });

  test('JSON takes the same shapes', () => {
    const r = load(JSON.stringify({ users: [{ user: 'a', password: 'b', permissions: { subscribe: { deny: ['x.>'] } } }], ws_port: 0 }));
    assert.deepEqual(r.options, { users: [{ user: 'a', password: 'b', permissions: { subscribe: { deny: ['x.>'] } } }], wsPort: 0 });
    assert.deepEqual(load('{"authorization": {"token": "t"}}').options, { token: 't' });
  });
});

describe('tls and websocket blocks', () => {
  test('tls block', () => {
    const r = load('tls { cert_file: "s.pem", key_file: "s.key", ca_file: "ca.pem", verify: true, timeout: 3, handshake_first: true }');
    assert.deepEqual(r.options.tls, { certFile: 's.pem', keyFile: 's.key', caFile: 'ca.pem', verify: true, timeoutMs: 3000, handshakeFirst: true });
    assertConfigError('tls { cert_file: "s.pem" }', /"tls": expected a block with cert_file and key_file/);
  });

  test('websocket block', () => {
    const r = load(`websocket {
      listen: "127.0.0.1:8080"
      no_tls: true
      compression: true
      allowed_origins: ["https://app.example.com"]
      same_origin: false
      advertise: "ws.example.com:443"
      handshake_timeout: "2s"
      jwt_cookie: "jwt"
    }`);
    assert.equal(r.options.wsPort, 8080);
    assert.deepEqual(r.options.websocket, {
      host: '127.0.0.1',
      noTls: true,
      tls: undefined,
      compression: true,
      allowedOrigins: ['https://app.example.com'],
      sameOrigin: false,
      advertise: 'ws.example.com:443',
      handshakeTimeoutMs: 2000,
    });
    assert.deepEqual(r.warnings.map((w) => w.replace(/ \(.*\)$/, '')), ['unsupported config key "websocket.jwt_cookie" ignored']);
    assert.doesNotThrow(() => resolveOptions(r.options));
    assertConfigError('websocket { port: 8080, allowed_origins: [1] }', /websocket\.allowed_origins/);
    assert.throws(() => resolveOptions(load('websocket { port: 8080, allowed_origins: ["not an origin"] }').options), /allowedOrigins\[0\]/);
  });
});
