// Picks the transport by URL scheme. Each transport module is imported on first use, so a browser
// bundle never loads node:net/node:tls (nats://, tls://) and Node never loads what it does not
// need.

import type { DialOptions, Transport } from './types.ts';

export type { DialOptions, Transport, TransportHandlers } from './types.ts';

export async function dial(opts: DialOptions): Promise<Transport> {
  const scheme = opts.url.scheme;
  if (scheme === 'ws' || scheme === 'wss') {
    const { dialWebSocket } = await import('./websocket.ts');
    return dialWebSocket(opts);
  }
  const { dialTcp } = await import('./tcp.ts');
  return dialTcp(opts);
}
