// The rpc-services example end to end against an in-process broker: load spread over the queue
// group, timeouts retried, no-responders surfaced fast, a retry that finds a freshly started
// instance, and an instance that never answers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, JSONCodec, NatsError, type NatsConnection } from '../../client/index.ts';
import type { RunningServer } from '../../server/index.ts';
import { startTestServer } from '../../tests/helpers/server.ts';
import { callWithRetry } from './caller.ts';
import { runDemo } from './main.ts';
import { priceOf, QUOTE_SUBJECT, startService, type ErrorReply, type QuoteReply, type ServiceInstance } from './service.ts';

const json = JSONCodec();
const replies = JSONCodec<QuoteReply | ErrorReply>();

describe('examples/rpc-services', () => {
  let server: RunningServer;
  let nc: NatsConnection;
  const services: ServiceInstance[] = [];

  before(async () => {
    server = await startTestServer();
    nc = await connect({ servers: server.clientUrl });
  });
  after(async () => {
    for (const s of services) await s.stop().catch(() => undefined);
    await nc?.close();
    await server?.close();
  });

  test('the demo spreads calls over both instances, retries timeouts and surfaces no-responders', async () => {
    const lines: string[] = [];
    const s = await runDemo(server.clientUrl, { calls: 30, timeoutMs: 400, log: (l) => lines.push(l) });
    assert.ok(s.servedBy.a! > 0 && s.servedBy.b! > 0, `both instances served: ${JSON.stringify(s.servedBy)}`);
    assert.equal(s.servedBy.a! + s.servedBy.b!, 30, 'every call got exactly one answer');
    assert.deepEqual(s.handled, s.servedBy, 'each answer was counted by the instance that gave it');
    assert.ok(s.timeouts >= 1, 'instance b stalled at least once and the caller retried');
    assert.ok(s.retriedCalls >= 1 && s.retriedCalls <= s.timeouts);
    assert.equal(s.noResponders.code, 'NO_RESPONDERS');
    assert.equal(s.noResponders.attempts, 4, 'no-responders is retried like a timeout');
    assert.ok(s.noResponders.elapsedMs < 4 * 400, `failed without waiting out timeouts (${s.noResponders.elapsedMs} ms)`);
    assert.ok(lines.some((l) => l.includes('NO_RESPONDERS')), 'the demo prints the no-responders outcome');
  });

  test('a retry reaches an instance that started after the first attempt found no responders', async () => {
    const codes: string[] = [];
    const r = await callWithRetry(nc, QUOTE_SUBJECT, json.encode({ sku: 'late' }), {
      timeoutMs: 1000,
      retries: 2,
      backoffMs: 1,
      onRetry: async (err) => {
        codes.push(err.code);
        services.push(await startService(server.clientUrl, { instance: 'late' }));
      },
    });
    assert.deepEqual(codes, ['NO_RESPONDERS']);
    assert.equal(r.attempts, 2);
    assert.deepEqual(replies.decode(r.reply.data), { sku: 'late', priceCents: priceOf('late'), servedBy: 'late' });
    await services.pop()!.stop();
  });

  test('an instance that never answers: TIMEOUT after retries + 1 attempts', async () => {
    const mute = await startService(server.clientUrl, { instance: 'mute', dropEvery: 1 });
    services.push(mute);
    const codes: string[] = [];
    await assert.rejects(
      callWithRetry(nc, QUOTE_SUBJECT, json.encode({ sku: 'x' }), { timeoutMs: 100, retries: 2, backoffMs: 1, onRetry: (e) => void codes.push(e.code) }),
      (e: unknown) => e instanceof NatsError && e.code === 'TIMEOUT',
    );
    assert.deepEqual(codes, ['TIMEOUT', 'TIMEOUT']);
    assert.equal(mute.dropped(), 3);
    await services.pop()!.stop();
  });

  test('a malformed request gets an error reply at once', async () => {
    const svc = await startService(server.clientUrl, { instance: 'strict' });
    services.push(svc);
    const notJson = await callWithRetry(nc, QUOTE_SUBJECT, 'not json');
    assert.deepEqual(replies.decode(notJson.reply.data), { error: 'request is not JSON', servedBy: 'strict' });
    const noSku = await callWithRetry(nc, QUOTE_SUBJECT, json.encode({}));
    assert.deepEqual(replies.decode(noSku.reply.data), { error: 'sku is required', servedBy: 'strict' });
    assert.equal(notJson.attempts + noSku.attempts, 2);
    await services.pop()!.stop();
  });
});
