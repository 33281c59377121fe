// Monitoring over HTTP, shaped like nats-server's endpoints so existing dashboards and scripts
// keep working (docs/monitoring.md). This file is the HTTP plumbing only: each endpoint's answer
// is built by its own module (varz.ts, connz.ts, ...), wired in endpoints.ts.

import type net from 'node:net';
import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { listenOn } from '../transport/listen.ts';

export type EndpointHandler = (query: URLSearchParams) => unknown;

/**
 * A handler's answer that is not a plain 200 JSON object: another status (e.g. /healthz's 503),
 * or, with `contentType`, a body sent as is (a string or bytes: /metrics, the dashboard's files).
 * A handler may also return a Promise of its answer.
 */
export class HttpAnswer {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
    readonly contentType?: string,
  ) {}
}

/**
 * Thrown by an endpoint for a query it cannot answer (an unknown sort, a wildcard test subject):
 * a 400 with the message as plain text, as nats-server answers.
 */
export class QueryError extends Error {}

/** Counts requests per endpoint path (varz's http_req_stats). */
export type RequestCounts = Map<string, number>;

export interface MonitorServer {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export async function startMonitor(
  host: string,
  port: number,
  endpoints: ReadonlyMap<string, EndpointHandler>,
  logger: Logger,
  requestCounts: RequestCounts = new Map(),
): Promise<MonitorServer> {
  // node:http (a dozen internal modules) is loaded only by servers that serve monitoring.
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const handler = endpoints.get(path);
    if (handler === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    requestCounts.set(path, (requestCounts.get(path) ?? 0) + 1);
    // A handler may answer later (prom-client collects asynchronously); errors of both kinds land in fail().
    const fail = (err: unknown): void => {
      if (res.headersSent) return;
      if (err instanceof QueryError) {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(err.message);
        return;
      }
      logger.error({ err: String(err), path }, 'monitoring endpoint failed');
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    };
    try {
      Promise.resolve(handler(url.searchParams))
        .then((answer) => send(res, answer))
        .catch(fail);
    } catch (err) {
      fail(err);
    }
  });
  // 0.0.0.0 includes IPv6, as for the client port.
  await listenOn(server, host, port);
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    host,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}

/**
 * Calls an endpoint for a caller that is not HTTP (the system account's requests): resolves to
 * its document (the body of an answer with another status, e.g. /healthz's 503, as nats-server's
 * $SYS.REQ...HEALTHZ carries it); a QueryError or a failure rejects.
 */
export async function callEndpoint(endpoints: ReadonlyMap<string, EndpointHandler>, path: string, query: URLSearchParams): Promise<unknown> {
  const handler = endpoints.get(path);
  if (handler === undefined) throw new Error(`no monitoring endpoint ${path}`);
  const answer = await handler(query);
  return answer instanceof HttpAnswer ? answer.body : answer;
}

function send(res: import('node:http').ServerResponse, answer: unknown): void {
  let statusCode = 200;
  let body = answer;
  let contentType: string | undefined;
  if (answer instanceof HttpAnswer) {
    statusCode = answer.statusCode;
    body = answer.body;
    contentType = answer.contentType;
  }
  if (contentType !== undefined) {
    res.writeHead(statusCode, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body as string | Buffer);
    return;
  }
  const text = JSON.stringify(body, null, 2);
  res.writeHead(statusCode, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}

/** nats-server's uptime format: 1d2h3m4s, leading zero units omitted. */
export function formatUptime(ms: number): string {
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  let out = '';
  if (d) out += `${d}d`;
  if (d || h) out += `${h}h`;
  if (d || h || m) out += `${m}m`;
  return `${out}${s}s`;
}

/** CPU use in percent of one core since the previous sample, like nats-server's varz.cpu. */
export class CpuSampler {
  private lastUsage = process.cpuUsage();
  private lastMs: number;
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
    this.lastMs = clock.nowMs();
  }

  sample(): number {
    const now = this.clock.nowMs();
    const usage = process.cpuUsage(this.lastUsage);
    const elapsedMs = Math.max(1, now - this.lastMs);
    this.lastUsage = process.cpuUsage();
    this.lastMs = now;
    return Math.round(((usage.user + usage.system) / 1000 / elapsedMs) * 1000) / 10;
  }
}
