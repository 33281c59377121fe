// allow_non_tls (nats-server's option): with `tls {}` configured the client port also accepts
// clients that never start TLS. INFO offers TLS (tls_available) instead of requiring it, and each
// client's first byte decides: a TLS handshake record, or plain protocol.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadConfigText } from '../../server/config/load.ts';
import type { RunningServer } from '../../server/index.ts';
import { makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer } from '../helpers/server.ts';

test('allow_non_tls is read from nats-server and JSON config files', () => {
  assert.equal(loadConfigText('allow_non_tls: true\n', 'a.conf').options.allowNonTls, true);
  assert.equal(loadConfigText('{"allow_non_tls": true}', 'a.json').options.allowNonTls, true);
});

describe('allow_non_tls', () => {
  let certs: TestCerts;
  let server: RunningServer;
  const open: NatsConnection[] = [];

  before(async () => {
    certs = makeTestCerts();
    server = await startTestServer({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } as never, allowNonTls: true });
  });
  after(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
    await server?.close();
    certs?.remove();
  });

  test('INFO offers TLS without requiring it', async () => {
    const raw = await RawClient.connect(server.ports.client);
    const line = await raw.waitFor('\r\n');
    raw.destroy();
    const info = JSON.parse(line.slice(5, line.indexOf('\r\n'))) as Record<string, unknown>;
    assert.equal(info.tls_required, undefined);
    assert.equal(info.tls_available, true);
  });

  test('a plain client and a TLS client on the same port exchange messages', async () => {
    const secure = await connect({ servers: server.clientUrl, tls: { caFile: certs.caFile } });
    open.push(secure);
    // nats.js upgrades whenever TLS is available unless told `tls: null`.
    const plain = await connect({ servers: server.clientUrl, tls: null });
    open.push(plain);
    const sub = secure.subscribe('mixed.>', { max: 2 });
    await secure.flush();
    plain.publish('mixed.a', 'from plain');
    secure.publish('mixed.b', 'from tls');
    const got: string[] = [];
    for await (const m of sub) got.push(`${m.subject}:${m.string()}`);
    assert.deepEqual(got, ['mixed.a:from plain', 'mixed.b:from tls']);
  });

  test('a raw plain-text client gets PONG, not the TLS-required error', async () => {
    const raw = await RawClient.connect(server.ports.client);
    try {
      raw.send('CONNECT {"verbose":false}\r\nPING\r\n');
      await raw.waitFor('PONG\r\n');
      assert.doesNotMatch(raw.text, /TLS Required/);
    } finally {
      raw.destroy();
    }
  });
});
