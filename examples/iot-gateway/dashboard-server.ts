// Serves the dashboard: the page and its script from public/, the browser build of sluice/client
// under /client/, and /config.json telling the page where the broker's WebSocket port is. The
// browser then talks to the broker directly; this server only hands out files.
//
// The client bundle is built once at start (client/browser/build.ts, esbuild, about a second)
// into a temporary directory that close() removes, so there is no build step to run by hand.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TELEMETRY_STREAM, TELEMETRY_SUBJECTS } from './telemetry.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
};

/** What the page reads from /config.json. */
export interface DashboardConfig {
  wsUrl: string;
  stream: string;
  subjects: string;
}

export interface DashboardOptions {
  /** The broker's WebSocket URL as the browser reaches it, e.g. ws://127.0.0.1:8080. */
  wsUrl: string;
  host?: string;
  /** HTTP port; 0 picks a free one (see `url`). Default 3000. */
  port?: number;
}

export interface Dashboard {
  /** http://host:port/ */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the browser bundle (entry `sluice-client.js` plus chunks) into outdir. */
export function buildClientBundle(outdir: string): Promise<void> {
  const script = join(repoRoot, 'client', 'browser', 'build.ts');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script, outdir], { cwd: repoRoot }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`building the browser client failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** The file under root that an URL path names, or undefined when it would leave root. */
function fileUnder(root: string, urlPath: string): string | undefined {
  const rel = normalize(urlPath).replace(/^[/\\]+/, '');
  if (rel.split(/[/\\]/).includes('..')) return undefined;
  const file = join(root, rel);
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : undefined;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const bundleDir = await mkdtemp(join(tmpdir(), 'sluice-dashboard-'));
  try {
    await buildClientBundle(bundleDir);
  } catch (err) {
    await rm(bundleDir, { recursive: true, force: true });
    throw err;
  }
  const config: DashboardConfig = { wsUrl: opts.wsUrl, stream: TELEMETRY_STREAM, subjects: TELEMETRY_SUBJECTS };

  const send = async (res: ServerResponse, file: string | undefined): Promise<void> => {
    const body = file === undefined ? undefined : await readFile(file).catch(() => undefined);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file!)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  };
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/config.json') {
      res.writeHead(200, { 'content-type': TYPES['.json']!, 'cache-control': 'no-store' }).end(JSON.stringify(config));
    } else if (path.startsWith('/client/')) {
      await send(res, fileUnder(bundleDir, path.slice('/client/'.length)));
    } else {
      await send(res, fileUnder(publicDir, path === '/' ? 'index.html' : path));
    }
  };

  const server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 3000, opts.host ?? '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await rm(bundleDir, { recursive: true, force: true });
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}/`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await rm(bundleDir, { recursive: true, force: true });
    },
  };
}
