// The runtime Logger as JSON lines, one object per line on stdout (or a given destination), the
// shape pino writes and log tooling expects:
// {"level":"info","time":"2025-01-01T00:00:00.000Z","pid":1,"hostname":"h",...fields,"msg":"..."}
// Logging is control-plane only (never per message), so readable ISO timestamps and level names
// cost nothing that matters. Why not pino, and what happens when stdout stops accepting lines:
// docs/adr/0012-logging.md and log-sink.ts.

import { hostname } from 'node:os';
import { systemClock, type Clock } from '../runtime/clock.ts';
import type { LogFields, Logger, LogLevel } from '../runtime/logger.ts';
import { stdoutLogSink, type LogDestination } from './log-sink.ts';
import { renderTextLine } from './log-text.ts';

export type { LogDestination } from './log-sink.ts';

/** A Logger whose level can be changed at run time. */
export interface JsonLogger extends Logger {
  readonly level: LogLevel;
  setLevel(level: LogLevel): void;
  child(bindings: LogFields): JsonLogger;
  /** Kept for callers that flush before exiting: lines are handed to the destination as they are
   * logged, and a destination that cannot take them drops them, so there is nothing to wait for. */
  flush(): void;
}

const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

/** JSON.stringify replacer: Errors as {type, message, stack} (what pino's err serializer wrote),
 * bigints as numbers. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Error) return { type: value.name, message: value.message, stack: value.stack };
  return value;
}

/** Fields that cannot be serialized (a cycle, a throwing toJSON) must not take the caller down. */
function serialize(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, replacer);
  } catch {
    const seen = new WeakSet<object>();
    try {
      return JSON.stringify(record, (key, value: unknown) => {
        const v = replacer(key, value);
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      });
    } catch (err) {
      return JSON.stringify({ level: record.level, time: record.time, msg: record.msg, log_error: String(err) });
    }
  }
}

/** What a logger and its children share, the level included: changing it at run time changes it everywhere. */
interface Shared {
  level: LogLevel;
  threshold: number;
  readonly destination: LogDestination;
  readonly clock: Clock;
  readonly format: LogFormat;
  readonly base: { readonly pid: number; readonly hostname: string };
}

class JsonLineLogger implements JsonLogger {
  constructor(
    private readonly shared: Shared,
    private readonly bindings: LogFields,
  ) {}

  get level(): LogLevel {
    return this.shared.level;
  }
  setLevel(level: LogLevel): void {
    this.shared.level = level;
    this.shared.threshold = LEVEL_VALUES[level];
  }
  isLevelEnabled(level: LogLevel): boolean {
    return level !== 'silent' && LEVEL_VALUES[level] >= this.shared.threshold;
  }
  trace(fields: LogFields, msg: string): void {
    this.log('trace', fields, msg);
  }
  debug(fields: LogFields, msg: string): void {
    this.log('debug', fields, msg);
  }
  info(fields: LogFields, msg: string): void {
    this.log('info', fields, msg);
  }
  warn(fields: LogFields, msg: string): void {
    this.log('warn', fields, msg);
  }
  error(fields: LogFields, msg: string): void {
    this.log('error', fields, msg);
  }
  child(bindings: LogFields): JsonLogger {
    return new JsonLineLogger(this.shared, { ...this.bindings, ...bindings });
  }
  flush(): void {}

  private log(level: LogLevel, fields: LogFields, msg: string): void {
    const s = this.shared;
    if (LEVEL_VALUES[level] < s.threshold) return;
    const time = new Date(s.clock.nowMs()).toISOString();
    const record = { level, time, pid: s.base.pid, hostname: s.base.hostname, ...this.bindings, ...fields, msg };
    const line = s.format === 'text' ? renderTextLine(record) : serialize(record);
    s.destination.write(`${line}\n`);
  }
}

/** 'json' (the default: files, pipes, log shippers) or 'text' (readable lines for a terminal, log-text.ts). */
export type LogFormat = 'json' | 'text';

/**
 * `destination` defaults to stdout through the process's one non-blocking sink (log-sink.ts).
 * `format` defaults to JSON; the CLI asks for text when stdout is a terminal.
 */
export function createJsonLogger(level: LogLevel, destination?: LogDestination, clock: Clock = systemClock, format: LogFormat = 'json'): JsonLogger {
  const shared: Shared = {
    level,
    threshold: LEVEL_VALUES[level],
    destination: destination ?? stdoutLogSink(),
    clock,
    format,
    base: { pid: process.pid, hostname: hostname() },
  };
  return new JsonLineLogger(shared, {});
}
