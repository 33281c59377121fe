// Clusters of `sluice server` processes on loopback for tests: the first server is the seed, the
// others route to it, and the mesh is complete when every server reports a route to every other
// (its /routez). Servers can be SIGKILLed and restarted on the same ports.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { startChildServer, type ChildServer } from './child-server.ts';
import { waitFor } from './deadline.ts';

export interface ClusterMember {
  readonly name: string;
  /** The running process; replaced by restart(). */
  server: ChildServer;
  /** Flags it was started with (ports pinned after the first start, so restarts reuse them). */
  args: string[];
}

export interface TestCluster {
  readonly members: ClusterMember[];
  readonly dir: string;
  /** Starts one more server with these flags (not part of `members`); stopped by close(). */
  spawn(name: string, args: string[]): Promise<ChildServer>;
  kill(i: number): Promise<void>;
  /** Starts member i again on its previous client and cluster ports. */
  restart(i: number): Promise<void>;
  /** Resolves when every live member has a route to every other live member. */
  meshed(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function routez(server: ChildServer, subs = false): Promise<{ num_routes: number; routes: { remote_name: string; subscriptions_list?: string[] }[] }> {
  const res = await fetch(`${server.httpUrl}/routez${subs ? '?subs=1' : ''}`);
  return (await res.json()) as Awaited<ReturnType<typeof routez>>;
}

/** Resolves once `server` has learnt `subject` (or `subject queue`) from the peer `from`. */
export async function waitForRemoteInterest(server: ChildServer, from: string, entry: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(
    async () => (await routez(server, true)).routes.some((r) => r.remote_name === from && (r.subscriptions_list ?? []).includes(entry)),
    `${from}'s interest in "${entry}" to reach the peer`,
    timeoutMs,
  );
}

/** Resolves once every server's /jsz names the same meta leader of a group of `size` members. */
export async function waitForMetaLeader(servers: readonly ChildServer[], size: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const views = await Promise.all(
        servers.map(async (s) => (await (await fetch(`${s.httpUrl}/jsz`)).json()) as { meta_cluster?: { leader?: string; cluster_size: number } }),
      );
      const leader = views[0]?.meta_cluster?.leader;
      return leader !== undefined && views.every((v) => v.meta_cluster?.leader === leader && v.meta_cluster.cluster_size === size);
    },
    `a meta leader with ${size} members`,
    timeoutMs,
  );
}

export interface TestClusterOptions {
  clusterName?: string;
  extraArgs?: string[];
  /** JetStream on every member, each with its own store directory (kept across restarts). */
  jetstream?: boolean;
  /** A config file every member loads (`-c`), e.g. accounts; flags still set ports and routes. */
  configText?: string;
}

export async function startTestCluster(size: number, opts: TestClusterOptions = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const members: ClusterMember[] = [];
  const extras: ChildServer[] = [];
  const config: string[] = [];
  if (opts.configText !== undefined) {
    const file = join(dir, 'cluster.conf');
    writeFileSync(file, opts.configText);
    config.push('-c', file);
  }
  const common = [...config, '--host', '127.0.0.1', '--http-port', '0', '--cluster-name', opts.clusterName ?? 'test', ...(opts.extraArgs ?? [])];
  const start = async (name: string, args: string[]): Promise<ChildServer> =>
    startChildServer({ portsDir: join(dir, 'ports'), name, args, ...(opts.jetstream === true ? { storeDir: join(dir, 'store', name) } : {}) });
  try {
    const seedArgs = [...common, '--cluster-port', '0'];
    const seed = await start('s0', seedArgs);
    members.push({ name: 's0', server: seed, args: pin(seedArgs, seed) });
    const others = await Promise.all(
      Array.from({ length: size - 1 }, async (_, k) => {
        const name = `s${k + 1}`;
        const args = [...common, '--cluster-port', '0', '--routes', seed.clusterUrl];
        const server = await start(name, args);
        return { name, server, args: pin(args, server) };
      }),
    );
    members.push(...others);
  } catch (err) {
    for (const m of members) await m.server.kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const alive = new Set(members.map((_, i) => i));
  const cluster: TestCluster = {
    members,
    dir,
    async spawn(name, args) {
      const s = await start(name, args);
      extras.push(s);
      return s;
    },
    async kill(i) {
      alive.delete(i);
      await members[i]!.server.kill();
    },
    async restart(i) {
      const m = members[i]!;
      m.server = await start(m.name, m.args);
      alive.add(i);
    },
    async meshed(timeoutMs = 15_000) {
      const live = [...alive].map((i) => members[i]!);
      await waitFor(
        async () => {
          for (const m of live) {
            const names = new Set((await routez(m.server)).routes.map((r) => r.remote_name));
            if (live.some((o) => o !== m && !names.has(o.name))) return false;
          }
          return true;
        },
        `a full mesh of ${live.map((m) => m.name).join(', ')}`,
        timeoutMs,
      );
    },
    async close() {
      for (const s of extras) await s.kill();
      for (const m of members) await m.server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** The same flags with the ports the server got (0 replaced), so a restart comes back on them. */
function pin(args: string[], server: ChildServer): string[] {
  const out = [...args];
  const set = (flag: string, value: number): void => {
    const i = out.indexOf(flag);
    if (i >= 0) out[i + 1] = String(value);
    else out.push(flag, String(value));
  };
  set('--port', server.port);
  set('--cluster-port', server.clusterPort);
  set('--http-port', Number(new URL(server.httpUrl).port));
  return out;
}

/** STREAM.INFO through `nc`, or undefined when nobody answers in time (while leadership moves). */
export async function streamInfo(nc: NatsConnection, stream: string, timeoutMs = 2000): Promise<StreamInfo | undefined> {
  return (await jetstreamManager(nc, { timeout: timeoutMs })).streams.info(stream).catch(() => undefined);
}

/** Steps the stream's group down (asking through `nc`) until `server` leads it. */
export async function makeStreamLeader(nc: NatsConnection, stream: string, server: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      const i = await streamInfo(nc, stream);
      if (i?.cluster?.leader === server) return true;
      if (i !== undefined) await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 2000 }).catch(() => undefined);
      return false;
    },
    `${server} to lead ${stream}`,
    timeoutMs,
  );
}
