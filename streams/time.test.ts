import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZERO_TIME, formatGoDuration, formatTimeNs, parseGoDuration, parseTimeNs } from './time.ts';

test('RFC 3339 nanosecond formatting matches Go time.RFC3339Nano in UTC', () => {
  const table: [bigint, string][] = [
    [0n, ZERO_TIME],
    [1_714_557_600_000_000_000n, '2024-05-01T10:00:00Z'],
    [1_714_557_600_500_000_000n, '2024-05-01T10:00:00.5Z'],
    [1_714_557_600_123_456_789n, '2024-05-01T10:00:00.123456789Z'],
    [1_714_557_600_000_000_001n, '2024-05-01T10:00:00.000000001Z'],
    [1_714_557_600_120_000_000n, '2024-05-01T10:00:00.12Z'],
    [1n, '1970-01-01T00:00:00.000000001Z'],
    [-1n, '1969-12-31T23:59:59.999999999Z'],
    [253_402_300_799_999_999_999n, '9999-12-31T23:59:59.999999999Z'],
  ];
  for (const [ns, text] of table) assert.equal(formatTimeNs(ns), text, `format ${ns}`);
});

test('RFC 3339 parsing round-trips and honours offsets', () => {
  for (const ns of [1n, 1_714_557_600_123_456_789n, 1_714_557_600_000_000_000n, 1_714_557_600_500_000_000n]) {
    assert.equal(parseTimeNs(formatTimeNs(ns)), ns);
  }
  assert.equal(parseTimeNs(ZERO_TIME), 0n);
  assert.equal(parseTimeNs('2024-05-01T12:00:00.5+02:00'), 1_714_557_600_500_000_000n);
  assert.equal(parseTimeNs('2024-05-01T05:30:00-04:30'), 1_714_557_600_000_000_000n);
  assert.equal(parseTimeNs('2024-05-01 10:00:00Z'), undefined);
  assert.equal(parseTimeNs('yesterday'), undefined);
  assert.equal(parseTimeNs('2024-13-01T10:00:00Z'), undefined);
});

test('Go durations parse and format like time.ParseDuration / Duration.String', () => {
  const parse: [string, number | undefined][] = [
    ['0', 0],
    ['1s', 1e9],
    ['1.5s', 1.5e9],
    ['250ms', 250e6],
    ['1h30m', 5400e9],
    ['2m0s', 120e9],
    ['10us', 10e3],
    ['10µs', 10e3],
    ['7ns', 7],
    ['-3s', -3e9],
    ['', undefined],
    ['1', undefined],
    ['1x', undefined],
    ['s', undefined],
  ];
  for (const [text, ns] of parse) assert.equal(parseGoDuration(text), ns, text);
  const format: [number, string][] = [
    [0, '0s'],
    [120e9, '2m0s'],
    [1.5e9, '1.5s'],
    [250e6, '250ms'],
    [5400e9, '1h30m0s'],
    [7, '7ns'],
    [-3e9, '-3s'],
  ];
  for (const [ns, text] of format) assert.equal(formatGoDuration(ns), text, String(ns));
});
