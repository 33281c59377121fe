// ws-iot: the IoT gateway shape of issue 19. `devices` WebSocket publishers (200), each publishing
// telemetry on a subject of its own (`iot.d<i>.telemetry`) in small writes: `framesPerSend` PUB
// frames (10) per WebSocket message, as devices batch a few readings, not the 256 KiB blocks of
// ws-pubsub. One plain TCP subscriber takes everything on the wildcard `iot.>`. Reports the
// subscriber's delivered msgs/s; every message carries (device << 20 | n) so each device's order
// and the count are checked.

import { performance } from 'node:perf_hooks';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { completion } from '../lib/completion.ts';
import { RawConn } from '../lib/raw-conn.ts';
import { buildPubBlock } from '../lib/publisher.ts';
import { RawWsConn } from './ws-pubsub.ts';
import type { RunContext, Scenario } from './types.ts';

/** A device stops sending while this much is queued in its WebSocket (a slow uplink). */
const DEVICE_HIGH_WATER_BYTES = 64 * 1024;
/** Messages per device must fit the 20 bits of the stamp. */
const MAX_PER_DEVICE = 1 << 20;

interface Device {
  readonly conn: RawWsConn;
  /** One send's frames, stamped in place before each send (then copied: ws may still hold it). */
  readonly block: Buffer;
  readonly frameBytes: number;
  readonly payloadOffset: number;
  readonly id: number;
  sent: number;
}

function deviceBlock(subject: string, payloadBytes: number, frames: number): { block: Buffer; frameBytes: number; payloadOffset: number } {
  const one = buildPubBlock(subject, payloadBytes, undefined, 1);
  const block = Buffer.allocUnsafe(one.frameBytes * frames);
  for (let f = 0; f < frames; f++) one.block.copy(block, f * one.frameBytes, 0, one.frameBytes);
  return { block, frameBytes: one.frameBytes, payloadOffset: one.payloadOffset };
}

/** One pass over the devices: each with room in its socket sends its next write. */
function sendRound(devices: readonly Device[], perDevice: number, framesPerSend: number): number {
  let active = 0;
  for (const d of devices) {
    if (d.sent >= perDevice) continue;
    active++;
    if (d.conn.ws.bufferedAmount > DEVICE_HIGH_WATER_BYTES) continue;
    const frames = Math.min(framesPerSend, perDevice - d.sent);
    const chunk = Buffer.allocUnsafe(frames * d.frameBytes);
    d.block.copy(chunk, 0, 0, chunk.length);
    for (let f = 0, at = d.payloadOffset; f < frames; f++, at += d.frameBytes) chunk.writeUInt32BE(((d.id << 20) | d.sent++) >>> 0, at);
    d.conn.send(chunk);
  }
  return active;
}

async function runWsIot(ctx: RunContext): Promise<Record<string, number>> {
  const p = ctx.params;
  const wsPort = ctx.server.wsPort;
  if (wsPort === undefined) throw new Error('ws-iot needs the server started with a WebSocket port (needs: websocket)');
  const url = `ws://${ctx.server.host}:${wsPort}`;
  const deviceCount = Number(p.devices);
  const framesPerSend = Number(p.framesPerSend);
  const payloadBytes = Number(p.payloadBytes);
  const perDevice = Math.floor(Number(p.msgs) / deviceCount);
  const msgs = perDevice * deviceCount;
  if (payloadBytes < 4) throw new Error('ws-iot stamps every payload: payloadBytes must be >= 4');
  if (perDevice > MAX_PER_DEVICE) throw new Error(`ws-iot: at most ${MAX_PER_DEVICE} msgs per device`);

  const expected = new Uint32Array(deviceCount);
  let orderErrors = 0;
  let firstError = '';
  const onSeq = (stamp: number): void => {
    const device = stamp >>> 20;
    const n = stamp & (MAX_PER_DEVICE - 1);
    if ((device >= deviceCount || n !== expected[device]) && orderErrors++ === 0) firstError = `device ${device}: expected ${expected[device]}, got ${n}`;
    if (device < deviceCount) expected[device] = n + 1;
  };

  let sub: RawConn | undefined;
  const devices: Device[] = [];
  try {
    sub = await RawConn.connect(ctx.server, { name: 'iot-sub', onSeq });
    sub.sub('iot.>', 1);
    await sub.flush();
    // Devices connect a few dozen at a time, as gateways come up; not measured.
    for (let i = 0; i < deviceCount; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, deviceCount - i) }, (_, k) => RawWsConn.connect(url, `device-${i + k}`)),
      );
      for (const conn of batch) {
        const id = devices.length;
        devices.push({ conn, id, sent: 0, ...deviceBlock(`iot.d${id}.telemetry`, payloadBytes, framesPerSend) });
      }
    }
    const subConn = sub;
    const done = completion<number>(Number(p.timeoutMs), () => `timed out waiting for ${msgs} deliveries (have ${subConn.scanner.count})`);
    subConn.onData = () => {
      if (subConn.scanner.count >= msgs) done.resolve(performance.now());
    };
    subConn.onFailure = done.reject;
    for (const d of devices) d.conn.onFailure = done.reject;

    ctx.measureStart();
    const t0 = performance.now();
    while (sendRound(devices, perDevice, framesPerSend) > 0) {
      await yieldTurn();
      const failed = devices.find((d) => d.conn.failure !== null);
      if (failed !== undefined) throw failed.conn.failure;
    }
    const tPub = performance.now();
    const tEnd = await done.promise;
    ctx.measureEnd();
    subConn.onData = null;
    await subConn.flush();
    if (subConn.scanner.count !== msgs) throw new Error(`expected ${msgs} deliveries, got ${subConn.scanner.count}`);
    if (orderErrors > 0) throw new Error(`${orderErrors} ordering errors; first: ${firstError}`);
    const sec = (tEnd - t0) / 1000;
    return {
      msgsPerSec: msgs / sec,
      pubMsgsPerSec: msgs / ((tPub - t0) / 1000),
      elapsedMs: tEnd - t0,
    };
  } finally {
    sub?.close();
    for (const d of devices) d.conn.close();
  }
}

export function wsIotScenario(devices: number, msgs: number): Scenario {
  return {
    name: 'ws-iot',
    group: 'ws-pubsub',
    description: `${devices} WebSocket publishers (10 PUBs per write, own subjects) -> 1 TCP subscriber on iot.>, 16B payload`,
    params: { msgs, devices, framesPerSend: 10, payloadBytes: 16, timeoutMs: 120_000 },
    countParam: 'msgs',
    needs: ['websocket'],
    bar: { op: '>=', ratio: 1.0 },
    metrics: [
      { key: 'msgsPerSec', label: 'delivered msgs/s', better: 'higher' },
      { key: 'pubMsgsPerSec', label: 'publish msgs/s', better: 'higher' },
    ],
    primary: 'msgsPerSec',
    run: runWsIot,
  };
}
