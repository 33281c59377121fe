// The transport contract: a framing adapter that moves bytes between the client's protocol layer
// and a socket (TCP, TLS or WebSocket). It knows nothing of the NATS protocol except, for TCP,
// the first INFO line (which decides a TLS upgrade).

import type { Buffer } from 'node:buffer';
import type { Clock } from '../../runtime/clock.ts';
import type { ServerUrl, TlsOptions } from '../options.ts';

export interface TransportHandlers {
  /** Bytes from the server, in order. The Buffer is only valid during the call. */
  data(chunk: Buffer): void;
  /** The transport is closed; called exactly once. `err` is set when it failed. */
  close(err: Error | undefined): void;
}

export interface Transport {
  /** Begin delivering data to the handlers (bytes read before start() are delivered first). */
  start(handlers: TransportHandlers): void;
  /** Queue bytes for the server; the transport owns `bytes` afterwards. */
  write(bytes: Uint8Array): void;
  /** Bytes written but not yet handed to the OS (a backpressure signal). */
  readonly bufferedBytes: number;
  /** Send what is queued, then close. The close handler follows. */
  close(): void;
  /** Close at once, dropping what is queued. The close handler follows (with `err`). */
  destroy(err?: Error): void;
  readonly encrypted: boolean;
}

export interface DialOptions {
  url: ServerUrl;
  tls: TlsOptions | undefined;
  timeoutMs: number;
  clock: Clock;
}

export type Dialer = (opts: DialOptions) => Promise<Transport>;
