// The readable rendering of a log record, for a person watching a terminal: one line with the
// time, a three-letter level like nats-server's ([INF], [DBG], ...), the message, then the fields as
// key=value. JSON stays the default everywhere else (files, pipes, log shippers): logging.ts picks
// this only when the destination is a TTY.

import type { LogLevel } from '../runtime/logger.ts';

const TAGS: Readonly<Record<LogLevel, string>> = {
  trace: 'TRC',
  debug: 'DBG',
  info: 'INF',
  warn: 'WRN',
  error: 'ERR',
  fatal: 'FTL',
  silent: '',
};

/** Fields every JSON line carries that a terminal reader does not need on every line. */
const SKIPPED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

function renderValue(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s="]/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === 'bigint') return String(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  if (v === undefined) return 'undefined';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return '[unserializable]';
  }
}

/** `record` is what the JSON line would hold: level, time, msg and the fields. */
export function renderTextLine(record: Readonly<Record<string, unknown>>): string {
  const level = record.level as LogLevel;
  let line = `${String(record.time)} [${TAGS[level] ?? String(level)}] ${String(record.msg)}`;
  for (const [k, v] of Object.entries(record)) {
    if (SKIPPED.has(k) || v === undefined) continue;
    line += ` ${k}=${renderValue(v)}`;
  }
  return line;
}
