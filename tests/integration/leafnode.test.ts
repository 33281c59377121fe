// Leaf nodes with real processes on loopback and the official nats.js client: a sluice hub with
// two sluice edges (user/password on the link); messages from one edge reach the hub and the
// other edge; a queue group spread over all three gets each message once; request/reply and
// no-responders across; the hub SIGKILLed and restarted, the edges reconnecting and resending
// their interest; deny_exports/deny_imports on a remote; a loop refused.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';

interface Leafz {
  leafnodes: number;
  leafs: { name: string; is_spoke: boolean; subscriptions_list?: string[] }[];
}

async function leafz(server: ChildServer): Promise<Leafz> {
  return (await (await fetch(`${server.httpUrl}/leafz?subs=1`)).json()) as Leafz;
}

/** Resolves once `server` has learnt `entry` ("subject" or "subject queue") over a leaf link (from `name`, if given). */
async function leafInterest(server: ChildServer, entry: string, name?: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(
    async () => (await leafz(server)).leafs.some((l) => (name === undefined || l.name === name) && (l.subscriptions_list ?? []).includes(entry)),
    `"${entry}" to reach ${server.url} over a leaf link${name === undefined ? '' : ` from ${name}`}`,
    timeoutMs,
  );
}

async function leafCount(server: ChildServer, n: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await leafz(server)).leafnodes === n, `${server.url} to have ${n} leaf connections`, timeoutMs);
}

describe('a sluice hub with two sluice edges', () => {
  let dir: string;
  let leafPort: number;
  let clientPort: number;
  let hub: ChildServer;
  let edgeA: ChildServer;
  let edgeB: ChildServer;
  const extra: ChildServer[] = [];
  const conns: NatsConnection[] = [];
  const client = async (server: ChildServer): Promise<NatsConnection> => {
    const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    conns.push(nc);
    return nc;
  };
  const startHub = (): Promise<ChildServer> =>
    startChildServer({
      portsDir: join(dir, 'ports'),
      name: 'hub',
      args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'hub.conf'), '--port', String(clientPort)],
    });
  const startEdge = (name: string, args: string[] = []): Promise<ChildServer> =>
    startChildServer({ portsDir: join(dir, 'ports'), name, args: ['--host', '127.0.0.1', '--http-port', '0', ...args] });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-'));
    leafPort = await freePort();
    clientPort = await freePort();
    writeFileSync(join(dir, 'hub.conf'), `leafnodes { port: ${leafPort}, authorization { user: leaf, password: s3cret } }\n`);
    hub = await startHub();
    const remote = `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}`;
    edgeA = await startEdge('edgeA', ['--leafnode-remote', remote]);
    edgeB = await startEdge('edgeB', ['--leafnode-remote', remote]);
    await leafCount(hub, 2);
    await leafCount(edgeA, 1);
    await leafCount(edgeB, 1);
  });
  after(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    for (const s of [edgeA, edgeB, hub, ...extra]) await s?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/leafz shows the links from both sides; /varz counts them', async () => {
    const hz = await leafz(hub);
    assert.deepEqual(hz.leafs.map((l) => l.name).sort(), ['edgeA', 'edgeB']);
    assert.ok(hz.leafs.every((l) => !l.is_spoke));
    const az = await leafz(edgeA);
    assert.equal(az.leafs[0]!.name, 'hub');
    assert.equal(az.leafs[0]!.is_spoke, true);
    const varz = (await (await fetch(`${hub.httpUrl}/varz`)).json()) as { leafnodes: number; leaf: { port: number } };
    assert.equal(varz.leafnodes, 2);
    assert.equal(varz.leaf.port, leafPort);
  });

  test('a message published on edge A reaches subscribers on the hub and on edge B, with headers and in order', async () => {
    const onHub = await client(hub);
    const onB = await client(edgeB);
    const pub = await client(edgeA);
    const got = { hub: [] as string[], b: [] as string[] };
    onHub.subscribe('fan.*', { callback: (_e, m) => void got.hub.push(`${m.subject}:${m.string()}:${m.headers?.get('k') ?? ''}`) });
    onB.subscribe('fan.x', { callback: (_e, m) => void got.b.push(`${m.subject}:${m.string()}:${m.headers?.get('k') ?? ''}`) });
    await onHub.flush();
    await onB.flush();
    await leafInterest(hub, 'fan.x', 'edgeB');
    await leafInterest(edgeA, 'fan.*');
    await leafInterest(edgeA, 'fan.x');
    const { headers } = await import('@nats-io/transport-node');
    for (let i = 0; i < 500; i++) {
      const h = headers();
      h.set('k', `v${i}`);
      pub.publish('fan.x', String(i), { headers: h });
    }
    await waitFor(() => got.hub.length === 500 && got.b.length === 500, 'every message at the hub and at edge B', 15_000);
    const expected = Array.from({ length: 500 }, (_, i) => `fan.x:${i}:v${i}`);
    assert.deepEqual(got.hub, expected);
    assert.deepEqual(got.b, expected);
  });

  test('a queue group with members on the hub and both edges gets each message once', async () => {
    const members = [await client(hub), await client(edgeA), await client(edgeB)];
    const counts = [0, 0, 0];
    const done = [0, 0, 0];
    members.forEach((nc, i) => {
      nc.subscribe('jobs', { queue: 'workers', callback: () => void counts[i]!++ });
      nc.subscribe('jobs.done', { callback: () => void done[i]!++ });
    });
    for (const nc of members) await nc.flush();
    await leafInterest(hub, 'jobs workers', 'edgeA');
    await leafInterest(hub, 'jobs workers', 'edgeB');
    await leafInterest(edgeA, 'jobs workers');
    await leafInterest(edgeB, 'jobs workers');
    await leafInterest(edgeA, 'jobs.done');
    await leafInterest(edgeB, 'jobs.done');
    const publishers = [await client(hub), await client(edgeA), await client(edgeB)];
    for (const p of publishers) {
      for (let i = 0; i < 200; i++) p.publish('jobs', String(i));
      // Published after the jobs on the same paths: once every member has every publisher's
      // marker, every job that was going to reach it has arrived.
      p.publish('jobs.done');
    }
    await waitFor(() => done.every((n) => n === 3), 'every member to see every publisher\'s marker', 15_000);
    assert.equal(counts[0]! + counts[1]! + counts[2]!, 600, `each job once: ${counts.join('/')}`);
    assert.ok(counts.every((n) => n > 0), `local members take their own server's jobs: ${counts.join('/')}`);
  });

  test('request/reply across the hub, and no-responders for a subject nobody serves', async () => {
    const responder = await client(edgeB);
    responder.subscribe('svc.echo', { callback: (_e, m) => void m.respond(`echo:${m.string()}`) });
    await responder.flush();
    await leafInterest(edgeA, 'svc.echo');
    const fromA = await client(edgeA);
    const fromHub = await client(hub);
    assert.equal((await fromA.request('svc.echo', 'a', { timeout: 5000 })).string(), 'echo:a');
    assert.equal((await fromHub.request('svc.echo', 'h', { timeout: 5000 })).string(), 'echo:h');
    await assert.rejects(fromA.request('svc.nobody', 'x', { timeout: 5000 }), /no responders/i);
  });

  test('the hub restarts: edges reconnect and resend their interest; nothing published after that is lost', async () => {
    const sub = await client(edgeB);
    const got: string[] = [];
    sub.subscribe('after.>', { callback: (_e, m) => void got.push(m.string()) });
    await sub.flush();
    await leafInterest(hub, 'after.>', 'edgeB');
    await hub.kill();
    hub = await startHub();
    await leafCount(hub, 2);
    await leafInterest(hub, 'after.>', 'edgeB');
    await leafInterest(edgeA, 'after.>');
    const pub = await client(edgeA);
    for (let i = 0; i < 300; i++) pub.publish('after.restart', String(i));
    await pub.flush();
    await waitFor(() => got.length === 300, '300 messages at edge B after the restart', 15_000);
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => String(i)));
  });

  test('deny_exports and deny_imports on a remote: denied subjects do not cross', async () => {
    writeFileSync(
      join(dir, 'edgeC.conf'),
      `leafnodes { remotes: [ { url: "nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}", deny_exports: ["secret.>"], deny_imports: ["private.>"] } ] }\n`,
    );
    const edgeC = await startEdge('edgeC', ['--config', join(dir, 'edgeC.conf')]);
    extra.push(edgeC);
    await leafCount(edgeC, 1);
    const onHub = await client(hub);
    const hubGot: string[] = [];
    onHub.subscribe('secret.x', { callback: (_e, m) => void hubGot.push(m.subject) });
    onHub.subscribe('public.x', { callback: (_e, m) => void hubGot.push(m.subject) });
    await onHub.flush();
    await leafInterest(edgeC, 'public.x');
    const onC = await client(edgeC);
    const cGot: string[] = [];
    onC.subscribe('private.x', { callback: (_e, m) => void cGot.push(m.subject) });
    onC.subscribe('open.x', { callback: (_e, m) => void cGot.push(m.subject) });
    await onC.flush();
    await leafInterest(hub, 'open.x', 'edgeC');
    // Same path, same order: when the allowed message arrives, a denied one sent first would have too.
    onC.publish('secret.x');
    onC.publish('public.x');
    await waitFor(() => hubGot.includes('public.x'), 'the allowed export at the hub');
    assert.deepEqual(hubGot, ['public.x']);
    const hz = await leafz(hub);
    assert.ok(!hz.leafs.some((l) => (l.subscriptions_list ?? []).includes('private.x')), 'a denied import is not announced');
    onHub.publish('private.x');
    onHub.publish('open.x');
    await waitFor(() => cGot.includes('open.x'), 'the allowed import at edge C');
    assert.deepEqual(cGot, ['open.x']);
  });

  test('an edge dialling the same hub twice detects the loop', async () => {
    const remote = `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}`;
    const edgeD = await startEdge('edgeD', ['--leafnode-remote', remote, '--leafnode-remote', remote, '--log-level', 'error']);
    extra.push(edgeD);
    await waitFor(() => /Loop detected/.test(edgeD.output()), 'the loop to be detected', 15_000);
  });
});
