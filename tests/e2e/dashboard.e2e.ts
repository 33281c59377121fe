// The live dashboard at / of the monitoring port, in headless Chromium (Debian `chromium`, driven
// by playwright-core): it loads without errors, shows the connection count, and its figures move
// under traffic: the message rates and the chart, a stream's message count and a consumer's
// pending count.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { RunningServer } from '../../server/index.ts';
import { startTestServer } from '../helpers/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

describe('dashboard in headless Chromium', () => {
  let server: RunningServer;
  let storeDir: string;
  let browser: Browser;
  let page: Page;
  let nc: NatsConnection;
  const pageErrors: string[] = [];

  before(async () => {
    if (CHROMIUM === undefined) throw new Error('chromium is not installed (apt-get install -y chromium; .ci/run does this)');
    storeDir = await mkdtemp(join(tmpdir(), 'sluice-dashboard-'));
    server = await startTestServer({ httpPort: 0, storeDir });
    nc = await connect({ servers: server.clientUrl, name: 'traffic' });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'EVENTS', subjects: ['events.>'] });
    await jsm.consumers.add('EVENTS', { durable_name: 'audit', ack_policy: AckPolicy.Explicit });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    await page.goto(`${server.httpUrl}/`);
  });

  after(async () => {
    await browser?.close();
    await nc?.close();
    await server?.close();
    if (storeDir !== undefined) await rm(storeDir, { recursive: true, force: true });
  });

  const text = (id: string): Promise<string> => page.locator(`#${id}`).innerText();

  test('shows the server live', async () => {
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'live', null, { timeout: 10_000 });
    // The page's own connection is HTTP, not NATS: the one client is the test's.
    await page.waitForFunction(() => document.getElementById('connections')?.textContent === '1', null, { timeout: 10_000 });
    assert.deepEqual(pageErrors, []);
  });

  test('message rates, the chart, and stream and consumer figures move under traffic', async () => {
    const sub = nc.subscribe('load.>', { callback: () => {} });
    let running = true;
    // Traffic until the page has seen it: a publisher loop, stopped once the figures moved.
    const traffic = (async () => {
      let n = 0;
      while (running) {
        for (let i = 0; i < 200; i++) nc.publish('load.x', 'payload');
        if (n++ % 10 === 0) nc.publish('events.click', 'e');
        await nc.flush();
      }
    })();
    try {
      await page.waitForFunction(
        () => Number((document.getElementById('in-rate')?.textContent ?? '0').replace(/,/g, '')) > 0 &&
          Number((document.getElementById('out-rate')?.textContent ?? '0').replace(/,/g, '')) > 0,
        null,
        { timeout: 15_000 },
      );
      await page.waitForFunction(
        () => {
          const row = document.querySelector('#streams tr[data-consumer="audit"]');
          return row !== null && Number((row.children[4]?.textContent ?? '0').replace(/,/g, '')) > 0;
        },
        null,
        { timeout: 15_000 },
      );
    } finally {
      running = false;
      await traffic;
      sub.unsubscribe();
    }
    const streamRow = page.locator('#streams tr[data-stream="EVENTS"]:not([data-consumer])');
    assert.equal(await streamRow.locator('td').first().innerText(), 'EVENTS');
    assert.ok(Number((await streamRow.locator('td').nth(2).innerText()).replace(/,/g, '')) > 0, 'stream messages shown');
    // The chart drew something: some pixel of the canvas is not transparent.
    const drawn = await page.evaluate(() => {
      const c = document.getElementById('rates') as HTMLCanvasElement;
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
      return false;
    });
    assert.equal(drawn, true);
    assert.match(await text('subscriptions'), /^\d/);
    assert.equal(await text('slow-consumers'), '0');
    assert.deepEqual(pageErrors, []);
  });
});
