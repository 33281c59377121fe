// The browser build of sluice/client (client/browser/build.ts) in headless Chromium (Debian
// `chromium`, driven by playwright-core with executablePath): a page connects over WebSocket and
// does pub/sub, headers, request/reply (served by a Node-side client over TCP, so the two
// transports meet), no-responders and drain. Runs against sluice's WebSocket listener when the
// server has one, and against nats-server's.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { buildBrowserClient, nodeImportsOnLoadPath } from '../../client/browser/build.ts';
import { connect, type NatsConnection } from '../../client/index.ts';
import { startTestServer } from '../helpers/server.ts';
import { freePort, startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import type { RunningServer } from '../../server/index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// A real test: on CI chromium is installed by .ci/run, so a missing browser is a failure there.
const skip = CHROMIUM === undefined && process.env.CI !== 'true' ? 'chromium is not installed (apt-get install -y chromium)' : false;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html' };

function serveDir(dir: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })),
  );
}

interface PageResult {
  got: string[];
  multi: string[];
  reply: string;
  noResponders: string;
  closed: boolean;
  rttOk: boolean;
}

// The page's module, served next to the bundle: everything a browser app does with the client.
// (Plain JS text, not a TypeScript function handed to page.evaluate: tsx would add helpers to it
// that do not exist in the page.)
const PAGE_SCENARIO = `
import { connect, headers } from './sluice-client.js';
export async function run(wsUrl) {
  const nc = await connect({ servers: wsUrl, name: 'browser' });
  const sub = nc.subscribe('browser.test', { max: 3 });
  const h = headers();
  h.append('X-Multi', 'a');
  h.append('X-Multi', 'b');
  nc.publish('browser.test', 'one');
  nc.publish('browser.test', new TextEncoder().encode('two'));
  nc.publish('browser.test', 'three', { headers: h });
  const got = [];
  let multi = [];
  for await (const msg of sub) {
    got.push(msg.string());
    if (msg.headers) multi = msg.headers.getAll('X-Multi');
  }
  const reply = (await nc.request('node.svc', 'from-browser', { timeoutMs: 5000 })).string();
  let noResponders = '';
  try {
    await nc.request('nobody.here', '', { timeoutMs: 5000 });
  } catch (e) {
    noResponders = e.code;
  }
  const rtt = await nc.rtt();
  nc.subscribe('browser.svc', { callback: (msg) => msg.respond('browser-echo:' + msg.string()) });
  // Signal readiness, then serve one request from Node before draining.
  const done = nc.subscribe('browser.done', { max: 1 });
  await nc.flush();
  nc.publish('browser.ready', '');
  for await (const _ of done) void _;
  await nc.drain();
  return { got, multi, reply, noResponders, closed: nc.isClosed(), rttOk: rtt >= 0 };
}
`;

describe('sluice/client in headless Chromium over WebSocket', { skip }, () => {
  let dir: string;
  let web: { server: Server; url: string };
  let browser: Browser;
  const stops: (() => Promise<unknown>)[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-browser-'));
    const b = await buildBrowserClient(dir);
    assert.deepEqual(nodeImportsOnLoadPath(b, dir), [], 'the browser bundle loads no Node module');
    writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>sluice client</title>');
    writeFileSync(join(dir, 'scenario.js'), PAGE_SCENARIO);
    web = await serveDir(dir);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((r) => (web ? web.server.close(() => r()) : r()));
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  async function runAgainst(wsUrl: string, tcpUrl: string): Promise<void> {
    const node: NatsConnection = await connect({ servers: tcpUrl, reconnect: false });
    try {
      node.subscribe('node.svc', { callback: (msg) => void msg.respond(`node-echo:${msg.string()}`) });
      const ready = node.subscribe('browser.ready', { max: 1 });
      await node.flush();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${web.url}/index.html`);
      const result = page.evaluate(`import('/scenario.js').then((m) => m.run(${JSON.stringify(wsUrl)}))`) as Promise<PageResult>;
      // If the page fails before it is ready, fail with its error instead of waiting forever.
      await Promise.race([
        (async () => {
          for await (const _ of ready) void _;
        })(),
        result.then(() => {
          throw new Error('page finished before signalling readiness');
        }),
      ]);
      const fromBrowser = await node.request('browser.svc', 'from-node', { timeoutMs: 5000 });
      assert.equal(fromBrowser.string(), 'browser-echo:from-node');
      node.publish('browser.done', '');
      const r = await result;
      await page.close();
      assert.deepEqual(errors, []);
      assert.deepEqual(r.got, ['one', 'two', 'three']);
      assert.deepEqual(r.multi, ['a', 'b']);
      assert.equal(r.reply, 'node-echo:from-browser');
      assert.equal(r.noResponders, 'NO_RESPONDERS');
      assert.equal(r.rttOk, true);
      assert.equal(r.closed, true);
    } finally {
      await node.close();
    }
  }

  test('against nats-server', async () => {
    const wsPort = await freePort();
    const conf = join(dir, 'ws.conf');
    writeFileSync(conf, `websocket {\n  host: 127.0.0.1\n  port: ${wsPort}\n  no_tls: true\n}\n`);
    const ns: ReferenceServer = await startNatsServer(['-c', conf]);
    stops.push(() => ns.stop());
    await runAgainst(`ws://127.0.0.1:${wsPort}`, ns.url);
  });

  test('against sluice', async () => {
    const server: RunningServer = await startTestServer({ wsPort: 0 });
    stops.push(() => server.close());
    assert.ok(server.ports.ws !== undefined, 'sluice reports its WebSocket port');
    await runAgainst(`ws://127.0.0.1:${server.ports.ws}`, server.clientUrl);
  });
});
