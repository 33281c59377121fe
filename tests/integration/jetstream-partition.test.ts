// Partitions, not only crashes: three JetStream servers whose every route runs through a loopback
// TCP proxy the test controls (one proxy per pair of servers, so cutting a server's two proxies
// isolates it in both directions while it keeps running and keeps its clients). The stream's
// leader, cut off into a minority of one, acknowledges nothing more and stops leading; the
// majority elects another leader and goes on; after the heal there is one history on every
// replica: every acknowledged message at its sequence, nothing acknowledged twice.
//
// Every server advertises an address that refuses connections, so a server that learns of a peer
// through gossip cannot dial around the proxies while a partition lasts.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type PubAck, type StreamInfo } from '@nats-io/jetstream';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { routez, waitForMetaLeader } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/deadline.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const NAMES = ['s0', 's1', 's2'] as const;
let dir: string;
let refuser: net.Server;
const servers = new Map<string, ChildServer>();
/** The proxy carrying the route between two servers, by "a-b" with a < b. */
const proxies = new Map<string, TcpProxy>();
const conns: NatsConnection[] = [];

const pair = (a: string, b: string): string => (a < b ? `${a}-${b}` : `${b}-${a}`);
const proxiesOf = (name: string): TcpProxy[] => [...proxies].filter(([k]) => k.split('-').includes(name)).map(([, p]) => p);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-partition-'));
  refuser = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  const advertise = `127.0.0.1:${(refuser.address() as net.AddressInfo).port}`;
  const start = (name: string, routes: string[]): Promise<ChildServer> =>
    startChildServer({
      portsDir: join(dir, 'ports'),
      name,
      storeDir: join(dir, 'store', name),
      args: ['--host', '127.0.0.1', '--http-port', '0', '--cluster-name', 'part', '--cluster-port', '0', '--cluster-advertise', advertise, ...(routes.length > 0 ? ['--routes', routes.join(',')] : [])],
    });
  // s0 first; s1 dials it through s0-s1; s2 dials both through s0-s2 and s1-s2.
  servers.set('s0', await start('s0', []));
  for (const [a, b] of [['s0', 's1'], ['s0', 's2']] as const) proxies.set(pair(a, b), await startTcpProxy({ port: servers.get(a)!.clusterPort }));
  servers.set('s1', await start('s1', [proxies.get('s0-s1')!.url('nats-route')]));
  proxies.set('s1-s2', await startTcpProxy({ port: servers.get('s1')!.clusterPort }));
  servers.set('s2', await start('s2', [proxies.get('s0-s2')!.url('nats-route'), proxies.get('s1-s2')!.url('nats-route')]));
  await meshed();
  await waitForMetaLeader([...servers.values()], 3);
});

after(async () => {
  for (const nc of conns) await nc.close().catch(() => undefined);
  for (const s of servers.values()) await s.kill();
  for (const p of proxies.values()) await p.close();
  await new Promise<void>((resolve) => refuser?.close(() => resolve()));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function meshed(): Promise<void> {
  await waitFor(async () => {
    for (const s of servers.values()) if ((await routez(s)).num_routes !== 2) return false;
    return true;
  }, 'every server routed to both others', 45_000);
}

async function client(names: readonly string[]): Promise<NatsConnection> {
  const nc = await connect({ servers: names.map((n) => servers.get(n)!.url), reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  conns.push(nc);
  return nc;
}


/**
 * The scenario both tests run: an R3 stream, 100 acked publishes, then `isolate(leader)`; the
 * leader's own clients get nothing acknowledged, the majority elects and goes on, the old leader
 * stops leading; after healing every replica, leading in turn, holds the one acknowledged history.
 */
async function minorityLeader(stream: string, isolate: (leader: string) => void): Promise<void> {
  const subject = `${stream.toLowerCase()}.x`;
  const info = async (nc: NatsConnection, timeout = 2000): Promise<StreamInfo | undefined> =>
    (await jetstreamManager(nc, { timeout })).streams.info(stream).catch(() => undefined);
  const admin = await client(['s0']);
  const si = await (await jetstreamManager(admin, { timeout: 10_000 })).streams.add({ name: stream, subjects: [`${stream.toLowerCase()}.>`], num_replicas: 3 });
  const old = si.cluster?.leader ?? '';
  assert.ok(NAMES.includes(old as never), `a leader: ${JSON.stringify(si.cluster)}`);
  const majority = NAMES.filter((n) => n !== old);
  const minorityNc = await client([old]);
  const majorityNc = await client(majority);
  const acked: PubAck[] = [];
  const js = jetstream(majorityNc, { timeout: 2000 });
  for (let i = 1; i <= 100; i++) acked.push(await js.publish(subject, `m${i}`, { msgID: `m${i}` }));

  isolate(old);

  // Its own clients publish on: nothing can commit in a minority, so nothing is acknowledged.
  const minorityJs = jetstream(minorityNc, { timeout: 300 });
  const minorityAcks: PubAck[] = [];
  for (let i = 1; i <= 20; i++) {
    const ack = await minorityJs.publish(subject, `lost${i}`, { msgID: `lost${i}` }).catch(() => undefined);
    if (ack !== undefined) minorityAcks.push(ack);
  }
  assert.deepEqual(minorityAcks, [], 'a leader without a majority acknowledged a publish');

  // The majority elects a new leader and goes on.
  const fresh = await waitFor(async () => {
    const i = await info(majorityNc);
    return i?.cluster?.leader !== undefined && i.cluster.leader !== '' && i.cluster.leader !== old ? i : undefined;
  }, 'a new leader in the majority', 45_000);
  assert.ok(majority.includes(fresh.cluster!.leader as never));
  for (let i = 101; i <= 200; i++) {
    const ack = await waitFor(() => js.publish(subject, `m${i}`, { msgID: `m${i}` }).catch(() => undefined), `publish ${i} in the majority`, 45_000);
    acked.push(ack);
  }
  // Sequences go on from the majority's log. A publish the old leader took before it lost its
  // followers may still be in that log (in a one-way partition its appends kept arriving): such a
  // message is stored although its publisher never got a PubAck (as with nats-server, a timed-out
  // publish may have landed; a retry with its msg id would be answered as a duplicate).
  const seqs = acked.map((a) => a.seq);
  assert.equal(new Set(seqs).size, 200, 'no sequence acknowledged twice');
  assert.deepEqual(seqs.slice(0, 100), Array.from({ length: 100 }, (_, i) => i + 1));
  for (let k = 100; k < 200; k++) assert.ok(seqs[k]! > seqs[k - 1]!, 'sequences only go up');

  // The old leader noticed it lost its majority: nobody on its side answers for the stream.
  await waitFor(async () => (await info(minorityNc, 500)) === undefined, 'the isolated leader to stop leading', 45_000);

  // Heal: one history. Every replica, leading in turn, holds the same messages: every acknowledged
  // one at its sequence, and nothing else but publishes of the cut-off leader's clients.
  for (const p of proxies.values()) p.heal();
  await meshed();
  await waitFor(async () => {
    const i = await info(majorityNc);
    return i?.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current && (r.lag ?? 0) === 0);
  }, 'the healed replica to catch up', 45_000);
  const leaders = new Set<string>();
  const dataAt = new Map(acked.map((a, k) => [a.seq, `m${k + 1}`]));
  let history: string | undefined;
  while (leaders.size < 3) {
    const now = await waitFor(() => info(majorityNc), 'INFO');
    const leader = now.cluster!.leader!;
    if (!leaders.has(leader)) {
      leaders.add(leader);
      assert.equal(now.state.first_seq, 1);
      assert.equal(now.state.last_seq, seqs[199], `state under ${leader}`);
      const jsm = await jetstreamManager(majorityNc, { timeout: 2000 });
      const stored: string[] = [];
      for (let seq = 1; seq <= now.state.last_seq; seq++) {
        // Retried: right after a leader change a request can reach the old leader, whose interest
        // has not left yet, and go unanswered.
        const data = (await waitFor(() => jsm.streams.getMessage(stream, { seq }).catch(() => undefined), `MSG.GET ${seq}`, 45_000))?.string() ?? '';
        const want = dataAt.get(seq);
        if (want !== undefined) assert.equal(data, want, `seq ${seq} under ${leader}`);
        else assert.match(data, /^lost\d+$/, `seq ${seq} under ${leader} is neither acknowledged nor the cut-off leader's`);
        stored.push(data);
      }
      assert.equal(now.state.messages, stored.length);
      if (history === undefined) history = stored.join(',');
      else assert.equal(stored.join(','), history, `the same history under ${leader}`);
    }
    if (leaders.size < 3) {
      await majorityNc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 5000 }).catch(() => undefined);
      await waitFor(async () => {
        const i = await info(majorityNc);
        return i?.cluster?.leader !== undefined && i.cluster.leader !== '' && i.cluster.leader !== leader;
      }, 'the next leader', 45_000);
    }
  }
}

test('a stream leader cut off in a minority acknowledges nothing, steps down, and leaves one history after the heal', async () => {
  // Both of its routes are reset and stay down.
  await minorityLeader('PART', (leader) => {
    for (const p of proxiesOf(leader)) p.cut();
  });
});

test('a stream leader that can send but no longer hears its followers (a one-way partition) steps down the same way', async () => {
  // Everything towards the leader is dropped on both of its routes; what it sends still arrives.
  // Each proxy's target is the server the other one dialled: 'up' carries dialer -> target.
  await minorityLeader('ONEWAY', (leader) => {
    for (const [key, p] of proxies) {
      const [a, b] = key.split('-');
      if (a !== leader && b !== leader) continue;
      const target = key === 's1-s2' ? 's1' : 's0';
      p.drop(target === leader ? 'up' : 'down');
    }
  });
});
