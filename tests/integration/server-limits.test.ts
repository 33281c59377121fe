// Server policies over real sockets: slow consumers, keepalive, connection and subscription
// limits, echo, monitoring.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { waitFor } from '../helpers/deadline.ts';
import { installGarbageCollector } from '../../server/index.ts';

/** A raw client subscribed to `flood` that stops reading once the subscription is in place. */
async function neverReading(t: TestContext, port: number): Promise<RawClient> {
  const slow = await RawClient.connect(port);
  t.after(() => slow.destroy());
  slow.send('CONNECT {"verbose":false}\r\nSUB flood 1\r\nPING\r\n');
  await slow.waitFor('PONG');
  slow.socket.pause(); // never read again
  return slow;
}

test('a slow consumer is closed with -ERR and nobody else stalls', async (t) => {
  const server = await startTestServer({ maxPendingBytes: 2 * 1024 * 1024, maxPayloadBytes: 64 * 1024 });
  t.after(() => server.close());
  const slow = await neverReading(t, server.ports.client);

  const healthy = await connect({ servers: server.clientUrl });
  const pub = await connect({ servers: server.clientUrl });
  t.after(async () => {
    await healthy.close();
    await pub.close();
  });
  let received = 0;
  healthy.subscribe('flood', { callback: () => void received++ });
  await healthy.flush();
  const payload = new Uint8Array(4096);
  const total = 8000; // ~32 MiB: far past what the kernel buffers and max_pending absorb
  for (let i = 0; i < total; i++) {
    pub.publish('flood', payload);
    // Flushing often keeps the healthy subscriber (same process) well inside max_pending.
    if (i % 20 === 0) await pub.flush();
  }
  await pub.flush();
  await waitFor(() => received === total || healthy.isClosed(), `healthy subscriber to get ${total}`, 20_000);
  assert.equal(healthy.isClosed(), false, `healthy closed after ${received}`);
  await waitFor(() => server.connectionCount() === 2, 'the slow consumer to be dropped', 10_000);
  // The -ERR sits behind megabytes the client never read, so only the close is certain.
  slow.socket.resume();
  await slow.waitClosed(10_000);
});

test('the queue of a slow consumer cut at max_pending is collected once its socket has closed', async (t) => {
  // The CLI installs V8's collector (cli/heap-tuning.ts); here a counter stands in for it.
  let collections = 0;
  installGarbageCollector(() => void collections++);
  t.after(() => installGarbageCollector(undefined));
  const server = await startTestServer({ maxPendingBytes: 12 * 1024 * 1024 });
  t.after(() => server.close());
  await neverReading(t, server.ports.client);
  const pub = await RawClient.connect(server.ports.client);
  t.after(() => pub.destroy());
  pub.send('CONNECT {"verbose":false}\r\n');
  const payload = Buffer.alloc(64 * 1024, 0x61);
  const frame = Buffer.concat([Buffer.from(`PUB flood ${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
  // Far past what max_pending and the kernel's socket buffers hold, written with backpressure.
  for (let i = 0; i < 640 && server.connectionCount() === 2; i++) {
    if (!pub.socket.write(frame)) await new Promise((r) => pub.socket.once('drain', r));
  }
  await waitFor(() => server.connectionCount() === 1, 'the slow consumer to be cut', 20_000);
  await waitFor(() => collections === 1, 'one collection after the cut', 5_000);
});

async function fetchVarz(server: { httpUrl?: string }): Promise<Record<string, unknown> | undefined> {
  if (!server.httpUrl) return undefined;
  const r = await fetch(`${server.httpUrl}/varz`);
  return (await r.json()) as Record<string, unknown>;
}

test('a client that stops answering PINGs is closed as stale', async (t) => {
  const server = await startTestServer({ pingIntervalMs: 50, maxPingsOutstanding: 2 });
  t.after(() => server.close());
  const raw = await RawClient.connect(server.ports.client);
  t.after(() => raw.destroy());
  raw.send('CONNECT {"verbose":false}\r\n');
  await raw.waitFor("-ERR 'Stale Connection'\r\n");
  await raw.waitClosed();
  assert.equal(raw.text.split('PING\r\n').length - 1, 2);
});

test('a client that answers PINGs stays connected', async (t) => {
  const server = await startTestServer({ pingIntervalMs: 30, maxPingsOutstanding: 1 });
  t.after(() => server.close());
  const nc = await connect({ servers: server.clientUrl });
  t.after(() => nc.close());
  // Several intervals pass; the official client answers each server PING.
  const raw = await RawClient.connect(server.ports.client);
  t.after(() => raw.destroy());
  raw.send('CONNECT {"verbose":false}\r\n');
  await raw.waitClosed(5000);
  assert.equal(nc.isClosed(), false);
  await nc.flush();
});

test('max connections refuses the extra client with the standard error', async (t) => {
  const server = await startTestServer({ maxConnections: 1 });
  t.after(() => server.close());
  const first = await RawClient.connect(server.ports.client);
  t.after(() => first.destroy());
  await first.waitFor('INFO');
  const second = await RawClient.connect(server.ports.client);
  t.after(() => second.destroy());
  await second.waitFor("-ERR 'maximum connections exceeded'\r\n");
  await second.waitClosed();
  first.send('PING\r\n');
  await first.waitFor('PONG');
});

test('max subscriptions per connection: the extra SUB is refused and the connection stays', async (t) => {
  const server = await startTestServer({ maxSubscriptionsPerConnection: 2 });
  t.after(() => server.close());
  const raw = await RawClient.connect(server.ports.client);
  t.after(() => raw.destroy());
  raw.send('CONNECT {"verbose":false}\r\nSUB a 1\r\nSUB b 2\r\nSUB c 3\r\nPUB b 2\r\nok\r\nPING\r\n');
  await raw.waitFor('PONG\r\n');
  assert.match(raw.text, /-ERR 'maximum subscriptions exceeded'\r\n/);
  assert.match(raw.text, /MSG b 2 2\r\nok\r\n/);
});

test('echo:false suppresses only the publisher own deliveries', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const self = await connect({ servers: server.clientUrl, noEcho: true });
  const other = await connect({ servers: server.clientUrl });
  t.after(async () => {
    await self.close();
    await other.close();
  });
  const selfGot: string[] = [];
  const otherGot: string[] = [];
  self.subscribe('echo.t', { callback: (_e, m) => void selfGot.push(m.string()) });
  other.subscribe('echo.t', { callback: (_e, m) => void otherGot.push(m.string()) });
  await self.flush();
  await other.flush();
  self.publish('echo.t', 'from-self');
  other.publish('echo.t', 'from-other');
  await self.flush();
  await other.flush();
  await waitFor(() => otherGot.length === 2 && selfGot.length === 1, 'deliveries');
  await self.flush();
  assert.deepEqual(selfGot, ['from-other']);
});

test('monitoring: /healthz and /varz', async (t) => {
  const server = await startTestServer({ httpPort: 0, serverName: 'mon-test' });
  t.after(() => server.close());
  const nc = await connect({ servers: server.clientUrl });
  t.after(() => nc.close());
  nc.subscribe('m.>', { callback: () => {} });
  nc.publish('m.x', 'hello');
  await nc.flush();
  const health = await (await fetch(`${server.httpUrl}/healthz`)).json();
  assert.deepEqual(health, { status: 'ok' });
  const varz = (await fetchVarz(server))!;
  assert.equal(varz.server_name, 'mon-test');
  assert.equal(varz.server_id, server.serverId);
  assert.equal(varz.connections, 1);
  assert.ok((varz.total_connections as number) >= 1);
  assert.equal(varz.in_msgs, 1);
  assert.equal(varz.out_msgs, 1);
  assert.equal(varz.in_bytes, 5);
  assert.ok((varz.subscriptions as number) >= 1);
  for (const k of ['version', 'now', 'uptime', 'mem', 'cpu', 'slow_consumers', 'out_bytes']) assert.ok(k in varz, k);
  const notFound = await fetch(`${server.httpUrl}/nope`);
  assert.equal(notFound.status, 404);
});
