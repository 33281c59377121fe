// Raft groups over the cluster routes: three servers (in this process, each with its own routes
// and its own LMDB log) form a group, elect a leader, replicate proposals in one order to all,
// and elect a new leader when the leader's server goes away; the survivors keep every committed
// entry, and a server added later learns the group from the leader's log.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultClusterOptions, startServer, type SluiceServer } from '../../server/index.ts';
import { openLmdbEnvironment, type LmdbEnvironment } from '../../streams/store/lmdb-env.ts';
import { RaftGroups } from '../../streams/replication/groups.ts';
import type { Applier } from '../../raft/driver.ts';
import { EntryKind, type Entry } from '../../raft/types.ts';
import { systemClock } from '../../runtime/clock.ts';
import { systemRng } from '../../runtime/rng.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { waitFor } from '../helpers/deadline.ts';

interface Member {
  name: string;
  server: SluiceServer;
  env: LmdbEnvironment;
  groups: RaftGroups;
  applied: string[];
}

const dir = mkdtempSync(join(tmpdir(), 'sluice-raft-routes-'));
const members: Member[] = [];
after(async () => {
  for (const m of members) {
    await m.groups.close().catch(() => undefined);
    await m.server.close().catch(() => undefined);
    await m.env.close().catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
});

function recorder(into: string[]): Applier {
  return {
    applySnapshot: () => undefined,
    applyEntries: (entries: readonly Entry[]) => {
      for (const e of entries) if (e.kind === EntryKind.Normal && e.data.length > 0) into.push(Buffer.from(e.data).toString());
    },
  };
}

async function member(name: string, routes: string[]): Promise<Member> {
  const server = (await startServer(
    { host: '127.0.0.1', port: 0, serverName: name, cluster: { ...defaultClusterOptions(), name: 'raft', host: '127.0.0.1', routes } },
    { logger: silentLogger },
  )) as SluiceServer;
  const env = openLmdbEnvironment(join(dir, name), { sync: 'committed' });
  const groups = new RaftGroups({
    network: server.cluster!.raftNetwork(),
    root: env.root,
    clock: systemClock,
    rng: systemRng(),
    logger: silentLogger,
    durability: 'committed',
  });
  const m = { name, server, env, groups, applied: [] as string[] };
  members.push(m);
  return m;
}

test('a group over the routes elects a leader, replicates in order, fails over, and grows', async () => {
  const a = await member('a', []);
  const seed = [a.server.cluster!.url];
  const [b, c] = await Promise.all([member('b', seed), member('c', seed)]);
  await waitFor(() => [a, b, c].every((m) => m.server.cluster!.openLinks().length === 2), 'a full mesh');

  for (const m of [a, b, c]) await m.groups.start('g1', ['a', 'b', 'c'], recorder(m.applied));
  const leaderOf = (ms: Member[]): Member | undefined => ms.find((m) => m.groups.get('g1')!.isLeader);
  let leader = await waitFor(() => leaderOf([a, b, c]), 'a leader', 10_000);
  for (const m of [a, b, c]) await waitFor(() => m.groups.get('g1')!.leader === leader.name, `${m.name} to know the leader`);

  for (let i = 0; i < 100; i++) assert.equal(leader.groups.get('g1')!.propose(Buffer.from(`e${i}`)).kind, 'appended');
  const first = Array.from({ length: 100 }, (_, i) => `e${i}`);
  for (const m of [a, b, c]) await waitFor(() => m.applied.length === 100, `${m.name} to apply 100 entries`, 10_000);
  for (const m of [a, b, c]) assert.deepEqual(m.applied, first);

  // The leader's server goes away: the other two elect one of themselves and keep going.
  const old = leader;
  await old.groups.close();
  await old.server.close();
  const survivors = [a, b, c].filter((m) => m !== old);
  leader = await waitFor(() => leaderOf(survivors), 'a new leader among the survivors', 10_000);
  for (let i = 100; i < 150; i++) assert.equal(leader.groups.get('g1')!.propose(Buffer.from(`e${i}`)).kind, 'appended');
  const all = Array.from({ length: 150 }, (_, i) => `e${i}`);
  for (const m of survivors) await waitFor(() => m.applied.length === 150, `${m.name} to apply 150 entries`, 10_000);
  for (const m of survivors) assert.deepEqual(m.applied, all);

  // A new server joins empty and is added by the leader: it learns every entry from the log.
  const d = await member('d', [survivors[0]!.server.cluster!.url]);
  await waitFor(() => d.server.cluster!.openLinks().length === 2, 'd to join the mesh');
  await d.groups.start('g1', [], recorder(d.applied));
  await waitFor(() => leader.groups.get('g1')!.addMember('d').kind === 'appended', 'the leader to accept d', 10_000);
  await waitFor(() => d.applied.length === 150, 'd to catch up from the log', 10_000);
  assert.deepEqual(d.applied, all);
  // The dead server stays a voter until removed on purpose (as in nats-server: peer removal is explicit).
  assert.deepEqual([...leader.groups.get('g1')!.members].sort(), ['a', 'b', 'c', 'd']);
});
