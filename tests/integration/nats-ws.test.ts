// The legacy official WebSocket client, nats.ws 1.x (what IoT gateways and browsers in the field
// run), against sluice's WebSocket listener, exchanging messages with a TCP client of the
// official Node transport both ways, including request/reply across transports.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { connect as tcpConnect, type NatsConnection as TcpConnection } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { RunningServer } from '../../server/index.ts';

// nats.ws expects a browser-style global WebSocket; Node 20 has none.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
const natsWs = await import('nats.ws');

let server: RunningServer;
let tcp: TcpConnection;
let ws: Awaited<ReturnType<typeof natsWs.connect>>;

before(async () => {
  server = await startTestServer({ wsPort: 0 });
  tcp = await tcpConnect({ servers: server.clientUrl });
  ws = await natsWs.connect({ servers: `ws://127.0.0.1:${server.ports.ws}` });
});
after(async () => {
  await ws?.close();
  await tcp?.close();
  await server?.close();
});

test('nats.ws reports the server it connected to', () => {
  assert.equal(ws.info?.server_id, server.serverId);
});

test('TCP -> nats.ws and nats.ws -> TCP, in order', async () => {
  const sc = natsWs.StringCodec();
  const toWs: string[] = [];
  const toTcp: string[] = [];
  ws.subscribe('x.to-ws', { callback: (_e, m) => void toWs.push(sc.decode(m.data)) });
  tcp.subscribe('x.to-tcp', { callback: (_e, m) => void toTcp.push(m.string()) });
  await ws.flush();
  await tcp.flush();
  for (let i = 0; i < 500; i++) {
    tcp.publish('x.to-ws', String(i));
    ws.publish('x.to-tcp', sc.encode(String(i)));
  }
  await tcp.flush();
  await ws.flush();
  await waitFor(() => toWs.length === 500 && toTcp.length === 500, '500 messages each way');
  assert.deepEqual(toWs, Array.from({ length: 500 }, (_, i) => String(i)));
  assert.deepEqual(toTcp, Array.from({ length: 500 }, (_, i) => String(i)));
});

test('request/reply across transports, both directions', async () => {
  const sc = natsWs.StringCodec();
  ws.subscribe('svc.ws', { callback: (_e, m) => m.respond(sc.encode(`ws:${sc.decode(m.data)}`)) });
  tcp.subscribe('svc.tcp', { callback: (_e, m) => void m.respond(`tcp:${m.string()}`) });
  await ws.flush();
  await tcp.flush();
  const fromWs = await tcp.request('svc.ws', 'ping', { timeout: 2000 });
  assert.equal(fromWs.string(), 'ws:ping');
  const fromTcp = await ws.request('svc.tcp', sc.encode('ping'), { timeout: 2000 });
  assert.equal(sc.decode(fromTcp.data), 'tcp:ping');
});

test('headers survive the trip from nats.ws to TCP', async () => {
  const got: string[][] = [];
  tcp.subscribe('x.hdr', { max: 1, callback: (_e, m) => void got.push(m.headers?.values('X-Multi') ?? []) });
  await tcp.flush();
  const h = natsWs.headers();
  h.append('X-Multi', 'a');
  h.append('X-Multi', 'b');
  ws.publish('x.hdr', natsWs.Empty, { headers: h });
  await ws.flush();
  await waitFor(() => got.length === 1, 'the header message');
  assert.deepEqual(got[0], ['a', 'b']);
});
