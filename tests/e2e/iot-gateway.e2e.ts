// examples/iot-gateway end to end in headless Chromium (Debian `chromium` driven by playwright-core,
// as in browser-client.e2e.ts): the example's devices publish over WebSocket, its dashboard server
// serves the page, the page shows readings of every device; then the broker restarts on the same
// ports and store, and the page reconnects, shows live readings again, and still has the stream.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connect, jetstreamManager } from '../../client/index.ts';
import { demoFleet } from '../../examples/iot-gateway/devices.ts';
import { startGateway, type Gateway } from '../../examples/iot-gateway/main.ts';
import { TELEMETRY_STREAM, telemetrySubject } from '../../examples/iot-gateway/telemetry.ts';
import { startJsTestServer, tempStoreDir, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor } from '../helpers/deadline.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
// A real test: on CI chromium is installed by .ci/run, so a missing browser is a failure there.
const skip = CHROMIUM === undefined && process.env.CI !== 'true' ? 'chromium is not installed (apt-get install -y chromium)' : false;

/** window.dashboard, as public/dashboard.js keeps it. */
interface DashboardState {
  status: string;
  live: number;
  stored: number;
  disconnects: number;
  reconnects: number;
  subjects: Record<string, { value: number; unit: string; ts: number; source: string }>;
}

async function dashboardState(page: Page): Promise<DashboardState | undefined> {
  return (await page.evaluate('window.dashboard')) as DashboardState | undefined;
}

/** Polls the page's state until `ok` holds (under a deadline; no sleeps). */
function pageReaches(page: Page, what: string, ok: (s: DashboardState) => boolean, timeoutMs = 20_000): Promise<DashboardState> {
  return waitFor(async () => {
    const s = await dashboardState(page);
    return s !== undefined && ok(s) ? s : undefined;
  }, what, timeoutMs);
}

describe('examples/iot-gateway: the dashboard in headless Chromium', { skip }, () => {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  });

  test('readings of every device appear; after a broker restart the page recovers', { timeout: 120_000 }, async () => {
    const storeDir = tempStoreDir('sluice-iot-e2e-');
    cleanups.push(() => rmSync(storeDir, { recursive: true, force: true }));
    let server: JsTestServer = await startJsTestServer({ storeDir, options: { wsPort: 0 } });
    cleanups.push(() => server.stop());
    const ports = { port: server.server.ports.client, wsPort: server.server.ports.ws! };
    const wsUrl = `ws://127.0.0.1:${ports.wsPort}`;

    const fleet = demoFleet();
    const subjects = fleet.flatMap((d) => d.metrics.map((m) => telemetrySubject({ site: d.site, device: d.device, metric: m.name })));
    const gw: Gateway = await startGateway({ wsUrl, httpPort: 0, intervalMs: 100, fleet });
    cleanups.push(() => gw.stop());
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(gw.dashboard.url);

    // Readings appear: every device's every metric, drawn in its own row.
    await pageReaches(page, 'a live reading of every subject', (s) => s.status === 'connected' && subjects.every((x) => s.subjects[x]?.source === 'live'));
    const rows = await page.$$eval('[data-subject]', (els) => els.map((e) => [e.getAttribute('data-subject'), e.querySelector('.value')?.textContent ?? '']));
    assert.deepEqual(rows.map(([s]) => s).sort(), [...subjects].sort());
    for (const [s, text] of rows) assert.match(text!, /^-?\d+\.\d \S+$/, `${s} shows a value with its unit`);
    assert.match((await page.textContent('#status')) ?? '', /connected/);

    const tcp = await connect({ servers: server.clientUrl, reconnect: false });
    const storedBefore = (await jetstreamManager(tcp).streams.info(TELEMETRY_STREAM)).state.messages;
    await tcp.close();
    assert.ok(storedBefore > 0);

    // The broker goes away: the page notices.
    await server.stop();
    await pageReaches(page, 'the page to see the disconnect', (s) => s.disconnects >= 1 && s.status !== 'connected');
    assert.match((await page.textContent('#status')) ?? '', /disconnected|reconnecting/);

    // It comes back on the same ports with the same store: the page reconnects by itself.
    server = await startJsTestServer({ storeDir, options: { port: ports.port, wsPort: ports.wsPort } });
    const back = await pageReaches(page, 'the page to reconnect', (s) => s.reconnects >= 1 && s.status === 'connected');
    // Devices reconnected too, and the page's subscription was re-sent: live readings flow again.
    const liveAtReconnect = back.live;
    await pageReaches(page, 'live readings after the restart', (s) => s.live >= liveAtReconnect + subjects.length);

    // A reading published after the restart, from a Node client over TCP, reaches the page.
    const probe = await connect({ servers: server.clientUrl, reconnect: false });
    try {
      const subject = telemetrySubject({ site: 'e2e', device: 'probe', metric: 'temperature' });
      probe.publish(subject, JSON.stringify({ value: 42.5, unit: '°C', ts: Date.now() }));
      await probe.flush();
      await pageReaches(page, 'the probe reading on the page', (s) => s.subjects[subject]?.value === 42.5);
      assert.equal(await page.textContent(`[data-subject="${subject}"] .value`), '42.5 °C');
      const storedAfter = (await jetstreamManager(probe).streams.info(TELEMETRY_STREAM)).state.messages;
      assert.ok(storedAfter > storedBefore, `the stream kept its readings across the restart (${storedBefore} -> ${storedAfter})`);
    } finally {
      await probe.close();
    }
    assert.deepEqual(pageErrors, []);
  });
});
