import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../runtime/clock.ts';
import { conformanceSuite } from './conformance.ts';
import { MemoryStore } from './memory-store.ts';
import { appendNext } from './testing.ts';

conformanceSuite('memory', async () => ({
  store: new MemoryStore('TEST'),
  turn: () => new Promise<void>((resolve) => systemClock.setImmediate(resolve)),
  cleanup: async () => {},
}));

describe('MemoryStore specifics', () => {
  it('accounts bytes like nats-server memStoreMsgSize (subject + header + payload + 16)', () => {
    const s = new MemoryStore('M');
    appendNext(s, 'a.b', Buffer.from('NATS/1.0\r\n\r\n'), Buffer.from('hello'));
    assert.equal(s.state().bytes, 3 + 12 + 5 + 16);
  });

  it('erase zeroes the payload of a deleted message', () => {
    const s = new MemoryStore('M');
    appendNext(s, 'a', null, Buffer.from('secret'));
    const m = s.get(1)!;
    s.delete(1, { erase: true });
    assert.deepEqual([...m.data], [0, 0, 0, 0, 0, 0]);
  });
});
