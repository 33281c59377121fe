// The client commands as users run them: `node --import tsx cli/main.ts ...` as a child process,
// against an in-process broker. Exit codes, stdout/stderr separation, environment variables, and
// failures that must stay one line: an unknown stream, an unreachable server (within --timeout).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { cliProcess, oneErrorLine } from '../helpers/cli.ts';

let js: JsTestServer;

before(async () => {
  js = await startJsTestServer();
});
after(async () => {
  await js.close();
});

describe('sluice client commands in their own process', () => {
  test('stream add, pub, stream info --json with the server from NATS_URL', async () => {
    const env = { NATS_URL: js.clientUrl };
    const add = await cliProcess(['stream', 'add', 'P', '--subjects', 'p.>', '--defaults', '--json'], env);
    assert.equal(add.code, 0, add.stderr);
    assert.equal((JSON.parse(add.stdout) as { config: { name: string } }).config.name, 'P');
    const pub = await cliProcess(['pub', 'p.x', '--stdin'], env, 'piped body');
    assert.deepEqual([pub.code, pub.stdout, pub.stderr], [0, '', 'Published 10 bytes to "p.x"\n']);
    const info = await cliProcess(['stream', 'info', 'P', '--json'], env);
    assert.equal((JSON.parse(info.stdout) as { state: { messages: number } }).state.messages, 1);
  });

  test('sluice stream info NOPE: "not found", exit 1, one line, no stack trace', async () => {
    oneErrorLine(await cliProcess(['stream', 'info', 'NOPE', '-s', js.clientUrl]), /^sluice: stream NOPE not found$/);
  });

  test('an unreachable server: refused at once, or silent until --timeout', async () => {
    oneErrorLine(await cliProcess(['stream', 'ls', '-s', 'nats://127.0.0.1:1']), /^sluice: cannot connect to nats:\/\/127\.0\.0\.1:1: connection refused$/);
    // A server that accepts TCP but never says INFO.
    const sockets = new Set<Socket>();
    const silent: Server = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const r = await cliProcess(['rtt', '--timeout', '500ms', '-s', `nats://127.0.0.1:${port}`]);
      oneErrorLine(r, new RegExp(`^sluice: cannot connect to nats://127\\.0\\.0\\.1:${port}: no answer within 500ms$`));
      // tsx start-up included; the point is that it does not wait for a default 20 s.
      assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test('a malformed flag and an unknown command are one line; --help lists the commands', async () => {
    oneErrorLine(await cliProcess(['kv', 'add', 'B', '--history', 'x', '-s', js.clientUrl]), /invalid value for --history/);
    oneErrorLine(await cliProcess(['strem', 'ls']), /unknown command 'strem'/);
    const help = await cliProcess(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['server', 'pub', 'sub', 'req', 'reply', 'rtt', 'stream', 'consumer', 'kv', 'bench']) assert.match(help.stdout, new RegExp(`\\n  ${c}\\b`));
    assert.match(help.stdout, /-s, --server <url>/);
  });
});
