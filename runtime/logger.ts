// The logger interface every module takes. server/ writes it as JSON lines (server/logging.ts); tests
// use silentLogger.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export type LogFields = Record<string, unknown>;

export interface Logger {
  trace(fields: LogFields, msg: string): void;
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  child(bindings: LogFields): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

const noop = (): void => {};

export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
  isLevelEnabled: () => false,
};

/** A logger that records entries in memory, for tests that assert on what was logged. */
export class MemoryLogger implements Logger {
  readonly entries: { level: LogLevel; fields: LogFields; msg: string }[];
  private readonly bindings: LogFields;

  constructor(entries: { level: LogLevel; fields: LogFields; msg: string }[] = [], bindings: LogFields = {}) {
    this.entries = entries;
    this.bindings = bindings;
  }
  private push(level: LogLevel, fields: LogFields, msg: string): void {
    this.entries.push({ level, fields: { ...this.bindings, ...fields }, msg });
  }
  trace(f: LogFields, m: string): void { this.push('trace', f, m); }
  debug(f: LogFields, m: string): void { this.push('debug', f, m); }
  info(f: LogFields, m: string): void { this.push('info', f, m); }
  warn(f: LogFields, m: string): void { this.push('warn', f, m); }
  error(f: LogFields, m: string): void { this.push('error', f, m); }
  child(b: LogFields): Logger { return new MemoryLogger(this.entries, { ...this.bindings, ...b }); }
  isLevelEnabled(): boolean { return true; }
}
