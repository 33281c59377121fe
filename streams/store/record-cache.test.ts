import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CacheBudget, IDLE_TICKS, RecordCache } from './record-cache.ts';

const rec = (seq: number, bytes = 100): Buffer => Buffer.alloc(bytes, seq & 0xff);
const text = (b: Buffer | undefined): string | undefined => (b === undefined ? undefined : `${b.length}:${b[0]}`);

describe('RecordCache', () => {
  it('returns what was added, by sequence, across gaps and slabs', () => {
    const cache = new RecordCache(new CacheBudget(1 << 20));
    for (let seq = 1; seq <= 3000; seq++) if (seq % 7 !== 0) cache.add(seq, rec(seq, 50 + (seq % 30)));
    assert.ok(cache.slabCount > 1, 'several slabs');
    for (let seq = 1; seq <= 3000; seq++) {
      assert.equal(text(cache.get(seq)), seq % 7 === 0 ? undefined : text(rec(seq, 50 + (seq % 30))), `seq ${seq}`);
    }
    assert.equal(cache.get(0), undefined);
    assert.equal(cache.get(3001), undefined);
  });

  it('ignores out-of-order adds and records too large to cache', () => {
    const cache = new RecordCache(new CacheBudget(1 << 20));
    cache.add(10, rec(10));
    cache.add(5, rec(5));
    cache.add(11, rec(11, 200_000));
    cache.add(12, rec(12));
    assert.equal(cache.get(5), undefined);
    assert.equal(cache.get(11), undefined);
    assert.equal(text(cache.get(10)), text(rec(10)));
    assert.equal(text(cache.get(12)), text(rec(12)));
  });

  it('a large gap starts a new slab instead of indexing every missing sequence', () => {
    const cache = new RecordCache(new CacheBudget(1 << 20));
    cache.add(1, rec(1));
    cache.add(1_000_000, rec(2));
    assert.equal(cache.slabCount, 2);
    assert.equal(text(cache.get(1_000_000)), text(rec(2)));
    assert.equal(cache.get(500_000), undefined);
  });

  it('remove forgets a record; an emptied slab is released unless it is being filled', () => {
    const budget = new CacheBudget(64 * 1024);
    const cache = new RecordCache(budget);
    let seq = 1;
    while (cache.slabCount < 2) cache.add(seq, rec(seq++));
    const firstSlabEnd = seq - 1; // seq - 1 opened the second slab
    const used = budget.usedBytes;
    cache.remove(3);
    assert.equal(cache.get(3), undefined);
    for (let s = 1; s < firstSlabEnd; s++) cache.remove(s);
    assert.equal(cache.slabCount, 1);
    assert.ok(budget.usedBytes < used);
    cache.remove(firstSlabEnd);
    assert.equal(cache.slabCount, 1, 'the slab being filled stays');
    cache.add(seq, rec(seq));
    assert.equal(text(cache.get(seq)), text(rec(seq)));
  });

  it('past the budget the oldest slab of any cache goes first; what get returned is a copy', () => {
    const budget = new CacheBudget(64 * 1024); // slabs of 16 KiB
    const a = new RecordCache(budget);
    const b = new RecordCache(budget);
    a.add(1, rec(1));
    const view = a.get(1)!;
    for (let seq = 1; seq <= 2000; seq++) b.add(seq, rec(seq));
    assert.ok(budget.usedBytes <= budget.maxBytes);
    assert.equal(a.get(1), undefined, "a's older slab was evicted");
    assert.equal(a.slabCount, 0);
    assert.equal(text(view), text(rec(1)), 'a record read before its slab was evicted and reused is intact');
    assert.equal(text(b.get(2000)), text(rec(2000)));
    assert.equal(b.get(1), undefined, "b's own oldest went too");
  });

  it('slabs nobody read or wrote for IDLE_TICKS ticks are dropped; a read keeps a slab', () => {
    const budget = new CacheBudget(1 << 20);
    const idle = new RecordCache(budget);
    const busy = new RecordCache(budget);
    idle.add(1, rec(1));
    busy.add(1, rec(1));
    for (let t = 0; t < IDLE_TICKS; t++) {
      assert.ok(busy.get(1) !== undefined);
      budget.advance();
    }
    assert.equal(idle.get(1), undefined);
    assert.equal(idle.slabCount, 0);
    assert.equal(text(busy.get(1)), text(rec(1)));
    budget.advance();
    budget.advance();
    budget.advance();
    assert.equal(busy.get(1), undefined);
    assert.equal(budget.usedBytes, 0);
  });

  it('clear and dispose give the memory back; a disposed cache takes nothing', () => {
    const budget = new CacheBudget(1 << 20);
    const cache = new RecordCache(budget);
    for (let seq = 1; seq <= 100; seq++) cache.add(seq, rec(seq));
    cache.clear();
    assert.equal(budget.usedBytes, 0);
    assert.equal(cache.get(5), undefined);
    cache.add(200, rec(200));
    assert.equal(text(cache.get(200)), text(rec(200)));
    cache.dispose();
    assert.equal(budget.usedBytes, 0);
    cache.add(201, rec(201));
    assert.equal(cache.get(201), undefined);
    assert.equal(budget.usedBytes, 0);
  });

  it('a budget far below one slab still caches, in small slabs', () => {
    const budget = new CacheBudget(2048);
    const cache = new RecordCache(budget);
    for (let seq = 1; seq <= 100; seq++) cache.add(seq, rec(seq, 40));
    assert.ok(budget.usedBytes <= 2048);
    assert.equal(text(cache.get(100)), text(rec(100, 40)));
    assert.equal(cache.get(1), undefined);
  });
});
