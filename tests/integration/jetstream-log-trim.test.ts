// Trimming a replicated stream's Raft logs: three servers in this process (each its own store and
// routes). The leader proposes a trim point every voter's log holds; every replica drops its log up
// to it; a server that is down holds trimming back (its position is the minimum), comes back,
// catches up from the log that was kept for it, and then the logs are trimmed past it too.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { defaultClusterOptions, startServer, type SluiceServer } from '../../server/index.ts';
import { silentLogger } from '../../runtime/logger.ts';
import type { ReplicatedStream } from '../../streams/replication/replicated-stream.ts';
import { waitFor } from '../helpers/deadline.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-log-trim-'));
const servers = new Map<string, SluiceServer>();
const conns: NatsConnection[] = [];
let clusterPorts = new Map<string, number>();

after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  for (const s of servers.values()) await s.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function start(name: string, routes: string[], clusterPort = 0): Promise<SluiceServer> {
  const server = (await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      serverName: name,
      storeDir: join(dir, name),
      cluster: { ...defaultClusterOptions(), name: 'trim', host: '127.0.0.1', port: clusterPort, routes },
    },
    { logger: silentLogger },
  )) as SluiceServer;
  servers.set(name, server);
  clusterPorts.set(name, server.cluster!.port);
  return server;
}

function replica(name: string): ReplicatedStream | undefined {
  return servers.get(name)?.jetstream?.clustered?.replica('LOG');
}

test('every replica trims its log to what all voters hold; a server that was down catches up first', async () => {
  const s0 = await start('s0', []);
  const seed = `nats-route://127.0.0.1:${s0.cluster!.port}`;
  await start('s1', [seed]);
  await start('s2', [seed]);
  await waitFor(() => [...servers.values()].every((s) => s.jetstream?.meta?.raft?.members.length === 3 && s.jetstream.meta.raft.leader !== ''), 'a meta group of three', 20_000);

  const nc = await connect({ servers: [...servers.values()].map((s) => `nats://127.0.0.1:${s.ports.client}`), reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  const si = await (await jetstreamManager(nc, { timeout: 10_000 })).streams.add({ name: 'LOG', subjects: ['log.>'], num_replicas: 3 });
  const leaderName = si.cluster!.leader!;
  const js = jetstream(nc, { timeout: 5000 });
  const publish = async (from: number, to: number): Promise<void> => {
    for (let i = from; i <= to; i += 50) await Promise.all(Array.from({ length: Math.min(50, to - i + 1) }, (_, k) => js.publish('log.x', `m${i + k}`)));
  };
  await publish(1, 300);
  const names = [...servers.keys()];
  await waitFor(() => names.every((n) => replica(n)?.raft?.applied === replica(leaderName)!.raft!.lastIndex), 'every replica applied everything');

  // Trim: every log now starts after the first 300 messages.
  assert.equal(replica(leaderName)!.trimLog(), true);
  const mark = replica(leaderName)!.raft!.lastIndex - 1;
  await waitFor(() => names.every((n) => (replica(n)?.raft?.firstIndex ?? 0) >= mark), 'every replica to trim its log');

  // A follower goes down: the leader keeps what it lacks.
  const follower = names.find((n) => n !== leaderName)!;
  const followerPort = clusterPorts.get(follower)!;
  await servers.get(follower)!.close();
  servers.delete(follower);
  await publish(301, 600);
  const heldBack = replica(leaderName)!.raft!.minMatch();
  replica(leaderName)!.trimLog();
  await waitFor(() => (replica(leaderName)!.raft!.firstIndex ?? 0) >= heldBack, 'the leader to trim as far as the down server allows');
  assert.ok(replica(leaderName)!.raft!.firstIndex <= heldBack + 1, 'nothing the down server needs was dropped');

  // It comes back on the same store and catches up from the entries kept for it.
  await start(follower, follower === 's0' ? [] : [seed], followerPort);
  await waitFor(() => replica(follower)?.raft?.applied === replica(leaderName)?.raft?.lastIndex && replica(follower)!.stream.store.state().lastSeq === 600, 'the returning server to catch up', 20_000);
  assert.equal(replica(follower)!.stranded, '');
  assert.equal(replica(follower)!.stream.store.state().messages, 600);
  assert.equal(Buffer.from(replica(follower)!.stream.store.get(450)!.data).toString(), 'm450');

  // Now nobody lags: the next trim passes the old hold-back point everywhere.
  const leaderNow = [...servers.keys()].find((n) => replica(n)?.isLeader === true)!;
  await waitFor(() => replica(leaderNow)!.raft!.minMatch() === replica(leaderNow)!.raft!.lastIndex, 'the leader to hear the returning server is current');
  assert.equal(replica(leaderNow)!.trimLog(), true);
  await waitFor(() => [...servers.keys()].every((n) => (replica(n)?.raft?.firstIndex ?? 0) > heldBack + 1), 'every log trimmed past the hold-back point');
});
