// The sluice CLI against the Go nats-server (`nats-server -js`): the main commands work the same
// as against sluice (cli/*.test.ts), so the CLI serves either broker. In-process (runCli), plus
// one child process for the error path users see first.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, cliProcess, LiveCli, oneErrorLine } from '../helpers/cli.ts';
import { startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';

let server: ReferenceServer;
let dir: string;
let s: string[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-e2e-'));
  server = await startNatsServer(['-js', '-sd', join(dir, 'store')]);
  s = ['-s', server.url];
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const r = await cli([...args, ...s]);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('sluice CLI against nats-server', () => {
  test('pub/sub, req/reply, rtt', async () => {
    const sub = new LiveCli(['sub', 'e2e.>', '--count', '2', '--raw', ...s]);
    await sub.waitFor(/Subscribing/);
    await ok(['pub', 'e2e.a', 'n{{Count}}', '--count', '2']);
    assert.equal((await sub.result()).stdout, 'n1\nn2\n');
    const rep = new LiveCli(['reply', 'e2e.svc', 'pong {{Request}}', '--count', '1', ...s]);
    await rep.waitFor(/Listening/);
    assert.equal(await ok(['req', 'e2e.svc', 'ping', '--raw']), 'pong ping\n');
    assert.equal((await rep.result()).code, 0);
    assert.match(await ok(['rtt', '2']), /average: /);
    oneErrorLine(await cli(['req', 'e2e.nobody', 'x', ...s]), /no responders for 'e2e\.nobody'/);
  });

  test('streams: add, edit, info, ls, get, rmm, purge, backup, restore, rm', async () => {
    await ok(['stream', 'add', 'ORDERS', '--subjects', 'orders.>', '--max-msgs', '100', '--dupe-window', '1m', '--defaults']);
    for (let i = 1; i <= 5; i++) await ok(['pub', 'orders.new', `o${i}`, '-H', `N:${i}`]);
    const info = JSON.parse(await ok(['stream', 'info', 'ORDERS', '--json'])) as { config: { max_msgs: number; duplicate_window: number }; state: { messages: number } };
    assert.deepEqual([info.config.max_msgs, info.config.duplicate_window, info.state.messages], [100, 60e9, 5]);
    await ok(['stream', 'edit', 'ORDERS', '--max-msgs', '200', '-f']);
    assert.equal((JSON.parse(await ok(['stream', 'info', 'ORDERS', '--json'])) as { config: { max_msgs: number } }).config.max_msgs, 200);
    assert.deepEqual(JSON.parse(await ok(['stream', 'ls', '--json'])), ['ORDERS']);
    assert.match(await ok(['stream', 'get', 'ORDERS', '2']), /^Item: ORDERS#2 .*\n\nHeaders:\n  N: 2\n\no2\n$/);
    assert.equal(await ok(['stream', 'rmm', 'ORDERS', '1', '-f']), 'Message 1 deleted from stream ORDERS\n');
    const backup = join(dir, 'orders-backup');
    assert.match(await ok(['stream', 'backup', 'ORDERS', backup]), /^Backed up 4 messages/);
    assert.equal(await ok(['stream', 'purge', 'ORDERS', '-f']), 'Purged 4 messages from stream ORDERS\n');
    await ok(['stream', 'rm', 'ORDERS', '-f']);
    assert.equal(await ok(['stream', 'restore', backup]), 'Restored stream ORDERS: 4 messages\n');
    const m = JSON.parse(await ok(['stream', 'get', 'ORDERS', '-S', 'orders.new', '--json'])) as { data: string };
    assert.equal(Buffer.from(m.data, 'base64').toString(), 'o5');
    oneErrorLine(await cli(['stream', 'info', 'NOPE', ...s]), /^sluice: stream NOPE not found$/);
  });

  test('consumers: add, info, ls, next, edit, rm', async () => {
    await ok(['consumer', 'add', 'ORDERS', 'WORK', '--pull', '--ack', 'explicit', '--deliver', 'all', '--max-deliver', '3']);
    assert.deepEqual(JSON.parse(await ok(['consumer', 'ls', 'ORDERS', '--json'])), ['WORK']);
    assert.equal(await ok(['consumer', 'next', 'ORDERS', 'WORK', '--count', '2', '--raw']), 'o2\no3\n');
    const i = JSON.parse(await ok(['consumer', 'info', 'ORDERS', 'WORK', '--json'])) as { num_pending: number; ack_floor: { stream_seq: number } };
    assert.deepEqual([i.num_pending, i.ack_floor.stream_seq], [2, 2]);
    await ok(['consumer', 'edit', 'ORDERS', 'WORK', '--description', 'edited']);
    oneErrorLine(await cli(['consumer', 'info', 'ORDERS', 'NOPE', ...s]), /^sluice: consumer NOPE of stream ORDERS not found$/);
    await ok(['consumer', 'rm', 'ORDERS', 'WORK', '-f']);
  });

  test('kv: add, put, get, history, watch, ls, del, status, rm', async () => {
    await ok(['kv', 'add', 'CFG', '--history', '3']);
    await ok(['kv', 'put', 'CFG', 'k', 'v1']);
    await ok(['kv', 'put', 'CFG', 'k', 'v2']);
    assert.equal(await ok(['kv', 'get', 'CFG', 'k', '--raw']), 'v2\n');
    assert.equal((await ok(['kv', 'history', 'CFG', 'k'])).trimEnd().split('\n').length, 3);
    const w = new LiveCli(['kv', 'watch', 'CFG', '--count', '1', ...s]);
    assert.match((await w.result()).stdout, /PUT CFG > k: v2/);
    assert.equal(await ok(['kv', 'ls', 'CFG']), 'k\n');
    await ok(['kv', 'del', 'CFG', 'k']);
    oneErrorLine(await cli(['kv', 'get', 'CFG', 'k', ...s]), /key k not found in bucket CFG/);
    assert.match(await ok(['kv', 'status', 'CFG']), /History Kept: 3/);
    await ok(['kv', 'rm', 'CFG', '-f']);
    oneErrorLine(await cli(['kv', 'status', 'CFG', ...s]), /^sluice: bucket CFG not found$/);
  });

  test('bench: core, --js, --request', async () => {
    for (const args of [['--sub', '1', '--msgs', '20000', '--size', '16'], ['--js', '--sub', '1', '--msgs', '2000'], ['--request', '--sub', '1', '--msgs', '200']]) {
      const r = await cli(['bench', 'e2e.bench', ...args, '--json', ...s]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      const rows = (JSON.parse(r.stdout) as { results: { name: string; msgs: number }[] }).results;
      assert.ok(rows.every((row) => row.msgs > 0), JSON.stringify(rows));
    }
  });

  test('as a process: the not-found error is one line', async () => {
    oneErrorLine(await cliProcess(['stream', 'info', 'NOPE', '-s', server.url]), /^sluice: stream NOPE not found$/);
  });
});
