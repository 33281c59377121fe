// The monitoring endpoints side by side with the reference nats-server: the same scripted traffic
// against both (a queue subscriber, a publisher, a client that closes, a stream with a consumer),
// then every endpoint's JSON compared by shape: each field nats-server answers with must be in
// sluice's answer with the same JSON type, recursively (arrays by their first element). sluice
// may add fields (sluice_version); the few nats-server fields sluice has no counterpart for are
// listed in ABSENT with the reason.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { RunningServer } from '../../server/index.ts';
import { startTestServer } from '../helpers/server.ts';
import { freePort, startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import { waitFor } from '../helpers/deadline.ts';

/** nats-server fields sluice does not answer with, by path (`*` = any array element). */
const ABSENT = new Set([
  // Without configured accounts sluice names no system account in /accountz, and lists no
  // account imports (nats-server shows its system imports).
  'accountz.system_account',
  'accountz?acc.system_account',
  'accountz?acc.account_detail.imports',
]);

/** Objects keyed by data (request paths), compared as objects only. */
const MAPS = new Set(['varz.http_req_stats']);

const ENDPOINTS = [
  '/varz',
  '/connz?subs=1&auth=1',
  '/connz?subs=detail',
  '/connz?state=closed&subs=1',
  '/connz?state=all&sort=cid&limit=2&offset=1',
  '/subsz',
  '/subsz?subs=1',
  '/subsz?subs=1&test=orders.new',
  '/routez',
  '/jsz',
  '/jsz?streams=1&consumers=1&config=1',
  '/healthz',
  '/healthz?js-enabled-only=1',
  '/healthz?js-server-only=1',
  '/accountz',
  '/accountz?acc=$G',
];

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Differences between the reference's shape and ours, as `path: reason` lines. */
function shapeDiff(ref: unknown, ours: unknown, path: string, out: string[]): void {
  if (ABSENT.has(path)) return;
  if (typeOf(ref) !== typeOf(ours)) {
    out.push(`${path}: nats-server ${typeOf(ref)}, sluice ${typeOf(ours)}`);
    return;
  }
  if (Array.isArray(ref) && Array.isArray(ours)) {
    if (ref.length > 0 && ours.length > 0) {
      // Lists come in no fixed order (nats-server walks Go maps: its first subscription is
      // sometimes the queue one, with a qgroup): the reference's first item is compared with the
      // item of ours closest to it in shape.
      let best: string[] | undefined;
      for (const item of ours) {
        const d: string[] = [];
        shapeDiff(ref[0], item, `${path}.*`, d);
        if (best === undefined || d.length < best.length) best = d;
        if (d.length === 0) break;
      }
      out.push(...best!);
    } else if (ref.length > 0 !== ours.length > 0) out.push(`${path}: nats-server ${ref.length} items, sluice ${ours.length}`);
    return;
  }
  if (typeOf(ref) === 'object' && !MAPS.has(path)) {
    const r = ref as Record<string, unknown>;
    const o = ours as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      const p = `${path}.${key}`;
      if (ABSENT.has(p)) continue;
      if (!(key in o)) out.push(`${p}: missing in sluice`);
      else shapeDiff(r[key], o[key], p, out);
    }
  }
}

interface Target {
  clientUrl: string;
  httpUrl: string;
}

/** The same traffic against either server. */
async function script(t: Target): Promise<() => Promise<void>> {
  const sub = await connect({ servers: t.clientUrl, name: 'subscriber' });
  const pub = await connect({ servers: t.clientUrl, name: 'publisher' });
  let got = 0;
  sub.subscribe('orders.*', { queue: 'workers', callback: () => void got++ });
  sub.subscribe('audit');
  await sub.flush();
  for (let i = 0; i < 20; i++) pub.publish('orders.new', 'payload');
  await pub.flush();
  await waitFor(() => got === 20, 'twenty deliveries');
  const quitter = await connect({ servers: t.clientUrl, name: 'quitter' });
  quitter.subscribe('bye');
  await quitter.flush();
  await quitter.close();
  const jsm = await jetstreamManager(pub);
  await jsm.streams.add({ name: 'SHIPPED', subjects: ['shipped.>'] });
  await jsm.consumers.add('SHIPPED', { durable_name: 'billing', ack_policy: AckPolicy.Explicit });
  const js = jsm.jetstream();
  for (let i = 0; i < 3; i++) await js.publish('shipped.eu', 'box');
  // Both servers have seen the close once it shows in their closed list.
  await waitFor(async () => {
    const r = (await (await fetch(`${t.httpUrl}/connz?state=closed`)).json()) as { total: number };
    return r.total >= 1;
  }, 'the closed connection to be listed');
  return async () => {
    await sub.close();
    await pub.close();
  };
}

describe('monitoring JSON has nats-server\'s shape', () => {
  let sluice: RunningServer;
  let ref: ReferenceServer;
  let refHttp: string;
  let sluiceDir: string;
  let refDir: string;
  const cleanups: (() => Promise<void>)[] = [];

  before(async () => {
    sluiceDir = await mkdtemp(join(tmpdir(), 'sluice-mon-e2e-'));
    refDir = await mkdtemp(join(tmpdir(), 'nats-mon-e2e-'));
    sluice = await startTestServer({ httpPort: 0, storeDir: sluiceDir });
    const mport = await freePort();
    ref = await startNatsServer(['-m', String(mport), '-js', '-sd', refDir]);
    refHttp = `http://127.0.0.1:${mport}`;
    await waitFor(async () => (await fetch(`${refHttp}/healthz`).catch(() => undefined))?.ok === true, 'nats-server monitoring');
    cleanups.push(await script({ clientUrl: sluice.clientUrl, httpUrl: sluice.httpUrl! }));
    cleanups.push(await script({ clientUrl: ref.url, httpUrl: refHttp }));
  });

  after(async () => {
    for (const c of cleanups) await c().catch(() => {});
    await sluice?.close();
    await ref?.stop();
    await rm(sluiceDir, { recursive: true, force: true });
    await rm(refDir, { recursive: true, force: true });
  });

  for (const endpoint of ENDPOINTS) {
    test(endpoint, async () => {
      const [r, o] = await Promise.all([fetch(`${refHttp}${endpoint}`), fetch(`${sluice.httpUrl}${endpoint}`)]);
      assert.equal(o.status, r.status, 'status');
      const refJson: unknown = await r.json();
      const ourJson: unknown = await o.json();
      const name = endpoint.slice(1).replace(/\?.*$/, endpoint.includes('acc=') ? '?acc' : '');
      const diffs: string[] = [];
      shapeDiff(refJson, ourJson, name, diffs);
      assert.deepEqual(diffs, [], `${endpoint}\nnats-server: ${JSON.stringify(refJson).slice(0, 1500)}\nsluice: ${JSON.stringify(ourJson).slice(0, 1500)}`);
    });
  }

  test('bad queries are refused by both with a 400', async () => {
    for (const q of ['/connz?sort=bogus', '/connz?sort=stop', '/connz?subs=maybe', '/subsz?subs=1&test=orders.*', '/healthz?js-enabled-only=perhaps']) {
      const [r, o] = await Promise.all([fetch(`${refHttp}${q}`), fetch(`${sluice.httpUrl}${q}`)]);
      assert.equal(r.status, 400, `nats-server ${q}`);
      assert.equal(o.status, 400, `sluice ${q}`);
      assert.equal(await o.text(), await r.text(), q);
    }
  });

  test('the same counts after the same traffic', async () => {
    const [r, o] = await Promise.all(
      [refHttp, sluice.httpUrl!].map(async (u) => (await (await fetch(`${u}/connz?subs=1`)).json()) as { connections: Record<string, unknown>[] }),
    );
    const counts = (c: { connections: Record<string, unknown>[] }) =>
      c.connections
        .filter((x) => x.name === 'subscriber')
        .map((x) => ({ out_msgs: x.out_msgs, out_bytes: x.out_bytes, subscriptions: x.subscriptions }));
    assert.deepEqual(counts(o!), counts(r!));
    const [rj, oj] = await Promise.all(
      [refHttp, sluice.httpUrl!].map(async (u) => (await (await fetch(`${u}/jsz?consumers=1`)).json()) as Record<string, unknown>),
    );
    const pending = (j: Record<string, unknown>) =>
      (j.account_details as { stream_detail: { state: { messages: number }; consumer_detail: { num_pending: number }[] }[] }[])[0]!.stream_detail.map(
        (s) => [s.state.messages, s.consumer_detail.map((c) => c.num_pending)],
      );
    assert.deepEqual(pending(oj!), pending(rj!));
  });
});
