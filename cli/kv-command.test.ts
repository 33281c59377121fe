// `sluice kv ...` against an in-process broker with JetStream.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startJsTestServer, type JsTestServer } from '../tests/helpers/jetstream-server.ts';
import { cli, LiveCli, oneErrorLine } from '../tests/helpers/cli.ts';

let js: JsTestServer;
let s: string[];

before(async () => {
  js = await startJsTestServer();
  s = ['-s', js.clientUrl];
});
after(async () => {
  await js.close();
});

async function ok(args: string[], stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await cli([...args, ...s], stdin === undefined ? {} : { stdin });
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('kv', () => {
  test('add creates the bucket with --history and --ttl; status shows it; --json is the backing StreamInfo', async () => {
    const { stdout } = await ok(['kv', 'add', 'CFG', '--history', '5', '--ttl', '1h']);
    assert.match(stdout, /^Bucket CFG was created\n\nInformation for Key-Value Store Bucket CFG created /);
    const info = JSON.parse((await ok(['kv', 'status', 'CFG', '--json'])).stdout) as { config: { name: string; max_msgs_per_subject: number; max_age: number } };
    assert.deepEqual([info.config.name, info.config.max_msgs_per_subject, info.config.max_age], ['KV_CFG', 5, 3600e9]);
    assert.match((await ok(['kv', 'status', 'CFG'])).stdout, /History Kept: 5\n/);
    // Adding it again with the same settings is fine; with other settings it is an error.
    await ok(['kv', 'add', 'CFG', '--history', '5', '--ttl', '1h']);
    oneErrorLine(await cli(['kv', 'add', 'CFG', '--history', '2', ...s]), /^sluice: bucket CFG already exists with history 5 and ttl 1h$/);
  });

  test('put, get (--raw, --revision), history, ls', async () => {
    assert.deepEqual(await ok(['kv', 'put', 'CFG', 'db.host', 'alpha']), { stdout: 'alpha\n', stderr: 'CFG > db.host revision 1\n' });
    await ok(['kv', 'put', 'CFG', 'db.host'], 'beta');
    await ok(['kv', 'put', 'CFG', 'db.port', '5432']);
    assert.equal((await ok(['kv', 'get', 'CFG', 'db.host', '--raw'])).stdout, 'beta\n');
    assert.match((await ok(['kv', 'get', 'CFG', 'db.host'])).stdout, /^CFG > db\.host revision: 2 created @ \S+\n\nbeta\n$/);
    assert.equal((await ok(['kv', 'get', 'CFG', 'db.host', '--revision', '1', '--raw'])).stdout, 'alpha\n');
    const hist = (await ok(['kv', 'history', 'CFG', 'db.host'])).stdout.trimEnd().split('\n');
    assert.equal(hist.length, 3);
    assert.match(hist[1]!, /^db\.host\s+1\s+PUT\s+\S+\s+5\s+alpha$/);
    assert.match(hist[2]!, /^db\.host\s+2\s+PUT\s+\S+\s+4\s+beta$/);
    assert.equal((await ok(['kv', 'ls', 'CFG'])).stdout, 'db.host\ndb.port\n');
    assert.deepEqual(JSON.parse((await ok(['kv', 'ls', '--json'])).stdout), ['CFG']);
    assert.match((await ok(['kv', 'ls'])).stdout, /^Bucket\s+History\s+Values\s+Size\s+TTL\nCFG\s+5\s+3\s+\d+\s+3600s\n$/);
  });

  test('watch prints current values, then changes; --count ends it, Ctrl-C too', async () => {
    const w = new LiveCli(['kv', 'watch', 'CFG', 'db.*', '--count', '3', ...s]);
    await w.waitFor(/Watching CFG > db\.\*/);
    await ok(['kv', 'put', 'CFG', 'db.user', 'admin']);
    const r = await w.result();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^\[\S+\] PUT CFG > db\.host: beta$/);
    assert.match(lines[2]!, /^\[\S+\] PUT CFG > db\.user: admin$/);
    const forever = new LiveCli(['kv', 'watch', 'CFG', '--updates', ...s]);
    await forever.waitFor(/Watching/);
    forever.stop();
    assert.equal((await forever.result()).code, 0);
  });

  test('del, purge, rm', async () => {
    assert.equal((await ok(['kv', 'del', 'CFG', 'db.user'])).stdout, 'Deleted CFG > db.user\n');
    oneErrorLine(await cli(['kv', 'get', 'CFG', 'db.user', ...s]), /^sluice: key db\.user not found in bucket CFG$/);
    assert.equal((await ok(['kv', 'purge', 'CFG', 'db.host'])).stdout, 'Purged CFG > db.host\n');
    const hist = (await ok(['kv', 'history', 'CFG', 'db.host'])).stdout.trimEnd().split('\n');
    assert.equal(hist.length, 2);
    assert.match(hist[1]!, /^db\.host\s+\d+\s+PURGE\s/);
    oneErrorLine(await cli(['kv', 'rm', 'CFG', ...s]), /refusing without -f\/--force/);
    assert.equal((await ok(['kv', 'rm', 'CFG', '-f'])).stdout, 'Bucket CFG deleted\n');
    assert.deepEqual(JSON.parse((await ok(['kv', 'ls', '--json'])).stdout), []);
  });

  test('bad input: unknown bucket, bad flags, bad key', async () => {
    for (const args of [['get', 'NOPE', 'k'], ['put', 'NOPE', 'k', 'v'], ['status', 'NOPE'], ['ls', 'NOPE'], ['history', 'NOPE', 'k'], ['rm', 'NOPE', '-f']]) {
      oneErrorLine(await cli(['kv', ...args, ...s]), /^sluice: bucket NOPE not found$/);
    }
    oneErrorLine(await cli(['kv', 'add', 'B', '--history', '100', ...s]), /invalid value for --history: expected an integer 1\.\.64, got "100"/);
    oneErrorLine(await cli(['kv', 'add', 'B', '--ttl', 'later', ...s]), /invalid value for --ttl/);
    await ok(['kv', 'add', 'B']);
    oneErrorLine(await cli(['kv', 'put', 'B', 'bad key', 'v', ...s]), /invalid key 'bad key'/);
  });
});
