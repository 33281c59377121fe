import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Subscription, type MessageTarget } from '../router/subscription.ts';
import { LocalInterest } from './interest.ts';

const target = { id: 1 } as unknown as MessageTarget;
const sub = (subject: string, queue = ''): Subscription => new Subscription(target, subject, queue, '1');

test('a plain subject is announced on its first subscriber and withdrawn after its last', () => {
  const li = new LocalInterest();
  const a = sub('x.*');
  const b = sub('x.*');
  assert.deepEqual(li.change('$G', a, true), { account: '$G', subject: 'x.*', queue: '', weight: 1 });
  assert.equal(li.change('$G', b, true), null);
  assert.equal(li.change('$G', a, false), null);
  assert.deepEqual(li.change('$G', b, false), { account: '$G', subject: 'x.*', queue: '', weight: 0 });
  assert.equal(li.size, 0);
});

test('a queue group is announced with its member count whenever it changes', () => {
  const li = new LocalInterest();
  const [m1, m2] = [sub('job', 'q'), sub('job', 'q')];
  assert.equal(li.change('$G', m1, true)?.weight, 1);
  assert.equal(li.change('$G', m2, true)?.weight, 2);
  assert.equal(li.change('$G', m1, false)?.weight, 1);
  assert.deepEqual([...li.all()], [{ account: '$G', subject: 'job', queue: 'q', weight: 1 }]);
  assert.equal(li.change('$G', m2, false)?.weight, 0);
});

test('accounts keep their interest apart', () => {
  const li = new LocalInterest();
  li.change('A', sub('s'), true);
  assert.equal(li.change('B', sub('s'), true)?.account, 'B');
  assert.equal(li.size, 2);
});
