import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WaitQueue, decodePullRequest, newWaitingRequest, statusIdleHeartbeat, statusRequestTimeout } from './pull.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('pull request bodies: empty, a bare batch, or JSON', () => {
  assert.deepEqual(decodePullRequest(b('')), { batch: 1, maxBytes: 0, expiresNs: 0, noWait: false, heartbeatNs: 0 });
  assert.equal((decodePullRequest(b(' 25 ')) as { batch: number }).batch, 25);
  assert.deepEqual(decodePullRequest(b('{"batch":10,"expires":30000000000,"no_wait":true,"max_bytes":1024,"idle_heartbeat":5000000000}')), {
    batch: 10,
    maxBytes: 1024,
    expiresNs: 30e9,
    noWait: true,
    heartbeatNs: 5e9,
  });
  assert.deepEqual(decodePullRequest(b('{"batch":1,"expires":1000000000,"idle_heartbeat":600000000}')), { error: 'heartbeat value too large' });
  assert.ok('error' in decodePullRequest(b('{"batch":')));
  assert.ok('error' in decodePullRequest(b('{"batch":"x"}')));
});

test('the wait queue serves requests round-robin and drops satisfied ones', () => {
  const q = new WaitQueue(2);
  const a = newWaitingRequest('a', { batch: 2, maxBytes: 0, expiresNs: 0, noWait: false, heartbeatNs: 0 }, 0);
  const c = newWaitingRequest('c', { batch: 1, maxBytes: 0, expiresNs: 0, noWait: false, heartbeatNs: 0 }, 0);
  assert.equal(q.add(a, 0), true);
  assert.equal(q.add(c, 0), true);
  assert.equal(q.add(newWaitingRequest('x', { batch: 1, maxBytes: 0, expiresNs: 0, noWait: false, heartbeatNs: 0 }, 0), 0), false, 'max_waiting');
  assert.equal(q.popForDelivery().reply, 'a');
  assert.equal(q.popForDelivery().reply, 'c');
  assert.equal(q.popForDelivery().reply, 'a');
  assert.equal(q.length, 0);
});

test('status blocks carry the headers clients read', () => {
  assert.equal(statusRequestTimeout(3, 100).toString(), 'NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 100\r\n\r\n');
  assert.equal(
    statusIdleHeartbeat(5, 9, '$JS.FC.S.C.ab12').toString(),
    'NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 5\r\nNats-Last-Stream: 9\r\nNats-Consumer-Stalled: $JS.FC.S.C.ab12\r\n\r\n',
  );
});
