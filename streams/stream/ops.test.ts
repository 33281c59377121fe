import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng, type Rng } from '../../runtime/rng.ts';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { normalizeStreamConfig } from './config.ts';
import { DedupeWindow } from './dedupe.ts';
import { applyOp, type StreamMachine, type StreamOp } from './ops.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { openLmdbEnvironment } from '../store/lmdb-env.ts';
import { openLmdbStore } from '../store/lmdb-store.ts';
import type { StreamStore } from '../store/types.ts';

function cfg(body: Record<string, unknown> = {}): StreamConfig {
  const r = normalizeStreamConfig({ name: 'S', subjects: ['s.>'], allow_rollup_hdrs: true, ...body });
  assert.ok(r.ok);
  return r.config;
}

function machine(store: StreamStore, config = cfg()): StreamMachine {
  return { store, config, dedupe: new DedupeWindow(config.duplicate_window ?? 0), lastMsgId: '' };
}

function append(seq: number, subject: string, extra: Partial<StreamOp & { op: 'append' }> = {}): StreamOp {
  return {
    op: 'append',
    seq,
    timeNs: BigInt(seq) * 1_000_000n,
    subject,
    hdr: null,
    data: Buffer.from(`m${seq}`),
    msgId: '',
    rollup: '',
    skip: false,
    ...extra,
  };
}

function snapshot(m: StreamMachine): unknown {
  const st = m.store.state({ deleted: true });
  const msgs = [...m.store.iterate(0)].map((x) => [x.seq, x.subject, Buffer.from(x.data).toString(), String(x.timeNs)]);
  return { st: { ...st, bytes: 0 }, msgs, lastMsgId: m.lastMsgId, subjects: m.store.subjectsState() };
}

test('append records msg id and last msg id; rollups purge per subject or all', () => {
  const m = machine(new MemoryStore('S'));
  applyOp(m, append(1, 's.a', { msgId: 'x' }));
  applyOp(m, append(2, 's.b'));
  applyOp(m, append(3, 's.a'));
  assert.equal(m.lastMsgId, '');
  assert.equal(m.dedupe.lookup('x', 3_000_000n), 1);
  let r = applyOp(m, append(4, 's.a', { rollup: 'sub', msgId: 'y' }));
  assert.equal(r.removed, 2);
  assert.equal(m.lastMsgId, 'y');
  assert.deepEqual([...m.store.iterate(0)].map((x) => x.seq), [2, 4]);
  r = applyOp(m, append(5, 's.c', { rollup: 'all' }));
  assert.equal(r.removed, 2);
  assert.deepEqual([...m.store.iterate(0)].map((x) => x.seq), [5]);
});

test('skip consumes a sequence without keeping the message', () => {
  const m = machine(new MemoryStore('S'));
  applyOp(m, append(1, 's.a', { skip: true }));
  const st = m.store.state();
  assert.equal(st.messages, 0);
  assert.equal(st.lastSeq, 1);
  applyOp(m, append(2, 's.a'));
  assert.equal(m.store.state().firstSeq, 2);
});

test('expire removes everything below the boundary; config tightens limits', () => {
  const m = machine(new MemoryStore('S'));
  for (let i = 1; i <= 6; i++) applyOp(m, append(i, 's.a'));
  assert.equal(applyOp(m, { op: 'expire', upToSeq: 4 }).removed, 3);
  assert.equal(m.store.state().firstSeq, 4);
  assert.equal(applyOp(m, { op: 'config', config: cfg({ max_msgs: 1 }) }).removed, 2);
  assert.equal(m.config.max_msgs, 1);
  assert.deepEqual([...m.store.iterate(0)].map((x) => x.seq), [6]);
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function randomOps(rng: Rng, n: number): StreamOp[] {
  const ops: StreamOp[] = [];
  let seq = 0;
  const subjects = ['s.a', 's.b', 's.c.d', 's.c.e'];
  for (let i = 0; i < n; i++) {
    const r = rng.int(100);
    if (r < 70) {
      seq++;
      const rollup = rng.int(20) === 0 ? (rng.int(2) === 0 ? 'sub' : 'all') : '';
      ops.push(append(seq, subjects[rng.int(subjects.length)]!, { rollup, msgId: rng.int(3) === 0 ? `id${seq}` : '' }));
    } else if (r < 80 && seq > 0) {
      ops.push({ op: 'delete', seq: 1 + rng.int(seq), erase: rng.int(2) === 0 });
    } else if (r < 88 && seq > 0) {
      const k = rng.int(3);
      ops.push(
        k === 0
          ? { op: 'purge', subject: subjects[rng.int(subjects.length)]! }
          : k === 1
            ? { op: 'purge', keep: rng.int(4) }
            : { op: 'purge', subject: 's.c.*', upToSeq: 1 + rng.int(seq) },
      );
    } else if (r < 94 && seq > 0) {
      ops.push({ op: 'expire', upToSeq: 1 + rng.int(seq + 1) });
    } else {
      ops.push({ op: 'config', config: cfg({ max_msgs: 1 + rng.int(30), max_msgs_per_subject: rng.int(2) === 0 ? -1 : 1 + rng.int(5) }) });
    }
  }
  return ops;
}

test('applyOp is deterministic: the same ops give the same state on memory and LMDB replicas', async () => {
  const seed = Number(process.env.SEED ?? 0x5eed);
  const rng = seededRng(seed);
  const ops = randomOps(rng, 600);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ops-'));
  dirs.push(dir);
  const env = openLmdbEnvironment(dir);
  const lmdb = await openLmdbStore(env, 'S');
  const replicas = [machine(new MemoryStore('S')), machine(new MemoryStore('S')), machine(lmdb)];
  for (const op of ops) for (const r of replicas) applyOp(r, op);
  const want = snapshot(replicas[0]!);
  for (const r of replicas.slice(1)) assert.deepEqual(snapshot(r), want, `seed ${seed}`);
  await lmdb.close();
  await env.close();
});
