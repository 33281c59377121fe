// nats:// and tls:// over node:net / node:tls. Loaded only through a dynamic import (see
// transport/index.ts), so browser bundles never touch these modules.
//
// The server speaks first (INFO). The first line is read here, before the transport is handed
// over, because it decides a TLS upgrade: TLS is used when the URL is tls://, when the caller
// gave TLS options, or when INFO says tls_required. The INFO bytes are then delivered to the
// protocol layer like any other data.

import net from 'node:net';
import tls from 'node:tls';
import { Buffer } from 'node:buffer';
import { NatsError, ErrorCode, ProtocolError, TimeoutError } from '../errors.ts';
import type { DialOptions, Transport, TransportHandlers } from './types.ts';

/** INFO lines longer than this are refused (nats-server's are well under 4 KiB). */
const MAX_INFO_LINE_BYTES = 64 * 1024;

class TcpTransport implements Transport {
  private readonly socket: net.Socket;
  private pre: Buffer | undefined;
  private err: Error | undefined;
  readonly encrypted: boolean;

  constructor(socket: net.Socket, pre: Buffer, encrypted: boolean) {
    this.socket = socket;
    this.pre = pre.length > 0 ? pre : undefined;
    this.encrypted = encrypted;
    socket.on('error', (e: Error) => {
      this.err ??= e;
    });
  }

  start(h: TransportHandlers): void {
    const socket = this.socket;
    socket.once('close', () => h.close(this.err));
    socket.on('data', (chunk: Buffer) => h.data(chunk));
    const pre = this.pre;
    this.pre = undefined;
    if (pre !== undefined) h.data(pre);
    socket.resume();
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  close(): void {
    this.socket.end();
  }

  destroy(err?: Error): void {
    this.err ??= err;
    this.socket.destroy();
  }
}

/** Reads until the first '\n'; resolves with every byte read so far, the socket paused. */
function readFirstLine(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      got = got.length === 0 ? chunk : Buffer.concat([got, chunk]);
      if (got.indexOf(10) >= 0) {
        socket.pause();
        cleanup();
        resolve(got);
      } else if (got.length > MAX_INFO_LINE_BYTES) {
        cleanup();
        reject(new ProtocolError('server greeting is not a NATS INFO line'));
      }
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(new NatsError(ErrorCode.ConnectionRefused, 'connection closed before INFO'));
    };
    socket.on('data', onData);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

function infoRequiresTls(line: Buffer): boolean {
  const text = line.toString('utf8').trim();
  if (!/^info\s/i.test(text)) return false;
  try {
    const info = JSON.parse(text.slice(5)) as { tls_required?: boolean };
    return info.tls_required === true;
  } catch {
    return false;
  }
}

function upgrade(socket: net.Socket, o: DialOptions): Promise<tls.TLSSocket> {
  const t = o.tls ?? {};
  const host = o.url.host;
  return new Promise((resolve, reject) => {
    const secure = tls.connect({
      socket,
      servername: t.servername ?? (net.isIP(host) === 0 ? host : undefined),
      ca: t.ca as tls.ConnectionOptions['ca'],
      cert: t.cert as tls.ConnectionOptions['cert'],
      key: t.key as tls.ConnectionOptions['key'],
      rejectUnauthorized: t.rejectUnauthorized ?? true,
    });
    const onError = (e: Error): void => reject(e);
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      secure.off('error', onError);
      resolve(secure);
    });
  });
}

export async function dialTcp(o: DialOptions): Promise<Transport> {
  const socket = net.connect({ host: o.url.host, port: o.url.port });
  socket.setNoDelay(true);
  let timedOut = false;
  let current: net.Socket = socket;
  const timer = o.clock.setTimeout(() => {
    timedOut = true;
    current.destroy();
  }, o.timeoutMs);
  try {
    const first = await readFirstLine(socket);
    const nl = first.indexOf(10);
    const wantTls = o.url.scheme === 'tls' || o.tls !== undefined || infoRequiresTls(first.subarray(0, nl));
    if (!wantTls) return new TcpTransport(socket, first, false);
    // Nothing follows INFO until the TLS handshake is done.
    const secure = await upgrade(socket, o);
    current = secure;
    return new TcpTransport(secure, first.subarray(0, nl + 1), true);
  } catch (e) {
    current.destroy();
    if (timedOut) throw new TimeoutError('connect');
    if (e instanceof NatsError) throw e;
    throw new NatsError(ErrorCode.ConnectionRefused, `${o.url.key}: ${(e as Error).message}`, { cause: e });
  } finally {
    timer.cancel();
  }
}
