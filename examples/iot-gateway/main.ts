// The iot-gateway demo: creates the TELEMETRY stream, starts the simulated devices (over
// WebSocket) and serves the dashboard.
//
//   node --import tsx examples/iot-gateway/main.ts [--ws ws://127.0.0.1:8080] [--http-port 3000] [--interval-ms 1000]
//
// It needs a broker with a WebSocket port and JetStream: `npm start -- --ws-port 8080`.

import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { connect } from '../../client/index.ts';
import { startDashboard, type Dashboard } from './dashboard-server.ts';
import { demoFleet, startDevices, type DeviceSpec, type Fleet } from './devices.ts';
import { ensureTelemetryStream, TELEMETRY_STREAM } from './telemetry.ts';

export interface GatewayOptions {
  /** The broker's WebSocket URL, used by the devices and handed to the browser. */
  wsUrl: string;
  httpHost?: string;
  /** Dashboard port (default 3000; 0 = a free one). */
  httpPort?: number;
  intervalMs?: number;
  fleet?: DeviceSpec[];
}

export interface Gateway {
  readonly dashboard: Dashboard;
  readonly fleet: Fleet;
  stop(): Promise<void>;
}

/** Everything the demo runs; stop() undoes it. */
export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  // The stream is created over WebSocket too: one URL is all the gateway needs.
  const nc = await connect({ servers: o.wsUrl, name: 'iot-gateway-setup' });
  try {
    await ensureTelemetryStream(nc);
  } finally {
    await nc.close();
  }
  const fleet = await startDevices(o.wsUrl, o.fleet ?? demoFleet(), { intervalMs: o.intervalMs ?? 1000 });
  let dashboard: Dashboard;
  try {
    dashboard = await startDashboard({ wsUrl: o.wsUrl, host: o.httpHost ?? '127.0.0.1', port: o.httpPort ?? 3000 });
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return {
    dashboard,
    fleet,
    async stop() {
      await fleet.stop();
      await dashboard.close();
    },
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ws: { type: 'string', default: process.env.SLUICE_WS_URL ?? 'ws://127.0.0.1:8080' },
      'http-port': { type: 'string', default: '3000' },
      'interval-ms': { type: 'string', default: '1000' },
    },
  });
  const gw = await startGateway({ wsUrl: values.ws, httpPort: Number(values['http-port']), intervalMs: Number(values['interval-ms']) });
  const devices = demoFleet();
  console.log(`${devices.length} devices publish telemetry.<site>.<device>.<metric> over ${values.ws}; stream ${TELEMETRY_STREAM} keeps 24 h`);
  console.log(`dashboard: ${gw.dashboard.url}   (Ctrl-C to stop)`);
  const stop = (): void => {
    gw.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cli().catch((err: unknown) => {
    console.error(`iot-gateway: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
