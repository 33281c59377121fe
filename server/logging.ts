// The runtime Logger backed by pino: one JSON object per line on stdout (or a given destination),
// e.g. {"level":"info","time":"2025-01-01T00:00:00.000Z","pid":1,"hostname":"h","msg":"..."}.
// Logging is control-plane only (never per message), so readable ISO timestamps and level names
// cost nothing that matters.

import { pino, type DestinationStream, type Logger as Pino } from 'pino';
import type { LogFields, Logger, LogLevel } from '../runtime/logger.ts';

/** A Logger whose level can be changed at run time and whose buffered output can be flushed. */
export interface PinoLogger extends Logger {
  readonly level: LogLevel;
  setLevel(level: LogLevel): void;
  child(bindings: LogFields): PinoLogger;
  /** Writes out anything buffered; call before a deliberate process exit. */
  flush(): void;
}

/**
 * `destination` defaults to stdout through pino's own sonic-boom stream, which stops writing
 * (instead of throwing) when stdout is a closed pipe (EPIPE), e.g. `sluice server | head -1`,
 * and flushes itself on process exit.
 */
export function createPinoLogger(level: LogLevel, destination?: DestinationStream): PinoLogger {
  const dest = destination ?? pino.destination({ dest: 1, sync: false, minLength: 0 });
  const base = pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
  return new PinoBacked(base);
}

class PinoBacked implements PinoLogger {
  constructor(private readonly p: Pino) {}

  get level(): LogLevel {
    return this.p.level as LogLevel;
  }
  setLevel(level: LogLevel): void {
    this.p.level = level;
  }
  trace(fields: LogFields, msg: string): void {
    this.p.trace(fields, msg);
  }
  debug(fields: LogFields, msg: string): void {
    this.p.debug(fields, msg);
  }
  info(fields: LogFields, msg: string): void {
    this.p.info(fields, msg);
  }
  warn(fields: LogFields, msg: string): void {
    this.p.warn(fields, msg);
  }
  error(fields: LogFields, msg: string): void {
    this.p.error(fields, msg);
  }
  child(bindings: LogFields): PinoLogger {
    return new PinoBacked(this.p.child(bindings));
  }
  isLevelEnabled(level: LogLevel): boolean {
    return level !== 'silent' && this.p.isLevelEnabled(level);
  }
  flush(): void {
    this.p.flush();
  }
}
