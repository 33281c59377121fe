// sluice/client against a scripted fake server (a raw TCP listener in the test): the protocol
// corners a real broker does not produce on demand — unanswered keepalive PINGs, async INFO with
// connect_urls and lame-duck mode, -ERR during the handshake, server PINGs, a server that never
// answers, and waitOnFirstConnect.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { connect, AuthorizationError, ErrorCode, NatsError, type Status } from '../../client/index.ts';
import { waitFor, within } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';

const INFO = { server_id: 'FAKE', version: '2.10.0', proto: 1, headers: true, max_payload: 1048576 };

interface FakeServer {
  port: number;
  /** Every connection's received text, in accept order. */
  received: string[];
  sockets: net.Socket[];
  close(): Promise<void>;
}

/** A listener that greets with INFO and answers CONNECT's PING (and later PINGs if asked). */
async function fakeServer(behaviour: { answerPings?: boolean; onConnect?: (s: net.Socket) => void; greet?: boolean; port?: number }): Promise<FakeServer> {
  const received: string[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    const idx = received.push('') - 1;
    sockets.push(s);
    s.on('error', () => {});
    if (behaviour.greet !== false) s.write(`INFO ${JSON.stringify(INFO)}\r\n`);
    let handshook = false;
    s.on('data', (d) => {
      received[idx] += d.toString('latin1');
      const text = received[idx]!;
      if (!handshook && text.includes('CONNECT ') && text.includes('PING\r\n')) {
        handshook = true;
        if (behaviour.onConnect !== undefined) behaviour.onConnect(s);
        else s.write('PONG\r\n');
      } else if (handshook && behaviour.answerPings !== false && d.toString('latin1').includes('PING\r\n')) {
        s.write('PONG\r\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(behaviour.port ?? 0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function nextStatus(it: AsyncIterator<Status>, type: Status['type']): Promise<Status> {
  return within(
    (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) throw new Error(`status ended before ${type}`);
        if (r.value.type === type) return r.value;
      }
    })(),
    5000,
    `status ${type}`,
  );
}

describe('client protocol corners against a scripted server', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('CONNECT carries the client identity and protocol 1 with headers and no_responders', async () => {
    const fake = await fakeServer({});
    cleanups.push(() => fake.close());
    const nc = await connect({ servers: `127.0.0.1:${fake.port}`, name: 'ident', token: 's3cret', reconnect: false });
    cleanups.push(() => nc.close());
    const line = fake.received[0]!.split('\r\n').find((l) => l.startsWith('CONNECT '))!;
    const c = JSON.parse(line.slice(8)) as Record<string, unknown>;
    assert.equal(c.name, 'ident');
    assert.equal(c.auth_token, 's3cret');
    assert.equal(c.protocol, 1);
    assert.equal(c.headers, true);
    assert.equal(c.no_responders, true);
    assert.equal(c.verbose, false);
    assert.equal(c.lang, 'sluice.js');
  });

  test('server PINGs are answered; unanswered keepalive PINGs make the connection stale', async () => {
    const fake = await fakeServer({ answerPings: false });
    cleanups.push(() => fake.close());
    const nc = await connect({ servers: `127.0.0.1:${fake.port}`, pingIntervalMs: 20, maxPingOut: 2, reconnect: false });
    cleanups.push(() => nc.close());
    const statuses = nc.status();
    fake.sockets[0]!.write('PING\r\n');
    await waitFor(() => (fake.received[0]!.match(/PONG\r\n/g) ?? []).length >= 1, 'PONG to the server PING');
    await nextStatus(statuses, 'staleConnection');
    const err = await nc.closed();
    assert.ok(err instanceof NatsError && err.code === ErrorCode.StaleConnection, String(err));
  });

  test('async INFO: connect_urls update the pool, ldm is reported', async () => {
    const fake = await fakeServer({});
    cleanups.push(() => fake.close());
    const nc = await connect({ servers: `127.0.0.1:${fake.port}`, reconnect: false });
    cleanups.push(() => nc.close());
    const statuses = nc.status();
    fake.sockets[0]!.write(`INFO ${JSON.stringify({ ...INFO, connect_urls: ['127.0.0.1:1', `127.0.0.1:${fake.port}`] })}\r\n`);
    const update = await nextStatus(statuses, 'update');
    assert.deepEqual(update, { type: 'update', added: ['nats://127.0.0.1:1'], deleted: [] });
    assert.ok(nc.getServers().includes('nats://127.0.0.1:1'));
    fake.sockets[0]!.write(`INFO ${JSON.stringify({ ...INFO, ldm: true, connect_urls: [] })}\r\n`);
    const s = await nextStatus(statuses, 'ldm');
    assert.equal(s.type, 'ldm');
    assert.ok(!nc.getServers().includes('nats://127.0.0.1:1'));
  });

  test('-ERR during the handshake rejects connect with a typed error', async () => {
    const fake = await fakeServer({ onConnect: (s) => s.end("-ERR 'Authorization Violation'\r\n") });
    cleanups.push(() => fake.close());
    await assert.rejects(connect({ servers: `127.0.0.1:${fake.port}`, reconnect: false }), (e: unknown) => e instanceof AuthorizationError);
  });

  test('a server that never answers CONNECT times out; an absent server is CONNECTION_REFUSED', async () => {
    const fake = await fakeServer({ onConnect: () => {} });
    cleanups.push(() => fake.close());
    await assert.rejects(
      connect({ servers: `127.0.0.1:${fake.port}`, timeoutMs: 100, reconnect: false }),
      (e: unknown) => e instanceof NatsError && e.code === ErrorCode.Timeout,
    );
    const port = await freePort();
    await assert.rejects(
      connect({ servers: `127.0.0.1:${port}`, reconnect: false }),
      (e: unknown) => e instanceof NatsError && e.code === ErrorCode.ConnectionRefused,
    );
  });

  test('waitOnFirstConnect keeps trying until the server appears', async () => {
    const port = await freePort();
    let fake: FakeServer | undefined;
    const pending = connect({
      servers: `127.0.0.1:${port}`,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWaitMs: 10,
      maxReconnectTimeWaitMs: 20,
      reconnectJitterMs: 0,
    });
    // Let it fail at least once before the server exists.
    await new Promise<void>((r) => setImmediate(r));
    fake = await fakeServer({ port });
    cleanups.push(() => fake!.close());
    const nc = await within(pending, 5000, 'waitOnFirstConnect');
    cleanups.push(() => nc.close());
    assert.equal(nc.getServer(), `nats://127.0.0.1:${port}`);
  });
});
