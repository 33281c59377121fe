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
