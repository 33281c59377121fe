// The telemetry model: subjects `telemetry.<site>.<device>.<metric>`, JSON readings, and the
// stream TELEMETRY that keeps the last 24 hours of all of them.

import type { NatsConnection, StreamInfo } from '../../client/index.ts';
import { jetstreamManager } from '../../client/index.ts';

export const TELEMETRY_STREAM = 'TELEMETRY';
export const TELEMETRY_SUBJECTS = 'telemetry.>';
export const RETENTION_MS = 24 * 60 * 60 * 1000;
/** A bound on disk use besides the age limit (oldest readings go first). */
export const MAX_STREAM_BYTES = 1024 * 1024 * 1024;

/** One measurement, as published. */
export interface Reading {
  value: number;
  unit: string;
  /** Milliseconds since the epoch, taken by the device. */
  ts: number;
}

export interface TelemetryKey {
  site: string;
  device: string;
  metric: string;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

export function telemetrySubject(k: TelemetryKey): string {
  for (const t of [k.site, k.device, k.metric]) {
    if (!TOKEN.test(t)) throw new Error(`'${t}' is not a valid subject token (letters, digits, - and _)`);
  }
  return `telemetry.${k.site}.${k.device}.${k.metric}`;
}

export function parseTelemetrySubject(subject: string): TelemetryKey | undefined {
  const t = subject.split('.');
  if (t.length !== 4 || t[0] !== 'telemetry') return undefined;
  return { site: t[1]!, device: t[2]!, metric: t[3]! };
}

/** Creates TELEMETRY (24 h, file storage) or returns it when it already exists as configured. */
export function ensureTelemetryStream(nc: NatsConnection): Promise<StreamInfo> {
  return jetstreamManager(nc).streams.add({
    name: TELEMETRY_STREAM,
    subjects: [TELEMETRY_SUBJECTS],
    storage: 'file',
    max_age: RETENTION_MS * 1_000_000, // nanoseconds
    max_bytes: MAX_STREAM_BYTES,
    discard: 'old',
  });
}
