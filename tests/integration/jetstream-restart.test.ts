// Durability across a crash: a broker in its own process takes 10,000 acked publishes into a
// file stream, is SIGKILLed (no shutdown path runs), and is started again on the same store
// directory. Every acked message must be there with its sequence, the stream config must be back,
// dedupe must remember recent msg ids, and publishing must continue from the next sequence.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream';
import { waitFor, within } from '../helpers/deadline.ts';

const root = resolve(import.meta.dirname, '../..');
const TOTAL = 10_000;
const WINDOW = 1_000;

interface Child {
  proc: ChildProcess;
  port: number;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const work = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
const storeDir = join(work, 'store');
const portsDir = join(work, 'ports');
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** `sluice server` in its own process on a free port; its ports file tells where it listens. */
async function startChild(): Promise<Child> {
  const args = ['--import', 'tsx', 'cli/main.ts', 'server', '--port', '0', '--store-dir', storeDir];
  args.push('--ports-file-dir', portsDir, '--name', 'restart', '--log-level', 'warn');
  const proc = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(proc);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    proc.once('exit', (code) => {
      exitCode = code;
      r(code);
    }),
  );
  const portsFile = join(portsDir, `restart_${proc.pid}.ports`);
  const port = await waitFor(
    () => {
      if (exitCode !== undefined) throw new Error(`server exited (${exitCode}) before listening: ${stderr}`);
      try {
        const url = (JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] }).nats[0]!;
        return Number(new URL(url).port);
      } catch {
        return undefined;
      }
    },
    'the server to write its ports file',
    30_000,
  );
  return { proc, port, exited };
}

async function kill(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await within(child.exited, 10_000, 'server process to die');
}

test('acked messages survive SIGKILL with their sequences; publishing continues after restart', async () => {
  const first = await startChild();
  let nc: NatsConnection = await connect({ servers: `nats://127.0.0.1:${first.port}`, reconnect: false });
  let jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'DURABLE', subjects: ['durable.>'], max_msgs_per_subject: -1 });
  let js = jetstream(nc);

  const acked: PubAck[] = [];
  for (let base = 0; base < TOTAL; base += WINDOW) {
    const batch: Promise<PubAck>[] = [];
    for (let i = base; i < Math.min(TOTAL, base + WINDOW); i++) {
      batch.push(js.publish(`durable.${i % 16}`, `msg-${i}`, { msgID: `id-${i}` }));
    }
    acked.push(...(await Promise.all(batch)));
  }
  assert.deepEqual(
    acked.map((a) => a.seq),
    Array.from({ length: TOTAL }, (_, i) => i + 1),
  );
  // Crash: nothing after the acks may be needed for them to be durable.
  await nc.close().catch(() => undefined);
  await kill(first);

  const second = await startChild();
  try {
    nc = await connect({ servers: `nats://127.0.0.1:${second.port}`, reconnect: false });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
    const info = await jsm.streams.info('DURABLE', { subjects_filter: '>' });
    assert.deepEqual(info.config.subjects, ['durable.>']);
    assert.deepEqual(
      [info.state.messages, info.state.first_seq, info.state.last_seq, info.state.num_subjects],
      [TOTAL, 1, TOTAL, 16],
    );
    assert.equal(info.state.subjects?.['durable.3'], TOTAL / 16);

    for (let base = 1; base <= TOTAL; base += 500) {
      const gets = [];
      for (let seq = base; seq < base + 500 && seq <= TOTAL; seq++) gets.push(jsm.streams.getMessage('DURABLE', { seq }));
      for (const m of await Promise.all(gets)) {
        assert.ok(m !== null);
        const i = m.seq - 1;
        assert.equal(m.string(), `msg-${i}`);
        assert.equal(m.subject, `durable.${i % 16}`);
        assert.equal(m.header.get('Nats-Msg-Id'), `id-${i}`);
      }
    }

    // The dedupe window came back from the stored headers.
    const dup = await js.publish('durable.0', 'again', { msgID: `id-${TOTAL - 1}` });
    assert.deepEqual([dup.seq, dup.duplicate], [TOTAL, true]);
    const next = await js.publish('durable.0', 'after restart');
    assert.deepEqual([next.seq, next.duplicate], [TOTAL + 1, false]);
    await nc.close();
  } finally {
    await kill(second);
  }
});
