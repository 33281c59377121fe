// Starting, probing and stopping the servers under test: sluice (this checkout: its dist/ build when
// that is of the current sources, else the TypeScript through tsx) and the Go nats-server. Each
// start picks a free port, measures start-up time as spawn -> first TCP connect that receives an
// INFO line, and exposes the process's RSS and CPU time from /proc.

import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { distIsFresh } from '../../scripts/dist-fresh.mjs';
import { registerChild } from './children.ts';

export type ServerKind = 'sluice' | 'nats';
export const SERVER_LABEL: Record<ServerKind, string> = { sluice: 'sluice', nats: 'nats-server' };

export interface ServerStartOptions {
  repoRoot: string;
  /** Give the server a JetStream store (a fresh temp dir, deleted on stop). */
  jetstream?: boolean;
  /** Also listen for WebSocket clients (plain ws://) on a free port. */
  websocket?: boolean;
  /** Also serve the HTTP monitoring endpoints on a free port (`httpPort`). */
  monitoring?: boolean;
  startTimeoutMs?: number;
  /** Command for nats-server (default: `nats-server` on PATH). */
  natsServerBin?: string;
  /** Join a cluster (startCluster sets this): a free cluster port, routes to the seeds, and a
   * monitoring port (/routez) on a free port. `ports` pins all three (startCluster picks them in
   * advance when every server is to be given the whole route list). */
  cluster?: { name: string; serverName: string; routes: readonly string[]; ports?: { port: number } & ClusterPorts };
  /** Leaf nodes (startLeafPair sets this): listen for edges on `port`, or dial the hub at `remote`. */
  leaf?: { serverName: string; port?: number; remote?: string };
}

export interface RunningServer {
  kind: ServerKind;
  host: string;
  port: number;
  pid: number;
  /** spawn -> first accepted TCP connection that delivered INFO. */
  startupMs: number;
  /** The WebSocket port when started with `websocket`. */
  wsPort?: number;
  /** Cluster (route) port and monitoring HTTP port, when started with `cluster`. */
  clusterPort?: number;
  httpPort?: number;
  /** Server name (-n / --name), when started with `cluster`. */
  name?: string;
  /** VmRSS in KiB, or null if the process is gone / not on Linux. */
  rssKb(): number | null;
  /** user+system CPU seconds consumed so far, or null. */
  cpuSeconds(): number | null;
  /** The last ~4 KB the server wrote to stdout/stderr. */
  outputTail(): string;
  stop(): Promise<void>;
  /** SIGKILL (a crash: no shutdown); resolves once the process has exited. The store stays. */
  kill(): Promise<void>;
  /** Starts the server again after kill() with the same command line (ports, name, routes, store
   * directory); resolves once it accepts clients. `pid` is then the new process's. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** n distinct free ports: all bound at once, then released (one by one, the OS may hand out the
 * same port twice in a row). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, HOST, () => resolve());
      });
    }
    return servers.map((srv) => {
      const addr = srv.address();
      return typeof addr === 'object' && addr !== null ? addr.port : 0;
    });
  } finally {
    await Promise.all(servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }
}

/** `nats-server --version` -> "2.9.10", or null when it is not installed. */
export function natsServerVersion(bin = 'nats-server'): string | null {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return null;
  const m = /v?(\d+\.\d+\.\d+\S*)/.exec(r.stdout + r.stderr);
  return m !== null ? m[1] : (r.stdout + r.stderr).trim();
}

/** Why sluice cannot be started from this checkout, or null if it looks startable. */
export function sluiceUnavailableReason(repoRoot: string): string | null {
  if (!existsSync(path.join(repoRoot, 'cli', 'main.ts'))) return `${path.join(repoRoot, 'cli', 'main.ts')} does not exist yet`;
  return null;
}

let chosenLaunch: 'dist' | 'tsx' | undefined;
/** How sluice is started, decided once per process like bin/sluice decides: the compiled CLI in
 * dist/ when it is a build of the current sources, else cli/main.ts through tsx.
 * SLUICE_BENCH_LAUNCH=tsx|dist forces one (e.g. to measure what the build changes). */
export function sluiceLaunch(repoRoot: string): 'dist' | 'tsx' {
  const forced = process.env.SLUICE_BENCH_LAUNCH;
  chosenLaunch ??= forced === 'tsx' || forced === 'dist' ? forced : distIsFresh(repoRoot) ? 'dist' : 'tsx';
  return chosenLaunch;
}

interface ClusterPorts {
  clusterPort: number;
  httpPort: number;
}

function command(kind: ServerKind, port: number, o: ServerStartOptions, storeDir: string | null, cp: ClusterPorts | null): { cmd: string; args: string[] } {
  const c = o.cluster;
  if (kind === 'nats') {
    const args = ['-p', String(port), '-a', HOST];
    if (storeDir !== null) args.push('-js', '-sd', storeDir);
    if (c !== undefined && cp !== null) {
      args.push('-n', c.serverName, '-m', String(cp.httpPort), '--cluster', `nats://${HOST}:${cp.clusterPort}`, '--cluster_name', c.name);
      if (c.routes.length > 0) args.push('--routes', c.routes.map((r) => r.replace(/^nats-route:/, 'nats:')).join(','));
    }
    return { cmd: o.natsServerBin ?? 'nats-server', args };
  }
  const entry = sluiceLaunch(o.repoRoot) === 'dist' ? [path.join(o.repoRoot, 'dist', 'cli.js')] : ['--import', 'tsx', path.join(o.repoRoot, 'cli', 'main.ts')];
  const args = [...entry, 'server', '--host', HOST, '--port', String(port), '--log-level', 'warn'];
  if (storeDir !== null) args.push('--store-dir', storeDir);
  if (c !== undefined && cp !== null) {
    args.push('--name', c.serverName, '--http-port', String(cp.httpPort), '--cluster-port', String(cp.clusterPort), '--cluster-name', c.name);
    if (c.routes.length > 0) args.push('--routes', c.routes.join(','));
  }
  return { cmd: process.execPath, args };
}

let clockTicks: number | null = null;
function clkTck(): number {
  if (clockTicks === null) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number.parseInt(r.stdout ?? '', 10);
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

export function procCpuSeconds(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / clkTck(); // utime, stime (fields 14, 15)
  } catch {
    return null;
  }
}

/** Busy (non-idle, non-iowait) CPU seconds of the whole machine, summed over cores. */
export function machineCpuSeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest fields are already inside user/nice)
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return busy / clkTck();
  } catch {
    return null;
  }
}

export function procRssKb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** One connect attempt: resolves true once a line starting with INFO arrives, false on refusal. */
function probe(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.createConnection({ host: HOST, port });
    let buf = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) finish(/^INFO\s/i.test(buf));
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

/**
 * Starts a server on a free port. The port is found by binding port 0 and releasing it, so another
 * process on a shared machine can take it first; a start that fails with EADDRINUSE is retried on
 * a new port (up to 3 attempts).
 */
export async function startServer(kind: ServerKind, o: ServerStartOptions): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(kind, o);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !err.message.includes('EADDRINUSE')) throw err;
    }
  }
}

async function startOnce(kind: ServerKind, o: ServerStartOptions): Promise<RunningServer> {
  let port: number;
  let cp: ClusterPorts | null = null;
  const pinned = o.cluster?.ports;
  if (pinned !== undefined) {
    port = pinned.port;
    cp = { clusterPort: pinned.clusterPort, httpPort: pinned.httpPort };
  } else if (o.cluster !== undefined) {
    const [p, clusterPort, httpPort] = await freePorts(3);
    port = p;
    cp = { clusterPort, httpPort };
  } else {
    port = await freePort();
  }
  const storeDir = o.jetstream === true ? mkdtempSync(path.join(os.tmpdir(), `sluice-bench-${kind}-`)) : null;
  const { cmd, args } = command(kind, port, o, storeDir, cp);
  // WebSocket and leaf nodes: sluice takes flags; nats-server only a config file (its WebSocket
  // listener needs no_tls).
  const wsPort = o.websocket === true ? await freePort() : undefined;
  const leaf = o.leaf;
  const confDir = (wsPort !== undefined || leaf !== undefined) && kind === 'nats' ? mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-conf-')) : null;
  if (confDir !== null) {
    let text = '';
    if (wsPort !== undefined) text += `websocket {\n  host: "${HOST}"\n  port: ${wsPort}\n  no_tls: true\n}\n`;
    if (leaf?.port !== undefined) text += `leafnodes { host: "${HOST}", port: ${leaf.port} }\n`;
    if (leaf?.remote !== undefined) text += `leafnodes { remotes: [ { url: "${leaf.remote}" } ] }\n`;
    const conf = path.join(confDir, 'nats.conf');
    writeFileSync(conf, text);
    args.push('-c', conf);
  } else {
    if (wsPort !== undefined) args.push('--ws-port', String(wsPort));
    if (leaf?.port !== undefined) args.push('--leafnode-port', String(leaf.port));
    if (leaf?.remote !== undefined) args.push('--leafnode-remote', leaf.remote);
  }
  if (leaf !== undefined) args.push(kind === 'nats' ? '-n' : '--name', leaf.serverName);
  // Monitoring: a port of its own unless the cluster options already gave one.
  let httpPort = cp?.httpPort;
  if (o.monitoring === true && httpPort === undefined) {
    httpPort = await freePort();
    args.push(kind === 'nats' ? '-m' : '--http-port', String(httpPort));
  }
  // stdout and stderr are both kept (bounded) for error reports: the server logs to stdout.
  // One process at a time; restart() (after kill()) spawns the same command line again.
  let output = '';
  let child!: ChildProcess;
  let exited = false;
  let spawnError: Error | null = null;
  let exitedP!: Promise<void>;
  let closedP!: Promise<void>;
  const spawnChild = (): void => {
    child = spawn(cmd, args, { cwd: o.repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    registerChild(child);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => {
        output = (output + d).slice(-4000);
      });
    }
    exited = false;
    spawnError = null;
    const c = child;
    exitedP = new Promise<void>((resolve) => c.once('exit', () => ((exited = true), resolve())));
    // 'close' comes after 'exit' once stdout/stderr are drained: wait for it before reporting output.
    closedP = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.once('error', (e) => (spawnError = e));
  };

  const cleanupStore = (): void => {
    if (storeDir !== null) rmSync(storeDir, { recursive: true, force: true });
    if (confDir !== null) rmSync(confDir, { recursive: true, force: true });
  };
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitedP;
      clearTimeout(killer);
    }
    cleanupStore();
  };

  /** Spawns and probes until the server sends INFO; returns spawn -> INFO in ms, or throws. */
  const launch = async (): Promise<number> => {
    const t0 = performance.now();
    spawnChild();
    const deadline = t0 + (o.startTimeoutMs ?? 20_000);
    while (performance.now() < deadline) {
      if (spawnError !== null || exited) break;
      if (await probe(port, 1000)) return performance.now() - t0;
      await sleep(2);
    }
    if (!exited) {
      child.kill('SIGKILL');
      await exitedP;
    }
    await Promise.race([closedP, sleep(1000)]);
    const why = spawnError !== null ? (spawnError as Error).message : exited ? `exited with code ${child.exitCode}` : 'did not accept connections in time';
    throw new Error(`${SERVER_LABEL[kind]} failed to start (${cmd} ${args.join(' ')}): ${why}\n${output.trim()}`);
  };

  let startupMs: number;
  try {
    startupMs = await launch();
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    kind,
    host: HOST,
    port,
    get pid(): number {
      return child.pid ?? -1;
    },
    startupMs,
    wsPort,
    ...(httpPort !== undefined ? { httpPort } : {}),
    ...(cp !== null ? { clusterPort: cp.clusterPort, httpPort: cp.httpPort, name: o.cluster?.serverName } : {}),
    rssKb: () => procRssKb(child.pid ?? -1),
    cpuSeconds: () => procCpuSeconds(child.pid ?? -1),
    outputTail: () => output,
    stop,
    async kill(): Promise<void> {
      if (exited) return;
      child.kill('SIGKILL');
      await exitedP;
    },
    async restart(): Promise<void> {
      if (!exited) throw new Error(`${SERVER_LABEL[kind]} ${o.cluster?.serverName ?? port}: restart() while running`);
      await launch();
    },
  };
}

// ---- clusters -------------------------------------------------------------------------------

export interface RunningCluster {
  kind: ServerKind;
  /** Server 1 (the seed) first. */
  servers: RunningServer[];
  /** Spawn of the seed -> every server has an open route to every other (their /routez). */
  meshMs: number;
  /** JetStream clusters: spawn of the seed -> every server's /jsz names the same meta leader. */
  metaMs?: number;
  stop(): Promise<void>;
}

/** Client, cluster and monitoring ports for n servers, all distinct. */
async function clusterPorts(n: number): Promise<Array<{ port: number } & ClusterPorts>> {
  const all = await freePorts(3 * n);
  return Array.from({ length: n }, (_, i) => ({ port: all[3 * i], clusterPort: all[3 * i + 1], httpPort: all[3 * i + 2] }));
}

/** The JetStream meta group leader as this server's /jsz reports it ('' when none). */
export async function metaLeader(httpPort: number): Promise<string> {
  const jsz = await monitorJson(httpPort, '/jsz');
  const meta = jsz.meta_cluster as { leader?: string } | undefined;
  return meta?.leader ?? '';
}

/** Resolves once every server's /jsz names the same, non-empty meta leader. */
export async function waitForMetaLeader(servers: readonly RunningServer[], timeoutMs: number): Promise<string> {
  const deadline = performance.now() + timeoutMs;
  let seen = '';
  while (performance.now() < deadline) {
    try {
      const leaders = await Promise.all(servers.map((s) => metaLeader(s.httpPort ?? 0)));
      seen = leaders.join(', ');
      if (leaders[0] !== '' && leaders.every((l) => l === leaders[0])) return leaders[0];
    } catch (err) {
      seen = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`no JetStream meta leader agreed on by every server within ${timeoutMs} ms (their /jsz: ${seen})\n${servers.map((s) => `[${s.name}] ${s.outputTail().trim().slice(-600)}`).join('\n')}`);
}

/** GET http://127.0.0.1:<httpPort><path> as JSON (both servers' monitoring endpoints). */
export async function monitorJson(httpPort: number, pathAndQuery: string, timeoutMs = 2000): Promise<Record<string, unknown>> {
  const res = await fetch(`http://${HOST}:${httpPort}${pathAndQuery}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${pathAndQuery} on :${httpPort}: HTTP ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

export interface RoutezRoute {
  remote_id: string;
  subscriptions_list?: string[];
}

/** /routez (with `subs=1`: each route's subscriptions_list, the peer's interest). Both servers
 * shape it like nats-server: top-level server_id, routes[].remote_id. */
export async function routez(httpPort: number, subs = false): Promise<{ server_id: string; num_routes: number; routes: RoutezRoute[] }> {
  return (await monitorJson(httpPort, `/routez${subs ? '?subs=1' : ''}`)) as unknown as Awaited<ReturnType<typeof routez>>;
}

/**
 * Starts `size` servers of one kind as a full-mesh cluster on loopback: server 1 is the seed (no
 * routes), servers 2..size route to it (started together once the seed accepts clients) and find
 * each other by gossip. Resolves once every server's /routez has a route to every other server.
 * With `jetstream`, every server is instead given routes to all the others (server 1 is still
 * started first, alone), and the cluster is ready once every /jsz names the same meta leader.
 */
export async function startCluster(kind: ServerKind, size: number, o: ServerStartOptions & { meshTimeoutMs?: number }): Promise<RunningCluster> {
  const t0 = performance.now();
  const name = `bench-${kind}`;
  const servers: RunningServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    // With JetStream every server gets the whole route list (ports picked in advance): nats-server
    // refuses to start a JetStream cluster member without configured routes, and sluice forms its
    // meta group once it has a route to every server it was configured to dial (ADR 0010).
    const fullRoutes = o.jetstream === true;
    const pinned = fullRoutes ? await clusterPorts(size) : null;
    const clusterOf = (i: number): NonNullable<ServerStartOptions['cluster']> => {
      const serverName = `${kind}-${i + 1}`;
      if (pinned === null) return { name, serverName, routes: i === 0 ? [] : [`nats-route://${HOST}:${servers[0].clusterPort}`] };
      const routes = pinned.filter((_, j) => j !== i).map((p) => `nats-route://${HOST}:${p.clusterPort}`);
      return { name, serverName, routes, ports: pinned[i] };
    };
    const seed = await startServer(kind, { ...o, cluster: clusterOf(0) });
    servers.push(seed);
    const others = await Promise.allSettled(Array.from({ length: size - 1 }, (_, i) => startServer(kind, { ...o, cluster: clusterOf(i + 1) })));
    for (const r of others) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = others.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;

    const deadline = performance.now() + (o.meshTimeoutMs ?? 20_000);
    let ids: string[] = [];
    let missing = 'no /routez answer yet';
    while (performance.now() < deadline) {
      try {
        if (ids.length < size) ids = (await Promise.all(servers.map((s) => routez(s.httpPort ?? 0)))).map((r) => r.server_id);
        missing = '';
        for (const [i, s] of servers.entries()) {
          const have = new Set((await routez(s.httpPort ?? 0)).routes.map((r) => r.remote_id));
          const lacking = ids.filter((id, j) => j !== i && !have.has(id)).length;
          if (lacking > 0) missing += `${missing === '' ? '' : ', '}${s.name} lacks ${lacking} route(s)`;
        }
        if (missing === '') break;
      } catch (err) {
        missing = (err as Error).message;
      }
      await sleep(20);
    }
    if (missing !== '') throw new Error(`${SERVER_LABEL[kind]} cluster of ${size} did not form a full mesh in time: ${missing}\n${servers.map((s) => `[${s.name}] ${s.outputTail().trim().slice(-600)}`).join('\n')}`);
    const meshMs = performance.now() - t0;
    let metaMs: number | undefined;
    if (o.jetstream === true) {
      await waitForMetaLeader(servers, o.meshTimeoutMs ?? 30_000);
      metaMs = performance.now() - t0;
    }
    return { kind, servers, meshMs, metaMs, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- leaf nodes -----------------------------------------------------------------------------

/**
 * An edge dialling a hub, both of one kind, with monitoring: servers[0] is the edge, servers[1]
 * the hub; ready once the hub's /leafz lists the edge's connection.
 */
export async function startLeafPair(kind: ServerKind, o: ServerStartOptions & { meshTimeoutMs?: number }): Promise<RunningCluster> {
  const t0 = performance.now();
  const servers: RunningServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const leafPort = await freePort();
    const hub = await startServer(kind, { ...o, monitoring: true, leaf: { serverName: `${kind}-hub`, port: leafPort } });
    const edge = await startServer(kind, { ...o, monitoring: true, leaf: { serverName: `${kind}-edge`, remote: `nats-leaf://${HOST}:${leafPort}` } });
    servers.push(edge, hub);
    const deadline = performance.now() + (o.meshTimeoutMs ?? 20_000);
    for (;;) {
      const leafz = await monitorJson(hub.httpPort ?? 0, '/leafz').catch(() => ({}) as Record<string, unknown>);
      if (leafz.leafnodes === 1) break;
      if (performance.now() > deadline) throw new Error(`${SERVER_LABEL[kind]} edge did not connect to its hub in time\n${servers.map((s) => s.outputTail().trim().slice(-600)).join('\n')}`);
      await sleep(20);
    }
    return { kind, servers, meshMs: performance.now() - t0, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
