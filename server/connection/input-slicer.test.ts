import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../runtime/clock.ts';
import { waitFor } from '../../tests/helpers/deadline.ts';
import { InputSlicer, SLICE_BYTES, TURN_BUDGET_NS } from './input-slicer.ts';

/** A clock whose monotonic time moves by `costNs` for every parse call (a slow parser), with
 * real setImmediate. */
class SlowParseClock extends ManualClock {
  mono = 0;
  override monoNs(): number {
    return this.mono;
  }
  override setImmediate(fn: () => void) {
    const t = setImmediate(fn);
    return { cancel: () => clearImmediate(t) };
  }
}

function setup(costNs: number) {
  const clock = new SlowParseClock();
  const parsed: Buffer[] = [];
  const events: string[] = [];
  let open = true;
  const slicer = new InputSlicer(
    clock,
    (b) => {
      parsed.push(Buffer.from(b));
      clock.mono += costNs;
    },
    { open: () => open, pause: () => events.push('pause'), resume: () => events.push('resume') },
  );
  return { slicer, parsed, events, close: () => (open = false), bytes: () => Buffer.concat(parsed) };
}

const input = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

test('small reads are parsed whole, at once', () => {
  const s = setup(TURN_BUDGET_NS * 10);
  s.slicer.push(input(100));
  s.slicer.push(input(SLICE_BYTES));
  assert.equal(s.parsed.length, 2);
  assert.deepEqual(s.events, []);
});

test('a large read of cheap input is parsed in slices within the same turn', () => {
  const s = setup(1000);
  const data = input(4 * SLICE_BYTES + 7);
  s.slicer.push(data);
  assert.equal(s.parsed.length, 5);
  assert.deepEqual(s.bytes(), data);
  assert.deepEqual(s.events, []);
});

test('input that runs over the budget waits for the next turns, in order, reading paused meanwhile', async () => {
  const s = setup(TURN_BUDGET_NS); // every slice uses up a turn
  const a = input(3 * SLICE_BYTES);
  const b = input(100);
  s.slicer.push(a);
  assert.equal(s.parsed.length, 2, 'the first turn ends after the slice that exceeded the budget');
  assert.deepEqual(s.events, ['pause']);
  s.slicer.push(b); // a read already on its way is queued behind the backlog
  assert.equal(s.parsed.length, 2);
  await waitFor(() => s.events.includes('resume'), 'the backlog to be worked off');
  assert.deepEqual(s.bytes(), Buffer.concat([a, b]));
});

test('a connection closed meanwhile drops its backlog', async () => {
  const s = setup(TURN_BUDGET_NS);
  s.slicer.push(input(5 * SLICE_BYTES));
  s.close();
  // The continuation was queued (setImmediate) before this one, so it has run when this resolves.
  await new Promise((r) => setImmediate(r));
  assert.equal(s.parsed.length, 2);
  assert.deepEqual(s.events, ['pause']);
});
