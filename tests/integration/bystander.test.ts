// Hostile input on one connection does not hold up the others. A bystander does PING/PONG while
// (1) one connection sends 50,000 SUBs in one write, (2) one STREAM.CREATE carries 10,000
// subjects. These tests check order and outcome, not time (benchmarks measure the latencies).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { RawClient } from '../helpers/raw-client.ts';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { jsApi } from '../helpers/js-api.ts';

let js: JsTestServer;
let port: number;
before(async () => {
  js = await startJsTestServer();
  port = js.server.ports.client;
});
after(async () => {
  await js?.close();
});

async function connected(): Promise<RawClient> {
  const raw = await RawClient.connect(port);
  raw.send('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
  await raw.waitFor('PONG\r\n');
  raw.clear();
  return raw;
}

test('a burst of 50,000 SUBs is worked off in slices: a bystander\'s PING is answered first', { timeout: 60_000 }, async () => {
  const flood = await connected();
  const bystander = await connected();
  try {
    const subs: string[] = [];
    for (let i = 0; i < 50_000; i++) subs.push(`SUB flood.${i} ${i}\r\n`);
    flood.send(`${subs.join('')}PING\r\n`);
    bystander.send('PING\r\n');
    await bystander.waitFor('PONG\r\n', 30_000);
    assert.equal(flood.text.includes('PONG'), false, 'the bystander was answered before the flood was worked off');
    await flood.waitFor('PONG\r\n', 30_000);
    assert.equal(flood.closed, false);
  } finally {
    flood.destroy();
    bystander.destroy();
  }
});

test('a 10,000-subject stream is created; one subject more is refused with a JSON error', { timeout: 60_000 }, async () => {
  const nc: NatsConnection = await connect({ servers: js.clientUrl });
  const bystander = await connected();
  try {
    const subjects = Array.from({ length: 10_000 }, (_, i) => `big.${i % 100}.${i}`);
    const created = jsApi(nc, '$JS.API.STREAM.CREATE.BIG', { name: 'BIG', subjects });
    bystander.send('PING\r\n');
    await bystander.waitFor('PONG\r\n', 30_000);
    const r = await created;
    assert.equal(r.error, undefined, JSON.stringify(r.error));
    assert.equal(r.config.subjects.length, 10_000);
    const tooMany = await jsApi(nc, '$JS.API.STREAM.CREATE.BIGGER', { name: 'BIGGER', subjects: [...subjects.map((s) => `x${s}`), 'one.more'] });
    assert.equal(tooMany.error?.err_code, 10052);
    assert.match(tooMany.error?.description ?? '', /too many subjects: 10001, a stream takes at most 10000/);
  } finally {
    bystander.destroy();
    await nc.close();
  }
});
