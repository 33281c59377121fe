// A single (not clustered) JetStream server refuses num_replicas > 1 with the error nats-server
// gives, at the point nats-server gives it: for a stream once the config is otherwise valid (so
// before any feature sluice lacks), for a consumer after the name checks and before the stream is
// looked up. Answers measured against nats-server 2.9.10.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { jsApi } from '../helpers/js-api.ts';

const REPLICAS = { err_code: 10074, description: 'replicas > 1 not supported in non-clustered mode' };

let js: JsTestServer;
let nc: NatsConnection;
before(async () => {
  js = await startJsTestServer();
  nc = await connect({ servers: js.clientUrl });
  assert.equal((await jsApi(nc, '$JS.API.STREAM.CREATE.S', { name: 'S', subjects: ['s.>'] })).error, undefined);
});
after(async () => {
  await nc?.close();
  await js?.close();
});

async function errorOf(subject: string, body: unknown): Promise<{ err_code: number; description: string } | undefined> {
  const r = await jsApi(nc, subject, body);
  return r.error === undefined ? undefined : { err_code: r.error.err_code, description: r.error.description };
}

test('streams: 10074 for a valid config, also when it asks for a feature sluice lacks', async () => {
  for (const [name, extra] of [
    ['R1', {}],
    ['R2', { sources: [{ name: 'S' }] }],
    ['R3', { republish: { src: '>', dest: 'rp.>' } }],
    ['R4', { placement: { cluster: 'x' } }],
  ] as const) {
    assert.deepEqual(await errorOf(`$JS.API.STREAM.CREATE.${name}`, { name, subjects: [name.toLowerCase()], num_replicas: 3, ...extra }), REPLICAS, name);
  }
});

test('streams: config errors nats-server checks first still come first', async () => {
  assert.equal((await errorOf('$JS.API.STREAM.CREATE.B1', { name: 'B1', num_replicas: 6 }))?.description, 'maximum replicas is 5');
  assert.equal((await errorOf('$JS.API.STREAM.CREATE.B2', { name: 'B2', num_replicas: 3, subjects: ['a..b'] }))?.description, 'invalid subject');
  assert.equal((await errorOf('$JS.API.STREAM.CREATE.B3', { name: 'B3', num_replicas: -1 }))?.err_code, 10133);
  // Without replicas the same config is created (a source in another domain is supported).
  const external = { name: 'B4', subjects: ['b4'], sources: [{ name: 'S', external: { api: '$JS.hub.API', deliver: '' } }] };
  assert.equal(await errorOf('$JS.API.STREAM.CREATE.B4', external), undefined);
});

test('consumers: 10074 before the stream is looked up, in every create form', async () => {
  const cases: [string, unknown][] = [
    ['$JS.API.CONSUMER.CREATE.S.C1', { stream_name: 'S', config: { name: 'C1', durable_name: 'C1', num_replicas: 3, ack_policy: 'explicit' } }],
    ['$JS.API.CONSUMER.CREATE.NOPE.C2', { stream_name: 'NOPE', config: { name: 'C2', durable_name: 'C2', num_replicas: 3 } }],
    ['$JS.API.CONSUMER.DURABLE.CREATE.S.D1', { stream_name: 'S', config: { durable_name: 'D1', num_replicas: 2 } }],
    ['$JS.API.CONSUMER.CREATE.S', { stream_name: 'S', config: { num_replicas: 2 } }],
  ];
  for (const [subject, body] of cases) assert.deepEqual(await errorOf(subject, body), REPLICAS, subject);
  // num_replicas 1 (or 0) is fine.
  assert.equal(await errorOf('$JS.API.CONSUMER.CREATE.S.OK', { stream_name: 'S', config: { name: 'OK', durable_name: 'OK', num_replicas: 1 } }), undefined);
});
