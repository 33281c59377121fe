import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../runtime/clock.ts';
import { MemoryLogger } from '../../runtime/logger.ts';
import { FakeBus } from '../testing.ts';
import { ApiAdvisories, API_AUDIT_SUBJECT, STREAM_EXISTED } from './advisories.ts';
import { ApiRouter } from './router.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  const bus = new FakeBus();
  let asked = 0;
  const router = new ApiRouter(bus, new MemoryLogger());
  router.advisories = new ApiAdvisories({
    bus,
    clock: new ManualClock(),
    serverName: 'n1',
    domain: 'hub',
    requester: () => {
      asked++;
      return { acc: 'A', server: 'n1' };
    },
  });
  router.register('STREAM.CREATE', { kind: 'stream_create', handle: (req) => ({ config: { name: req.args[0] }, did_create: true, ...(req.args[0] === 'OLD' ? { [STREAM_EXISTED]: true } : {}) }) });
  router.register('STREAM.DELETE', { kind: 'stream_delete', handle: () => ({ success: true }) });
  router.start();
  return { bus, router, asked: () => asked };
}

test('nobody listening: no advisory is built, the requester is not even asked', async () => {
  const { bus, asked } = setup();
  bus.publish('$JS.API.STREAM.CREATE.S', 'r1', null, Buffer.from('{"name":"S"}'));
  bus.publish('$JS.API.STREAM.DELETE.S', 'r2', null, Buffer.alloc(0));
  await settle();
  assert.deepEqual(
    bus.published.map((p) => p.subject),
    ['$JS.API.STREAM.CREATE.S', 'r1', '$JS.API.STREAM.DELETE.S', 'r2'],
  );
  assert.equal(asked(), 0);
});

test('with listeners: the stream actions and the audit with the request, the response and the domain', async () => {
  const { bus, asked } = setup();
  bus.subscribe('$JS.EVENT.ADVISORY.>', () => {});
  bus.publish('$JS.API.STREAM.CREATE.S', 'r1', null, Buffer.from('{"name":"S"}'));
  bus.publish('$JS.API.STREAM.CREATE.OLD', 'r2', null, Buffer.from('{"name":"OLD"}'));
  bus.publish('$JS.API.STREAM.DELETE.S', 'r3', null, Buffer.alloc(0));
  await settle();
  const actions = bus.published.filter((p) => p.subject.startsWith('$JS.EVENT.ADVISORY.STREAM.')).map((p) => [p.subject, JSON.parse(p.data.toString()).action]);
  // OLD existed already: answered, audited, not advised.
  assert.deepEqual(actions, [
    ['$JS.EVENT.ADVISORY.STREAM.CREATED.S', 'create'],
    ['$JS.EVENT.ADVISORY.STREAM.DELETED.S', 'delete'],
  ]);
  const audits = bus.jsonTo(API_AUDIT_SUBJECT) as Record<string, unknown>[];
  assert.deepEqual(
    audits.map((a) => [a.type, a.server, a.domain, a.subject, a.request, JSON.parse(a.response as string).type, a.client]),
    [
      ['io.nats.jetstream.advisory.v1.api_audit', 'n1', 'hub', '$JS.API.STREAM.CREATE.S', '{"name":"S"}', 'io.nats.jetstream.api.v1.stream_create_response', { acc: 'A', server: 'n1' }],
      ['io.nats.jetstream.advisory.v1.api_audit', 'n1', 'hub', '$JS.API.STREAM.CREATE.OLD', '{"name":"OLD"}', 'io.nats.jetstream.api.v1.stream_create_response', { acc: 'A', server: 'n1' }],
      ['io.nats.jetstream.advisory.v1.api_audit', 'n1', 'hub', '$JS.API.STREAM.DELETE.S', undefined, 'io.nats.jetstream.api.v1.stream_delete_response', { acc: 'A', server: 'n1' }],
    ],
  );
  assert.equal(asked(), 3);
});
