// The monitoring endpoints against real state after scripted traffic: /connz counts, paging,
// sorting and closed reasons, /subsz, /jsz details, /healthz and /accountz parameters, /metrics
// parsed as Prometheus text with counters equal to the traffic sent, and the dashboard's files.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import type { RunningServer } from '../../server/index.ts';
import { startTestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { waitFor } from '../helpers/deadline.ts';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.ts';
import { startTestCluster } from '../helpers/cluster.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function get(server: RunningServer, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${server.httpUrl}${path}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function json(server: RunningServer, path: string): Promise<Json> {
  const r = await get(server, path);
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  return JSON.parse(r.body) as Json;
}

describe('monitoring after scripted traffic', () => {
  let server: RunningServer;
  let storeDir: string;
  const clients: NatsConnection[] = [];
  let sub: NatsConnection;
  let pub: NatsConnection;

  before(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'sluice-monitoring-'));
    server = await startTestServer({ httpPort: 0, storeDir, maxPendingBytes: 16 * 1024, maxPayloadBytes: 16 * 1024 });
    sub = await connect({ servers: server.clientUrl, name: 'subscriber' });
    pub = await connect({ servers: server.clientUrl, name: 'publisher' });
    clients.push(sub, pub);
    let got = 0;
    sub.subscribe('orders.*', { queue: 'workers', callback: () => void got++ });
    sub.subscribe('audit', { callback: () => {} });
    await sub.flush();
    for (let i = 0; i < 25; i++) pub.publish('orders.new', 'x'.repeat(10));
    await pub.flush();
    await waitFor(() => got === 25, 'the subscriber to get 25 messages');
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await server.close();
    await rm(storeDir, { recursive: true, force: true });
  });

  test('/connz counts each connection\'s traffic, pages and sorts', async () => {
    const all = await json(server, '/connz?subs=1');
    assert.equal(all.total, 2);
    assert.equal(all.offset, 0);
    assert.equal(all.limit, 1024);
    const byName = new Map<string, Json>(all.connections.map((c: Json) => [c.name, c]));
    const s = byName.get('subscriber')!;
    const p = byName.get('publisher')!;
    assert.equal(p.in_msgs, 25);
    assert.equal(p.in_bytes, 250);
    assert.equal(s.out_msgs, 25);
    assert.equal(s.out_bytes, 250);
    assert.equal(s.subscriptions, 2);
    assert.deepEqual([...s.subscriptions_list].sort(), ['audit', 'orders.*']);
    assert.equal(s.kind, 'Client');
    assert.equal(s.type, 'nats');
    assert.equal(s.lang, 'nats.js');
    assert.equal(typeof s.rtt, 'string');
    assert.match(s.start, /^\d{4}-\d\d-\d\dT/);

    // Sorted by messages received, the publisher comes first; by messages sent, the subscriber.
    assert.equal((await json(server, '/connz?sort=msgs_from')).connections[0].name, 'publisher');
    assert.equal((await json(server, '/connz?sort=msgs_to')).connections[0].name, 'subscriber');
    const cids = all.connections.map((c: Json) => c.cid);
    assert.deepEqual(cids, [...cids].sort((a: number, b: number) => a - b), 'cid order by default');

    const page2 = await json(server, '/connz?offset=1&limit=1');
    assert.equal(page2.num_connections, 1);
    assert.equal(page2.total, 2);
    assert.equal(page2.offset, 1);
    assert.equal(page2.limit, 1);
    assert.equal(page2.connections[0].cid, cids[1]);
    const past = await json(server, '/connz?offset=5');
    assert.equal(past.num_connections, 0);
    assert.deepEqual(past.connections, []);

    const detail = await json(server, `/connz?cid=${s.cid}&subs=detail`);
    const entry = detail.connections[0].subscriptions_list_detail.find((d: Json) => d.subject === 'orders.*');
    assert.deepEqual(Object.keys(entry).sort(), ['account', 'cid', 'msgs', 'qgroup', 'sid', 'subject']);
    assert.equal(entry.msgs, 25);
    assert.equal(entry.qgroup, 'workers');
  });

  test('/connz refuses what nats-server refuses, with a 400', async () => {
    for (const [q, text] of [
      ['sort=bogus', 'invalid sorting option: bogus'],
      ['sort=stop', 'sort by stop only valid on closed connections'],
      ['subs=maybe', "Error decoding boolean for 'subs'"],
      ['state=gone', 'invalid connection state'],
    ] as const) {
      const r = await get(server, `/connz?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(r.body.includes(text), `${q}: ${r.body}`);
    }
  });

  test('closed connections keep their figures and the reason they closed', async () => {
    const quitter = await connect({ servers: server.clientUrl, name: 'quitter' });
    quitter.subscribe('bye');
    quitter.publish('orders.new', 'x');
    await quitter.flush();
    await quitter.close();

    const garbled = await RawClient.connect(server.ports.client);
    garbled.send('CONNECT {"verbose":false,"name":"garbled"}\r\nFOO BAR\r\n');
    await garbled.waitClosed();

    // max_pending is 16 KiB here: a subscriber that stops reading is cut off once the kernel's
    // socket buffers are full and 16 KiB more are queued.
    const slow = await RawClient.connect(server.ports.client);
    slow.send('CONNECT {"verbose":false,"name":"slow"}\r\nSUB big 1\r\nPING\r\n');
    await slow.waitFor('PONG');
    slow.socket.pause();
    const chunk = new Uint8Array(8000);
    await waitFor(async () => {
      for (let i = 0; i < 50; i++) pub.publish('big', chunk);
      await pub.flush();
      return server.connectionCount() === 2;
    }, 'the slow consumer to be closed', 20_000);
    slow.destroy();

    const closed = await waitFor(async () => {
      const c = await json(server, '/connz?state=closed&subs=1');
      return c.total >= 3 ? c : undefined;
    }, 'three closed connections');
    const byName = new Map<string, Json>(closed.connections.map((c: Json) => [c.name, c]));
    const q = byName.get('quitter')!;
    assert.equal(q.reason, 'Client Closed');
    assert.equal(q.in_msgs, 1);
    assert.deepEqual(q.subscriptions_list, ['bye']);
    assert.match(q.stop, /^\d{4}-/);
    assert.equal(byName.get('garbled')!.reason, 'Protocol Violation');
    assert.equal(byName.get('slow')!.reason, 'Slow Consumer (Pending Bytes)');

    const open = await json(server, '/connz');
    assert.ok(open.connections.every((c: Json) => c.reason === undefined && c.stop === undefined));
    const everything = await json(server, '/connz?state=all');
    assert.equal(everything.total, open.total + closed.total);
    const newestFirst = await json(server, '/connz?state=closed&sort=stop');
    const stops = newestFirst.connections.map((c: Json) => Date.parse(c.stop));
    assert.deepEqual(stops, [...stops].sort((a: number, b: number) => b - a));
    const byReason = await json(server, '/connz?state=closed&sort=reason');
    const reasons = byReason.connections.map((c: Json) => c.reason);
    assert.deepEqual(reasons, [...reasons].sort());

    const varz = await json(server, '/varz');
    assert.equal(varz.slow_consumers, 1);
  });

  test('/subsz: statistics, the list with subs=1, filtered by test=', async () => {
    const stats = await json(server, '/subsz');
    assert.equal(typeof stats.num_subscriptions, 'number');
    assert.equal(stats.subscriptions_list, undefined);
    const list = await json(server, '/subsz?subs=1&test=orders.new');
    assert.equal(list.total, 1);
    assert.equal(list.subscriptions_list[0].subject, 'orders.*');
    assert.equal(list.subscriptions_list[0].qgroup, 'workers');
    assert.equal(list.subscriptions_list[0].msgs >= 25, true);
    const bad = await get(server, '/subsz?subs=1&test=orders.*');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /invalid test subject/);
  });

  test('/jsz lists streams and consumers with pending counts', async () => {
    const jsm = await jetstreamManager(pub);
    await jsm.streams.add({ name: 'ORDERS', subjects: ['shipped.>'] });
    await jsm.consumers.add('ORDERS', { durable_name: 'billing', ack_policy: AckPolicy.Explicit });
    const js = jsm.jetstream();
    for (let i = 0; i < 4; i++) await js.publish('shipped.eu', 'box');

    const plain = await json(server, '/jsz');
    assert.equal(plain.streams, 1);
    assert.equal(plain.consumers, 1);
    assert.equal(plain.messages, 4);
    assert.equal(plain.account_details, undefined);

    const streams = await json(server, '/jsz?streams=1');
    const s = streams.account_details[0].stream_detail[0];
    assert.equal(s.name, 'ORDERS');
    assert.equal(s.state.messages, 4);
    assert.equal(s.config, undefined);
    assert.equal(s.consumer_detail, undefined);

    const full = await json(server, '/jsz?consumers=1&config=1');
    const fs = full.account_details[0].stream_detail[0];
    assert.deepEqual(fs.config.subjects, ['shipped.>']);
    const c = fs.consumer_detail[0];
    assert.equal(c.name, 'billing');
    assert.equal(c.num_pending, 4);
    assert.equal(c.config.durable_name, 'billing');
    assert.equal((await json(server, '/jsz?consumers=1')).account_details[0].stream_detail[0].consumer_detail[0].config, undefined);
  });

  test('/healthz and /accountz parameters', async () => {
    assert.deepEqual(await json(server, '/healthz'), { status: 'ok' });
    assert.deepEqual(await json(server, '/healthz?js-enabled-only=true'), { status: 'ok' });
    assert.deepEqual(await json(server, '/healthz?js-server-only=1'), { status: 'ok' });
    assert.equal((await get(server, '/healthz?js-enabled-only=perhaps')).status, 400);

    assert.deepEqual((await json(server, '/accountz')).accounts, ['$G']);
    const acc = await json(server, '/accountz?acc=$G');
    assert.equal(acc.account_detail.account_name, '$G');
    assert.equal(acc.account_detail.jetstream_enabled, true);
    assert.equal(acc.account_detail.client_connections, 2);
    assert.equal((await get(server, '/accountz?acc=OTHER')).status, 400);
  });

  test('/metrics is Prometheus text whose counters equal the traffic', async () => {
    const r = await get(server, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(r.body);
    const varz = await json(server, '/varz');
    // Nothing moves between the two reads: this test sends no traffic of its own.
    assert.equal(sampleValue(m, 'gnatsd_varz_in_msgs'), varz.in_msgs);
    assert.equal(sampleValue(m, 'gnatsd_varz_out_msgs'), varz.out_msgs);
    assert.equal(sampleValue(m, 'gnatsd_varz_in_bytes'), varz.in_bytes);
    assert.equal(sampleValue(m, 'gnatsd_varz_total_connections'), varz.total_connections);
    assert.equal(sampleValue(m, 'gnatsd_varz_slow_consumers'), 1);
    assert.equal(sampleValue(m, 'gnatsd_varz_connections'), 2);
    assert.equal(m.get('gnatsd_varz_in_msgs')!.type, 'counter');
    assert.equal(sampleValue(m, 'sluice_connections_closed_total', { reason: 'Client Closed' }) >= 1, true);
    assert.equal(sampleValue(m, 'sluice_connections_closed_total', { reason: 'Slow Consumer (Pending Bytes)' }), 1);
    assert.equal(sampleValue(m, 'jetstream_stream_total_messages', { stream_name: 'ORDERS' }), 4);
    assert.equal(sampleValue(m, 'jetstream_consumer_num_pending', { stream_name: 'ORDERS', consumer_name: 'billing' }), 4);
    // Bounded cardinality: no series names a subject or a connection.
    for (const f of m.values()) {
      for (const s of f.samples) {
        assert.ok(!('subject' in s.labels) && !('cid' in s.labels), `${s.name} ${JSON.stringify(s.labels)}`);
      }
    }
  });

  test('the dashboard is served as plain files, and /varz counts requests per path', async () => {
    const page = await get(server, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    assert.match(page.body, /<script src="dashboard.js">/);
    const script = await get(server, '/dashboard.js');
    assert.match(script.type, /^text\/javascript/);
    assert.match(script.body, /getJson\('varz'\)/);
    assert.equal((await get(server, '/dashboard.css')).status, 200);
    const varz = await json(server, '/varz');
    assert.equal(varz.http_req_stats['/'] >= 1, true);
  });
});

test('/connz auth=1 shows the user; a failed login closes as Authentication Failure', async (t) => {
  const server = await startTestServer({ httpPort: 0, users: [{ user: 'alice', password: 'a1' }] });
  t.after(() => server.close());
  const nc = await connect({ servers: server.clientUrl, user: 'alice', pass: 'a1', name: 'alice-app' });
  t.after(() => nc.close());
  const bad = await RawClient.connect(server.ports.client);
  bad.send('CONNECT {"verbose":false,"user":"alice","pass":"wrong","name":"intruder"}\r\n');
  await bad.waitClosed();

  const withAuth = await json(server, '/connz?auth=1');
  assert.equal(withAuth.connections[0].authorized_user, 'alice');
  assert.equal(withAuth.connections[0].account, undefined, 'the global account is not named');
  assert.equal((await json(server, '/connz')).connections[0].authorized_user, undefined);
  assert.equal((await json(server, '/connz?user=alice')).total, 1);
  const closed = await waitFor(async () => {
    const c = await json(server, '/connz?state=closed');
    return c.total === 1 ? c : undefined;
  }, 'the failed login in the closed list');
  assert.equal(closed.connections[0].reason, 'Authentication Failure');
});

test('/metrics counters equal the messages and bytes sent', async (t) => {
  const server = await startTestServer({ httpPort: 0 });
  t.after(() => server.close());
  const sub = await connect({ servers: server.clientUrl });
  const pub = await connect({ servers: server.clientUrl });
  t.after(async () => {
    await sub.close();
    await pub.close();
  });
  let got = 0;
  sub.subscribe('counted', { callback: () => void got++ });
  await sub.flush();
  const payload = new Uint8Array(100);
  for (let i = 0; i < 1000; i++) pub.publish('counted', payload);
  await pub.flush();
  await waitFor(() => got === 1000, 'the subscriber to get 1000 messages');
  const m = parsePrometheusText((await get(server, '/metrics')).body);
  assert.equal(sampleValue(m, 'gnatsd_varz_in_msgs'), 1000);
  assert.equal(sampleValue(m, 'gnatsd_varz_in_bytes'), 100_000);
  assert.equal(sampleValue(m, 'gnatsd_varz_out_msgs'), 1000);
  assert.equal(sampleValue(m, 'gnatsd_varz_out_bytes'), 100_000);
  assert.equal(sampleValue(m, 'gnatsd_varz_total_connections'), 2);
  assert.equal(sampleValue(m, 'gnatsd_varz_subscriptions'), 1);
  assert.equal(sampleValue(m, 'jetstream_server_jetstream_disabled'), 1);
  // Counters are reported as counters, figures that go down as gauges.
  assert.equal(m.get('gnatsd_varz_out_bytes')!.type, 'counter');
  assert.equal(m.get('gnatsd_varz_connections')!.type, 'gauge');
});

test('in a cluster, /metrics has one series set per route, named by the peer', async () => {
  const cluster = await startTestCluster(2);
  try {
    await cluster.meshed();
    const [s0] = cluster.members.map((mb) => mb.server);
    const text = await (await fetch(`${s0!.httpUrl}/metrics`)).text();
    const m = parsePrometheusText(text);
    assert.equal(sampleValue(m, 'gnatsd_routez_num_routes'), 1);
    assert.equal(sampleValue(m, 'gnatsd_varz_routes'), 1);
    const routes = m.get('gnatsd_routez_in_msgs')!.samples;
    assert.equal(routes.length, 1);
    assert.equal(routes[0]!.labels.remote_name, 's1');
    const routez = (await (await fetch(`${s0!.httpUrl}/routez`)).json()) as Json;
    assert.equal(routes[0]!.labels.rid, String(routez.routes[0].rid));
  } finally {
    await cluster.close();
  }
});

test('/connz rtt is the round trip of the server\'s keepalive PING', async (t) => {
  const server = await startTestServer({ httpPort: 0, pingIntervalMs: 50 });
  t.after(() => server.close());
  const nc = await connect({ servers: server.clientUrl, name: 'idle' });
  t.after(() => nc.close());
  assert.equal((await json(server, '/connz')).connections[0].rtt, '0s');
  // An idle client is pinged after one interval; the official client answers with PONG.
  const rtt = await waitFor(async () => {
    const c = (await json(server, '/connz')).connections[0];
    return c.rtt !== '0s' ? (c.rtt as string) : undefined;
  }, 'a timed keepalive round trip');
  assert.match(rtt, /^\d+(\.\d+)?(µs|ms|s)$/);
});
