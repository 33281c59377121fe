// Output for humans and for scripts. On a terminal: aligned tables, human sizes ("1.5 MiB") and
// durations ("1h30m"), bold headings. Piped: the same tables with exact numbers and no escape
// codes, so `sluice stream ls | awk` keeps working. --json output never goes through here.

import type { CliIo } from './io.ts';

export class Output {
  readonly io: CliIo;
  /** stdout is a terminal: human units and colour. */
  readonly human: boolean;

  constructor(io: CliIo) {
    this.io = io;
    this.human = io.stdoutIsTTY === true;
  }

  line(text = ''): void {
    this.io.stdout(`${text}\n`);
  }

  json(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note for the operator (stderr), e.g. "Published 5 bytes to "foo"". */
  note(text: string): void {
    this.io.stderr(`${text}\n`);
  }

  bold(text: string): string {
    return this.human ? `\x1b[1m${text}\x1b[0m` : text;
  }

  bytes(n: number): string {
    if (n < 0) return 'unlimited';
    return this.human ? humanBytes(n) : String(n);
  }

  count(n: number): string {
    if (n < 0) return 'unlimited';
    return this.human ? n.toLocaleString('en-US') : String(n);
  }

  /** A duration given in nanoseconds; 0 means unlimited where `zero` says so. */
  nanos(ns: number, zero = 'unlimited'): string {
    if (ns <= 0) return zero;
    return this.human ? humanDuration(ns / 1e6) : `${ns / 1e9}s`;
  }

  table(headers: readonly string[], rows: readonly (readonly string[])[], title?: string): void {
    if (title !== undefined) this.line(this.bold(title));
    this.io.stdout(renderTable(headers, rows, this.human));
  }

  /** "Key: value" lines with the keys right-aligned, as `nats stream info` prints them. */
  fields(title: string, pairs: readonly (readonly [string, string])[]): void {
    this.line(this.bold(title));
    this.line();
    const width = Math.max(0, ...pairs.map(([k]) => k.length));
    for (const [k, v] of pairs) this.line(`${k.padStart(width + 2)}: ${v}`);
    this.line();
  }
}

/** Columns padded to their widest cell; numbers right-aligned. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], rule = true): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+( ?[a-zA-Zµ/%]+)?$|^-$/.test(r[i] ?? '')));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [fmt(headers)];
  if (rule) lines.push(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of rows) lines.push(fmt(r));
  return lines.join('\n') + '\n';
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[u]}`;
}

/** 1500 -> "1.5s", 5400000 -> "1h30m", 0.25 -> "250µs". */
export function humanDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${Number(ms.toFixed(ms < 10 ? 2 : 0))}ms`;
  let s = Math.round(ms / 100) / 10;
  if (s < 60) return `${s}s`;
  s = Math.round(s);
  const parts: string[] = [];
  const units: [string, number][] = [
    ['y', 365 * 86400],
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  for (const [name, size] of units) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${name}`);
      s %= size;
    }
  }
  return parts.slice(0, 2).join('');
}

/** Messages or bytes per second with a k/M suffix. */
export function humanRate(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)}M`;
  if (perSec >= 1e4) return `${(perSec / 1e3).toFixed(1)}k`;
  return perSec.toFixed(perSec >= 100 ? 0 : 1);
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** An RFC 3339 time as printed in info output: the time, and on a terminal how long ago. */
export function timeAgo(out: Output, rfc3339: string | undefined, nowMs: number): string {
  if (rfc3339 === undefined || rfc3339 === '' || rfc3339 === ZERO_TIME) return 'never';
  const t = Date.parse(rfc3339);
  if (Number.isNaN(t)) return rfc3339;
  if (!out.human) return rfc3339;
  const ago = Math.max(0, nowMs - t);
  return `${new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} (${humanDuration(ago)} ago)`;
}
