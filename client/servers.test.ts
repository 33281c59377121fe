import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../runtime/rng.ts';
import { ServerPool } from './servers.ts';

const policy = { reconnectTimeWaitMs: 100, maxReconnectTimeWaitMs: 1000, reconnectJitterMs: 0, reconnectJitterTlsMs: 0 };

test('rotation: the server taken moves to the back', () => {
  const pool = new ServerPool(['nats://a:1', 'nats://b:2', 'nats://c:3'], false, seededRng(1));
  assert.deepEqual([pool.next(), pool.next(), pool.next(), pool.next()].map((e) => e!.url.host), ['a', 'b', 'c', 'a']);
});

test('randomize shuffles with the injected rng (replayable)', () => {
  const urls = Array.from({ length: 8 }, (_, i) => `nats://h${i}:4222`);
  const order = (seed: number): string[] => new ServerPool(urls, true, seededRng(seed)).list().map((e) => e.url.host);
  assert.deepEqual(order(7), order(7));
  assert.equal(order(7).length, 8);
  assert.deepEqual([...order(7)].sort(), urls.map((_, i) => `h${i}`).sort());
});

test('backoff doubles per failed attempt up to the max, plus jitter below its bound', () => {
  const pool = new ServerPool(['nats://a:1'], false, seededRng(1));
  const e = pool.next()!;
  assert.equal(pool.waitMs(e, 0, policy, seededRng(1)), 0, 'never failed: try at once');
  e.lastAttemptMs = 1000;
  const waits = [1, 2, 3, 4, 5, 6].map((a) => {
    e.attempts = a;
    return pool.waitMs(e, 1000, policy, seededRng(1));
  });
  assert.deepEqual(waits, [100, 200, 400, 800, 1000, 1000]);
  e.attempts = 1;
  assert.equal(pool.waitMs(e, 1050, policy, seededRng(1)), 50, 'time already waited counts');
  const jittered = { ...policy, reconnectJitterMs: 30 };
  for (let seed = 0; seed < 50; seed++) {
    const w = pool.waitMs(e, 1000, jittered, seededRng(seed));
    assert.ok(w >= 100 && w < 130, `jittered wait ${w}`);
  }
});

test('connect_urls: new servers are added as implicit, unlisted implicit ones removed, configured ones kept', () => {
  const pool = new ServerPool(['nats://seed:4222'], false, seededRng(1));
  const current = pool.next()!;
  let r = pool.update(['10.0.0.1:4222', '10.0.0.2:4222', 'seed:4222'], 'nats', current);
  assert.deepEqual(r, { added: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222'], deleted: [] });
  r = pool.update(['10.0.0.2:4222'], 'nats', current);
  assert.deepEqual(r, { added: [], deleted: ['nats://10.0.0.1:4222'] });
  assert.deepEqual(pool.list().map((e) => e.url.key).sort(), ['nats://10.0.0.2:4222', 'nats://seed:4222']);
  r = pool.update(['10.0.0.3:8080'], 'ws', current);
  assert.deepEqual(r.added, ['ws://10.0.0.3:8080']);
});
