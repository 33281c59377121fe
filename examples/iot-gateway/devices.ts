// Simulated devices: each one is its own WebSocket connection (as a device on a plant network
// would be) that publishes one reading per metric every intervalMs, and reconnects for as long
// as it runs. Values follow a slow sine with a little noise from a seeded generator, so they look
// alive and every run looks the same.

import { connect, JSONCodec, type NatsConnection } from '../../client/index.ts';
import { telemetrySubject, type Reading } from './telemetry.ts';

export interface MetricSpec {
  name: string;
  unit: string;
  base: number;
  amplitude: number;
}

export interface DeviceSpec {
  site: string;
  device: string;
  metrics: MetricSpec[];
}

const temperature: MetricSpec = { name: 'temperature', unit: '°C', base: 21, amplitude: 4 };
const humidity: MetricSpec = { name: 'humidity', unit: '%', base: 45, amplitude: 10 };
const vibration: MetricSpec = { name: 'vibration', unit: 'mm/s', base: 2.5, amplitude: 1.5 };

/** Two sites, five devices. */
export function demoFleet(): DeviceSpec[] {
  return [
    { site: 'plant-north', device: 'press-1', metrics: [temperature, vibration] },
    { site: 'plant-north', device: 'press-2', metrics: [temperature, vibration] },
    { site: 'plant-north', device: 'hall-sensor', metrics: [temperature, humidity] },
    { site: 'plant-south', device: 'oven-1', metrics: [{ ...temperature, base: 180, amplitude: 15 }] },
    { site: 'plant-south', device: 'store-sensor', metrics: [temperature, humidity] },
  ];
}

export interface FleetOptions {
  /** Time between two readings of one device (default 1000 ms). */
  intervalMs?: number;
}

export interface Fleet {
  /** Readings handed to the client so far (sent, or buffered while reconnecting). */
  published(): number;
  /** Stop publishing, flush, close every connection. */
  stop(): Promise<void>;
}

/** mulberry32: a tiny seeded PRNG, good enough for noise. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const readings = JSONCodec<Reading>();

export async function startDevices(wsUrl: string, fleet: DeviceSpec[], opts: FleetOptions = {}): Promise<Fleet> {
  const intervalMs = opts.intervalMs ?? 1000;
  const connections: NatsConnection[] = [];
  const timers: NodeJS.Timeout[] = [];
  let published = 0;
  try {
    for (const d of fleet) {
      const nc = await connect({
        servers: wsUrl,
        name: `device-${d.site}-${d.device}`,
        maxReconnectAttempts: -1,
        reconnectTimeWaitMs: 250,
        maxReconnectTimeWaitMs: 2000,
      });
      connections.push(nc);
      const metrics = d.metrics.map((m) => {
        const subject = telemetrySubject({ site: d.site, device: d.device, metric: m.name });
        return { m, subject, random: seededRandom(hash(subject)), phase: (hash(subject) % 628) / 100 };
      });
      let tick = 0;
      const publish = (): void => {
        tick++;
        for (const { m, subject, random, phase } of metrics) {
          const wave = Math.sin(((tick * intervalMs) / 60_000) * 2 * Math.PI + phase);
          const value = Math.round((m.base + m.amplitude * wave + (random() - 0.5) * m.amplitude * 0.2) * 100) / 100;
          try {
            nc.publish(subject, readings.encode({ value, unit: m.unit, ts: Date.now() }));
            published++;
          } catch {
            // Closed, or the reconnect buffer is full after a long outage: drop this reading.
          }
        }
      };
      publish();
      timers.push(setInterval(publish, intervalMs));
    }
  } catch (err) {
    for (const t of timers) clearInterval(t);
    await Promise.all(connections.map((nc) => nc.close()));
    throw err;
  }
  return {
    published: () => published,
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(connections.map((nc) => nc.close()));
    },
  };
}
