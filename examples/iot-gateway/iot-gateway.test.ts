// The iot-gateway example without a browser (the browser half is tests/e2e/iot-gateway.e2e.ts):
// simulated devices publish over WebSocket, the TELEMETRY stream keeps 24 h of their readings,
// and the dashboard server hands out the page, its config and the browser client bundle.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, jetstreamManager, type Msg, type NatsConnection } from '../../client/index.ts';
import { startJsTestServer, type JsTestServer } from '../../tests/helpers/jetstream-server.ts';
import { waitFor } from '../../tests/helpers/deadline.ts';
import type { DeviceSpec } from './devices.ts';
import { startGateway, type Gateway } from './main.ts';
import { ensureTelemetryStream, parseTelemetrySubject, RETENTION_MS, TELEMETRY_STREAM, telemetrySubject, type Reading } from './telemetry.ts';

const FLEET: DeviceSpec[] = [
  { site: 'lab', device: 'probe-1', metrics: [{ name: 'temperature', unit: '°C', base: 20, amplitude: 2 }] },
  { site: 'lab', device: 'probe-2', metrics: [{ name: 'humidity', unit: '%', base: 40, amplitude: 5 }] },
];
const SUBJECTS = ['telemetry.lab.probe-1.temperature', 'telemetry.lab.probe-2.humidity'];

describe('examples/iot-gateway (Node side)', () => {
  let js: JsTestServer;
  let nc: NatsConnection;
  let gw: Gateway | undefined;

  before(async () => {
    js = await startJsTestServer({ options: { wsPort: 0 } });
    nc = await connect({ servers: js.clientUrl });
  });
  after(async () => {
    await gw?.stop();
    await nc?.close();
    await js?.close();
  });

  test('subjects are telemetry.<site>.<device>.<metric>', () => {
    assert.equal(telemetrySubject({ site: 's', device: 'd-1', metric: 'temp_c' }), 'telemetry.s.d-1.temp_c');
    assert.deepEqual(parseTelemetrySubject('telemetry.s.d.m'), { site: 's', device: 'd', metric: 'm' });
    assert.equal(parseTelemetrySubject('telemetry.s.d'), undefined);
    assert.throws(() => telemetrySubject({ site: 'a.b', device: 'd', metric: 'm' }), /not a valid subject token/);
    assert.throws(() => telemetrySubject({ site: 's', device: '*', metric: 'm' }), /not a valid subject token/);
  });

  test('devices publish over WebSocket into a 24 h stream; the dashboard server serves page, config and client', async () => {
    const live: Msg[] = [];
    nc.subscribe('telemetry.>', { callback: (m) => void live.push(m) });
    await nc.flush();
    const wsUrl = `ws://127.0.0.1:${js.server.ports.ws}`;
    gw = await startGateway({ wsUrl, httpPort: 0, intervalMs: 50, fleet: FLEET });

    await waitFor(() => SUBJECTS.every((s) => live.some((m) => m.subject === s)), 'a live reading from every device', 10_000);
    for (const m of live) {
      const r = m.json<Reading>();
      assert.equal(typeof r.value, 'number');
      assert.ok(r.unit === '°C' || r.unit === '%');
      assert.ok(Math.abs(Date.now() - r.ts) < 60_000, 'ts is the device clock in ms');
    }

    const jsm = jetstreamManager(nc);
    const info = await waitFor(async () => {
      const i = await jsm.streams.info(TELEMETRY_STREAM, { subjects_filter: 'telemetry.>' });
      return SUBJECTS.every((s) => (i.state.subjects?.[s] ?? 0) > 0) ? i : undefined;
    }, 'the stream holds readings of every device', 10_000);
    assert.equal(info.config.max_age, RETENTION_MS * 1_000_000, 'readings are kept 24 h');
    assert.deepEqual(info.config.subjects, ['telemetry.>']);
    assert.equal((await ensureTelemetryStream(nc)).config.max_age, info.config.max_age, 'creating it again is a no-op');

    const base = gw.dashboard.url;
    const get = async (path: string): Promise<{ status: number; type: string; body: string }> => {
      const r = await fetch(new URL(path, base));
      return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
    };
    const page = await get('/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/dashboard.js">/);
    assert.deepEqual(JSON.parse((await get('/config.json')).body), { wsUrl, stream: TELEMETRY_STREAM, subjects: 'telemetry.>' });
    const script = await get('/dashboard.js');
    assert.equal(script.status, 200);
    assert.match(script.body, /from '\/client\/sluice-client\.js'/);
    const client = await get('/client/sluice-client.js');
    assert.equal(client.status, 200);
    assert.match(client.type, /^text\/javascript/);
    assert.match(client.body, /export\s*\{/, 'an ES module');
    assert.equal((await get('/nope.js')).status, 404);
    assert.equal((await get('/client/../../package.json')).status, 404);
    assert.equal((await get('/%2e%2e/dashboard-server.ts')).status, 404, 'nothing outside public/ and the bundle');
  });
});
