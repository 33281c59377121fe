// Child process for lmdb-crash.test.ts: appends messages as fast as it can, pipelined (a new
// batch every turn without waiting for the previous one to be durable), and reports each batch's
// sequence range on stdout once its durability promise resolves: "D <first> <last>". The parent
// SIGKILLs it mid-stream. Payloads are derived from the sequence so the parent can check them.

import { pathToFileURL } from 'node:url';
import { systemClock } from '../../runtime/clock.ts';
import { openLmdbEnvironment } from './lmdb-env.ts';
import { openLmdbStore } from './lmdb-store.ts';

export const crashPayload = (seq: number): Buffer => Buffer.from(`payload-${seq}-`.padEnd(128, 'x'));
export const crashSubject = (seq: number): string => `crash.${seq % 13}`;

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: crash-child <store dir>');
  const env = openLmdbEnvironment(dir);
  const store = await openLmdbStore(env, 'CRASH');
  const perTurn = 50;
  for (;;) {
    let first = 0;
    let last = 0;
    for (let i = 0; i < perTurn; i++) {
      const seq = store.state().lastSeq + 1;
      store.applyAppend(seq, crashSubject(seq), null, crashPayload(seq), systemClock.epochNs());
      last = seq;
      if (first === 0) first = last;
    }
    const range = `D ${first} ${last}\n`;
    store.durable().then(
      () => process.stdout.write(range),
      (err: unknown) => {
        process.stderr.write(`durable() failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
    await new Promise<void>((resolve) => systemClock.setImmediate(resolve));
  }
}

// Run only as a program (the test imports the payload helpers from here).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
