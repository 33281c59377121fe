// The WebSocket listener (docs/websocket.md): HTTP/1.1 upgrade handled by the `ws` package, our
// own origin policy applied before it, then the same client protocol carried in the frames. The
// frames have no meaning to NATS: each message's bytes go to the connection's parser as if they
// came over TCP, and each flush of the connection goes out as one binary message.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { listenOn, peerAddress } from './listen.ts';
import { tlsServerOptions, type TlsServerConfig } from './tls.ts';
import type { ClientTransport, TransportHandlers } from './types.ts';

/** How long end() waits for the peer's close frame before dropping the socket. */
const END_GRACE_MS = 2000;
/** Largest WebSocket message accepted: nats-server's hard ceiling for buffered WS messages. */
const MAX_WS_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Bytes below which permessage-deflate is not worth it (nats-server: 64). */
const COMPRESSION_THRESHOLD_BYTES = 64;

export class WebSocketTransport implements ClientTransport {
  readonly kind = 'ws' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  private readonly ws: WebSocket;
  private readonly socket: Duplex;
  private readonly clock: Clock;
  private closed = false;

  constructor(ws: WebSocket, socket: Duplex, remoteAddress: string, remotePort: number, tls: boolean, clock: Clock) {
    this.ws = ws;
    this.socket = socket;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.tls = tls;
    this.clock = clock;
  }

  start(handlers: TransportHandlers): void {
    const ws = this.ws;
    // Binary and text messages alike carry protocol bytes (nats.js sends binary; some send text).
    ws.on('message', (data: Buffer) => handlers.data(data));
    // ws queues sends on the socket; its 'drain' means everything reached the kernel.
    this.socket.on('drain', handlers.drain);
    ws.on('error', () => {
      // Protocol errors (bad framing, oversized message) close the socket; 'close' reports it.
    });
    ws.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      handlers.close();
    });
  }

  write(data: Buffer): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(data, { binary: true });
  }

  pendingWriteBytes(): number {
    return this.ws.bufferedAmount;
  }

  end(): void {
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) return;
    ws.close(1000);
    const timer = this.clock.setTimeout(() => ws.terminate(), END_GRACE_MS);
    ws.once('close', () => timer.cancel());
  }

  destroy(): void {
    this.ws.terminate();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }
}

export interface WebSocketListenOptions {
  host: string;
  port: number;
  /** WSS when set. */
  tls: TlsServerConfig | undefined;
  compression: boolean;
  /** Allowed browser origins (scheme://host[:port]); empty = any. */
  allowedOrigins: readonly string[];
  sameOrigin: boolean;
  /** 0 = no limit on reading the upgrade request. */
  handshakeTimeoutMs: number;
  /**
   * Takes upgrades to a path ending in `/leafnode` (nats-server's leafnode-over-WebSocket path):
   * a leaf node link's byte stream. Without it such upgrades are refused.
   */
  onLeafNode?: ((stream: Duplex, remoteAddress: string, remotePort: number) => void) | undefined;
}

/** nats-server's path for leaf node connections on its WebSocket port. */
export const LEAFNODE_WS_PATH = '/leafnode';

function isLeafNodePath(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0]!;
  return path.endsWith(LEAFNODE_WS_PATH);
}

export interface WebSocketListener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** "scheme://host:port" with the default port filled in; undefined when not a URL. */
export function normalizeOrigin(origin: string): string | undefined {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return undefined;
  }
  if (u.host === '') return undefined;
  const port = u.port !== '' ? u.port : (DEFAULT_PORTS[u.protocol] ?? '');
  return `${u.protocol}//${u.hostname.toLowerCase()}:${port}`;
}

/**
 * Is a request with this Origin acceptable? Requests without an Origin (non-browser clients) are
 * always accepted; browsers always send one (docs/websocket.md, origins).
 */
export function originAllowed(
  origin: string | undefined,
  policy: { allowed: ReadonlySet<string>; sameOrigin: boolean; tls: boolean; host: string | undefined },
): boolean {
  if (origin === undefined || origin === '') return true;
  const o = normalizeOrigin(origin);
  if (o === undefined) return false;
  if (policy.sameOrigin) {
    const own = policy.host === undefined ? undefined : normalizeOrigin(`${policy.tls ? 'https' : 'http'}://${policy.host}`);
    if (o !== own) return false;
  }
  return policy.allowed.size === 0 || policy.allowed.has(o);
}

function clientAddress(req: http.IncomingMessage, socket: Duplex): string {
  // Behind a proxy the peer is the proxy; nats-server takes the first X-Forwarded-For entry.
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  if (first !== undefined && net.isIP(first) !== 0) return first;
  return peerAddress((socket as net.Socket).remoteAddress);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function listenWebSocket(
  o: WebSocketListenOptions,
  clock: Clock,
  logger: Logger,
  onTransport: (t: ClientTransport) => void,
): Promise<WebSocketListener> {
  const secure = o.tls !== undefined;
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: MAX_WS_MESSAGE_BYTES,
    perMessageDeflate: o.compression
      ? { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: COMPRESSION_THRESHOLD_BYTES }
      : false,
  });
  const allowed = new Set<string>();
  for (const a of o.allowedOrigins) {
    const n = normalizeOrigin(a);
    if (n !== undefined) allowed.add(n);
  }
  const onPlainRequest = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket', Connection: 'close' });
    res.end('this port speaks NATS over WebSocket: connect with a WebSocket client\n');
  };
  const server: http.Server = secure ? https.createServer(tlsServerOptions(o.tls!), onPlainRequest) : http.createServer(onPlainRequest);
  if (o.handshakeTimeoutMs > 0) server.headersTimeout = o.handshakeTimeoutMs;

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const origin = req.headers.origin ?? (req.headers['sec-websocket-origin'] as string | undefined);
    if (!originAllowed(origin, { allowed, sameOrigin: o.sameOrigin, tls: secure, host: req.headers.host })) {
      logger.info({ origin, remote: (socket as net.Socket).remoteAddress }, 'websocket origin not allowed');
      refuseUpgrade(socket, 403, 'origin not allowed');
      return;
    }
    const remoteAddress = clientAddress(req, socket);
    const remotePort = (socket as net.Socket).remotePort ?? 0;
    (socket as net.Socket).setNoDelay?.(true);
    if (isLeafNodePath(req.url)) {
      const onLeafNode = o.onLeafNode;
      if (onLeafNode === undefined) {
        logger.warn({ remote: remoteAddress }, 'websocket leafnode connection refused: not configured to accept leaf node connections');
        refuseUpgrade(socket, 404, 'not configured to accept leaf node connections');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => onLeafNode(createWebSocketStream(ws), remoteAddress, remotePort));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      onTransport(new WebSocketTransport(ws, socket, remoteAddress, remotePort, secure, clock));
    });
  });
  server.on('clientError', (_err, socket: Duplex) => {
    if (!socket.destroyed) refuseUpgrade(socket, 400, 'bad request');
  });
  if (secure) {
    server.on('tlsClientError', (err: Error) => logger.debug({ err: err.message }, 'websocket TLS handshake failed'));
  }

  await listenOn(server, o.host, o.port);
  server.on('error', (err) => logger.error({ err: String(err) }, 'websocket listener error'));
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    host: o.host,
    close: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        server.closeIdleConnections();
        wss.close();
      }),
  };
}
