// The leafnode port at the byte level: what a hub sends first, the CONNECT it answers, and that
// malformed input, a client on the wrong port or bad credentials close only that connection with
// -ERR while the server goes on.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import type { RunningServer } from '../../server/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer } from '../helpers/server.ts';

let server: RunningServer;
let leafPort: number;

before(async () => {
  server = await startTestServer({ leafnodes: { port: 0, user: 'leaf', pass: 's3cret' } as never });
  leafPort = server.ports.leafnode!;
});
after(async () => {
  await server.close();
});

async function handshake(): Promise<{ peer: RawClient; info: Record<string, unknown> }> {
  const peer = await RawClient.connect(leafPort);
  const line = await peer.waitFor('\r\n');
  const info = JSON.parse(line.slice(5, line.indexOf('\r\n'))) as Record<string, unknown>;
  peer.clear();
  return { peer, info };
}

test('the hub speaks first with what a dialling nats-server checks, and confirms CONNECT', async () => {
  const { peer, info } = await handshake();
  assert.ok(typeof info.client_id === 'number' && info.client_id > 0);
  assert.ok(Array.isArray(info.leafnode_urls));
  assert.equal(info.info_on_connect, true);
  assert.equal(info.headers, true);
  assert.equal(typeof info.nonce, 'string');
  peer.send('CONNECT {"name":"raw-edge","user":"leaf","pass":"s3cret","headers":true}\r\n');
  const text = await peer.waitFor('LS+ $LDS.');
  assert.match(text, /^INFO \{.*"connect_info":true.*\}\r\n/);
  peer.send('PING\r\n');
  await peer.waitFor('PONG\r\n');
  peer.destroy();
});

test('a malformed line gets -ERR and closes that connection only', async () => {
  const { peer } = await handshake();
  peer.send('CONNECT {"name":"raw-edge","user":"leaf","pass":"s3cret"}\r\nLS+ a b\r\n');
  await peer.waitFor("-ERR 'Unknown Protocol Operation'");
  await peer.waitClosed();
  const { peer: other } = await handshake();
  other.send('LMSG foo 2\r\nhi\r\n');
  await other.waitFor("-ERR 'Unknown Protocol Operation'", 5000);
  await other.waitClosed();
  const nc = await connect({ servers: server.clientUrl });
  await nc.flush();
  await nc.close();
});

test('a client on the leafnode port and wrong credentials are refused', async () => {
  const { peer } = await handshake();
  peer.send('CONNECT {"lang":"node","version":"3.0.0","verbose":false}\r\n');
  await peer.waitFor("-ERR 'attempted to connect to leaf node port'");
  await peer.waitClosed();
  const { peer: bad } = await handshake();
  bad.send('CONNECT {"name":"raw-edge","user":"leaf","pass":"nope"}\r\n');
  await bad.waitFor("-ERR 'Authorization Violation'");
  await bad.waitClosed();
});
