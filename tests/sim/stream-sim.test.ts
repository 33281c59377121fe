// The replicated-stream simulation in npm test: 1,000 seeds must pass, and each deliberately
// broken leader rule must be caught by some seed (so the checker is known to bite). A failing
// seed replays with `node --import tsx tests/sim/stream-cli.ts --seed N --trace`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStreamSim, type StreamSimMutation } from './stream-sim.ts';

test('1,000 seeds of a replicated stream under faults: acked messages kept, replicas identical, retries stored once', () => {
  const failures: string[] = [];
  let acked = 0;
  for (let seed = 1; seed <= 1000; seed++) {
    const r = runStreamSim({ seed });
    acked += r.acked;
    if (!r.ok) failures.push(`seed ${r.seed} (${r.config}): ${r.violation} — replay: node --import tsx tests/sim/stream-cli.ts --seed ${r.seed} --trace`);
  }
  assert.deepEqual(failures, []);
  assert.ok(acked > 3000, `the clients got acks (${acked}): the runs did real work`);
});

for (const mutation of ['ackInFlightDuplicate', 'leadBeforeApplied', 'ackOnPropose'] as StreamSimMutation[]) {
  test(`mutation ${mutation} is caught`, () => {
    let caught: string | null = null;
    for (let seed = 1; seed <= 500 && caught === null; seed++) {
      const r = runStreamSim({ seed, mutation });
      if (!r.ok) caught = `seed ${seed}: ${r.violation}`;
    }
    assert.ok(caught !== null, `no seed in 1..500 caught ${mutation}`);
    console.log(`# ${mutation}: caught at ${caught}`);
  });
}

test('a run is a pure function of its seed', () => {
  const a: string[] = [];
  const b: string[] = [];
  runStreamSim({ seed: 4242, trace: (l) => void a.push(l) });
  runStreamSim({ seed: 4242, trace: (l) => void b.push(l) });
  assert.ok(a.length > 10);
  assert.deepEqual(a, b);
});
