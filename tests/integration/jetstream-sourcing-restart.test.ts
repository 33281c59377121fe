// Sources and mirrors across a crash: a broker in its own process is SIGKILLed while a stream
// sourcing three others and a mirror are still catching up. After a restart on the same store
// directory they resume from what they had stored (Nats-Stream-Source headers, the mirror's last
// sequence): every origin message ends up in the aggregate exactly once, none missing, and the
// mirror holds its origin's sequences.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { publishMany } from '../helpers/publish-many.ts';

const PER_ORIGIN = 3000;
const MORE = 100;
const work = mkdtempSync(join(tmpdir(), 'sluice-sourcing-restart-'));
const dirs = { storeDir: join(work, 'store'), portsDir: join(work, 'ports'), name: 'src' };
const children: ChildServer[] = [];
after(async () => {
  for (const c of children) await c.kill().catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

test('sources and a mirror resume after SIGKILL with no duplicates and no gaps', async () => {
  const first = await startChildServer(dirs);
  children.push(first);
  let nc: NatsConnection = await connect({ servers: first.url, reconnect: false });
  let jsm = await jetstreamManager(nc);
  let js = jetstream(nc);
  for (const n of [1, 2, 3]) {
    await jsm.streams.add({ name: `EDGE${n}`, subjects: [`edge${n}.>`] });
    await publishMany(js, (i) => `edge${n}.${i % 10}`, PER_ORIGIN);
  }
  await jsm.streams.add({ name: 'HUB', sources: [{ name: 'EDGE1' }, { name: 'EDGE2' }, { name: 'EDGE3' }] });
  await jsm.streams.add({ name: 'MIR', mirror: { name: 'EDGE2' } });
  // Killed while copying (or just after): no shutdown path runs.
  await nc.close().catch(() => undefined);
  await first.kill();

  const second = await startChildServer(dirs);
  children.push(second);
  nc = await connect({ servers: second.url, reconnect: false });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
  for (const n of [1, 2, 3]) await publishMany(js, (i) => `edge${n}.${i % 10}`, MORE, PER_ORIGIN);
  const total = 3 * (PER_ORIGIN + MORE);
  await waitFor(async () => (await jsm.streams.info('HUB')).state.messages >= total, 'hub caught up', 30_000);
  await waitFor(async () => (await jsm.streams.info('MIR')).state.last_seq === PER_ORIGIN + MORE, 'mirror caught up', 30_000);

  const hub = await jsm.streams.info('HUB');
  assert.equal(hub.state.messages, total, 'no duplicates');
  assert.deepEqual(hub.sources?.map((s) => s.lag), [0, 0, 0]);
  const seen = new Map<string, Set<number>>();
  const c = await js.consumers.get('HUB');
  const it = await c.consume();
  let n = 0;
  for await (const m of it) {
    const [origin, seq] = m.headers!.get('Nats-Stream-Source').split(' ');
    const set = seen.get(origin!) ?? new Set<number>();
    assert.ok(!set.has(Number(seq)), `${origin} ${seq} stored twice`);
    set.add(Number(seq));
    seen.set(origin!, set);
    if (++n === total) break;
  }
  for (const origin of ['EDGE1', 'EDGE2', 'EDGE3']) {
    const set = seen.get(origin)!;
    assert.equal(set.size, PER_ORIGIN + MORE, `${origin} complete`);
    assert.equal(Math.min(...set), 1);
    assert.equal(Math.max(...set), PER_ORIGIN + MORE);
  }
  const mir = await jsm.streams.info('MIR');
  assert.deepEqual([mir.state.messages, mir.state.first_seq, mir.state.last_seq], [PER_ORIGIN + MORE, 1, PER_ORIGIN + MORE]);
  const a = await jsm.streams.getMessage('EDGE2', { seq: 1234 });
  const b = await jsm.streams.getMessage('MIR', { seq: 1234 });
  assert.deepEqual([b?.subject, b?.string(), b?.time.getTime()], [a?.subject, a?.string(), a?.time.getTime()]);
  await nc.close();
  await second.kill();
});
