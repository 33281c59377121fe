// Logging can never stop the server (docs/adr/0012-logging.md): `sluice server` with its stdout on
// a pipe whose reader has exited (`sluice server | head -5`, a log shipper that died) or stopped
// reading (a full pipe) keeps serving, and SIGTERM still ends it promptly with exit code 0.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor, within } from '../helpers/deadline.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'sluice-logging-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  stderr(): string;
}

/** `sluice server` with stdout on a pipe this test controls; found through its ports file. */
async function startServer(name: string, logLevel: string): Promise<Started> {
  const portsDir = join(dir, name);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'server', '--port', '0', '--log-level', logLevel, '--ports-file-dir', portsDir, '--name', name],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => (children.delete(child), r(code))));
  const port = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`server exited early: ${stderr}`);
      try {
        const file = readdirSync(portsDir).find((f) => f.endsWith('.ports'));
        if (file === undefined) return undefined;
        return Number(new URL((JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as { nats: string[] }).nats[0]!).port);
      } catch {
        return undefined;
      }
    },
    `${name} to write its ports file`,
    30_000,
  );
  return { child, port, exited, stderr: () => stderr };
}

/** Connects, sends CONNECT + PING and resolves once PONG arrives; the socket is left open. */
async function pingPong(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  let buf = '';
  sock.setEncoding('latin1');
  await within(
    new Promise<void>((resolveDone, reject) => {
      sock.on('data', (d: string) => {
        buf += d;
        if (buf.includes('PONG\r\n')) resolveDone();
      });
      sock.on('error', reject);
      sock.write('CONNECT {"verbose":false}\r\nPING\r\n');
    }),
    5_000,
    'PONG',
  );
  return sock;
}

test('SIGTERM stops a server whose stdout reader has exited', { timeout: 60_000 }, async () => {
  const s = await startServer('reader-gone', 'info');
  // Read until the server said it is ready, then go away like `head -2` does.
  let out = '';
  s.child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  await waitFor(() => out.includes('server is ready'), 'the ready line', 10_000);
  s.child.stdout!.destroy();
  // Its next lines hit EPIPE; it must keep serving.
  (await pingPong(s.port)).destroy();
  s.child.kill('SIGTERM');
  assert.equal(await within(s.exited, 10_000, 'the server to exit after SIGTERM'), 0, s.stderr());
});

test('a server whose stdout pipe is full keeps serving and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const s = await startServer('reader-stalled', 'debug');
  s.child.stdout!.pause();
  // Each closed connection is one debug line (~150 bytes): 1,000 of them overfill a 64 KiB pipe.
  for (let batch = 0; batch < 10; batch++) {
    const socks = await Promise.all(Array.from({ length: 100 }, () => pingPong(s.port)));
    for (const sock of socks) sock.destroy();
  }
  const bystander = await pingPong(s.port);
  bystander.destroy();
  s.child.kill('SIGTERM');
  assert.equal(await within(s.exited, 10_000, 'the server to exit after SIGTERM'), 0, s.stderr());
  s.child.stdout!.destroy();
});
