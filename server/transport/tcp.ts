// TCP (and, given a tls.Server, TLS) listener: accepts sockets and hands each one, wrapped as a
// ClientTransport, to the server. Framing is the identity here.

import net from 'node:net';
import type { Clock } from '../../runtime/clock.ts';
import { listenOn, peerAddress } from './listen.ts';
import type { ClientTransport, TransportHandlers } from './types.ts';

/** How long end() waits for a peer to take the last bytes before destroying the socket. */
const END_GRACE_MS = 2000;

export class SocketTransport implements ClientTransport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  private readonly socket: net.Socket;
  private readonly clock: Clock;
  private closed = false;

  constructor(socket: net.Socket, clock: Clock, tls = false) {
    this.socket = socket;
    this.clock = clock;
    this.tls = tls;
    this.remoteAddress = peerAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
  }

  start(handlers: TransportHandlers): void {
    const socket = this.socket;
    socket.on('data', handlers.data);
    socket.on('drain', handlers.drain);
    socket.on('error', () => {
      // 'close' follows every 'error'; the close handler reports it once.
    });
    socket.on('close', (hadError) => {
      if (this.closed) return;
      this.closed = true;
      handlers.close(hadError ? new Error('socket error') : undefined);
    });
  }

  write(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  pendingWriteBytes(): number {
    return this.socket.writableLength;
  }

  end(): void {
    if (this.socket.destroyed) return;
    this.socket.end();
    // A peer that never reads must not keep the socket (and its queued bytes) alive.
    const timer = this.clock.setTimeout(() => this.socket.destroy(), END_GRACE_MS);
    this.socket.once('close', () => timer.cancel());
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

export interface TcpListener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/**
 * `wrap` turns an accepted socket into a transport; the default is plain TCP (TLS passes a
 * TlsServerTransport factory: the NATS TLS upgrade happens on the accepted plain socket).
 */
export async function listenTcp(
  host: string,
  port: number,
  clock: Clock,
  onTransport: (t: ClientTransport) => void,
  wrap: (socket: net.Socket) => ClientTransport = (socket) => new SocketTransport(socket, clock),
): Promise<TcpListener> {
  const server = net.createServer({ noDelay: true }, (socket) => onTransport(wrap(socket)));
  await listenOn(server, host, port);
  server.on('error', () => {});
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    host,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}
