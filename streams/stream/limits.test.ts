import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { normalizeStreamConfig } from './config.ts';
import { StoreFailure, checkDiscardNew, enforceLimits } from './limits.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { appendNext } from '../store/testing.ts';

function cfg(body: Record<string, unknown>): StreamConfig {
  const r = normalizeStreamConfig({ name: 'S', subjects: ['s.>'], ...body });
  assert.ok(r.ok);
  return r.config;
}

const data = (n: number): Buffer => Buffer.alloc(n, 0x61);

function seqs(store: MemoryStore): number[] {
  return [...store.iterate(0)].map((m) => m.seq);
}

test('discard old: max_msgs evicts the oldest after each append', () => {
  const store = new MemoryStore('S');
  const c = cfg({ max_msgs: 3 });
  for (let i = 0; i < 5; i++) {
    appendNext(store, 's.a', null, data(1));
    enforceLimits(store, c, 's.a');
  }
  assert.deepEqual(seqs(store), [3, 4, 5]);
});

test('discard old: max_bytes evicts until within the limit', () => {
  const store = new MemoryStore('S');
  const size = store.msgSize('s.a', null, data(100));
  const c = cfg({ max_bytes: size * 2 + 10 });
  for (let i = 0; i < 4; i++) {
    appendNext(store, 's.a', null, data(100));
    enforceLimits(store, c, 's.a');
  }
  assert.deepEqual(seqs(store), [3, 4]);
  assert.ok(store.state().bytes <= c.max_bytes);
});

test('max_msgs_per_subject keeps the newest per subject (either discard policy)', () => {
  for (const discard of ['old', 'new']) {
    const store = new MemoryStore('S');
    const c = cfg({ max_msgs_per_subject: 2, discard });
    for (const s of ['s.a', 's.b', 's.a', 's.a', 's.b', 's.a']) {
      assert.equal(checkDiscardNew(c, store, s, store.msgSize(s, null, data(1))), undefined);
      appendNext(store, s, null, data(1));
      enforceLimits(store, c, s);
    }
    assert.deepEqual(seqs(store), [2, 4, 5, 6], discard);
  }
});

test('discard new refuses instead of evicting, with nats-server texts', () => {
  const store = new MemoryStore('S');
  const c = cfg({ discard: 'new', max_msgs: 2 });
  for (let i = 0; i < 2; i++) {
    assert.equal(checkDiscardNew(c, store, 's.a', store.msgSize('s.a', null, data(1))), undefined);
    appendNext(store, 's.a', null, data(1));
  }
  assert.equal(checkDiscardNew(c, store, 's.a', store.msgSize('s.a', null, data(1))), StoreFailure.MaxMsgs);
  assert.equal(StoreFailure.MaxMsgs, 'maximum messages exceeded');

  const b = new MemoryStore('B');
  const size = b.msgSize('s.a', null, data(50));
  const cb = cfg({ discard: 'new', max_bytes: size * 2 });
  appendNext(b, 's.a', null, data(50));
  appendNext(b, 's.a', null, data(50));
  assert.equal(checkDiscardNew(cb, b, 's.a', size), 'maximum bytes exceeded');

  const p = new MemoryStore('P');
  const cp = cfg({ discard: 'new', max_msgs_per_subject: 1, discard_new_per_subject: true });
  appendNext(p, 's.a', null, data(1));
  assert.equal(checkDiscardNew(cp, p, 's.a', 1), 'maximum messages per subject exceeded');
  assert.equal(checkDiscardNew(cp, p, 's.b', 1), undefined);
});

test('discard new at the per-subject limit replaces instead of refusing (max_msgs not counted)', () => {
  const store = new MemoryStore('S');
  const c = cfg({ discard: 'new', max_msgs: 2, max_msgs_per_subject: 1 });
  appendNext(store, 's.a', null, data(1));
  appendNext(store, 's.b', null, data(1));
  assert.equal(checkDiscardNew(c, store, 's.a', store.msgSize('s.a', null, data(1))), undefined);
  assert.equal(checkDiscardNew(c, store, 's.c', store.msgSize('s.c', null, data(1))), StoreFailure.MaxMsgs);
});

test('tightening limits on a config change evicts at once; discard new does not evict by count', () => {
  const store = new MemoryStore('S');
  for (let i = 0; i < 10; i++) appendNext(store, i % 2 === 0 ? 's.a' : 's.b', null, data(1));
  assert.equal(enforceLimits(store, cfg({ max_msgs_per_subject: 3 })), 4);
  assert.equal(enforceLimits(store, cfg({ discard: 'new', max_msgs: 2 })), 0);
  assert.equal(enforceLimits(store, cfg({ max_msgs: 2 })), 4);
  assert.deepEqual(seqs(store), [9, 10]);
});
