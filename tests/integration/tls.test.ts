// TLS on the client port (INFO in the clear, then the client upgrades) and WSS on the WebSocket
// port, with certificates made in process for this run only (tests/helpers/certs.ts).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawWsClient, wsConnect } from '../helpers/ws.ts';
import { makeTestCerts, type TestCerts } from '../helpers/certs.ts';
import { within } from '../helpers/deadline.ts';
import type { RunningServer } from '../../server/index.ts';

describe('TLS', () => {
  let certs: TestCerts;
  let server: RunningServer;
  let verifying: RunningServer;
  const open: NatsConnection[] = [];
  const track = (c: NatsConnection): NatsConnection => {
    open.push(c);
    return c;
  };

  before(async () => {
    certs = makeTestCerts();
    const t = { certFile: certs.certFile, keyFile: certs.keyFile };
    server = await startTestServer({ tls: t as never, wsPort: 0 });
    verifying = await startTestServer({ tls: { ...t, caFile: certs.caFile, verify: true } as never, wsPort: 0 });
  });
  after(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
    await server?.close();
    await verifying?.close();
    certs?.remove();
  });

  test('INFO says tls_required; a client with the CA connects and exchanges messages', async () => {
    const raw = await RawClient.connect(server.ports.client);
    const line = await raw.waitFor('\r\n');
    raw.destroy();
    const info = JSON.parse(line.slice(5, line.indexOf('\r\n'))) as Record<string, unknown>;
    assert.equal(info.tls_required, true);
    assert.equal(info.tls_verify, undefined);

    const a = track(await connect({ servers: server.clientUrl, tls: { caFile: certs.caFile } }));
    const b = track(await connect({ servers: server.clientUrl, tls: { caFile: certs.caFile } }));
    const s = b.subscribe('secure.x', { max: 100 });
    await b.flush();
    for (let i = 0; i < 100; i++) a.publish('secure.x', String(i));
    let n = 0;
    for await (const m of s) assert.equal(m.string(), String(n++));
    assert.equal(n, 100);
  });

  test('a plain-text client on the TLS port is refused with the TLS-required error', async () => {
    const raw = await RawClient.connect(server.ports.client);
    await raw.waitFor('INFO ');
    raw.send('CONNECT {}\r\nPING\r\n');
    await raw.waitFor("-ERR 'Secure Connection - TLS Required'");
    await raw.waitClosed();
    assert.ok(!raw.text.includes('PONG'));
  });

  test('a client that does not trust the CA fails the handshake', async () => {
    await assert.rejects(connect({ servers: server.clientUrl, tls: { caFile: certs.otherCaFile }, reconnect: false }));
  });

  test('a client that never starts the handshake is dropped after the TLS timeout', async () => {
    const quick = await startTestServer({ tls: { certFile: certs.certFile, keyFile: certs.keyFile, timeoutMs: 100 } as never });
    try {
      const raw = await RawClient.connect(quick.ports.client);
      await raw.waitFor('INFO ');
      await raw.waitClosed(3000);
      assert.ok(raw.text.includes("-ERR 'Secure Connection - TLS Required'"), raw.text);
    } finally {
      await quick.close();
    }
  });

  test('client certificate verification: with a signed certificate in, without out', async () => {
    const c = track(
      await connect({
        servers: verifying.clientUrl,
        tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
      }),
    );
    await c.flush();
    await assert.rejects(connect({ servers: verifying.clientUrl, tls: { caFile: certs.caFile }, reconnect: false }));
  });

  test('handshake first: TLS before INFO', async () => {
    const first = await startTestServer({
      tls: { certFile: certs.certFile, keyFile: certs.keyFile, handshakeFirst: true } as never,
    });
    try {
      const c = await connect({ servers: first.clientUrl, tls: { caFile: certs.caFile, handshakeFirst: true } });
      await c.flush();
      await c.close();
      // A raw TLS socket sees INFO only after the handshake.
      const text = await within(
        new Promise<string>((resolve, reject) => {
          const s = tls.connect({ host: '127.0.0.1', port: first.ports.client, ca: certs.ca, servername: 'localhost' });
          s.once('data', (d: Buffer) => {
            s.destroy();
            resolve(d.toString());
          });
          s.once('error', reject);
        }),
        5000,
        'INFO over TLS',
      );
      assert.match(text, /^INFO \{.*"tls_required":true/);
    } finally {
      await first.close();
    }
  });

  test('WSS: the WebSocket port uses the same certificate; TCP and WSS clients talk', async () => {
    assert.match(server.wsUrl ?? '', /^wss:\/\//);
    const w = track(await wsConnect(server.wsUrl!.replace('127.0.0.1', 'localhost'), { socket: { ca: certs.ca } }));
    const t = track(await connect({ servers: server.clientUrl, tls: { caFile: certs.caFile } }));
    t.subscribe('wss.echo', { callback: (_e, m) => void m.respond(`echo:${m.string()}`) });
    await t.flush();
    assert.equal((await w.request('wss.echo', 'hi', { timeout: 2000 })).string(), 'echo:hi');
    // A client that does not trust the CA cannot upgrade.
    await assert.rejects(RawWsClient.connect(server.wsUrl!, {}));
  });

  test('WSS with client certificate verification', async () => {
    const url = verifying.wsUrl!;
    const ok = await RawWsClient.connect(url, {
      ca: certs.ca,
      cert: await import('node:fs').then((fs) => fs.readFileSync(certs.clientCertFile)),
      key: await import('node:fs').then((fs) => fs.readFileSync(certs.clientKeyFile)),
    });
    try {
      const text = await ok.waitFor('\r\n');
      assert.match(text, /"tls_verify":true/);
    } finally {
      ok.close();
    }
    await assert.rejects(RawWsClient.connect(url, { ca: certs.ca }));
  });
});
