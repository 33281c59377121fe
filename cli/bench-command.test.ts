// `sluice bench` in each mode with small counts against an in-process broker: the table, the JSON
// report, the stream it creates and removes, and bad input. (How fast it is, compared with the
// raw generator of benchmarks/, is measured by hand: see the README's "Use it from a terminal".)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startJsTestServer, type JsTestServer } from '../tests/helpers/jetstream-server.ts';
import { cli, oneErrorLine } from '../tests/helpers/cli.ts';
import { LatencyHistogram } from './bench/histogram.ts';
import { readStamp } from './bench/clients.ts';

let js: JsTestServer;
let s: string[];

before(async () => {
  js = await startJsTestServer();
  s = ['-s', js.clientUrl];
});
after(async () => {
  await js.close();
});

interface Report {
  settings: { mode: string; msgs: number };
  results: { name: string; msgs: number; msgsPerSec: number; mbPerSec: number; latencyNs: Record<string, number> | null }[];
}

async function report(args: string[]): Promise<Report> {
  const r = await cli(['bench', ...args, '--json', ...s]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Report;
}

const byName = (rep: Report, name: string): Report['results'][number] => {
  const row = rep.results.find((r) => r.name === name);
  assert.ok(row !== undefined, `row ${name} in ${rep.results.map((r) => r.name).join(', ')}`);
  return row;
};

describe('sluice bench', () => {
  test('core: 2 publishers split the messages, every subscriber gets them all, with latencies', async () => {
    const rep = await report(['bench.core', '--pub', '2', '--sub', '2', '--msgs', '20001', '--size', '16']);
    assert.equal(byName(rep, 'pub #1').msgs, 10001);
    assert.equal(byName(rep, 'pub #2').msgs, 10000);
    assert.equal(byName(rep, 'sub #1').msgs, 20001);
    assert.equal(byName(rep, 'subscribers total').msgs, 40002);
    const sub = byName(rep, 'sub #1');
    assert.ok(sub.msgsPerSec > 0 && sub.mbPerSec > 0);
    assert.ok(sub.latencyNs !== null && sub.latencyNs.p50! > 0 && sub.latencyNs.p50! <= sub.latencyNs['p99.9']!);
    assert.equal(byName(rep, 'pub #1').latencyNs, null);
  });

  test('the table: per client and totals, aligned', async () => {
    const r = await cli(['bench', 'bench.table', '--msgs', '1000', '--sub', '1', ...s]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^sluice bench "bench\.table" \(core\): 1 publisher, 1 subscriber, 1000 msgs of 128 B$/);
    assert.match(lines[2]!, /^client\s+msgs\s+msgs\/s\s+MB\/s\s+p50\s+p90\s+p99\s+p99\.9$/);
    assert.deepEqual(
      lines.slice(3).map((l) => l.split(/\s{2,}/)[0]),
      ['pub #1', 'sub #1', 'publishers total', 'subscribers total'],
    );
    // No progress bar when stderr is not a terminal.
    assert.equal(r.stderr, '');
  });

  test('--js publishes into a stream it creates and removes, and reads it back', async () => {
    const rep = await report(['bench.js', '--js', '--pub', '1', '--sub', '1', '--msgs', '2000', '--size', '64', '--storage', 'memory']);
    assert.equal(rep.settings.mode, 'js');
    assert.equal(byName(rep, 'pub #1').msgs, 2000);
    assert.ok(byName(rep, 'pub #1').latencyNs !== null, 'PubAck latency');
    assert.equal(byName(rep, 'sub #1').msgs, 2000);
    const ls = await cli(['stream', 'ls', '--json', ...s]);
    assert.deepEqual(JSON.parse(ls.stdout), []);
  });

  test('--request: requesters and queue responders; latency is the round trip', async () => {
    const rep = await report(['bench.rr', '--request', '--pub', '2', '--sub', '2', '--msgs', '400', '--size', '8']);
    assert.equal(byName(rep, 'requesters total').msgs, 400);
    assert.equal(byName(rep, 'responders total').msgs, 400);
    assert.ok(byName(rep, 'requesters total').latencyNs !== null);
  });

  test('bad input', async () => {
    oneErrorLine(await cli(['bench', 'x', '--msgs', 'lots', ...s]), /invalid value for --msgs: expected an integer >= 1, got "lots"/);
    oneErrorLine(await cli(['bench', 'x', '--size', '1XB', ...s]), /invalid value for --size/);
    oneErrorLine(await cli(['bench', 'x', '--js', '--request', ...s]), /--js and --request cannot be used together/);
    oneErrorLine(await cli(['bench', 'x', '--pub', '0', ...s]), /nothing to run/);
    oneErrorLine(await cli(['bench', 'x', '--request', '--pub', '1', '--msgs', '3', '--timeout', '300ms', ...s]), /no responders for 'x'/);
    oneErrorLine(await cli(['bench', 'x', '-s', 'nats://127.0.0.1:1']), /cannot connect to nats:\/\/127\.0\.0\.1:1: connection refused/);
    await cli(['stream', 'add', 'benchstream', '--subjects', 'other', '--defaults', ...s]);
    oneErrorLine(await cli(['bench', 'y', '--js', ...s]), /stream benchstream already exists/);
  });

  test('latency histogram percentiles are within 2 %; stamps round-trip', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 1000);
    const p50 = h.percentileNs(50);
    assert.ok(Math.abs(p50 - 500_000) / 500_000 <= 0.02, `p50 ${p50}`);
    assert.ok(h.percentileNs(100) <= 1_000_000);
    assert.ok(Number.isNaN(new LatencyHistogram().percentileNs(50)));
    const payload = new Uint8Array(16);
    assert.equal(readStamp(payload), 0);
    new Float64Array(payload.buffer, 0, 1)[0] = 123456789;
    assert.equal(readStamp(payload), 123456789);
  });
});
