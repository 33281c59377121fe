// The scenario contract. A scenario is a named load pattern with default params and a run() that
// drives one already-running server and returns flat numeric metrics. The runner (compare.ts, run.ts)
// owns servers, rounds, medians and results files; scenarios own only the traffic.
//
// To add a scenario (ws-pubsub, js-pub, js-consume, ...): write a module exporting a Scenario, add it
// to the list in scenarios/index.ts. If it needs a server feature (a WebSocket port, JetStream
// storage), declare it in `needs` so the runner starts servers with it. A scenario that sets
// `servers: N` (N > 1) gets a cluster of N servers of each kind, all endpoints in `ctx.cluster`.

import type { Endpoint } from '../lib/raw-conn.ts';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;
export type Metrics = Record<string, number>;

export interface MetricSpec {
  key: string;
  label: string;
  /** 'higher' for throughput, 'lower' for latency. */
  better: 'higher' | 'lower';
}

export interface ServerTarget extends Endpoint {
  kind: string;
  /** The WebSocket port (plain ws://), when the scenario needs 'websocket'. */
  wsPort?: number;
  /** Monitoring HTTP port (/routez, /varz), for cluster members. */
  httpPort?: number;
  /** Server name, for cluster members ('sluice-2', 'nats-2'). */
  name?: string;
  /** Set when the runner started the server: its process id and spawn -> first INFO in ms. */
  pid?: number;
  startupMs?: number;
}

export interface RunContext {
  /** The server to drive; for a cluster scenario, server 1 (the seed) = cluster[0]. */
  server: ServerTarget;
  /** Every server of the cluster (server 1 first), when the scenario sets `servers` > 1;
   * otherwise [server]. */
  cluster: ServerTarget[];
  params: Params;
  /** Call right before the measured section starts / right after it ends. The runner uses these
   * to attribute CPU time (server process and generator) to the measured window. */
  measureStart(): void;
  measureEnd(): void;
  log(line: string): void;
  /** Only when the runner started the servers (compare.ts): crash and restart them. */
  control?: ServerControl;
}

/** Fault injection on the servers the runner started; `i` indexes `RunContext.cluster`. */
export interface ServerControl {
  /** Server i's current process id (it changes with restart). */
  pid(i: number): number;
  /** SIGKILL server i (no shutdown); resolves once the process has exited. Its store is kept. */
  kill(i: number): Promise<void>;
  /** Starts server i again with the same ports, name, routes and store directory; resolves once
   * it accepts clients. */
  restart(i: number): Promise<void>;
}

/** 'monitoring': the server also listens for HTTP monitoring requests (ctx.server.httpPort). */
export type ServerFeature = 'jetstream' | 'websocket' | 'monitoring';

export interface Scenario {
  /** Unique, e.g. 'pubsub-16B'. */
  name: string;
  /** Selection group and results file name, e.g. 'pubsub'. */
  group: string;
  description: string;
  params: Params;
  /** The param that --msgs overrides (message or request count). */
  countParam: string;
  metrics: MetricSpec[];
  /** Key of the metric compared between servers (the ratio sluice / nats-server). */
  primary: string;
  needs?: ServerFeature[];
  /** Start a full-mesh cluster of this many servers of each kind (default 1: one server). */
  servers?: number;
  /** 'leaf': instead of a cluster, an edge dialling a hub (ctx.cluster = [edge, hub]); set servers: 2. */
  topology?: 'leaf';
  /** Interleaved rounds when --rounds is not given (default 3). */
  rounds?: number;
  /** Acceptance bar on the primary ratio (sluice / nats-server), e.g. ">= 0.5x". */
  bar?: { op: '>=' | '<='; ratio: number };
  /**
   * A second comparison, of each server with itself: in every round the compare also runs the
   * scenario named here (same params, on a server started without this one's `needs`) right
   * after this one, and holds this one's primary metric / the baseline's, per server kind, to
   * `op ratio` (e.g. "monitoring costs at most 5 %": >= 0.95).
   */
  baseline?: { scenario: string; op: '>=' | '<='; ratio: number };
  run(ctx: RunContext): Promise<Metrics>;
}
