// Flag values from text: integers, sizes, durations, enums, k:v headers. A bad value fails with
// one line naming the flag, in the same words as `sluice server` uses:
//   invalid value for --max-msgs: expected an integer >= -1, got "x"

import { invalidValueMessage, parseSize } from '../server/index.ts';
import { CliError } from './io.ts';

export function invalidFlag(flag: string, expected: string, got: unknown): CliError {
  return new CliError(invalidValueMessage(flag, expected, got));
}

/** An integer >= min (and <= max). */
export function intFlag(flag: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer ${min}..${max}`;
  if (!/^\s*[-+]?\d+\s*$/.test(text)) throw invalidFlag(flag, expected, text);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalidFlag(flag, expected, text);
  return n;
}

/** A size in bytes ("1048576", "1MB", "512KiB"); "-1" means unlimited when allowed. */
export function sizeFlag(flag: string, text: string, allowUnlimited = true): number {
  const expected = allowUnlimited ? 'a size such as 1048576, 512KB or 1GB (-1 = unlimited)' : 'a size such as 1048576, 512KB or 1GB';
  if (allowUnlimited && text.trim() === '-1') return -1;
  const n = parseSize(text);
  if (n === undefined) throw invalidFlag(flag, expected, text);
  return n;
}

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
  d: 86_400e9,
  w: 7 * 86_400e9,
  M: 30 * 86_400e9,
  y: 365 * 86_400e9,
};

/**
 * Go duration syntax plus the nats CLI's day/week/month/year units: "500ms", "1h30m", "2d", "1y".
 * A bare number is seconds. Returns nanoseconds; undefined when the text is not a duration.
 */
export function parseDurationNs(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1e9);
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w|M|y)/y;
  let total = 0;
  let at = 0;
  while (at < s.length) {
    part.lastIndex = at;
    const m = part.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    at = part.lastIndex;
  }
  const ns = Math.round(total);
  return Number.isSafeInteger(ns) ? ns : undefined;
}

/** A duration flag in nanoseconds; "-1" or "0" means unlimited (0) when allowed. */
export function durationFlag(flag: string, text: string, allowUnlimited = false): number {
  if (allowUnlimited && (text.trim() === '-1' || text.trim() === '0')) return 0;
  const ns = parseDurationNs(text);
  const expected = allowUnlimited ? 'a duration such as 30s, 1h30m or 7d (-1 = unlimited)' : 'a duration such as 500ms, 30s or 1h';
  if (ns === undefined) throw invalidFlag(flag, expected, text);
  return ns;
}

export function durationMsFlag(flag: string, text: string): number {
  const ns = durationFlag(flag, text);
  if (ns <= 0) throw invalidFlag(flag, 'a duration above 0 such as 500ms, 30s or 1h', text);
  return Math.max(1, Math.round(ns / 1e6));
}

/** One of `choices` (aliases map to a canonical value). */
export function enumFlag<T extends string>(flag: string, text: string, choices: Readonly<Record<string, T>>): T {
  const v = choices[text.toLowerCase()];
  if (v === undefined) throw invalidFlag(flag, `one of ${Object.keys(choices).join(', ')}`, text);
  return v;
}

/** `-H k:v` values as pairs; a value may contain ':'. */
export function headerFlags(values: readonly string[]): [string, string][] {
  return values.map((h) => {
    const at = h.indexOf(':');
    if (at <= 0) throw invalidFlag('--header', 'K:V', h);
    return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
  });
}

/** Commander collector for repeatable flags. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** A comma- or space-separated list flag (repeatable). */
export function listFlag(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== '');
}
