// `sluice stream ...` against an in-process broker with JetStream.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startJsTestServer, type JsTestServer } from '../tests/helpers/jetstream-server.ts';
import { cli, oneErrorLine } from '../tests/helpers/cli.ts';
import { streamConfigFromFlags } from './stream-config.ts';

let js: JsTestServer;
let s: string[];
let dir: string;

before(async () => {
  js = await startJsTestServer();
  s = ['-s', js.clientUrl];
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-stream-'));
});
after(async () => {
  await js.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[], stdin?: string): Promise<string> {
  const r = await cli([...args, ...s], stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function json<T>(args: string[]): Promise<T> {
  return JSON.parse(await ok([...args, '--json'])) as T;
}

interface Info {
  config: Record<string, unknown> & { name: string; subjects: string[] };
  state: { messages: number; first_seq: number; last_seq: number };
}

describe('stream add, info, ls', () => {
  test('flags become the StreamConfig; info --json prints the StreamInfo', async () => {
    const out = await ok([
      'stream', 'add', 'ORDERS', '--subjects', 'orders.*,returns.*', '--storage', 'memory', '--retention', 'limits', '--discard', 'new',
      '--max-msgs', '1000', '--max-bytes', '1MB', '--max-age', '1h', '--max-msg-size', '1KiB', '--max-msgs-per-subject', '10',
      '--dupe-window', '30s', '--replicas', '1', '--allow-rollup', '--deny-delete', '--description', 'the orders', '--defaults',
    ]);
    assert.match(out, /^Stream ORDERS was created\n\nInformation for Stream ORDERS created /);
    assert.match(out, /Subjects: orders\.\*, returns\.\*\n/);
    const info = await json<Info>(['stream', 'info', 'ORDERS']);
    const c = info.config;
    assert.deepEqual(
      [c.subjects, c.storage, c.retention, c.discard, c.max_msgs, c.max_bytes, c.max_age, c.max_msg_size, c.max_msgs_per_subject, c.duplicate_window, c.allow_rollup_hdrs, c.deny_delete, c.description],
      [['orders.*', 'returns.*'], 'memory', 'limits', 'new', 1000, 1024 * 1024, 3600e9, 1024, 10, 30e9, true, true, 'the orders'],
    );
    assert.equal(info.state.messages, 0);
  });

  test('--defaults without --subjects lets the server use the stream name; work retention maps to workqueue', async () => {
    await ok(['stream', 'add', 'JOBS', '--retention', 'work', '--defaults']);
    const info = await json<Info>(['stream', 'info', 'JOBS']);
    assert.deepEqual(info.config.subjects, ['JOBS']);
    assert.equal(info.config.retention, 'workqueue');
  });

  test('--config FILE is the starting config; flags and the NAME argument override it', async () => {
    const file = join(dir, 'cfg.json');
    writeFileSync(file, JSON.stringify({ name: 'FROMFILE', subjects: ['file.>'], max_msgs: 5, storage: 'memory' }));
    await ok(['stream', 'add', 'CFG', '--config', file, '--max-msgs', '7']);
    const info = await json<Info>(['stream', 'info', 'CFG']);
    assert.deepEqual([info.config.name, info.config.subjects, info.config.max_msgs, info.config.storage], ['CFG', ['file.>'], 7, 'memory']);
  });

  test('ls lists streams as a table, -n as names, --json as a JSON array', async () => {
    const table = await ok(['stream', 'ls']);
    const lines = table.trimEnd().split('\n');
    assert.match(lines[0]!, /^Name\s+Subjects\s+Messages\s+Size\s+Consumers\s+Last Message$/);
    assert.ok(lines.some((l) => /^ORDERS\s+orders\.\*, returns\.\*\s+0\s+0\s+0\s+never$/.test(l)), table);
    assert.deepEqual(await json<string[]>(['stream', 'ls']), ['CFG', 'JOBS', 'ORDERS']);
    assert.equal(await ok(['stream', 'ls', '-n', '--subject', 'orders.x']), 'ORDERS\n');
  });

  test('on a terminal: human sizes, durations and a title', async () => {
    const r = await cli(['stream', 'info', 'ORDERS', ...s], { stdoutIsTTY: true });
    assert.match(r.stdout, /Maximum Bytes: 1\.00 MiB/);
    assert.match(r.stdout, /Maximum Age: 1h\n/);
    const ls = await cli(['stream', 'ls', ...s], { stdoutIsTTY: true });
    assert.match(ls.stdout, /Streams \(3\)/);
  });
});

describe('stream edit, get, rmm, purge, rm', () => {
  test('edit changes only the given fields', async () => {
    const out = await ok(['stream', 'edit', 'ORDERS', '--max-msgs', '2000', '-f']);
    assert.match(out, /^Stream ORDERS was updated\n/);
    const info = await json<Info>(['stream', 'info', 'ORDERS']);
    assert.deepEqual([info.config.max_msgs, info.config.max_bytes, info.config.description], [2000, 1024 * 1024, 'the orders']);
    oneErrorLine(await cli(['stream', 'edit', 'ORDERS', ...s]), /nothing to change/);
  });

  test('get by sequence and by subject; --json is the API message; rmm deletes one', async () => {
    for (const body of ['one', 'two', 'three']) await ok(['pub', 'orders.new', body, '-H', 'K:v']);
    await ok(['pub', 'returns.x', 'back']);
    const m = await ok(['stream', 'get', 'ORDERS', '2']);
    assert.match(m, /^Item: ORDERS#2 received \S+ on Subject orders\.new\n\nHeaders:\n  K: v\n\ntwo\n$/);
    const last = await json<{ seq: number; data: string }>(['stream', 'get', 'ORDERS', '-S', 'orders.new']);
    assert.deepEqual([last.seq, Buffer.from(last.data, 'base64').toString()], [3, 'three']);
    oneErrorLine(await cli(['stream', 'get', 'ORDERS', '99', ...s]), /^sluice: message 99 in stream ORDERS not found$/);
    oneErrorLine(await cli(['stream', 'get', 'ORDERS', ...s]), /give a sequence or -S/);
    // ORDERS was created with --deny-delete.
    oneErrorLine(await cli(['stream', 'rmm', 'ORDERS', '1', '-f', ...s]), /message delete not permitted/);
    oneErrorLine(await cli(['stream', 'edit', 'ORDERS', '--no-deny-delete', '-f', ...s]), /can not cancel deny message deletes/);
    await ok(['pub', 'JOBS', 'a']);
    await ok(['pub', 'JOBS', 'b']);
    assert.equal(await ok(['stream', 'rmm', 'JOBS', '1', '-f']), 'Message 1 deleted from stream JOBS\n');
    assert.deepEqual((await json<Info>(['stream', 'info', 'JOBS'])).state.messages, 1);
  });

  test('purge by subject, then all; rm needs -f when stdin is not a terminal', async () => {
    assert.equal(await ok(['stream', 'purge', 'ORDERS', '--subject', 'returns.x', '-f']), 'Purged 1 messages from stream ORDERS\n');
    assert.deepEqual(JSON.parse(await ok(['stream', 'purge', 'ORDERS', '-f', '--json'])), { success: true, purged: 3 });
    oneErrorLine(await cli(['stream', 'rm', 'CFG', ...s]), /^sluice: Really delete stream CFG: refusing without -f\/--force \(stdin is not a terminal\)$/);
    assert.equal(await ok(['stream', 'rm', 'CFG', '-f']), 'Stream CFG deleted\n');
    assert.deepEqual(await json<string[]>(['stream', 'ls']), ['JOBS', 'ORDERS']);
  });
});

describe('stream backup and restore', () => {
  test('a backup restores the messages, subjects and headers into a new stream', async () => {
    await ok(['stream', 'add', 'BK', '--subjects', 'bk.>', '--defaults']);
    for (let i = 1; i <= 50; i++) await ok(['pub', `bk.${i % 3}`, `m${i}`, '-H', 'Nats-Msg-Id:id' + i]);
    const target = join(dir, 'bk-backup');
    assert.match(await ok(['stream', 'backup', 'BK', target]), /^Backed up 50 messages \(\d+\) of stream BK to \S+bk-backup\n$/);
    const lines = readFileSync(join(target, 'messages.ndjson'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 50);
    oneErrorLine(await cli(['stream', 'restore', target, ...s]), /^sluice: stream BK already exists: delete it first/);
    await ok(['stream', 'rm', 'BK', '-f']);
    assert.equal(await ok(['stream', 'restore', target]), 'Restored stream BK: 50 messages\n');
    const info = await json<Info>(['stream', 'info', 'BK']);
    assert.deepEqual([info.config.subjects, info.state.messages], [['bk.>'], 50]);
    const m = await json<{ subject: string; hdrs: string; data: string }>(['stream', 'get', 'BK', '50']);
    assert.deepEqual([m.subject, Buffer.from(m.data, 'base64').toString()], ['bk.2', 'm50']);
    assert.match(Buffer.from(m.hdrs, 'base64').toString(), /Nats-Msg-Id: id50/);
    oneErrorLine(await cli(['stream', 'backup', 'BK', target, ...s]), /already exists/);
    oneErrorLine(await cli(['stream', 'restore', join(dir, 'nothing-here'), ...s]), /is not a stream backup/);
  });
});

describe('bad input', () => {
  test('an unknown stream is "not found", exit 1, one line, for every command', async () => {
    for (const args of [['info', 'NOPE'], ['edit', 'NOPE', '--max-msgs', '1'], ['rm', 'NOPE', '-f'], ['purge', 'NOPE', '-f'], ['get', 'NOPE', '1'], ['rmm', 'NOPE', '1', '-f'], ['backup', 'NOPE', join(dir, 'x')]]) {
      oneErrorLine(await cli(['stream', ...args, ...s]), /^sluice: stream NOPE not found$/);
    }
  });

  test('malformed flag values name the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--storage', 'disk'], /invalid value for --storage: expected one of file, f, memory, m, got "disk"$/],
      [['--retention', 'forever'], /invalid value for --retention: expected one of limits, interest, work, workq, workqueue, got "forever"/],
      [['--max-msgs', 'lots'], /invalid value for --max-msgs: expected an integer >= -1, got "lots"/],
      [['--max-bytes', '1XB'], /invalid value for --max-bytes: expected a size/],
      [['--max-age', 'forever'], /invalid value for --max-age: expected a duration/],
      [['--replicas', '0'], /invalid value for --replicas: expected an integer 1\.\.5, got "0"/],
      [['--config', join(dir, 'missing.json')], /cannot read --config file .*missing\.json: no such file/],
    ];
    for (const [flags, pattern] of cases) oneErrorLine(await cli(['stream', 'add', 'BAD', '--defaults', ...flags, ...s]), pattern);
  });

  test('a missing name is asked for only on a terminal; otherwise it is an error naming it', async () => {
    oneErrorLine(await cli(['stream', 'add', '--defaults', ...s]), /^sluice: missing stream name: give it as an argument: sluice stream add NAME$/);
    const r = await cli(['stream', 'add', '--subjects', 'asked.>', ...s], { stdinIsTTY: true, stdin: 'ASKED\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stream name: /);
    assert.deepEqual((await json<Info>(['stream', 'info', 'ASKED'])).config.subjects, ['asked.>']);
  });

  test('the server answers an invalid config with its error, one line', async () => {
    oneErrorLine(await cli(['stream', 'add', 'OVERLAP', '--subjects', 'orders.*', '--defaults', ...s]), /subjects overlap|overlap/i);
  });

  test('flags map to config fields and only given ones appear', () => {
    assert.deepEqual(streamConfigFromFlags({}), {});
    assert.deepEqual(streamConfigFromFlags({ maxMsgs: 'unlimited', maxAge: '-1', storage: 'm', subjects: ['a, b', 'c'] }), {
      max_msgs: -1,
      max_age: 0,
      storage: 'memory',
      subjects: ['a', 'b', 'c'],
    });
  });
});
