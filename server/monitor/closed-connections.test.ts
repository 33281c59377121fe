import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClosedConnections } from './closed-connections.ts';
import type { ConnSnapshot } from './conn-info.ts';

const snap = (cid: number, reason: string) => ({ cid, reason }) as unknown as ConnSnapshot;

test('keeps the newest records, oldest first, and counts every close by reason', () => {
  const ring = new ClosedConnections(3);
  assert.deepEqual(ring.list(), []);
  ring.add(snap(1, 'Client Closed'));
  ring.add(snap(2, 'Stale Connection'));
  assert.deepEqual(ring.list().map((c) => c.cid), [1, 2]);
  for (let cid = 3; cid <= 7; cid++) ring.add(snap(cid, cid % 2 === 0 ? 'Client Closed' : 'Stale Connection'));
  assert.equal(ring.size, 3);
  assert.deepEqual(ring.list().map((c) => c.cid), [5, 6, 7]);
  assert.deepEqual(Object.fromEntries(ring.byReason), { 'Client Closed': 3, 'Stale Connection': 4 });
});

test('capacity 0 remembers nothing but still counts', () => {
  const ring = new ClosedConnections(0);
  ring.add(snap(1, 'Client Closed'));
  assert.deepEqual(ring.list(), []);
  assert.equal(ring.byReason.get('Client Closed'), 1);
});
