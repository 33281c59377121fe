// The driver wires a pure RaftNode to a clock, a transport and a storage. On a ManualClock a
// 3-node cluster elects a leader and replicates, with every Ready persisted before its messages
// leave (checked by a transport that inspects the sender's storage).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../runtime/clock.ts';
import { seededRng } from '../runtime/rng.ts';
import { RaftDriver, type Transport } from './driver.ts';
import { RaftNode } from './raft.ts';
import { MemoryStorage, bootstrap } from './storage.ts';
import { EntryKind, MessageType, Role, type Entry, type Message, type NodeId } from './types.ts';

/** Lets pending promise continuations (the drivers' async pumps) run; no timers involved. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('driver: elects, replicates and applies on a manual clock; persists before sending', async () => {
  const clock = new ManualClock();
  const ids: NodeId[] = [1, 2, 3];
  const drivers = new Map<NodeId, RaftDriver>();
  const storages = new Map<NodeId, MemoryStorage>();
  const applied = new Map<NodeId, Entry[]>();
  const violations: string[] = [];

  for (const id of ids) {
    const storage = new MemoryStorage();
    bootstrap(storage, ids);
    storages.set(id, storage);
    applied.set(id, []);
    const transport: Transport = {
      send(messages: readonly Message[]) {
        for (const m of messages) {
          // Persist-before-send: whatever a message promises is already in the sender's storage.
          const s = storages.get(m.from)!;
          if (m.type === MessageType.VoteResponse && !m.reject && s.hardState().vote !== m.to) violations.push('vote sent before persisted');
          if (m.type === MessageType.AppendResponse && !m.reject && s.lastIndex() < m.index) violations.push('ack sent before persisted');
          drivers.get(m.to)!.receive(m);
        }
      },
    };
    const node = new RaftNode({ id, storage, rng: seededRng(id), electionTick: 10, heartbeatTick: 1 });
    drivers.set(
      id,
      new RaftDriver({
        node,
        storage,
        transport,
        clock,
        tickMs: 10,
        applier: {
          applySnapshot: () => {},
          applyEntries: (es) => void applied.get(id)!.push(...es),
        },
      }),
    );
  }
  for (const d of drivers.values()) d.start();

  let leader: RaftDriver | undefined;
  for (let i = 0; i < 100 && leader === undefined; i++) {
    clock.advance(10);
    await settle();
    leader = [...drivers.values()].find((d) => d.node.role === Role.Leader);
  }
  assert.ok(leader, 'a leader is elected');
  const out = leader.withNode((n) => n.propose([new TextEncoder().encode('x'), new TextEncoder().encode('y')]));
  assert.equal(out.kind, 'appended');
  for (let i = 0; i < 20; i++) {
    clock.advance(10);
    await settle();
  }
  for (const id of ids) {
    const texts = applied.get(id)!.filter((e) => e.kind === EntryKind.Normal && e.data.length > 0).map((e) => new TextDecoder().decode(e.data));
    assert.deepEqual(texts, ['x', 'y'], `node ${id}`);
  }
  assert.deepEqual(violations, []);
  await Promise.all([...drivers.values()].map((d) => d.stop()));
});

test('driver: a failing storage stops the driver and reports the error', async () => {
  const clock = new ManualClock();
  const storage = new MemoryStorage();
  bootstrap(storage, [1]);
  const failing = Object.assign(Object.create(storage) as MemoryStorage, {
    save: () => Promise.reject(new Error('disk full')),
  });
  let fatal: unknown = null;
  const sent: Message[] = [];
  const node = new RaftNode({ id: 1, storage, rng: seededRng(1) });
  const d = new RaftDriver({
    node,
    storage: failing,
    transport: { send: (ms) => void sent.push(...ms) },
    clock,
    tickMs: 10,
    applier: { applySnapshot: () => {}, applyEntries: () => {} },
    onFatal: (err) => (fatal = err),
  });
  d.start();
  d.withNode((n) => n.campaign());
  clock.advance(0);
  await settle();
  await d.whenIdle();
  assert.match(String(fatal), /disk full/);
  assert.equal(sent.length, 0, 'nothing is sent when persisting failed');
});
