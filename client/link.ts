// The pieces of one connection attempt and the protocol core's public types: the Link (a
// transport's lifetime and its parser), the Handshake in progress, stats, hooks.

import { ClientParser } from '../protocol/parser.ts';
import type { ClientOpSink } from '../protocol/sink.ts';
import type { PermissionsError } from './errors.ts';
import type { ServerInfo } from './handshake.ts';
import type { Transport } from './transport/index.ts';

export type ConnState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface Stats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  reconnects: number;
}

/** Callbacks into the layer above (request mux, connection). */
export interface ProtocolHooks {
  disconnected(): void;
  reconnected(): void;
  publishDenied(err: PermissionsError): void;
  closed(err: Error | undefined): void;
}

/** One transport's lifetime: its parser and whether it has closed. */
export class Link {
  transport: Transport | undefined = undefined;
  readonly parser: ClientParser;
  closed = false;
  private resolveClosed!: () => void;
  readonly closedPromise: Promise<void> = new Promise((r) => (this.resolveClosed = r));
  constructor(sink: ClientOpSink) {
    this.parser = new ClientParser(sink);
  }
  markClosed(): void {
    this.closed = true;
    this.parser.stop();
    this.resolveClosed();
  }
}

/** The handshake in progress: INFO, then (after CONNECT+PING) the PONG, or a failure. */
export class Handshake {
  info: ServerInfo | undefined;
  error: Error | undefined;
  private wake: (() => void) | undefined;
  pong = false;
  /** Resolves when something happened (info, pong or failure). */
  wait(): Promise<void> {
    return new Promise((r) => (this.wake = r));
  }
  signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  fail(err: Error): void {
    this.error ??= err;
    this.signal();
  }
}
