// Accounts with the official client over real sockets: the scenarios of accounts-suite.ts against
// one sluice server (isolation, stream imports with a prefix and to named accounts, service
// imports with `to`, wildcards and response types, no_auth_user, queue groups, JetStream per
// account, monitoring), then a two-server cluster that keeps the accounts apart and runs each
// import once however the publisher, importer and responder are spread over the servers.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/deadline.ts';
import {
  ACCOUNTS_CONF,
  accountDetail,
  accountStatz,
  closeAll,
  connectAll,
  isolation,
  jetstreamIsolation,
  jetstreamPerAccount,
  queueGroups,
  responseTypes,
  serviceImport,
  serviceNoResponders,
  streamImport,
  systemEvents,
  crossAccountJetStream,
  type Clients,
} from './accounts-suite.ts';

function accountsOptions(storeDir: string): Partial<ServerOptions> {
  const loaded = loadConfigText(ACCOUNTS_CONF.replace('$STORE', storeDir), 'accounts.conf');
  assert.deepEqual(loaded.warnings, []);
  return loaded.options;
}

describe('accounts on one server', () => {
  let dir: string;
  let server: RunningServer;
  let cl: Clients;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-accounts-'));
    server = await startTestServer({ ...accountsOptions(join(dir, 'store')), httpPort: 0 });
    cl = await connectAll(server.clientUrl);
  });

  after(async () => {
    await closeAll(cl);
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the same subject in every account reaches only that account', async () => {
    assert.deepEqual(await isolation(cl), ['a c.shared from a', 'b c.shared from b', 'c c.shared from c', 'g c.shared from g']);
  });

  test('a stream import with a prefix, and an export only some accounts may import', async () => {
    assert.deepEqual(await streamImport(cl), ['a a.one 1', 'b from_a.a.one 1', 'c private.p only C imports this']);
  });

  test('service imports: to remaps, wildcards pass the subject, the responder never sees the requester inbox', async () => {
    assert.deepEqual(await serviceImport(cl), [
      'a saw svc.silent reply _R_.* from account B',
      'a saw svc.x reply _R_.* from account B',
      'a saw svc.y reply _R_.* from account B X-Mine kept',
      'A answers svc.x: via to',
      'A answers svc.y: via wildcard',
      'error TimeoutError',
      'error RequestError (no responders)',
    ]);
    assert.deepEqual(await serviceNoResponders(cl), ['error RequestError (no responders)']);
  });

  test('a singleton export passes one response, a stream export every one', async () => {
    assert.deepEqual(await responseTypes(cl), [
      'b c.replies.singleton svc.twice part 1',
      'b c.replies.stream chunks.1 part 1',
      'b c.replies.stream chunks.1 part 2',
      'b c.replies.stream chunks.1 part 3',
    ]);
  });

  test('queue groups are per account', async () => {
    assert.deepEqual(await queueGroups(cl), ["A's group got 20", "B's group got 0"]);
  });

  test('JetStream answers in its account; the others get 10039', async () => {
    assert.deepEqual(await jetstreamPerAccount(cl), [
      'a io.nats.jetstream.api.v1.account_info_response ok',
      'b io.nats.jetstream.api.v1.account_info_response ok',
      'g io.nats.jetstream.api.v1.account_info_response 503 10039',
    ]);
  });

  test('each account has its own JetStream: the same stream name, its own messages', async () => {
    assert.deepEqual(await jetstreamIsolation(cl), [
      'a: 2 messages, streams SAME, last on c.same.1 a1',
      'b: 1 messages, streams SAME, last on c.same.1 b1',
    ]);
  });

  test("cross-account JetStream: B creates, fills, reads and acknowledges a stream in A's JetStream through imports", async () => {
    assert.deepEqual(await crossAccountJetStream(cl), [
      'created XORDERS',
      'puback XORDERS 1',
      'puback XORDERS 2',
      'puback XORDERS 3',
      'fetched c.orders.1 order 1',
      'fetched c.orders.2 order 2',
      'fetched c.orders.3 order 3',
      'A sees 3 messages, 0 unacknowledged, 3 delivered',
    ]);
  });

  test('no_auth_user: INFO does not ask for credentials, a client without them is that user', async () => {
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      void import('node:net').then(({ connect: dial }) => {
        const s = dial(new URL(server.clientUrl).port as unknown as number, '127.0.0.1');
        s.once('data', (d) => {
          s.destroy();
          resolve(JSON.parse(d.toString().slice(5)) as Record<string, unknown>);
        });
        s.once('error', reject);
      });
    });
    assert.equal(info.auth_required, undefined);
    const connz = (await (await fetch(`${server.httpUrl}/connz?auth=1`)).json()) as { connections: { name: string; authorized_user?: string; account?: string }[] };
    const g = connz.connections.find((c) => c.name === 'g');
    assert.equal(g?.authorized_user, 'g');
    assert.equal(g?.account, undefined); // $G is not named, as nats-server does
    const wrong = await connect({ servers: server.clientUrl, user: 'a', pass: 'wrong', reconnect: false }).then(
      () => 'connected',
      (e: Error) => e.message,
    );
    assert.match(wrong, /Authorization Violation/i);
  });

  test('the system account hears connects and disconnects, and answers PING', async () => {
    const serverKeys = ['host', 'id', 'jetstream', 'name', 'seq', 'time', 'ver'];
    const clientKeys = ['acc', 'client_type', 'host', 'id', 'kind', 'lang', 'name', 'start', 'user', 'ver'];
    const client = { acc: 'A', user: 'a', name: 'evt', kind: 'Client', client_type: 'nats' };
    assert.deepEqual(await systemEvents(server.clientUrl), {
      events: [
        { subject: '$SYS.ACCOUNT.A.CONNECT', type: 'io.nats.server.advisory.v1.client_connect', keys: ['client', 'id', 'server', 'subject', 'timestamp', 'type'], server: serverKeys, client: { keys: clientKeys, ...client } },
        {
          subject: '$SYS.ACCOUNT.A.DISCONNECT',
          type: 'io.nats.server.advisory.v1.client_disconnect',
          keys: ['client', 'id', 'reason', 'received', 'sent', 'server', 'subject', 'timestamp', 'type'],
          server: serverKeys,
          client: { keys: [...clientKeys, 'stop'].sort(), ...client },
          sent: { msgs: 1, bytes: 5 },
          received: { msgs: 0, bytes: 0 },
          reason: 'Client Closed',
        },
      ],
      ping: {
        server: serverKeys,
        statsz: ['active_accounts', 'active_servers', 'connections', 'cores', 'cpu', 'jetstream', 'mem', 'received', 'sent', 'slow_consumers', 'start', 'subscriptions', 'total_connections'],
      },
    });
  });

  test("/accstatz counts each account's connections and traffic, closed connections included", async () => {
    assert.deepEqual(await accountStatz(server.httpUrl!, server.clientUrl), {
      used: ['$G 1', 'A 1', 'B 1', 'C 2'],
      all: ['$G', 'A', 'B', 'C', 'SYS'],
      keys: ['acc', 'conns', 'leafnodes', 'received', 'sent', 'slow_consumers', 'total_conns'],
      cReceivedAtLeastOne: true,
    });
    // Once the server has seen it close, the closed connection's message stays counted.
    type Statz = { account_statz: { acc: string; conns: number; received: { msgs: number } }[] };
    const c = await waitFor(async () => {
      const statz = (await (await fetch(`${server.httpUrl}/accstatz?unused=1`)).json()) as Statz;
      const entry = statz.account_statz.find((a) => a.acc === 'C')!;
      return entry.conns === 1 ? entry : undefined;
    }, "C's second connection to close");
    assert.ok(c.received.msgs >= 1);
  });

  test('/accountz lists the accounts with their exports and imports; /connz?acc= filters', async () => {
    const d = (await accountDetail(server.httpUrl!)) as { accounts: string[]; b_imports: unknown[]; a_jetstream: boolean; b_jetstream: boolean };
    assert.deepEqual(d.accounts, ['$G', 'A', 'B', 'C', 'SYS']);
    assert.equal(d.b_imports.length, 7);
    assert.deepEqual([d.a_jetstream, d.b_jetstream], [true, true]);
    const connz = (await (await fetch(`${server.httpUrl}/connz?acc=B&auth=1`)).json()) as { connections: { name: string; account: string }[] };
    assert.deepEqual(connz.connections.map((c) => [c.name, c.account]), [['b', 'B']]);
    assert.equal((await fetch(`${server.httpUrl}/accountz?acc=NOPE`)).status, 400);
  });
});

describe('accounts in a two-server cluster', () => {
  let dir: string;
  const servers: RunningServer[] = [];
  const conns: NatsConnection[] = [];
  const open = async (i: number, user: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: servers[i]!.clientUrl, user, pass: user, name: `${user}@s${i}` });
    conns.push(nc);
    return nc;
  };
  /** Resolves once server `i` learnt `subject` from its peer (its /routez lists no accounts: the subjects are unique). */
  const learnt = (i: number, subject: string): Promise<unknown> =>
    waitFor(async () => {
      const r = (await (await fetch(`${servers[i]!.httpUrl}/routez?subs=1`)).json()) as { routes: { subscriptions_list?: string[] }[] };
      return r.routes.some((x) => (x.subscriptions_list ?? []).includes(subject));
    }, `server ${i} to learn ${subject}`, 10_000);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-accounts-cluster-'));
    // Core messaging only: no JetStream store (the accounts are the same on both servers).
    const base = { ...accountsOptions(join(dir, 'store')), storeDir: undefined, httpPort: 0 };
    servers.push(await startTestServer({ ...base, cluster: { name: 'acc', port: 0 } as ServerOptions['cluster'] }));
    const seed = `nats-route://127.0.0.1:${servers[0]!.ports.cluster}`;
    servers.push(await startTestServer({ ...base, cluster: { name: 'acc', port: 0, routes: [seed] } as ServerOptions['cluster'] }));
    await waitFor(async () => {
      const n = await Promise.all(servers.map(async (s) => ((await (await fetch(`${s.httpUrl}/routez`)).json()) as { num_routes: number }).num_routes));
      return n.every((x) => x === 1);
    }, 'the two servers to route to each other', 10_000);
  });

  after(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    for (const s of servers) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a publish reaches its own account on the other server, never another account', async () => {
    const a0 = await open(0, 'a');
    const a1 = await open(1, 'a');
    const b1 = await open(1, 'b');
    const got: string[] = [];
    a1.subscribe('c.across', { callback: (_e, m) => void got.push(`a@s1 ${m.string()}`) });
    b1.subscribe('c.across', { callback: (_e, m) => void got.push(`b@s1 ${m.string()}`) });
    await a1.flush();
    await b1.flush();
    await learnt(0, 'c.across');
    a0.publish('c.across', 'from a@s0');
    await a0.flush();
    await waitFor(() => got.length >= 1, 'a@s1 to receive', 5000);
    // b@s1's own publish goes round its server: anything of A's that had crossed would be before it.
    b1.publish('c.across', 'from b@s1');
    await waitFor(() => got.length >= 2, 'b@s1 to receive its own', 5000);
    assert.deepEqual(got, ['a@s1 from a@s0', 'b@s1 from b@s1']);
  });

  test('a stream import runs once: A publishes on s0, B subscribes on s0 and s1', async () => {
    const a0 = await open(0, 'a');
    const b0 = await open(0, 'b');
    const b1 = await open(1, 'b');
    const got: string[] = [];
    b0.subscribe('from_a.a.cluster', { callback: (_e, m) => void got.push(`b@s0 ${m.subject}`) });
    b1.subscribe('from_a.a.cluster', { callback: (_e, m) => void got.push(`b@s1 ${m.subject}`) });
    // A subscriber of A's own on s1 makes s0 forward A's message there too: s1 must not import it again.
    const a1 = await open(1, 'a');
    a1.subscribe('a.cluster', { callback: (_e, m) => void got.push(`a@s1 ${m.subject}`) });
    await Promise.all([b0.flush(), b1.flush(), a1.flush()]);
    await learnt(0, 'from_a.a.cluster');
    await learnt(0, 'a.cluster');
    for (let i = 0; i < 5; i++) a0.publish('a.cluster', String(i));
    await a0.flush();
    await waitFor(() => got.length >= 15, 'every copy', 5000);
    // A marker through the same path: a duplicate of the five would have arrived before it.
    a0.publish('a.cluster', 'marker');
    await waitFor(() => got.length >= 18, 'the markers', 5000);
    const counts = got.reduce<Record<string, number>>((m, l) => ({ ...m, [l]: (m[l] ?? 0) + 1 }), {});
    assert.deepEqual(counts, { 'b@s0 from_a.a.cluster': 6, 'b@s1 from_a.a.cluster': 6, 'a@s1 a.cluster': 6 });
  });

  test('a service import across servers: B requests on s0, A answers on s1, the response comes back', async () => {
    const b0 = await open(0, 'b');
    const a1 = await open(1, 'a');
    let calls = 0;
    a1.subscribe('svc.remote', {
      callback: (_e, m) => {
        calls++;
        m.respond(`s1 answers ${m.string()}`);
      },
    });
    await a1.flush();
    await learnt(0, 'svc.remote');
    for (let i = 0; i < 3; i++) assert.equal((await b0.request('svc.remote', `r${i}`, { timeout: 2000 })).string(), `s1 answers r${i}`);
    assert.equal(calls, 3);
  });

  test('the system account spans the cluster: a connect on s1 is heard on s0, and both servers answer PING', async () => {
    const sys = await open(0, 'sys');
    const heard: string[] = [];
    sys.subscribe('$SYS.ACCOUNT.B.CONNECT', { callback: (_e, m) => void heard.push(m.json<{ client: { name: string } }>().client.name) });
    await sys.flush();
    await learnt(1, '$SYS.ACCOUNT.B.CONNECT');
    await open(1, 'b');
    await waitFor(() => heard.length >= 1, 'the connect event from s1', 5000);
    assert.deepEqual(heard, ['b@s1']);
    const ids = new Set<string>();
    const inbox = sys.subscribe('_INBOX.ping', { callback: (_e, m) => void ids.add(m.json<{ server: { id: string } }>().server.id) });
    await sys.flush();
    await learnt(1, '_INBOX.ping');
    sys.publish('$SYS.REQ.SERVER.PING', '', { reply: '_INBOX.ping' });
    await waitFor(() => ids.size >= 2, 'both servers to answer', 5000);
    inbox.unsubscribe();
    assert.deepEqual([...ids].sort(), servers.map((s) => s.serverId).sort());
  });

  test('a queue group of A spread over both servers gets each message once; B hears none', async () => {
    const a0 = await open(0, 'a');
    const a1 = await open(1, 'a');
    const b1 = await open(1, 'b');
    const counts = { s0: 0, s1: 0, b: 0 };
    a0.subscribe('c.q', { queue: 'w', callback: () => void counts.s0++ });
    a1.subscribe('c.q', { queue: 'w', callback: () => void counts.s1++ });
    b1.subscribe('c.q', { queue: 'w', callback: () => void counts.b++ });
    await Promise.all([a0.flush(), a1.flush(), b1.flush()]);
    await learnt(0, 'c.q w');
    const pub = await open(1, 'a');
    for (let i = 0; i < 30; i++) pub.publish('c.q', String(i));
    await pub.flush();
    await waitFor(() => counts.s0 + counts.s1 >= 30, 'every job', 5000);
    await Promise.all([a0.flush(), a1.flush(), b1.flush()]);
    assert.equal(counts.s0 + counts.s1, 30);
    assert.equal(counts.b, 0);
  });
});

describe('accounts over a leaf node link', () => {
  let dir: string;
  let hub: RunningServer;
  let edge: RunningServer;
  const conns: NatsConnection[] = [];
  const open = async (s: RunningServer, user: string): Promise<NatsConnection> => {
    const nc = await connect({ servers: s.clientUrl, user, pass: user });
    conns.push(nc);
    return nc;
  };
  /** Resolves once `server`'s leaf link carries interest in `subject`. */
  const linked = (server: RunningServer, subject: string): Promise<unknown> =>
    waitFor(async () => {
      const l = (await (await fetch(`${server.httpUrl}/leafz?subs=1`)).json()) as { leafs: { subscriptions_list?: string[] }[] };
      return l.leafs.some((x) => (x.subscriptions_list ?? []).includes(subject));
    }, `the leaf link to carry ${subject}`, 10_000);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-accounts-leaf-'));
    // The hub binds edges that log in as leaf/leaf to its account A; the edge binds its remote to X.
    hub = await startTestServer({
      ...accountsOptions(join(dir, 'store')),
      storeDir: undefined,
      httpPort: 0,
      leafnodes: { port: 0, user: 'leaf', pass: 'leaf', account: 'A' } as ServerOptions['leafnodes'],
    });
    const leafPort = (hub as unknown as { ports: { leafnode: number } }).ports.leafnode;
    edge = await startTestServer({
      httpPort: 0,
      accounts: ['X', 'Y'].map((name) => ({ name, exports: [], imports: [], jetstream: false })),
      users: [
        { user: 'x', password: 'x', account: 'X' },
        { user: 'y', password: 'y', account: 'Y' },
      ],
      leafnodes: { remotes: [{ urls: [`nats-leaf://leaf:leaf@127.0.0.1:${leafPort}`], account: 'X' }] } as unknown as ServerOptions['leafnodes'],
    });
  });

  after(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => {})));
    await edge?.close();
    await hub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the link joins the hub's account A to the edge's account X, and no other", async () => {
    const [x, y, a, b] = [await open(edge, 'x'), await open(edge, 'y'), await open(hub, 'a'), await open(hub, 'b')];
    const got: string[] = [];
    x.subscribe('c.down', { callback: (_e, m) => void got.push(`x ${m.string()}`) });
    y.subscribe('c.down', { callback: (_e, m) => void got.push(`y ${m.string()}`) });
    b.subscribe('c.up', { callback: (_e, m) => void got.push(`b ${m.string()}`) });
    a.subscribe('c.up', { callback: (_e, m) => void got.push(`a ${m.string()}`) });
    await Promise.all([x.flush(), y.flush(), a.flush(), b.flush()]);
    await linked(hub, 'c.down');
    await linked(edge, 'c.up');
    b.publish('c.down', 'from B: not for the edge');
    a.publish('c.down', 'from A');
    y.publish('c.up', 'from Y: not for the hub');
    x.publish('c.up', 'from X');
    await waitFor(() => got.length >= 2, 'both crossings', 5000);
    // Each side's own traffic after it: a message from the wrong account would have come first.
    await Promise.all([a.flush(), b.flush(), x.flush(), y.flush()]);
    assert.deepEqual(got.sort(), ['a from X', 'x from A']);
  });

  test("a publish from the edge runs the hub's imports (the edge does not know them)", async () => {
    const [x, b] = [await open(edge, 'x'), await open(hub, 'b')];
    const got: string[] = [];
    b.subscribe('from_a.a.leaf', { callback: (_e, m) => void got.push(`${m.subject} ${m.string()}`) });
    await b.flush();
    // The hub's import subscribes to A's a.> and is announced over the link to the edge.
    await linked(edge, 'a.>');
    x.publish('a.leaf', 'edge data');
    await waitFor(() => got.length >= 1, 'the imported message', 5000);
    assert.deepEqual(got, ['from_a.a.leaf edge data']);
  });
});
