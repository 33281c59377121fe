// Monitoring over HTTP, shaped like nats-server's endpoints so existing dashboards and scripts
// keep working: /healthz and /varz for now.

import type net from 'node:net';
import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { listenOn } from '../transport/listen.ts';

export type EndpointHandler = (query: URLSearchParams) => unknown;

/** A handler's answer with an HTTP status other than 200 (e.g. /healthz's 503). */
export class HttpAnswer {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
  ) {}
}

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
): Promise<MonitorServer> {
  // node:http (a dozen internal modules) is loaded only by servers that serve monitoring.
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = endpoints.get(url.pathname.replace(/\/+$/, '') || '/');
    if (handler === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    let body: string;
    let statusCode = 200;
    try {
      let answer = handler(url.searchParams);
      if (answer instanceof HttpAnswer) {
        statusCode = answer.statusCode;
        answer = answer.body;
      }
      body = JSON.stringify(answer, null, 2);
    } catch (err) {
      logger.error({ err: String(err), path: url.pathname }, 'monitoring endpoint failed');
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
      return;
    }
    res.writeHead(statusCode, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(body);
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
