// The system account's requests and periodic events with the official client: the monitoring
// endpoints through $SYS.REQ.SERVER.PING.<NAME> / .<server id>.<NAME> and the account requests
// ($SYS.REQ.ACCOUNT.<acc>.<NAME>) on one server, STATSZ every few seconds while someone listens,
// and every server of a three-server cluster answering a PING once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { ACCOUNTS_CONF } from './accounts-suite.ts';
import { accountPingRequests } from './system-account-suite.ts';

/** The accounts of the accounts suite, without JetStream. */
function accountsOptions(): Partial<ServerOptions> {
  const loaded = loadConfigText(ACCOUNTS_CONF.replace('$STORE', '/nonexistent'), 'accounts.conf');
  return { ...loaded.options, storeDir: undefined };
}

type Answer = { server: { id: string; name: string; seq: number }; data?: Record<string, unknown>; error?: { code: number; description: string }; statsz?: unknown };

async function ask(nc: NatsConnection, subject: string, body: unknown = ''): Promise<Answer> {
  const m = await nc.request(subject, typeof body === 'string' ? body : JSON.stringify(body), { timeout: 3000 });
  return m.json<Answer>();
}

describe('the system account on one server', () => {
  let server: RunningServer;
  let sys: NatsConnection;
  let a: NatsConnection;

  before(async () => {
    server = await startTestServer(accountsOptions());
    sys = await connect({ servers: server.clientUrl, user: 'sys', pass: 'sys' });
    a = await connect({ servers: server.clientUrl, user: 'a', pass: 'a', name: 'a-client' });
    a.subscribe('c.only.a');
    await a.flush();
  });

  after(async () => {
    await a?.close();
    await sys?.close();
    await server?.close();
  });

  // First: the heartbeat backs off from 250 ms, so the first beats come within seconds of start.
  test('STATSZ is published on $SYS.SERVER.<id>.STATSZ while someone listens', async () => {
    const beats: { server: { id: string }; statsz: { connections: number } }[] = [];
    const sub = sys.subscribe(`$SYS.SERVER.${server.serverId}.STATSZ`, { callback: (_e, m) => void beats.push(m.json()) });
    await waitFor(() => beats.length >= 1, 'a STATSZ heartbeat', 10_000);
    sub.unsubscribe();
    assert.equal(beats[0]!.server.id, server.serverId);
    assert.equal(beats[0]!.statsz.connections, 2);
  });

  test('PING.VARZ and PING.CONNZ answer with the monitoring documents, options from the body', async () => {
    const varz = await ask(sys, '$SYS.REQ.SERVER.PING.VARZ');
    assert.equal(varz.server.id, server.serverId);
    assert.equal(varz.data?.server_id, server.serverId);
    assert.equal(typeof varz.data?.connections, 'number');
    const connz = await ask(sys, '$SYS.REQ.SERVER.PING.CONNZ', { subscriptions: true, auth: true, acc: 'A' });
    const conns = connz.data?.connections as { name: string; account: string; subscriptions_list: string[] }[];
    assert.deepEqual(
      conns.map((c) => [c.name, c.account, c.subscriptions_list]),
      [['a-client', 'A', ['c.only.a']]],
    );
    // state 1 is ConnClosed in nats-server's options: none closed yet.
    assert.equal((await ask(sys, '$SYS.REQ.SERVER.PING.CONNZ', { state: 1 })).data?.total, 0);
  });

  test('$SYS.REQ.SERVER.<id>.<NAME> answers the same; SUBSZ by account, HEALTHZ, ACCOUNTZ, LEAFZ, ROUTEZ, JSZ', async () => {
    const direct = `$SYS.REQ.SERVER.${server.serverId}`;
    const subsz = await ask(sys, `${direct}.SUBSZ`, { subscriptions: true, account: 'A' });
    // A's imports subscribe in A too (as nats-server lists its internal ones); nothing of another account.
    const listed = (subsz.data?.subscriptions_list as { subject: string; account: string }[]).map((s) => `${s.account} ${s.subject}`);
    assert.ok(listed.includes('A c.only.a'));
    assert.deepEqual(listed.filter((l) => !l.startsWith('A ')), []);
    assert.deepEqual((await ask(sys, `${direct}.HEALTHZ`)).data, { status: 'ok' });
    assert.equal((await ask(sys, `${direct}.ACCOUNTZ`)).data?.system_account, 'SYS');
    assert.equal((await ask(sys, `${direct}.ACCOUNTZ`, { account: 'B' })).data?.account_detail !== undefined, true);
    assert.equal((await ask(sys, `${direct}.LEAFZ`)).data?.leafnodes, 0);
    assert.equal((await ask(sys, `${direct}.ROUTEZ`)).data?.num_routes, 0);
    assert.equal((await ask(sys, `${direct}.JSZ`)).data?.disabled, true);
    assert.equal((await ask(sys, `${direct}.STATSZ`)).server.id, server.serverId);
  });

  test('account requests: INFO, CONNZ, SUBSZ, STATZ, CONNS; an unknown account is an error', async () => {
    assert.equal((await ask(sys, '$SYS.REQ.ACCOUNT.A.INFO')).data?.account_name, 'A');
    const connz = await ask(sys, '$SYS.REQ.ACCOUNT.A.CONNZ');
    assert.deepEqual((connz.data?.connections as { name: string }[]).map((c) => c.name), ['a-client']);
    const subsz = await ask(sys, '$SYS.REQ.ACCOUNT.A.SUBSZ');
    assert.ok((subsz.data?.subscriptions_list as { subject: string; account: string }[]).every((s) => s.account === 'A'));
    assert.equal(subsz.data?.total, (await ask(sys, '$SYS.REQ.SERVER.PING.SUBSZ', { subscriptions: true, account: 'A' })).data?.total);
    const statz = await ask(sys, '$SYS.REQ.ACCOUNT.A.STATZ');
    assert.deepEqual((statz.data?.account_statz as { acc: string; conns: number }[]).map((s) => [s.acc, s.conns]), [['A', 1]]);
    const ping = await ask(sys, '$SYS.REQ.ACCOUNT.PING.STATZ', { accounts: ['SYS', 'A'] });
    assert.deepEqual((ping.data?.account_statz as { acc: string }[]).map((s) => s.acc), ['SYS', 'A']);
    const conns = (await sys.request('$SYS.REQ.ACCOUNT.A.CONNS', '', { timeout: 3000 })).json<Record<string, unknown>>();
    assert.deepEqual([conns.type, conns.acc, conns.conns, conns.total_conns], ['io.nats.server.advisory.v1.account_connections', 'A', 1, 1]);
    const missing = await ask(sys, '$SYS.REQ.ACCOUNT.NOPE.INFO');
    assert.deepEqual(missing.error, { code: 500, description: 'Account NOPE does not exist' });
    assert.equal((await ask(sys, '$SYS.REQ.ACCOUNT.A.JSZ')).error?.description, 'jetstream not enabled');
  });

  test('a body that is not the options is a 400; a builder refusing the options a 500', async () => {
    const bad = await ask(sys, '$SYS.REQ.SERVER.PING.CONNZ', { subscriptions: 'yes' });
    assert.deepEqual(bad.error, { code: 400, description: 'json: cannot unmarshal string into Go struct field ConnzEventOptions.subscriptions of type bool' });
    assert.equal(bad.data, undefined);
    assert.equal((await ask(sys, '$SYS.REQ.SERVER.PING.VARZ', 'not json')).error?.code, 400);
    const sort = await ask(sys, '$SYS.REQ.SERVER.PING.CONNZ', { sort: 'bogus' });
    assert.deepEqual(sort.error, { code: 500, description: 'invalid sorting option: bogus' });
  });

  test('IDZ names the server; a STATSZ request without a reply is answered on $SYS.SERVER.<id>.STATSZ', async () => {
    const idz = (await sys.request(`$SYS.REQ.SERVER.${server.serverId}.IDZ`, '', { timeout: 3000 })).json<Record<string, unknown>>();
    assert.deepEqual(idz, { name: server.serverName, host: '127.0.0.1', id: server.serverId });
    const beats: unknown[] = [];
    const sub = sys.subscribe(`$SYS.SERVER.${server.serverId}.STATSZ`, { callback: (_e, m) => void beats.push(m.json()) });
    await sys.flush();
    sys.publish('$SYS.REQ.SERVER.PING');
    await waitFor(() => beats.length >= 1, 'the broadcast STATSZ');
    sub.unsubscribe();
  });

  test('a server the filter does not name stays silent', async () => {
    const inbox = createInbox();
    const got: Msg[] = [];
    const sub = sys.subscribe(inbox, { callback: (_e, m) => void got.push(m) });
    // STATSZ is answered at once: had the first been answered, it would arrive before the second's.
    sys.publish('$SYS.REQ.SERVER.PING.STATSZ', JSON.stringify({ server_name: 'no-such-server' }), { reply: inbox });
    sys.publish('$SYS.REQ.SERVER.PING.STATSZ', JSON.stringify({ server_name: server.serverName.slice(2, 10), cluster: '' }), { reply: inbox });
    sys.publish('$SYS.REQ.SERVER.PING.STATSZ', JSON.stringify({ tags: ['az:1'] }), { reply: inbox });
    sys.publish('$SYS.REQ.SERVER.PING.STATSZ', '', { reply: inbox });
    await waitFor(() => got.length >= 2, 'the two answers');
    await sys.flush();
    sub.unsubscribe();
    const seqs = got.map((m) => m.json<Answer>().server.seq);
    assert.equal(got.length, 2);
    assert.equal(seqs[1], seqs[0]! + 1);
  });

  test("every account may ask for its own connections and statistics (nats-server's system imports)", async () => {
    const got = await accountPingRequests(server.clientUrl);
    assert.deepEqual(
      got.map((g) => [g.request, g.top, g.accounts]),
      [
        ['$SYS.REQ.SERVER.PING.CONNZ', ['data', 'server'], ['A a-client', 'A pinger']],
        ['$SYS.REQ.ACCOUNT.PING.CONNZ', ['data', 'server'], ['A a-client', 'A pinger']],
        ['$SYS.REQ.ACCOUNT.PING.STATZ', ['data', 'server'], ['A']],
      ],
    );
  });

  test('users of other accounts do not reach the system requests', async () => {
    await assert.rejects(a.request('$SYS.REQ.SERVER.PING.VARZ', '', { timeout: 1000 }), /no responders/);
  });
});

describe('the system account in a three-server cluster', () => {
  const servers: RunningServer[] = [];
  let sys: NatsConnection | undefined;

  before(async () => {
    const base = { ...accountsOptions(), httpPort: 0 };
    servers.push(await startTestServer({ ...base, serverName: 's0', cluster: { name: 'sys', port: 0 } as ServerOptions['cluster'] }));
    const seed = `nats-route://127.0.0.1:${servers[0]!.ports.cluster}`;
    for (const name of ['s1', 's2']) servers.push(await startTestServer({ ...base, serverName: name, cluster: { name: 'sys', port: 0, routes: [seed] } as ServerOptions['cluster'] }));
    await waitFor(async () => {
      const n = await Promise.all(servers.map(async (s) => ((await (await fetch(`${s.httpUrl}/routez`)).json()) as { num_routes: number }).num_routes));
      return n.every((x) => x === 2);
    }, 'the three servers to route to each other', 10_000);
  });

  after(async () => {
    await sys?.close().catch(() => {});
    for (const s of servers) await s.close();
  });

  test('PING.VARZ and PING.CONNZ get one answer per server; <id>.VARZ only that server', async () => {
    sys = await connect({ servers: servers[0]!.clientUrl, user: 'sys', pass: 'sys' });
    const inbox = createInbox();
    const got: Answer[] = [];
    sys.subscribe(inbox, { callback: (_e, m) => void got.push(m.json()) });
    await sys.flush();
    // The other servers answer to the inbox once they know of it.
    await waitFor(async () => {
      const learnt = await Promise.all(
        servers.slice(1).map(async (s) => {
          const r = (await (await fetch(`${s.httpUrl}/routez?subs=1`)).json()) as { routes: { subscriptions_list?: string[] }[] };
          return r.routes.some((x) => (x.subscriptions_list ?? []).includes(inbox));
        }),
      );
      return learnt.every(Boolean);
    }, 'the inbox to be known cluster-wide', 10_000);
    for (const name of ['VARZ', 'CONNZ']) sys.publish(`$SYS.REQ.SERVER.PING.${name}`, '', { reply: inbox });
    await waitFor(() => got.length >= 6, 'three answers to each PING', 10_000);
    // Each server then answers a request of its own; any duplicate of its PING answers would have
    // come before it over the same route.
    for (const s of servers) sys.publish(`$SYS.REQ.SERVER.${s.serverId}.VARZ`, '', { reply: inbox });
    await waitFor(() => got.length >= 9, 'the three direct answers', 10_000);
    await sys.flush();
    const perServer = new Map<string, string[]>();
    for (const g of got) perServer.set(g.server.name, [...(perServer.get(g.server.name) ?? []), g.data?.num_connections !== undefined ? 'connz' : 'varz']);
    assert.deepEqual(
      [...perServer.entries()].sort().map(([name, kinds]) => [name, kinds.sort()]),
      [
        ['s0', ['connz', 'varz', 'varz']],
        ['s1', ['connz', 'varz', 'varz']],
        ['s2', ['connz', 'varz', 'varz']],
      ],
    );
    assert.equal(got.length, 9);
    // The connections each server lists are its own: the system user is on s0.
    const connz = got.filter((g) => g.data?.num_connections !== undefined);
    assert.deepEqual(connz.map((g) => [g.server.name, g.data?.num_connections]).sort(), [['s0', 1], ['s1', 0], ['s2', 0]]);
  });

  test("a server's STATSZ counts the cluster's servers and lists its routes", async () => {
    const s2 = servers[2]!;
    const m = await sys!.request(`$SYS.REQ.SERVER.${s2.serverId}.STATSZ`, '', { timeout: 3000 });
    const statsz = m.json<{ server: { name: string; cluster: string }; statsz: { active_servers: number; routes: { rid: number; name: string; sent: object; received: object; pending: number }[] } }>();
    assert.deepEqual([statsz.server.name, statsz.server.cluster, statsz.statsz.active_servers], ['s2', 'sys', 3]);
    assert.deepEqual(statsz.statsz.routes.map((r) => r.name).sort(), ['s0', 's1']);
    assert.deepEqual(Object.keys(statsz.statsz.routes[0]!).sort(), ['name', 'pending', 'received', 'rid', 'sent']);
  });
});
