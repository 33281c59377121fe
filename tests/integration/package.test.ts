// The npm package as a user gets it: `npm pack` (which builds dist/ in `prepare`), the tarball
// installed into an empty folder, then `npx sluice server` and plain .mjs code importing
// sluice/server and sluice/client, with no TypeScript loader anywhere.
//
// The package is packed from a copy of the checkout, so the test never rewrites this checkout's
// dist/ under a concurrently running bin/sluice. It is installed the way npm installs a tarball,
// minus the registry: unpacked into node_modules/sluice, its `dependencies` linked to the ones
// this checkout already has, and its `bin` linked into node_modules/.bin. (`npm install --offline
// <tarball>` would need the dependencies' registry metadata in npm's cache, which `npm ci` does
// not put there.) Dev dependencies, tsx among them, are not reachable from the installed package.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { waitFor, within } from '../helpers/deadline.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'sluice-package-'));
const killers: (() => void)[] = [];
after(() => {
  for (const kill of killers) kill();
  rmSync(tmp, { recursive: true, force: true });
});

interface PackedManifest {
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
}

/** A copy of what `npm pack` reads (sources, build scripts, manifests), node_modules linked. */
function copyCheckout(dest: string): void {
  const skip = /(^|\/)(node_modules|dist|data|\.dist-build-[^/]*)$/;
  for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) {
    cpSync(join(repo, name), join(dest, name));
  }
  for (const dir of ['scripts', 'runtime', 'protocol', 'raft', 'streams', 'server', 'client', 'cli']) {
    cpSync(join(repo, dir), join(dest, dir), { recursive: true, filter: (src) => !skip.test(src) });
  }
  symlinkSync(join(repo, 'node_modules'), join(dest, 'node_modules'));
}

/** Unpacks the tarball into app/node_modules/sluice and links its dependencies and bin. */
async function install(tarball: string, app: string): Promise<PackedManifest> {
  const pkgDir = join(app, 'node_modules', 'sluice');
  mkdirSync(pkgDir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as PackedManifest;
  for (const dep of Object.keys(manifest.dependencies)) {
    const link = join(app, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(repo, 'node_modules', dep), link);
  }
  mkdirSync(join(app, 'node_modules', '.bin'));
  for (const [name, target] of Object.entries(manifest.bin)) {
    chmodSync(join(pkgDir, target), 0o755);
    symlinkSync(join('..', 'sluice', target), join(app, 'node_modules', '.bin', name));
  }
  return manifest;
}

function listFiles(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

/** Resolves with the first line the server sends (INFO ...). */
function firstLine(port: number): Promise<string> {
  return new Promise((resolveLine, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n');
      if (end >= 0) {
        sock.destroy();
        resolveLine(buf.slice(0, end));
      }
    });
    sock.on('error', reject);
  });
}

const CHECK = `
import { startServer } from 'sluice/server';
import { connect, StringCodec } from 'sluice/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const storeDir = mkdtempSync(join(tmpdir(), 'sluice-package-store-'));
const server = await startServer({ host: '127.0.0.1', port: 0, storeDir, logLevel: 'warn' });
try {
  const nc = await connect({ servers: server.clientUrl });
  const sc = StringCodec();
  const sub = nc.subscribe('greet', { callback: (m) => m.respond(sc.encode('hello ' + sc.decode(m.data))) });
  const reply = await nc.request('greet', sc.encode('mjs'), { timeout: 5000 });
  sub.unsubscribe();
  await nc.close();
  console.log(JSON.stringify({ reply: sc.decode(reply.data), jetstream: server.jetstream !== undefined }));
} finally {
  await server.close();
  rmSync(storeDir, { recursive: true, force: true });
}
`;

test('npm pack gives a package that plain JavaScript can run and import', { timeout: 120_000 }, async () => {
  const src = join(tmp, 'src');
  const app = join(tmp, 'app');
  mkdirSync(src);
  mkdirSync(app);
  copyCheckout(src);

  // `prepare` builds dist/ as npm packs.
  await run('npm', ['pack', '--pack-destination', tmp, '--loglevel', 'error'], { cwd: src, timeout: 90_000 });
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball !== undefined, 'npm pack wrote a tarball');

  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  const manifest = await install(join(tmp, tarball), app);

  // What ships: compiled JavaScript with source maps and declarations, no TypeScript sources.
  const files = listFiles(join(app, 'node_modules', 'sluice'));
  assert.deepEqual(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
  for (const [entry, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') continue;
    assert.ok(files.includes(target.default.replace(/^\.\//, '')), `${entry} -> ${target.default}`);
    assert.ok(files.includes(`${target.default.replace(/^\.\//, '')}.map`), `${entry} has a source map`);
    assert.ok(files.includes(target.types.replace(/^\.\//, '')), `${entry} -> ${target.types}`);
  }
  assert.equal(manifest.bin.sluice, 'dist/cli.js');
  // The monitoring dashboard's plain files, where the bundles look for them.
  for (const f of ['index.html', 'dashboard.js', 'dashboard.css']) assert.ok(files.includes(`dist/dashboard/${f}`), `dist/dashboard/${f} ships`);
  assert.equal((manifest.dependencies as Record<string, string | undefined>).tsx, undefined, 'tsx is a dev dependency');

  // Plain .mjs code imports the broker and the client.
  writeFileSync(join(app, 'check.mjs'), CHECK);
  const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app, timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout.trim()), { reply: 'hello mjs', jetstream: true });

  // `npx sluice server` runs the installed bin (npm -> sh -> node). The server is stopped by its own
  // pid, from its ports file's name, and npx must pass its exit code on; a failed test kills the
  // whole process group.
  const portsDir = join(tmp, 'ports');
  mkdirSync(portsDir);
  const npx = spawn('npx', ['--offline', 'sluice', 'server', '--port', '0', '--ports-file-dir', portsDir, '--name', 'pkg'], {
    cwd: app,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-npx.pid!, signal);
    } catch {
      // already gone
    }
  };
  killers.push(() => killGroup('SIGKILL'));
  let output = '';
  npx.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  npx.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => npx.once('exit', (code) => r(code)));
  const ports = await waitFor(
    () => {
      if (npx.exitCode !== null) throw new Error(`npx sluice server exited (${npx.exitCode}): ${output}`);
      const file = readdirSync(portsDir).find((f) => f.endsWith('.ports'));
      if (file === undefined) return undefined;
      try {
        const pid = Number(/_(\d+)\.ports$/.exec(file)![1]);
        return { pid, ...(JSON.parse(readFileSync(join(portsDir, file), 'utf8')) as { nats: string[] }) };
      } catch {
        return undefined; // still being written
      }
    },
    'npx sluice server to write its ports file',
    20_000,
  );
  const info = await within(firstLine(Number(new URL(ports.nats[0]!).port)), 5_000, 'INFO from npx sluice server');
  assert.match(info, /^INFO \{/);
  process.kill(ports.pid, 'SIGTERM');
  assert.equal(await within(exited, 10_000, 'npx sluice server to stop on SIGTERM'), 0, output);
});
