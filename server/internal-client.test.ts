import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deliverTransient, isTransient } from '../protocol/transient-payload.ts';
import { seededRng } from '../runtime/rng.ts';
import { InternalClient } from './internal-client.ts';
import { Router } from './router/router.ts';

test("an internal handler keeps a client's small payloads intact: it never gets the parser's reused buffer", () => {
  const router = new Router(seededRng(1));
  const internal = new InternalClient(0, router, (err) => assert.fail(String(err)));
  const kept: Buffer[] = [];
  internal.subscribe('store.>', (_subject, _reply, hdr, data) => {
    assert.ok(!isTransient(data));
    assert.ok(hdr === null || !isTransient(hdr));
    kept.push(data as Buffer);
  });
  // Two publishes of the same size, as the server parser hands them over (one reused buffer).
  for (const text of ['first', 'later']) {
    const src = Buffer.from(text);
    assert.ok(deliverTransient(src, 0, src.length, (msg) => router.publish('store.x', '', 0, msg, -1)));
  }
  assert.deepEqual(
    kept.map((b) => b.toString()),
    ['first', 'later'],
  );
});
