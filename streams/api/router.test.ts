import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogger } from '../../runtime/logger.ts';
import { jsApiError } from '../../protocol/js-errors.ts';
import { ApiRouter, NO_RESPONSE, requestJson } from './router.ts';
import { JsApiException } from '../manager.ts';
import { FakeBus } from '../testing.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  const bus = new FakeBus();
  const logger = new MemoryLogger();
  const router = new ApiRouter(bus, logger);
  router.register('STREAM.INFO', { kind: 'stream_info', handle: (req) => ({ args: req.args }) });
  router.register('STREAM.MSG.GET', { kind: 'stream_msg_get', handle: (req) => ({ args: req.args }) });
  router.register('CONSUMER.CREATE', { kind: 'consumer_create', handle: async (req) => ({ args: req.args }) });
  router.register('BOOM', {
    kind: 'boom',
    handle: () => {
      throw new Error('kaput');
    },
  });
  router.register('REJECT', {
    kind: 'reject',
    errorFields: { purged: 0 },
    handle: () => {
      throw new JsApiException(jsApiError('StreamNotFound'));
    },
  });
  router.register('JSON', { kind: 'json', handle: (req) => requestJson(req) });
  router.register('RAW', { kind: 'raw', handle: () => NO_RESPONSE });
  router.start();
  return { bus, logger, router };
}

test('routes by the longest registered prefix and passes the remaining tokens', async () => {
  const { bus } = setup();
  bus.publish('$JS.API.STREAM.INFO.ORDERS', 'r1', null, Buffer.alloc(0));
  bus.publish('$JS.API.STREAM.MSG.GET.ORDERS', 'r2', null, Buffer.alloc(0));
  bus.publish('$JS.API.CONSUMER.CREATE.ORDERS.c1.orders.>', 'r3', null, Buffer.alloc(0));
  await settle();
  assert.deepEqual(bus.jsonTo('r1'), [{ type: 'io.nats.jetstream.api.v1.stream_info_response', args: ['ORDERS'] }]);
  assert.deepEqual(bus.jsonTo('r2'), [{ type: 'io.nats.jetstream.api.v1.stream_msg_get_response', args: ['ORDERS'] }]);
  assert.deepEqual(bus.jsonTo('r3'), [
    { type: 'io.nats.jetstream.api.v1.consumer_create_response', args: ['ORDERS', 'c1', 'orders', '>'] },
  ]);
  // `type` comes first on the wire.
  assert.ok(bus.published.find((p) => p.subject === 'r1')!.data.toString().startsWith('{"type":'));
});

test('no reply, unknown routes and NO_RESPONSE produce no answer', async () => {
  const { bus, router } = setup();
  bus.publish('$JS.API.STREAM.INFO.ORDERS', '', null, Buffer.alloc(0));
  bus.publish('$JS.API.NOPE.X', 'r1', null, Buffer.alloc(0));
  bus.publish('$JS.API.RAW', 'r2', null, Buffer.alloc(0));
  await settle();
  assert.equal(bus.published.length, 3);
  assert.equal(router.stats.total, 1);
});

test('failures become error responses; unexpected ones are logged as 500s', async () => {
  const { bus, logger, router } = setup();
  bus.publish('$JS.API.BOOM', 'r1', null, Buffer.alloc(0));
  bus.publish('$JS.API.REJECT', 'r2', null, Buffer.alloc(0));
  bus.publish('$JS.API.JSON', 'r3', null, Buffer.from('{nope'));
  await settle();
  const [boom] = bus.jsonTo('r1') as { type: string; error: { code: number; description: string } }[];
  assert.equal(boom!.error.code, 500);
  assert.match(boom!.error.description, /kaput/);
  assert.ok(logger.entries.some((e) => e.level === 'error' && e.msg === 'JetStream API handler failed'));
  assert.deepEqual(bus.jsonTo('r2'), [
    {
      type: 'io.nats.jetstream.api.v1.reject_response',
      error: { code: 404, err_code: 10059, description: 'stream not found' },
      purged: 0,
    },
  ]);
  const [bad] = bus.jsonTo('r3') as { error: { err_code: number } }[];
  assert.equal(bad!.error.err_code, 10025);
  assert.equal(router.stats.errors, 3);
});
