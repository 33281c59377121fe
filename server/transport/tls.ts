// TLS for the client port, the NATS way: the server sends INFO in the clear (with tls_required),
// then the client starts the TLS handshake on the same socket (docs/protocol.md, "Connection
// lifecycle"). With `handshakeFirst` the handshake comes before INFO instead (clients opt in with
// handshakeFirst).
// After the handshake this is an ordinary socket transport over the TLS socket.

import { readFileSync } from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { TlsOptions } from '../options-types.ts';
import { peerAddress } from './listen.ts';
import { SocketTransport } from './tcp.ts';
import type { ClientTransport, TransportHandlers } from './types.ts';

/** Sent in the clear when a client answers INFO with plain protocol instead of a handshake. */
const TLS_REQUIRED_ERR = Buffer.from("-ERR 'Secure Connection - TLS Required'\r\n");

/** Loaded key material and verification policy, shared by every connection of a listener. */
export interface TlsServerConfig {
  readonly secureContext: tls.SecureContext;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  readonly timeoutMs: number;
  readonly handshakeFirst: boolean;
  /** Also take clients that never start TLS (allow_non_tls): the first byte decides. */
  readonly allowNonTls: boolean;
  /** The PEM material itself: tls/https servers take it as options, not as a secure context. */
  readonly pem: { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer | undefined };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot read TLS ${what} file ${path}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  }
}

/** Reads the PEM files once at start-up; a bad file is one line naming it. */
export function loadTlsConfig(o: TlsOptions): TlsServerConfig {
  const cert = readPem(o.certFile, 'certificate');
  const key = readPem(o.keyFile, 'key');
  const ca = o.caFile !== undefined ? readPem(o.caFile, 'CA') : undefined;
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext({ cert, key, ...(ca !== undefined ? { ca } : {}) });
  } catch (err) {
    throw new Error(`invalid TLS certificate/key (${o.certFile}, ${o.keyFile}): ${(err as Error).message.split('\n')[0]}`);
  }
  return {
    secureContext,
    requestCert: o.verify,
    rejectUnauthorized: o.verify,
    timeoutMs: o.timeoutMs,
    handshakeFirst: o.handshakeFirst,
    allowNonTls: false,
    pem: { cert, key, ca },
  };
}

/** Options for tls/https servers (the WebSocket listener) from the same configuration. */
export function tlsServerOptions(c: TlsServerConfig): tls.TlsOptions {
  const { cert, key, ca } = c.pem;
  return { cert, key, ...(ca !== undefined ? { ca } : {}), requestCert: c.requestCert, rejectUnauthorized: c.rejectUnauthorized };
}

export class TlsServerTransport implements ClientTransport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly raw: net.Socket;
  private readonly config: TlsServerConfig;
  private readonly clock: Clock;
  private secure: tls.TLSSocket | undefined;
  private inner: SocketTransport | undefined;
  private handshakeTimer: TimerHandle | undefined;
  private established = false;
  /** allow_non_tls and the client spoke plain protocol. */
  private plain = false;

  constructor(raw: net.Socket, config: TlsServerConfig, clock: Clock) {
    this.raw = raw;
    this.config = config;
    this.clock = clock;
    this.remoteAddress = peerAddress(raw.remoteAddress);
    this.remotePort = raw.remotePort ?? 0;
    raw.setNoDelay(true);
    // Handshake first: TLS starts at once and INFO is written (queued) into the TLS socket.
    if (config.handshakeFirst) this.wrap();
  }

  get tls(): boolean {
    return !this.plain;
  }

  start(handlers: TransportHandlers): void {
    if (this.secure === undefined && this.config.allowNonTls) this.sniff(handlers);
    else this.startInner(this.secure ?? this.wrap(), handlers);
  }

  private startInner(socket: net.Socket, handlers: TransportHandlers): void {
    const inner = new SocketTransport(socket, this.clock, !this.plain);
    this.inner = inner;
    inner.start(handlers);
  }

  /**
   * allow_non_tls: the client's first bytes decide, as in nats-server. A TLS record starts with
   * its content type, 0x16 for a handshake (ClientHello); NATS protocol starts with a letter. The
   * bytes are put back for whichever reader takes over (a TLSSocket first consumes what the raw
   * socket has buffered).
   */
  private sniff(handlers: TransportHandlers): void {
    const raw = this.raw;
    const onClose = (): void => handlers.close();
    raw.on('error', () => {
      // 'close' follows.
    });
    raw.once('close', onClose);
    raw.once('data', (chunk: Buffer) => {
      raw.off('close', onClose);
      raw.pause();
      raw.unshift(chunk);
      if (chunk[0] === 0x16) {
        this.startInner(this.wrap(), handlers);
        return;
      }
      this.plain = true;
      this.startInner(raw, handlers);
      raw.resume();
    });
  }

  write(data: Buffer): void {
    // Before start() only INFO is written: in the clear unless the handshake comes first.
    if (this.inner !== undefined) this.inner.write(data);
    else if (this.secure !== undefined) this.secure.write(data);
    else if (!this.raw.destroyed) this.raw.write(data);
  }

  pendingWriteBytes(): number {
    return this.inner !== undefined ? this.inner.pendingWriteBytes() : this.raw.writableLength;
  }

  end(): void {
    if (this.inner !== undefined) this.inner.end();
    else this.raw.end();
  }

  destroy(): void {
    this.handshakeTimer?.cancel();
    this.secure?.destroy();
    this.inner?.destroy();
    this.raw.destroy();
  }

  pause(): void {
    this.inner?.pause();
  }

  resume(): void {
    this.inner?.resume();
  }

  /** Starts the server side of the handshake over the raw socket, bounded by the TLS timeout. */
  private wrap(): tls.TLSSocket {
    const c = this.config;
    const secure = new tls.TLSSocket(this.raw, {
      isServer: true,
      secureContext: c.secureContext,
      requestCert: c.requestCert,
      rejectUnauthorized: c.rejectUnauthorized,
    });
    this.secure = secure;
    this.handshakeTimer = this.clock.setTimeout(() => {
      if (!this.established) this.refuse();
    }, c.timeoutMs);
    secure.once('secure', () => {
      this.established = true;
      this.handshakeTimer?.cancel();
    });
    secure.once('close', () => this.handshakeTimer?.cancel());
    secure.on('error', () => {
      // 'close' follows and the transport reports it. A client that answered INFO in plain text
      // (it does not do TLS) is told why, in plain text, like nats-server does.
      if (!this.established) this.refuse();
    });
    return secure;
  }

  private refuse(): void {
    this.handshakeTimer?.cancel();
    const raw = this.raw;
    const secure = this.secure;
    if (!raw.destroyed && raw.writable) raw.end(TLS_REQUIRED_ERR);
    // A peer that never reads must not keep the socket; the TLS socket follows the raw one.
    const timer = this.clock.setTimeout(() => {
      secure?.destroy();
      raw.destroy();
    }, 1000);
    raw.once('close', () => {
      timer.cancel();
      secure?.destroy();
    });
  }
}
