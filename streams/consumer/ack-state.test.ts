import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AckState, PendingSet, type AckTiming } from './ack-state.ts';

const timing: AckTiming = { ackWaitMs: 1000, backoffMs: [], maxDeliver: -1 };

/** A state that delivered stream sequences `seqs` (first deliveries) at `now`. */
function delivered(seqs: number[], policy: 'explicit' | 'all' | 'none' = 'explicit', now = 0): AckState {
  const st = new AckState(policy);
  st.start(1);
  for (const seq of seqs) {
    st.sseq = seq + 1;
    st.recordDelivery(seq, 1, now);
  }
  return st;
}

test('explicit acks move the ack floor only over contiguous acknowledgements', () => {
  const st = delivered([1, 2, 3, 4, 5]);
  assert.equal(st.ack(2, 2, 1, null), 1);
  assert.deepEqual([st.adflr, st.asflr], [0, 0]);
  st.ack(1, 1, 1, null);
  assert.deepEqual([st.adflr, st.asflr], [2, 2], 'floor jumps over the earlier ack');
  st.ack(5, 5, 1, null);
  st.ack(3, 3, 1, null);
  assert.deepEqual([st.adflr, st.asflr], [3, 3]);
  assert.equal(st.ack(3, 3, 1, null), 0, 'a double ack changes nothing');
  st.ack(4, 4, 1, null);
  assert.deepEqual([st.adflr, st.asflr, st.pending.size], [5, 5, 0]);
});

test('acks for messages never delivered are ignored', () => {
  const st = delivered([1, 2]);
  assert.equal(st.ack(7, 7, 0, null), 0);
  assert.equal(st.pending.size, 2);
});

test('ack policy all acknowledges everything up to the acked message', () => {
  const st = delivered([1, 2, 3, 4], 'all');
  const released: number[] = [];
  assert.equal(st.ack(3, 3, 0, released), 3);
  assert.deepEqual(released, [1, 2, 3]);
  assert.deepEqual([st.adflr, st.asflr, st.pending.size], [3, 3, 1]);
  assert.equal(st.ack(2, 2, 0, null), 0, 'below the floor: no-op');
});

test('ack none moves the floor on delivery and keeps nothing pending', () => {
  const st = delivered([1, 2, 3], 'none');
  assert.deepEqual([st.adflr, st.asflr, st.pending.size], [3, 3, 0]);
});

test('expired messages are queued for redelivery; max_deliver drops them with their count', () => {
  const st = delivered([1, 2, 3], 'explicit', 0);
  const r1 = st.checkExpired(999, timing);
  assert.deepEqual([r1.expired, r1.nextMs], [[], 1]);
  const r2 = st.checkExpired(1000, timing);
  assert.deepEqual(r2.expired, [1, 2, 3]);
  assert.equal(st.peekRedelivery(), 1);
  st.shiftRedelivery();
  st.recordDelivery(1, 2, 1000);
  assert.equal(st.deliveryCount(1), 2);
  assert.equal(st.dseq, 5, 'a redelivery gets a new consumer sequence');
  const capped = { ...timing, maxDeliver: 2 };
  const r3 = st.checkExpired(2000, capped);
  assert.deepEqual(r3.exceeded, [{ sseq: 1, dc: 2 }]);
  assert.equal(st.pending.has(1), false);
  assert.equal(st.rdc.get(1), 2, 'still counted as redelivered');
  assert.equal(st.needsAck(1), true, 'interest retention keeps max-delivered messages');
});

test('backoff picks the deadline by delivery attempt', () => {
  const st = delivered([1]);
  const bo: AckTiming = { ackWaitMs: 100, backoffMs: [100, 500, 2000], maxDeliver: 5 };
  assert.equal(st.deadlineMs(1, bo), 100);
  st.recordDelivery(1, 2, 0);
  assert.equal(st.deadlineMs(1, bo), 500);
  st.recordDelivery(1, 3, 0);
  st.recordDelivery(1, 4, 0);
  assert.equal(st.deadlineMs(1, bo), 2000, 'the last step repeats');
});

test('NAK queues at once, or with a delay counted from now', () => {
  const st = delivered([1, 2]);
  assert.equal(st.nak(1, 1, undefined, 10, timing), true);
  assert.equal(st.peekRedelivery(), 1);
  assert.equal(st.nak(2, 2, 300, 50, timing), true);
  assert.equal(st.checkExpired(349, timing).expired.includes(2), false);
  assert.equal(st.checkExpired(350, timing).expired.includes(2), true);
  assert.equal(st.nak(9, 9, undefined, 0, timing), false, 'stale or unknown NAK');
});

test('progress restarts the ack wait', () => {
  const st = delivered([1]);
  st.progress(1, 900);
  assert.deepEqual(st.checkExpired(1500, timing).expired, []);
  assert.deepEqual(st.checkExpired(1900, timing).expired, [1]);
});

test('the stream moving its first sequence past pending messages releases them', () => {
  const st = delivered([1, 2, 3, 4]);
  st.ack(2, 2, 0, null);
  assert.equal(st.streamFirstMoved(4), true);
  assert.deepEqual([...st.pending.keys()], [4]);
  assert.deepEqual([st.adflr, st.asflr], [3, 3]);
});

test('snapshots round-trip floors, pending and redelivery counts', () => {
  const st = delivered([3, 5, 9], 'explicit', 1_700_000_000_000);
  st.ack(5, 2, 1, null);
  st.recordDelivery(9, 2, 1_700_000_000_500);
  const snap = st.snapshot();
  assert.deepEqual(JSON.parse(JSON.stringify(snap)), snap, 'plain numbers only');
  const back = new AckState('explicit');
  back.restore(snap);
  assert.deepEqual([...back.pending.entries()], [...st.pending.entries()]);
  assert.deepEqual([...back.rdc], [...st.rdc]);
  assert.deepEqual([back.adflr, back.asflr, back.dseq, back.deliveredSseq, back.sseq], [st.adflr, st.asflr, st.dseq, 9, 10]);
});

test('PendingSet finds the lowest live entry after many deletions at the front', () => {
  const p = new PendingSet();
  for (let i = 1; i <= 5000; i++) p.add(i, { dseq: i, tsMs: 0 });
  for (let i = 1; i <= 4000; i++) p.delete(i);
  assert.equal(p.firstSeq(), 4001);
  p.add(2, { dseq: 9999, tsMs: 0 });
  assert.equal(p.firstSeq(), 2, 'an out-of-order add is still ordered');
  assert.deepEqual([...p.keys()].slice(0, 3), [2, 4001, 4002]);
  for (const k of [...p.keys()]) p.delete(k);
  assert.equal(p.firstSeq(), 0);
});
