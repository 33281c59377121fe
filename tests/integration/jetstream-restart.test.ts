// Durability across a crash: a broker in its own process takes 10,000 acked publishes into a
// file stream, is SIGKILLed (no shutdown path runs), and is started again on the same store
// directory. Every acked message must be there with its sequence, the stream config must be back,
// dedupe must remember recent msg ids, and publishing must continue from the next sequence.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';

const TOTAL = 10_000;
const WINDOW = 1_000;

const children: ChildServer[] = [];
const work = mkdtempSync(join(tmpdir(), 'sluice-restart-'));
const storeDir = join(work, 'store');
const portsDir = join(work, 'ports');
after(async () => {
  for (const c of children) await c.kill();
  rmSync(work, { recursive: true, force: true });
});

async function startChild(args: readonly string[] = [], dir = storeDir): Promise<ChildServer> {
  const child = await startChildServer({ storeDir: dir, portsDir, name: 'restart', args });
  children.push(child);
  return child;
}

async function kill(child: ChildServer): Promise<void> {
  await child.kill();
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

// The other two sync modes (docs/adr/0008-sync-modes.md), chosen with the flag: both still ack
// at or after the commit, so a process crash loses nothing acked; 'none' says so in STREAM.INFO.
for (const mode of ['durable', 'none'] as const) {
  test(`--jetstream-sync ${mode}: acked messages survive SIGKILL`, async () => {
    const dir = join(work, `store-${mode}`);
    const n = 500;
    const first = await startChild(['--jetstream-sync', mode], dir);
    let nc: NatsConnection = await connect({ servers: first.url, reconnect: false });
    try {
      const jsm = await jetstreamManager(nc);
      const si = await jsm.streams.add({ name: 'SYNC', subjects: ['sync.>'] });
      assert.equal((si as unknown as { sync?: string }).sync, mode === 'none' ? 'none' : undefined);
      const js = jetstream(nc);
      const acks = await Promise.all(Array.from({ length: n }, (_, i) => js.publish(`sync.${i}`, `m${i}`)));
      assert.equal(acks.at(-1)!.seq, n);
    } finally {
      await nc.close().catch(() => undefined);
    }
    await kill(first);
    const second = await startChild(['--jetstream-sync', mode], dir);
    nc = await connect({ servers: second.url, reconnect: false });
    try {
      const info = await (await jetstreamManager(nc)).streams.info('SYNC');
      assert.deepEqual([info.state.messages, info.state.last_seq], [n, n]);
    } finally {
      await nc.close().catch(() => undefined);
      await kill(second);
    }
  });
}
