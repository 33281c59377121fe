// The CLI as users meet it: bin/sluice spawned as a process, from a directory that is not the
// checkout. Error paths must end with exit code 1 and exactly one stderr line naming the culprit.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { OptionsError } from '../server/options.ts';
import { optionsFromFlags, serverSettingsFromFlags } from './server-command.ts';
import { oneLine } from './program.ts';

const BIN = fileURLToPath(new URL('../bin/sluice', import.meta.url));

const children = new Set<ChildProcess>();
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
});
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]): ChildProcess {
  // cwd outside the checkout: bin/sluice must find its own tsx and sources.
  const child = spawn(BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = start(args);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Exit code 1, nothing on stdout, one stderr line "sluice: ..." that matches `pattern`. */
async function assertFailsWithOneLine(args: string[], pattern: RegExp): Promise<void> {
  const r = await run(args);
  assert.equal(r.code, 1, `exit code for ${args.join(' ')}; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `exactly one stderr line, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0]!, /^sluice: /);
  assert.match(lines[0]!, pattern);
}

describe('bin/sluice: usage errors are one line and exit 1', () => {
  test('--help and --version work from any directory', async () => {
    const [help, version] = await Promise.all([run(['--help']), run(['--version'])]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: sluice/);
    assert.match(help.stdout, /server/);
    assert.equal(version.code, 0);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
  });

  test('bad flag values name the flag', async () => {
    writeFileSync(join(dir, 'bad-port.json'), '{"port":"x"}');
    writeFileSync(join(dir, 'bad-syntax.conf'), 'port: 4222\nmax_payload: [1,,2]\n');
    const cases: [string[], RegExp][] = [
      [['server', '--port', 'abc'], /invalid value for --port: expected an integer 0\.\.65535.*got "abc"$/],
      [['server', '--max-payload', '-5'], /invalid value for --max-payload: .*got "-5"$/],
      [['server', '--bogus'], /unknown option '--bogus'/],
      [['server', '--config', 'bad-port.json'], /bad-port\.json: invalid value for "port": .*got "x"$/],
      [['server', '-c', 'bad-syntax.conf'], /bad-syntax\.conf:2:\d+: unexpected ','/],
      [['server', '-c', 'missing.conf'], /cannot read config file missing\.conf: no such file$/],
    ];
    // Two at a time: the machine's two cores are shared, and each process starts tsx.
    for (let i = 0; i < cases.length; i += 2) {
      await Promise.all(cases.slice(i, i + 2).map(([args, pattern]) => assertFailsWithOneLine(args, pattern)));
    }
  });
});

describe('flags -> options', () => {
  test('only given flags appear, converted', () => {
    assert.deepEqual(optionsFromFlags({}), {});
    assert.deepEqual(
      optionsFromFlags({
        host: '127.0.0.1',
        port: '-1',
        name: 'n1',
        httpPort: '8222',
        storeDir: './data',
        jetstreamSync: 'durable',
        maxPayload: '2MB',
        logLevel: 'debug',
        portsFileDir: '/tmp',
      }),
      {
        host: '127.0.0.1',
        port: 0,
        serverName: 'n1',
        httpPort: 8222,
        storeDir: './data',
        jetstreamSync: 'durable',
        maxPayloadBytes: 2 * 1024 * 1024,
        logLevel: 'debug',
        portsFileDir: '/tmp',
      },
    );
  });

  test('cluster flags become a partial cluster block; the rest comes from the file or the defaults', () => {
    assert.deepEqual(optionsFromFlags({ clusterPort: '-1', clusterName: 'c1', routes: 'nats-route://127.0.0.1:6222, nats-route://h2:6223' }), {
      cluster: { port: 0, name: 'c1', routes: ['nats-route://127.0.0.1:6222', 'nats-route://h2:6223'] },
    });
    const file = join(dir, 'cluster.conf');
    writeFileSync(file, 'cluster { name: from-file, listen: "127.0.0.1:7000", routes: ["nats-route://127.0.0.1:7001"] }\n');
    const { options } = serverSettingsFromFlags({ config: file, clusterPort: '7100' });
    assert.deepEqual(
      [options.cluster?.name, options.cluster?.host, options.cluster?.port, options.cluster?.routes],
      ['from-file', '127.0.0.1', 7100, ['nats-route://127.0.0.1:7001']],
    );
  });

  test('leafnode flags: a listener port and remotes added to the file\'s', () => {
    assert.deepEqual(optionsFromFlags({ leafnodePort: '-1', leafnodeRemote: ['nats-leaf://u:p@hub:7422'] }), {
      leafnodes: { port: 0, remotes: [{ urls: ['nats-leaf://u:p@hub:7422'], credentials: '', account: '', tls: undefined, denyImports: [], denyExports: [] }] },
    });
    const file = join(dir, 'leaf.conf');
    writeFileSync(file, 'leafnodes { port: 7000, remotes: [ { url: "nats-leaf://a:7422", deny_exports: ["x.>"] } ] }\n');
    const { options } = serverSettingsFromFlags({ config: file, leafnodePort: '7100', leafnodeRemote: ['nats://b:7422'] });
    assert.equal(options.leafnodes?.port, 7100);
    assert.deepEqual(options.leafnodes?.remotes.map((r) => [r.urls, r.denyExports]), [[['nats-leaf://a:7422'], ['x.>']], [['nats://b:7422'], []]]);
    assert.throws(() => optionsFromFlags({ leafnodePort: 'x' }), /^OptionsError: invalid value for --leafnode-port/);
    assert.throws(() => optionsFromFlags({ leafnodeRemote: ['http://hub'] }), /^OptionsError: invalid value for --leafnode-remote: expected a leafnode URL/);
  });

  test('bad values throw one line naming the flag', () => {
    const cases: [Parameters<typeof optionsFromFlags>[0], RegExp][] = [
      [{ port: '70000' }, /^invalid value for --port: .*got "70000"$/],
      [{ port: '1.5' }, /--port/],
      [{ httpPort: 'x' }, /^invalid value for --http-port/],
      [{ maxPayload: '100MB' }, /^invalid value for --max-payload: .*got "100MB"$/],
      [{ host: '' }, /^invalid value for --host: expected a non-empty string/],
      [{ name: 'a b' }, /^invalid value for --name/],
      [{ routes: 'http://127.0.0.1:6222' }, /^invalid value for --routes: expected a route URL such as "nats-route:\/\/127\.0\.0\.1:6222" \(comma-separated\), got "http:\/\/127\.0\.0\.1:6222"$/],
      [{ clusterPort: 'x' }, /^invalid value for --cluster-port/],
      [{ clusterName: 'a b' }, /^invalid value for --cluster-name: expected a name without whitespace/],
      [{ jetstreamSync: 'always' }, /^invalid value for --jetstream-sync: expected one of committed, durable, none, got "always"$/],
    ];
    for (const [flags, pattern] of cases) {
      assert.throws(() => optionsFromFlags(flags), (err: unknown) => {
        assert.ok(err instanceof OptionsError);
        assert.match(err.message, pattern);
        return true;
      });
    }
  });

  test('flags override the config file, which overrides defaults; config warnings are collected', () => {
    const file = join(dir, 'override.conf');
    writeFileSync(file, 'port: 1111\nserver_name: from-file\nmax_payload: 16MB\nmqtt { port: 1883 }\n');
    const s = serverSettingsFromFlags({ config: file, port: '2222' });
    assert.equal(s.options.port, 2222);
    assert.equal(s.options.serverName, 'from-file');
    assert.equal(s.options.maxPayloadBytes, 16 * 1024 * 1024);
    assert.equal(s.options.host, '0.0.0.0');
    // Option warnings (the payload above 8 MiB) are the server's to log; the CLI relays the file's.
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, /unsupported config key "mqtt" ignored/);
  });

  test('WebSocket, auth and TLS flags', () => {
    assert.deepEqual(optionsFromFlags({ wsPort: '-1', user: 'admin', pass: 'pw' }), { wsPort: 0, user: 'admin', pass: 'pw' });
    assert.deepEqual(optionsFromFlags({ token: 't' }), { token: 't' });
    assert.deepEqual(optionsFromFlags({ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsCa: 'ca.pem', tlsVerify: true }), {
      tls: { certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem', verify: true, timeoutMs: 2000, handshakeFirst: false },
    });
    const cases: [Parameters<typeof optionsFromFlags>[0], RegExp][] = [
      [{ wsPort: 'x' }, /^invalid value for --ws-port/],
      [{ token: '' }, /^invalid value for --token/],
      [{ tlsCert: 'c.pem' }, /^invalid value for --tls-key: expected a private key file/],
      [{ tlsKey: 'k.pem' }, /^invalid value for --tls-cert/],
      [{ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsVerify: true }, /--tls-verify needs --tls-ca/],
    ];
    for (const [flags, pattern] of cases) {
      assert.throws(() => optionsFromFlags(flags), (err: unknown) => err instanceof OptionsError && pattern.test(err.message));
    }
    assert.throws(() => serverSettingsFromFlags({ pass: 'pw' }), /a password needs a user/);
    assert.throws(() => serverSettingsFromFlags({ user: 'a', token: 't' }), /token cannot be combined/);
  });

  test('TLS flags keep the config file\'s other TLS settings', () => {
    const file = join(dir, 'tls.conf');
    writeFileSync(file, 'tls { cert_file: a.pem, key_file: a.key, timeout: 5, handshake_first: true }\n');
    const s = serverSettingsFromFlags({ config: file, tlsCert: 'b.pem', tlsKey: 'b.key' });
    assert.deepEqual(s.options.tls, { certFile: 'b.pem', keyFile: 'b.key', caFile: undefined, verify: false, timeoutMs: 5000, handshakeFirst: true });
  });

  test('oneLine folds commander messages', () => {
    assert.equal(oneLine("error: unknown command 'servr'\n(Did you mean server?)\n"), "unknown command 'servr' (Did you mean server?)");
  });
});

describe('bin/sluice server', () => {
  test('starts on a free port, logs it, writes the ports file, exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
    const conf = join(dir, 'run.conf');
    const portsDir = join(dir, 'ports');
    writeFileSync(conf, `port: -1\nserver_name: from-file\nmqtt { port: 1883 }\nports_file_dir: "${portsDir}"\n`);
    const child = start(['server', '-c', conf, '--name', 'cli-test', '--host', '127.0.0.1']);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

    // Read JSON log lines until one reports a bound port; every stdout line must be JSON.
    const lines: Record<string, unknown>[] = [];
    let port = 0;
    const rl = createInterface({ input: child.stdout! });
    for await (const line of rl) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (typeof entry.port === 'number' && entry.port > 0) {
        port = entry.port;
        break;
      }
    }
    assert.ok(port > 0, `no port logged; stderr: ${stderr}`);
    assert.ok(
      lines.some((l) => l.level === 'warn' && String(l.msg).includes('unsupported config key "mqtt" ignored')),
      'config warnings are logged',
    );

    // It really listens there, and the flag overrode the file's server_name.
    const socket = connect(port, '127.0.0.1');
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    const info = chunk.toString('utf8');
    assert.match(info, /^INFO \{/);
    assert.equal((JSON.parse(info.slice(5).split('\r\n')[0]!) as { server_name: string }).server_name, 'cli-test');

    const portsFile = join(portsDir, `cli-test_${child.pid}.ports`);
    const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] };
    assert.ok(ports.nats.some((u) => u.endsWith(`:${port}`)), JSON.stringify(ports));

    rl.resume();
    child.stdout!.resume();
    child.kill('SIGTERM');
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, `exit code; stderr: ${stderr}`);
    assert.equal(stderr, '');
    assert.equal(existsSync(portsFile), false, 'ports file removed on close');
  });

  test('--ws-port with --user/--pass: the WebSocket port is in the ports file and requires auth', { timeout: 30_000 }, async () => {
    const portsDir = join(dir, 'ports-ws');
    const child = start(['server', '--host', '127.0.0.1', '--port', '-1', '--ws-port', '-1', '--user', 'u', '--pass', 'p', '--name', 'ws-cli', '--ports-file-dir', portsDir]);
    const rl = createInterface({ input: child.stdout! });
    for await (const line of rl) if (String((JSON.parse(line) as { msg?: string }).msg).includes('server is ready')) break;
    rl.resume();
    child.stdout!.resume();
    const ports = JSON.parse(readFileSync(join(portsDir, `ws-cli_${child.pid}.ports`), 'utf8')) as { websocket: string[] };
    assert.match(ports.websocket[0]!, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(ports.websocket[0]!);
    const [first] = (await once(ws, 'message')) as [Buffer];
    ws.terminate();
    assert.match(first.toString(), /^INFO \{.*"auth_required":true/);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  });

  test('a missing TLS file is one line naming it, exit 1', { timeout: 30_000 }, async () => {
    await assertFailsWithOneLine(
      ['server', '--host', '127.0.0.1', '--port', '-1', '--tls-cert', 'missing.pem', '--tls-key', 'missing.key', '--log-level', 'error'],
      /cannot start server: cannot read TLS certificate file missing\.pem: no such file$/,
    );
  });

  test('a port already in use is one line and exit 1', { timeout: 30_000 }, async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const busy = (holder.address() as { port: number }).port;
    try {
      const r = await run(['server', '--host', '127.0.0.1', '--port', String(busy), '--log-level', 'error']);
      assert.equal(r.code, 1);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 1, JSON.stringify(r.stderr));
      assert.match(lines[0]!, /^sluice: cannot start server: .*EADDRINUSE/);
    } finally {
      holder.close();
    }
  });
});
