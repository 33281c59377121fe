// The leaf node scenarios, run against whatever servers a factory starts: sluice hub and edges in
// tests/integration/leafnode.test.ts, nats-server in either role in tests/e2e/leafnode.e2e.ts.
// A hub with two edges (user/password on the link): messages from one edge reach the hub and the
// other edge; a queue group spread over all three gets each message once; request/reply and
// no-responders across; the hub killed and restarted on its ports, the edges reconnecting and
// resending their interest; deny_exports/deny_imports on a remote. Over the leafnode port, or
// over the hub's WebSocket port (`ws://.../leafnode`, for edges that can only reach port 443).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { startChildServer } from '../helpers/child-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';

/** A server process as the scenarios use it. */
export interface LeafTestServer {
  readonly url: string;
  readonly httpUrl: string;
  /** What it logged so far. */
  output(): string;
  kill(): Promise<void>;
}

export interface RemoteSpec {
  readonly url: string;
  readonly denyExports?: readonly string[];
  readonly denyImports?: readonly string[];
}

/** Starts the servers of one flavour; names are server names (shown in /leafz where supported). */
export interface LeafTopology {
  /**
   * The hub: leafnode listener on `leafPort` with user leaf / password s3cret, clients on
   * `clientPort`, and a WebSocket listener (no TLS) on `wsPort` when given.
   */
  hub(dir: string, leafPort: number, clientPort: number, wsPort?: number): Promise<LeafTestServer>;
  edge(dir: string, name: string, remotes: readonly RemoteSpec[]): Promise<LeafTestServer>;
}

interface Leafz {
  leafnodes: number;
  leafs: { name?: string; subscriptions_list?: string[] }[];
}

async function leafz(server: LeafTestServer): Promise<Leafz> {
  return (await (await fetch(`${server.httpUrl}/leafz?subs=1`)).json()) as Leafz;
}

/**
 * How many of `server`'s leaf links carry interest in `entry` ("subject" or "subject queue";
 * nats-server lists subjects only, so a queue entry also matches its bare subject there).
 */
async function linksWith(server: LeafTestServer, entry: string): Promise<number> {
  const subject = entry.split(' ')[0]!;
  return (await leafz(server)).leafs.filter((l) => {
    const list = l.subscriptions_list ?? [];
    return list.includes(entry) || (l.name === undefined && list.includes(subject));
  }).length;
}

async function leafInterest(server: LeafTestServer, entry: string, links = 1, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => (await linksWith(server, entry)) >= links, `"${entry}" to reach ${server.url} over ${links} leaf link(s)`, timeoutMs);
}

async function leafCount(server: LeafTestServer, n: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await leafz(server)).leafnodes === n, `${server.url} to have ${n} leaf connections`, timeoutMs);
}

/** A nats-server style remotes block (sluice reads the same syntax). */
export function remotesConf(remotes: readonly RemoteSpec[]): string {
  const list = remotes.map((r) => {
    const deny = [
      r.denyExports !== undefined ? `deny_exports: ${JSON.stringify(r.denyExports)}` : '',
      r.denyImports !== undefined ? `deny_imports: ${JSON.stringify(r.denyImports)}` : '',
    ].filter((s) => s !== '');
    return `{ url: "${r.url}"${deny.length > 0 ? ', ' + deny.join(', ') : ''} }`;
  });
  return `leafnodes { remotes: [ ${list.join(', ')} ] }\n`;
}

export function hubConf(leafPort: number, wsPort?: number): string {
  const ws = wsPort === undefined ? '' : `websocket { port: ${wsPort}, no_tls: true }\n`;
  return `${ws}leafnodes { port: ${leafPort}, authorization { user: leaf, password: s3cret } }\n`;
}

export const sluiceServers: LeafTopology = {
  async hub(dir, leafPort, clientPort, wsPort) {
    writeFileSync(join(dir, 'hub.conf'), hubConf(leafPort, wsPort));
    return startChildServer({
      portsDir: join(dir, 'ports'),
      name: 'hub',
      args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, 'hub.conf'), '--port', String(clientPort)],
    });
  },
  async edge(dir, name, remotes) {
    writeFileSync(join(dir, `${name}.conf`), remotesConf(remotes));
    return startChildServer({
      portsDir: join(dir, 'ports'),
      name,
      args: ['--host', '127.0.0.1', '--http-port', '0', '--config', join(dir, `${name}.conf`), '--log-level', 'error'],
    });
  },
};

/** `transport` 'ws': the edges dial the hub's WebSocket port (`ws://leaf:s3cret@host:port`). */
export function leafnodeSuite(label: string, topology: LeafTopology, transport: 'tcp' | 'ws' = 'tcp'): void {
  describe(label, () => {
    let dir: string;
    let leafPort: number;
    let clientPort: number;
    let wsPort: number | undefined;
    let remote: string;
    let hub: LeafTestServer;
    let edgeA: LeafTestServer;
    let edgeB: LeafTestServer;
    const extra: LeafTestServer[] = [];
    const conns: NatsConnection[] = [];
    const client = async (server: LeafTestServer): Promise<NatsConnection> => {
      const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      conns.push(nc);
      return nc;
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-'));
      leafPort = await freePort();
      clientPort = await freePort();
      wsPort = transport === 'ws' ? await freePort() : undefined;
      remote = transport === 'ws' ? `ws://leaf:s3cret@127.0.0.1:${wsPort}` : `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}`;
      hub = await topology.hub(dir, leafPort, clientPort, wsPort);
      edgeA = await topology.edge(dir, 'edgeA', [{ url: remote }]);
      edgeB = await topology.edge(dir, 'edgeB', [{ url: remote }]);
      await leafCount(hub, 2);
      await leafCount(edgeA, 1);
      await leafCount(edgeB, 1);
    });
    after(async () => {
      for (const nc of conns) await nc.close().catch(() => undefined);
      for (const s of [edgeA, edgeB, hub, ...extra]) await s?.kill();
      rmSync(dir, { recursive: true, force: true });
    });

    test('/leafz and /varz show the links on both sides', async () => {
      assert.equal((await leafz(hub)).leafnodes, 2);
      assert.equal((await leafz(edgeA)).leafnodes, 1);
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
      await leafInterest(hub, 'fan.x');
      await leafInterest(edgeA, 'fan.*');
      await leafInterest(edgeA, 'fan.x');
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
      await leafInterest(hub, 'jobs workers', 2);
      await leafInterest(edgeA, 'jobs workers');
      await leafInterest(edgeB, 'jobs workers');
      await leafInterest(hub, 'jobs.done', 2);
      await leafInterest(edgeA, 'jobs.done');
      await leafInterest(edgeB, 'jobs.done');
      const publishers = [await client(hub), await client(edgeA), await client(edgeB)];
      for (const p of publishers) {
        for (let i = 0; i < 200; i++) p.publish('jobs', String(i));
        // Published after the jobs on the same paths: once every member has every publisher's
        // marker, every job that was going to reach it has arrived.
        p.publish('jobs.done');
      }
      await waitFor(() => done.every((n) => n === 3), "every member to see every publisher's marker", 15_000);
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
      await leafInterest(hub, 'after.>');
      await hub.kill();
      hub = await topology.hub(dir, leafPort, clientPort, wsPort);
      await leafCount(hub, 2);
      await leafInterest(hub, 'after.>');
      await leafInterest(edgeA, 'after.>');
      const pub = await client(edgeA);
      for (let i = 0; i < 300; i++) pub.publish('after.restart', String(i));
      await pub.flush();
      await waitFor(() => got.length === 300, '300 messages at edge B after the restart', 15_000);
      assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => String(i)));
    });

    test('deny_exports and deny_imports on a remote: denied subjects do not cross', async () => {
      const edgeC = await topology.edge(dir, 'edgeC', [{ url: remote, denyExports: ['secret.>'], denyImports: ['private.>'] }]);
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
      await leafInterest(hub, 'open.x');
      // Same path, same order: when the allowed message arrives, a denied one sent first would have too.
      onC.publish('secret.x');
      onC.publish('public.x');
      await waitFor(() => hubGot.includes('public.x'), 'the allowed export at the hub');
      assert.deepEqual(hubGot, ['public.x']);
      onHub.publish('private.x');
      onHub.publish('open.x');
      await waitFor(() => cGot.includes('open.x'), 'the allowed import at edge C');
      assert.deepEqual(cGot, ['open.x']);
    });
  });
}
