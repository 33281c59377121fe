// WebSocket listener: the official client over WebSocket (nats.js v3 `wsconnect`, the successor of
// nats.ws) and over TCP (@nats-io/transport-node) on one server, exchanging messages both ways.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { RawWsClient, wsConnect } from '../helpers/ws.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { RunningServer } from '../../server/index.ts';

describe('WebSocket transport', () => {
  let server: RunningServer;
  const open: NatsConnection[] = [];
  const raws: { close(): void }[] = [];
  const tcp = async (): Promise<NatsConnection> => {
    const c = await connect({ servers: server.clientUrl });
    open.push(c);
    return c;
  };
  const ws = async (): Promise<NatsConnection> => {
    const c = await wsConnect(server.wsUrl!);
    open.push(c);
    return c;
  };

  before(async () => {
    server = await startTestServer({
      wsPort: 0,
      websocket: { allowedOrigins: ['https://app.example.com', 'http://localhost:3000'] } as never,
    });
  });
  after(async () => {
    for (const r of raws) r.close();
    await Promise.allSettled(open.map((c) => c.close()));
    await server.close();
  });

  test('the server announces a ws:// URL and its WebSocket port', () => {
    assert.match(server.wsUrl ?? '', /^ws:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(server.wsUrl, `ws://127.0.0.1:${server.ports.ws}`);
  });

  for (const [from, to] of [
    ['tcp', 'ws'],
    ['ws', 'tcp'],
    ['ws', 'ws'],
  ] as const) {
    test(`5,000 messages from ${from} to ${to} arrive complete and in order`, async () => {
      const pub = from === 'tcp' ? await tcp() : await ws();
      const sub = to === 'tcp' ? await tcp() : await ws();
      const subject = `order.${from}.${to}`;
      const s = sub.subscribe(subject, { max: 5000 });
      await sub.flush();
      for (let i = 0; i < 5000; i++) pub.publish(subject, String(i));
      await pub.flush();
      let expected = 0;
      for await (const m of s) {
        assert.equal(m.string(), String(expected));
        expected++;
      }
      assert.equal(expected, 5000);
    });
  }

  test('request/reply across transports, both ways', async () => {
    const t = await tcp();
    const w = await ws();
    t.subscribe('svc.tcp', { callback: (_e, m: Msg) => void m.respond(`tcp:${m.string()}`) });
    w.subscribe('svc.ws', { callback: (_e, m: Msg) => void m.respond(`ws:${m.string()}`) });
    await Promise.all([t.flush(), w.flush()]);
    for (let i = 0; i < 10; i++) {
      assert.equal((await w.request('svc.tcp', `q${i}`, { timeout: 2000 })).string(), `tcp:q${i}`);
      assert.equal((await t.request('svc.ws', `q${i}`, { timeout: 2000 })).string(), `ws:q${i}`);
    }
  });

  test('headers and a large payload cross transports', async () => {
    const t = await tcp();
    const w = await ws();
    const s = w.subscribe('big', { max: 1 });
    await w.flush();
    const { headers } = await import('@nats-io/transport-node');
    const h = headers();
    h.set('X-Test', 'yes');
    const payload = Buffer.alloc(512 * 1024, 7);
    t.publish('big', payload, { headers: h });
    for await (const m of s) {
      assert.equal(m.headers?.get('X-Test'), 'yes');
      assert.equal(m.data.length, payload.length);
      assert.ok(Buffer.from(m.data).equals(payload));
    }
  });

  test('INFO over WebSocket carries the WebSocket port; TCP clients get ws_connect_urls', async () => {
    const raw = await RawWsClient.connect(server.wsUrl!);
    raws.push(raw);
    const text = await raw.waitFor('\r\n');
    const info = JSON.parse(text.slice(5, text.indexOf('\r\n'))) as Record<string, unknown>;
    assert.equal(info.port, server.ports.ws);
    assert.equal(info.ws_connect_urls, undefined);
    const t = await RawClient.connect(server.ports.client);
    raws.push({ close: () => t.destroy() });
    const line = await t.waitFor('\r\n');
    const tinfo = JSON.parse(line.slice(5, line.indexOf('\r\n'))) as Record<string, unknown>;
    assert.deepEqual(tinfo.ws_connect_urls, [`127.0.0.1:${server.ports.ws}`]);
  });

  test('text frames are accepted, and one frame may hold several operations or part of one', async () => {
    const raw = await RawWsClient.connect(server.wsUrl!);
    raws.push(raw);
    await raw.waitFor('INFO ');
    raw.send('CONNECT {"verbose":false,"pedantic":false}\r\nSUB frames 1\r\nPING\r\n', false);
    await raw.waitFor('PONG\r\n');
    raw.send('PUB frames 5\r\nhe', true);
    raw.send('llo\r\nPU', false);
    raw.send('B frames 3\r\nabc\r\nPING\r\n', true);
    const text = await raw.waitFor('MSG frames 1 3\r\nabc\r\n');
    assert.ok(text.includes('MSG frames 1 5\r\nhello\r\n'));
  });

  test('a browser Origin outside the allow-list is refused during the upgrade', async () => {
    await assert.rejects(RawWsClient.connect(server.wsUrl!, { origin: 'https://evil.example.com' }), (err: Error & { statusCode?: number }) => {
      assert.equal(err.statusCode, 403);
      return true;
    });
    // The same host on another scheme or port is another origin.
    await assert.rejects(RawWsClient.connect(server.wsUrl!, { origin: 'http://app.example.com' }), /HTTP 403/);
    await assert.rejects(RawWsClient.connect(server.wsUrl!, { origin: 'http://localhost:3001' }), /HTTP 403/);
    // Allowed origins (default ports filled in) and requests without an Origin get through.
    for (const origin of ['https://app.example.com', 'https://app.example.com:443', 'http://localhost:3000']) {
      const ok = await RawWsClient.connect(server.wsUrl!, { origin });
      raws.push(ok);
      await ok.waitFor('INFO ');
    }
    // The official client (no Origin header in Node) connects.
    await ws();
  });

  test('plain HTTP on the WebSocket port gets a 426, not a crash', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      http.get(`http://127.0.0.1:${server.ports.ws}/`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
    assert.equal(status, 426);
  });

  test('protocol garbage over WebSocket closes that client only', async () => {
    const before = server.connectionCount();
    const raw = await RawWsClient.connect(server.wsUrl!);
    raws.push(raw);
    await raw.waitFor('INFO ');
    raw.send(Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a]));
    await raw.waitFor("-ERR 'Unknown Protocol Operation'");
    await raw.waitClosed();
    await waitFor(() => server.connectionCount() === before, 'connection count back');
    const w = await ws();
    await w.flush();
  });

  test('a closed WebSocket client leaves no connection behind', async () => {
    const before = server.connectionCount();
    const c = await wsConnect(server.wsUrl!);
    await waitFor(() => server.connectionCount() === before + 1, 'connection counted');
    await c.close();
    await waitFor(() => server.connectionCount() === before, 'connection released');
  });
});

describe('WebSocket compression', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ wsPort: 0, websocket: { compression: true } as never });
  });
  after(() => server.close());

  test('permessage-deflate is negotiated when offered, and messages still flow', async () => {
    const raw = await RawWsClient.connect(server.wsUrl!, { perMessageDeflate: true });
    try {
      assert.match(raw.ws.extensions, /permessage-deflate/);
      await raw.waitFor('INFO ');
      raw.send('CONNECT {"verbose":false}\r\nSUB z 1\r\nPUB z 100\r\n' + 'x'.repeat(100) + '\r\nPING\r\n');
      await raw.waitFor('MSG z 1 100\r\n' + 'x'.repeat(100));
    } finally {
      raw.close();
    }
    const c = await wsConnect(server.wsUrl!, { socket: { perMessageDeflate: true } });
    const s = c.subscribe('zz', { max: 1 });
    c.publish('zz', 'y'.repeat(10_000));
    for await (const m of s) assert.equal(m.string(), 'y'.repeat(10_000));
    await c.close();
  });
});

describe('monitoring', () => {
  test('/varz reports the WebSocket listener and auth', async () => {
    const server = await startTestServer({ wsPort: 0, httpPort: 0, token: 't' });
    try {
      const varz = await new Promise<Record<string, unknown>>((resolve, reject) => {
        http.get(`${server.httpUrl}/varz`, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
        }).on('error', reject);
      });
      assert.equal(varz.auth_required, true);
      assert.equal(varz.tls_required, undefined);
      assert.deepEqual(varz.websocket, { host: '127.0.0.1', port: server.ports.ws, no_tls: true });
    } finally {
      await server.close();
    }
  });
});

