// `sluice consumer ...` against an in-process broker with JetStream.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startJsTestServer, type JsTestServer } from '../tests/helpers/jetstream-server.ts';
import { cli, oneErrorLine } from '../tests/helpers/cli.ts';
import { consumerConfigFromFlags, deliverPolicy } from './consumer-config.ts';

let js: JsTestServer;
let s: string[];

before(async () => {
  js = await startJsTestServer();
  s = ['-s', js.clientUrl];
  await ok(['stream', 'add', 'ORDERS', '--subjects', 'orders.>', '--defaults']);
  for (let i = 1; i <= 3; i++) await ok(['pub', 'orders.new', `order ${i}`]);
  await ok(['pub', 'orders.old', 'legacy']);
});
after(async () => {
  await js.close();
});

async function ok(args: string[]): Promise<string> {
  const r = await cli([...args, ...s]);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface CInfo {
  name: string;
  config: Record<string, unknown>;
  num_pending: number;
  num_ack_pending: number;
  ack_floor: { stream_seq: number };
}

async function info(name: string): Promise<CInfo> {
  return JSON.parse(await ok(['consumer', 'info', 'ORDERS', name, '--json'])) as CInfo;
}

describe('consumer add, info, ls', () => {
  test('a pull consumer from flags', async () => {
    const out = await ok(['consumer', 'add', 'ORDERS', 'NEW', '--pull', '--ack', 'explicit', '--filter', 'orders.new', '--deliver', 'all', '--max-deliver', '5', '--wait', '10s', '--max-pending', '100']);
    assert.match(out, /^Consumer NEW of stream ORDERS was created\n\nInformation for Consumer ORDERS > NEW created /);
    assert.match(out, /Pull Mode: true\n/);
    const i = await info('NEW');
    const c = i.config;
    assert.deepEqual(
      [c.durable_name, c.ack_policy, c.filter_subject, c.deliver_policy, c.max_deliver, c.ack_wait, c.max_ack_pending, c.deliver_subject],
      ['NEW', 'explicit', 'orders.new', 'all', 5, 10e9, 100, undefined],
    );
    assert.equal(i.num_pending, 3);
  });

  test('a push consumer with --target; --deliver SUBJECT (not a policy) is the push subject too', async () => {
    await ok(['consumer', 'add', 'ORDERS', 'PUSH', '--target', 'out.orders', '--ack', 'none', '--deliver', 'last']);
    assert.deepEqual([(await info('PUSH')).config.deliver_subject, (await info('PUSH')).config.deliver_policy], ['out.orders', 'last']);
    const r = await cli(['consumer', 'add', 'ORDERS', 'PUSH2', '--deliver', 'out.two', ...s]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--deliver "out\.two" is not a deliver policy: it is the push delivery subject/);
    assert.equal((await info('PUSH2')).config.deliver_subject, 'out.two');
  });

  test('--defaults and no --target make a pull consumer without asking', async () => {
    await ok(['consumer', 'add', 'ORDERS', 'DEF', '--defaults', '--deliver-policy', 'new']);
    const c = (await info('DEF')).config;
    assert.deepEqual([c.deliver_subject, c.deliver_policy, c.ack_policy], [undefined, 'new', 'explicit']);
  });

  test('ls: a table, names, JSON', async () => {
    const table = await ok(['consumer', 'ls', 'ORDERS']);
    assert.match(table, /^Name\s+Mode\s+Ack\s+Unprocessed\s+Ack Pending\s+Redelivered\s+Last Delivery\n/);
    assert.match(table, /\nNEW\s+pull\s+explicit\s+3\s+0\s+0\s+never\n/);
    assert.match(table, /\nPUSH\s+push out\.orders\s+none\s+/);
    assert.deepEqual(JSON.parse(await ok(['consumer', 'ls', 'ORDERS', '--json'])), ['DEF', 'NEW', 'PUSH', 'PUSH2']);
  });
});

describe('consumer next, edit, rm', () => {
  test('next pulls and acknowledges; --count; --no-ack leaves it pending; --raw prints bodies', async () => {
    const r = await cli(['consumer', 'next', 'ORDERS', 'NEW', ...s]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[#1] subj: orders.new / tries: 1 / cons seq: 1 / str seq: 1 / pending: 2\norder 1\n\n');
    assert.equal(r.stderr, 'Acknowledged message\n');
    assert.equal(await ok(['consumer', 'next', 'ORDERS', 'NEW', '--count', '2', '--raw']), 'order 2\norder 3\n');
    const i = await info('NEW');
    assert.deepEqual([i.num_pending, i.num_ack_pending, i.ack_floor.stream_seq], [0, 0, 3]);
    await ok(['pub', 'orders.new', 'order 4']);
    assert.equal(await ok(['consumer', 'next', 'ORDERS', 'NEW', '--no-ack', '--raw']), 'order 4\n');
    assert.equal((await info('NEW')).num_ack_pending, 1);
  });

  test('next with nothing to get fails within --timeout; next on a push consumer is refused', async () => {
    await ok(['consumer', 'add', 'ORDERS', 'EMPTY', '--filter', 'orders.none', '--defaults']);
    oneErrorLine(await cli(['consumer', 'next', 'ORDERS', 'EMPTY', '--timeout', '300ms', ...s]), /^sluice: no message from consumer EMPTY of stream ORDERS within 0\.3s$/);
    oneErrorLine(await cli(['consumer', 'next', 'ORDERS', 'PUSH', ...s]), /is a push consumer: next works on pull consumers/);
  });

  test('edit changes only the given fields', async () => {
    assert.match(await ok(['consumer', 'edit', 'ORDERS', 'NEW', '--max-deliver', '9', '--description', 'edited']), /^Consumer NEW of stream ORDERS was updated\n/);
    const c = (await info('NEW')).config;
    assert.deepEqual([c.max_deliver, c.description, c.filter_subject, c.ack_wait], [9, 'edited', 'orders.new', 10e9]);
  });

  test('rm needs -f when stdin is not a terminal', async () => {
    oneErrorLine(await cli(['consumer', 'rm', 'ORDERS', 'PUSH2', ...s]), /refusing without -f\/--force/);
    assert.equal(await ok(['consumer', 'rm', 'ORDERS', 'PUSH2', '-f']), 'Consumer PUSH2 of stream ORDERS deleted\n');
  });
});

describe('bad input', () => {
  test('unknown stream or consumer, malformed flags, a missing name', async () => {
    oneErrorLine(await cli(['consumer', 'info', 'NOPE', 'X', ...s]), /^sluice: stream NOPE not found$/);
    oneErrorLine(await cli(['consumer', 'info', 'ORDERS', 'NOPE', ...s]), /^sluice: consumer NOPE of stream ORDERS not found$/);
    oneErrorLine(await cli(['consumer', 'add', 'NOPE', 'X', '--pull', ...s]), /^sluice: stream NOPE not found$/);
    oneErrorLine(await cli(['consumer', 'ls', 'NOPE', ...s]), /^sluice: stream NOPE not found$/);
    oneErrorLine(await cli(['consumer', 'next', 'ORDERS', 'NOPE', ...s]), /^sluice: consumer NOPE of stream ORDERS not found$/);
    oneErrorLine(await cli(['consumer', 'add', 'ORDERS', 'B', '--ack', 'maybe', ...s]), /invalid value for --ack: expected one of explicit, none, all, got "maybe"/);
    oneErrorLine(await cli(['consumer', 'add', 'ORDERS', 'B', '--wait', 'long', ...s]), /invalid value for --wait: expected a duration/);
    oneErrorLine(await cli(['consumer', 'add', 'ORDERS', 'B', '--pull', '--target', 'x', ...s]), /--pull and a push subject/);
    oneErrorLine(await cli(['consumer', 'add', 'ORDERS', 'B', '--deliver-policy', 'x.y', ...s]), /invalid value for --deliver-policy/);
    oneErrorLine(await cli(['consumer', 'add', 'ORDERS', '--pull', ...s]), /^sluice: missing consumer name: give it as the second argument/);
  });

  test('deliver policies from text', () => {
    const now = Date.UTC(2026, 0, 1, 12);
    assert.deepEqual(deliverPolicy('all', now), { deliver_policy: 'all' });
    assert.deepEqual(deliverPolicy('subject', now), { deliver_policy: 'last_per_subject' });
    assert.deepEqual(deliverPolicy('42', now), { deliver_policy: 'by_start_sequence', opt_start_seq: 42 });
    assert.deepEqual(deliverPolicy('1h', now), { deliver_policy: 'by_start_time', opt_start_time: '2026-01-01T11:00:00.000Z' });
    assert.equal(deliverPolicy('out.x', now), undefined);
    assert.deepEqual(consumerConfigFromFlags({ filter: ['a.*,b.*'] }, now).config, { filter_subjects: ['a.*', 'b.*'] });
  });
});
