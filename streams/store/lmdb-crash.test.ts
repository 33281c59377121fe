// Crash safety: a child appends pipelined batches and reports the ranges whose durability promise
// resolved; it is SIGKILLed mid-stream; reopening must show every reported message, with its
// sequence and payload, and a state consistent with the records (the last committed transaction).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { within } from '../../tests/helpers/deadline.ts';
import { crashPayload, crashSubject } from './crash-child.ts';
import { openLmdbEnvironment } from './lmdb-env.ts';
import { openLmdbStore } from './lmdb-store.ts';
import { appendNext } from './testing.ts';

const childPath = fileURLToPath(new URL('./crash-child.ts', import.meta.url));

it('every append reported durable survives SIGKILL, with its sequence and data', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  const child = spawn(process.execPath, ['--import', 'tsx', childPath, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  try {
    let durableUpTo = 0;
    const target = 3000;
    await within(
      new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const [tag, , last] = line.split(' ');
          if (tag !== 'D') return;
          // Ranges are reported in commit order; each implies every earlier one.
          durableUpTo = Math.max(durableUpTo, Number(last));
          if (durableUpTo >= target) resolve();
        });
      }),
      60_000,
      `child to report ${target} durable appends`,
    );
    child.kill('SIGKILL');
    assert.equal(await within(exited, 10_000, 'child exit'), 'SIGKILL');

    const env = openLmdbEnvironment(dir);
    const store = await openLmdbStore(env, 'CRASH');
    const st = store.state();
    t.diagnostic(`reported durable up to ${durableUpTo}; recovered up to ${st.lastSeq}`);
    assert.ok(st.lastSeq >= durableUpTo, `lastSeq ${st.lastSeq} < reported durable ${durableUpTo}`);
    assert.equal(st.firstSeq, 1);
    assert.equal(st.messages, st.lastSeq, 'no holes: every committed batch is whole');
    for (let seq = 1; seq <= st.lastSeq; seq++) {
      const m = store.get(seq);
      assert.ok(m !== undefined, `seq ${seq} missing`);
      assert.equal(m.subject, crashSubject(seq));
      assert.deepEqual(Buffer.from(m.data), crashPayload(seq));
    }
    // The persisted summary agrees with the records.
    let bytes = 0;
    const perSubject: Record<string, number> = {};
    for (const m of store.iterate(0)) {
      bytes += store.msgSize(m.subject, m.hdr, m.data);
      perSubject[m.subject] = (perSubject[m.subject] ?? 0) + 1;
    }
    assert.equal(st.bytes, bytes);
    assert.deepEqual(store.subjectsState(), perSubject);
    assert.equal(store.numPendingFrom(0, 'crash.7'), perSubject['crash.7']);
    assert.equal(store.lastBySubject('crash.3')!.subject, 'crash.3');
    assert.equal(appendNext(store, 'crash.0', null, Buffer.from('after')), st.lastSeq + 1);
    await store.close();
    await env.close();
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
