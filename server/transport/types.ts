// What the connection code needs from a transport. TCP, TLS and WebSocket are framing adapters
// behind this interface; the connection never sees a socket.

export interface TransportHandlers {
  /** Raw protocol bytes from the peer (already unframed for WebSocket). */
  data(chunk: Buffer): void;
  /** The transport is gone (peer closed, error, or after end()/destroy()). Called once. */
  close(err?: Error): void;
  /** Everything written so far has been handed to the kernel. */
  drain(): void;
}

export interface ClientTransport {
  readonly kind: 'tcp' | 'ws';
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  start(handlers: TransportHandlers): void;
  /** Queues bytes for the peer. Ownership of `data` passes to the transport. */
  write(data: Buffer): void;
  /** Bytes accepted by write() not yet handed to the kernel. */
  pendingWriteBytes(): number;
  /** Sends what is queued, then closes. */
  end(): void;
  /** Closes now, dropping anything queued. */
  destroy(): void;
  /** Stops/resumes reading (backpressure). */
  pause(): void;
  resume(): void;
}
