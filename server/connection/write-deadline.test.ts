import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../runtime/clock.ts';
import { WriteDeadline } from './write-deadline.ts';

/** A transport queue the test empties by hand: `leave(n)` hands n bytes to the "kernel". */
function setup(deadlineMs = 1000) {
  const clock = new ManualClock();
  let pending = 0;
  let exceeded = 0;
  const wd = new WriteDeadline(clock, deadlineMs, () => pending, () => exceeded++);
  return {
    clock,
    wd,
    write(n: number, kernelTakes = 0) {
      pending += n - kernelTakes;
      wd.wrote(n);
    },
    leave(n: number) {
      pending -= n;
      if (pending === 0) wd.drained();
    },
    exceeded: () => exceeded,
  };
}

test('writes the kernel takes at once never arm anything', () => {
  const s = setup();
  for (let i = 0; i < 100; i++) s.write(100, 100);
  s.clock.advance(10_000);
  assert.equal(s.exceeded(), 0);
});

test('bytes still queued one deadline after they were written: exceeded', () => {
  const s = setup();
  s.write(1000);
  s.clock.advance(999);
  assert.equal(s.exceeded(), 0);
  s.clock.advance(1);
  assert.equal(s.exceeded(), 1);
});

test('a reader that drains within the deadline is never blamed, even if more keeps coming', () => {
  const s = setup();
  s.write(1000);
  for (let t = 0; t < 20; t++) {
    s.clock.advance(500);
    s.leave(1000); // everything written half a deadline ago has left...
    s.write(1000); // ...and new bytes wait behind nothing
  }
  assert.equal(s.exceeded(), 0);
});

test('a backlog whose bytes each wait less than the deadline is not blamed', () => {
  const s = setup();
  s.write(2000);
  for (let t = 0; t < 20; t++) {
    s.clock.advance(400);
    s.leave(1000);
    s.write(1000); // ~2000 bytes stay queued; each leaves 800 ms after it was written
  }
  assert.equal(s.exceeded(), 0);
});

test('a backlog whose bytes each wait longer than the deadline is caught', () => {
  const s = setup();
  s.write(3000);
  for (let t = 0; t < 5 && s.exceeded() === 0; t++) {
    s.clock.advance(400);
    s.leave(1000);
    s.write(1000); // each byte leaves 1.2 s after it was written
  }
  assert.equal(s.exceeded(), 1);
});

test('drained disarms: a later stall gets a fresh deadline', () => {
  const s = setup();
  s.write(100);
  s.clock.advance(900);
  s.leave(100);
  s.write(100);
  s.clock.advance(900);
  assert.equal(s.exceeded(), 0);
  s.clock.advance(100);
  assert.equal(s.exceeded(), 1);
});
