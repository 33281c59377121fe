import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../runtime/clock.ts';
import { MemoryLogger } from '../runtime/logger.ts';
import type { StreamConfig } from '../protocol/jetstream-api.ts';
import { normalizeStreamConfig } from './stream/config.ts';
import { JsApiException, StreamManager } from './manager.ts';
import { FakeBus } from './testing.ts';
import { BIND_STEP } from './stream/stream.ts';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cfg(body: Record<string, unknown>): StreamConfig {
  const r = normalizeStreamConfig(body);
  assert.ok(r.ok);
  return r.config;
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function open(storeDir: string, bus = new FakeBus()): Promise<{ mgr: StreamManager; bus: FakeBus; logger: MemoryLogger }> {
  const logger = new MemoryLogger();
  const mgr = await StreamManager.open({ storeDir, bus, clock: systemClock, logger });
  return { mgr, bus, logger };
}

test('streams come back after a restart: file streams with their messages, memory streams empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mgr-'));
  dirs.push(dir);
  let { mgr, bus } = await open(dir);
  await mgr.create(cfg({ name: 'F', subjects: ['f.*'], max_msgs: 100 }));
  await mgr.create(cfg({ name: 'M', subjects: ['m.*'], storage: 'memory' }));
  for (let i = 0; i < 5; i++) bus.publish('f.x', `r${i}`, null, Buffer.from(`${i}`));
  bus.publish('m.x', 'rm', null, Buffer.from('mem'));
  await mgr.get('F')!.durable();
  await settle();
  assert.equal(bus.jsonTo('r4').length, 1);
  await mgr.update(cfg({ name: 'F', subjects: ['f.*', 'g'], max_msgs: 3 }));
  assert.equal(mgr.get('F')!.store.state().messages, 3);
  await mgr.close();

  ({ mgr, bus } = await open(dir));
  assert.deepEqual(mgr.list().map((s) => s.name), ['F', 'M']);
  const f = mgr.get('F')!;
  assert.deepEqual(f.config.subjects, ['f.*', 'g']);
  const st = f.store.state();
  assert.deepEqual([st.messages, st.firstSeq, st.lastSeq], [3, 3, 5]);
  assert.equal(mgr.get('M')!.store.state().messages, 0);
  // Subjects are bound again.
  bus.publish('g', 'r', null, Buffer.from('after'));
  await f.durable();
  await settle();
  assert.deepEqual(bus.jsonTo('r'), [{ stream: 'F', seq: 6 }]);
  await mgr.delete('M');
  assert.equal(bus.hasInterest('m.x'), false);
  await mgr.close();

  ({ mgr } = await open(dir));
  assert.deepEqual(mgr.list().map((s) => s.name), ['F']);
  await mgr.close();
});

test('create is idempotent for an identical config and refuses overlaps and name reuse', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mgr-'));
  dirs.push(dir);
  const { mgr } = await open(dir);
  const a = await mgr.create(cfg({ name: 'A', subjects: ['a.>'] }));
  const again = await mgr.create(cfg({ name: 'A', subjects: ['a.>'] }));
  assert.equal(again.stream, a.stream);
  assert.equal(again.created, false);
  const codes = async (p: Promise<unknown>): Promise<number> => {
    try {
      await p;
      return 0;
    } catch (e) {
      assert.ok(e instanceof JsApiException);
      return e.apiError.err_code;
    }
  };
  assert.equal(await codes(mgr.create(cfg({ name: 'A', subjects: ['a.>'], max_msgs: 1 }))), 10058);
  assert.equal(await codes(mgr.create(cfg({ name: 'B', subjects: ['a.b'] }))), 10065);
  await mgr.create(cfg({ name: 'B', subjects: ['b'] }));
  assert.equal(await codes(mgr.update(cfg({ name: 'B', subjects: ['a.*'] }))), 10065);
  assert.equal(await codes(mgr.update(cfg({ name: 'NOPE' }))), 10059);
  // Racing creates of one name: one store, both see the same stream.
  const [x, y] = await Promise.all([mgr.create(cfg({ name: 'C' })), mgr.create(cfg({ name: 'C' }))]);
  assert.equal(x.stream, y.stream);
  await mgr.close();
});

test('a long subject list is bound over several turns; an update keeps the subjects it retains bound throughout; delete unbinds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mgr-'));
  dirs.push(dir);
  const { mgr, bus } = await open(dir);
  try {
    const subjects = Array.from({ length: BIND_STEP * 3 + 7 }, (_, i) => `big.${i}`);
    // Other work gets turns while the create binds: some turn sees the first subjects bound and
    // the last not yet.
    let partial = 0;
    let creating = true;
    const first = subjects[0]!;
    const last = subjects[subjects.length - 1]!;
    const tick = (): void => {
      if (bus.hasInterest(first) && !bus.hasInterest(last)) partial++;
      if (creating) setImmediate(tick);
    };
    setImmediate(tick);
    await mgr.create(cfg({ name: 'BIG', subjects, storage: 'memory' }));
    creating = false;
    assert.ok(partial >= 2, `turns that ran between binding steps: ${partial}`);
    for (const s of [subjects[0]!, subjects[subjects.length - 1]!]) assert.equal(bus.hasInterest(s), true, s);

    // Keep the first half, add new ones. A publish between the update's steps to a kept subject is
    // still captured.
    const kept = subjects.slice(0, subjects.length / 2);
    const added = Array.from({ length: BIND_STEP * 2 }, (_, i) => `new.${i}`);
    const updating = mgr.update(cfg({ name: 'BIG', subjects: [...kept, ...added], storage: 'memory' }));
    await settle();
    bus.publish(kept[0]!, '', null, Buffer.from('during'));
    await updating;
    assert.equal(mgr.get('BIG')!.store.state().messages, 1);
    assert.equal(bus.hasInterest(subjects[subjects.length - 1]!), false);
    assert.equal(bus.hasInterest(added[added.length - 1]!), true);

    await mgr.delete('BIG');
    assert.equal(bus.hasInterest(kept[0]!), false);
    assert.equal(bus.hasInterest(added[0]!), false);
  } finally {
    await mgr.close();
  }
});
