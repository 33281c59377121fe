// `sluice server` as operators drive it: SIGHUP re-reads the config file (a broken file or a
// restart-only change is one clear error line and changes nothing; a permission change applies to
// the open connection), --log-file with -DV writes JSON lines with the connection's context and
// SIGUSR1 reopens the file after a rotation, and bad logging flags fail with one line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor, within } from '../helpers/deadline.ts';

const root = resolve(import.meta.dirname, '../..');

const config = (publishAllow: string, extra = ''): string => `
${extra}
authorization {
  users = [ { user: alice, password: pw, permissions: { publish: { allow: ["${publishAllow}"] } } } ]
}
`;

test('SIGHUP: a broken config file and a new monitoring port are refused in one line each; a permission change applies to the open connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hup-'));
  let server: ChildServer | undefined;
  const conf = join(dir, 'server.conf');
  writeFileSync(conf, config('orders.>'));
  try {
    server = await startChildServer({ portsDir: dir, name: 'hup', args: ['-c', conf] });
    const nc = await connect({ servers: server.url, user: 'alice', pass: 'pw', maxReconnectAttempts: 0 });
    const errors: string[] = [];
    void (async () => {
      for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
    })();
    try {
      // Complete lines only (the last piece may still be arriving).
      const lines = (): string[] => server!.output().split('\n').slice(0, -1).filter((l) => l.includes('config reload'));

      writeFileSync(conf, 'port: -1 {\n');
      server.proc.kill('SIGHUP');
      const broken = await waitFor(() => lines().find((l) => l.includes('config reload failed')), 'the reload failure line', 20_000);
      assert.equal(lines().length, 1);
      const parsed = JSON.parse(broken) as { level: string; msg: string };
      assert.equal(parsed.level, 'error');
      assert.match(parsed.msg, /keeping the running configuration: .*server\.conf:1:/);

      // (The port itself comes from the test's --port flag, which wins over the file.)
      writeFileSync(conf, config('orders.>', 'http_port: -1'));
      server.proc.kill('SIGHUP');
      const refused = await waitFor(() => lines().find((l) => l.includes('config reload refused')), 'the refusal line', 20_000);
      assert.match(refused, /\\"httpPort\\" cannot change without a restart/);
      assert.equal(lines().length, 2);

      // The old configuration is still in force: alice may publish to orders.
      nc.publish('orders.new', 'ok');
      await nc.flush();
      assert.deepEqual(errors, []);

      writeFileSync(conf, config('billing.>'));
      server.proc.kill('SIGHUP');
      await waitFor(async () => {
        nc.publish('orders.new', 'now denied?');
        await nc.flush();
        return errors.some((e) => /Permissions Violation for Publish to "orders.new"/i.test(e));
      }, 'the new permissions to apply to the open connection', 20_000);
      assert.equal(nc.isClosed(), false);
    } finally {
      await nc.close();
    }
    server.proc.kill('SIGTERM');
    assert.equal(await within(server.exited, 10_000, 'the server to stop'), 0);
  } finally {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-file with -DV: JSON lines at trace level, connection lines carry cid, ip and name; SIGUSR1 reopens the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-logfile-'));
  const log = join(dir, 'sluice.log');
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'server', '-p', '0', '-DV', '-l', log, '-P', join(dir, 's.pid'), '--ports-file-dir', dir, '--name', 'logs'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', r));
  try {
    const ports = await waitFor(() => {
      if (proc.exitCode !== null) throw new Error(`server exited: ${stdout}`);
      try {
        return JSON.parse(readFileSync(join(dir, `logs_${proc.pid}.ports`), 'utf8')) as { nats: string[] };
      } catch {
        return undefined;
      }
    }, 'the ports file', 30_000);
    assert.equal(readFileSync(join(dir, 's.pid'), 'utf8').trim(), String(proc.pid));
    const nc = await connect({ servers: ports.nats[0]!, name: 'probe' });
    await nc.close();
    type Line = { level: string; msg: string; cid?: number; ip?: string; name?: string };
    // The server appends while the test polls, and a read can catch a line half written (the file
    // grows a page at a time): only the lines a newline ends are parsed.
    const read = (file: string): Line[] => {
      if (!existsSync(file)) return [];
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.pop();
      return lines.filter(Boolean).map((l) => JSON.parse(l) as Line);
    };
    const closed = await waitFor(() => read(log).find((l) => l.msg === 'client connection closed'), 'the connection-closed line', 20_000);
    assert.equal(closed.level, 'debug');
    assert.equal(closed.name, 'probe');
    assert.equal(closed.ip, '127.0.0.1');
    assert.equal(typeof closed.cid, 'number');
    assert.ok(read(log).some((l) => l.msg === 'client connection created' && l.cid === closed.cid));
    // -V traces the client's operations (CONNECT without its credentials, PING, ...).
    const connectTrace = read(log).find((l) => l.msg === '<<- CONNECT' && l.cid === closed.cid) as (Line & { pass?: string }) | undefined;
    assert.equal(connectTrace?.level, 'trace');
    assert.equal(connectTrace?.name, 'probe');
    assert.equal(connectTrace?.pass, undefined);
    assert.ok(read(log).some((l) => l.msg === '<<- PING' && l.cid === closed.cid));
    assert.equal(stdout, '', 'nothing on stdout when logging to a file');

    // logrotate: move the file away, SIGUSR1, and the next lines go to a new file at the path.
    renameSync(log, `${log}.1`);
    proc.kill('SIGUSR1');
    await waitFor(async () => {
      const c = await connect({ servers: ports.nats[0]!, name: 'after-rotation' });
      await c.close();
      return read(log).some((l) => l.name === 'after-rotation');
    }, 'lines in the reopened log file', 20_000);
    assert.ok(!read(`${log}.1`).some((l) => l.name === 'after-rotation'));

    proc.kill('SIGTERM');
    assert.equal(await within(exited, 10_000, 'the server to stop'), 0);
    assert.equal(existsSync(join(dir, 's.pid')), false, 'the pid file is removed at exit');
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad logging and signal flags fail with one line naming the flag', async () => {
  const run = (...args: string[]): Promise<{ code: number | null; stderr: string }> => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'server', '-p', '0', ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((r) => proc.once('exit', (code) => r({ code, stderr })));
  };
  const cases: [args: string[], pattern: RegExp][] = [
    [['-D', '--log-level', 'info'], /^sluice: --debug cannot be combined with --log-level/],
    [['-l', join(tmpdir(), 'no-such-dir-sluice', 'x.log')], /^sluice: cannot open log file .*x\.log: ENOENT/],
    [['--signal', 'pause=1'], /^sluice: invalid value for --signal: expected one of stop, quit, term, reopen, reload, ldm/],
    [['-sl', 'ldm'], /^sluice: invalid value for --signal: expected a process after "ldm="/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await run(...args);
    assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
    assert.equal(stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr, pattern);
  }
});
