// The client-facing listeners: the client port (plain TCP or TLS) and the optional WebSocket
// port (ws:// or wss://), started from the options, with what INFO should say about each. The
// composition root calls this and hands every accepted transport to the same accept path.

import os from 'node:os';
import type { Duplex } from 'node:stream';
import type { Clock } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ListenerInfo } from './info.ts';
import type { ServerOptions, TlsOptions } from './options-types.ts';
import { listenTcp, type TcpListener } from './transport/tcp.ts';
import type { ClientTransport } from './transport/types.ts';
import type { WebSocketListener } from './transport/websocket.ts';

// TLS (node:tls) and WebSocket (ws, node:http, node:https) code is imported only when configured:
// together they are ~12 MiB of idle RSS and ~50 ms of start-up a plain broker does not need
// (docs/adr/0011-shipping-javascript.md).

export interface ClientListeners {
  readonly tcp: TcpListener;
  readonly ws: WebSocketListener | undefined;
  readonly tcpInfo: ListenerInfo;
  readonly wsInfo: ListenerInfo | undefined;
  /** host:port of the WebSocket listener for INFO `ws_connect_urls` (empty without one). */
  readonly wsConnectUrls: readonly string[];
  close(): Promise<void>;
}

function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Where clients can reach a listener: its host, or, when it listens on every interface, each
 * non-loopback address of the machine (nats-server does the same for its connect URLs).
 */
export function advertisedUrls(host: string, port: number, advertise: string | undefined): string[] {
  if (advertise !== undefined) return [advertise];
  if (!isWildcardHost(host)) return [hostPort(host, port)];
  const urls: string[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === 'IPv4') urls.push(hostPort(a.address, port));
  }
  return urls.length > 0 ? urls : [hostPort('127.0.0.1', port)];
}

/** The TLS settings the WebSocket listener uses: its own, else the client port's, unless noTls. */
export function webSocketTls(o: ServerOptions): TlsOptions | undefined {
  if (o.websocket.noTls) return undefined;
  return o.websocket.tls ?? o.tls;
}

export async function startClientListeners(
  o: ServerOptions,
  clock: Clock,
  logger: Logger,
  onTransport: (t: ClientTransport) => void,
  /** Leaf node links arriving on the WebSocket port (path `/leafnode`); undefined = refused. */
  onLeafNode?: (stream: Duplex, remoteAddress: string, remotePort: number) => void,
): Promise<ClientListeners> {
  const wsTlsOptions = o.wsPort !== undefined ? webSocketTls(o) : undefined;
  const tlsModule = o.tls !== undefined || wsTlsOptions !== undefined ? await import('./transport/tls.ts') : undefined;
  // Key material is read before anything listens: a bad file fails the start, naming the file.
  const tcpTls = o.tls !== undefined ? tlsModule!.loadTlsConfig(o.tls) : undefined;
  const wsTls = wsTlsOptions === undefined ? undefined : wsTlsOptions === o.tls ? tcpTls : tlsModule!.loadTlsConfig(wsTlsOptions);
  // allow_non_tls applies to the client port only; a TLS-first handshake cannot be optional.
  const clientTls = tcpTls === undefined ? undefined : { ...tcpTls, allowNonTls: o.allowNonTls && !tcpTls.handshakeFirst };

  const tcp = await listenTcp(
    o.host,
    o.port,
    clock,
    onTransport,
    clientTls === undefined ? undefined : (socket) => new tlsModule!.TlsServerTransport(socket, clientTls, clock),
  );
  const tcpInfo: ListenerInfo = {
    host: o.host,
    port: tcp.port,
    tlsRequired: clientTls !== undefined && !clientTls.allowNonTls,
    tlsAvailable: clientTls?.allowNonTls === true,
    tlsVerify: clientTls?.requestCert === true,
  };

  let ws: WebSocketListener | undefined;
  let wsInfo: ListenerInfo | undefined;
  let wsConnectUrls: string[] = [];
  if (o.wsPort !== undefined) {
    const host = o.websocket.host || o.host;
    try {
      const { listenWebSocket } = await import('./transport/websocket.ts');
      ws = await listenWebSocket(
        {
          host,
          port: o.wsPort,
          tls: wsTls,
          compression: o.websocket.compression,
          allowedOrigins: o.websocket.allowedOrigins,
          sameOrigin: o.websocket.sameOrigin,
          handshakeTimeoutMs: o.websocket.handshakeTimeoutMs,
          onLeafNode,
        },
        clock,
        logger,
        onTransport,
      );
    } catch (err) {
      await tcp.close();
      throw err;
    }
    wsInfo = { host, port: ws.port, tlsRequired: wsTls !== undefined, tlsVerify: wsTls?.requestCert === true };
    wsConnectUrls = advertisedUrls(host, ws.port, o.websocket.advertise);
  }
  return {
    tcp,
    ws,
    tcpInfo,
    wsInfo,
    wsConnectUrls,
    close: async () => {
      await Promise.all([tcp.close(), ws?.close()]);
    },
  };
}
