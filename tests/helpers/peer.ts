// One raw protocol peer over either transport, so wire tests can run the same transcript on TCP
// and on WebSocket.

import { RawClient } from './raw-client.ts';
import { RawWsClient } from './ws.ts';
import type { RunningServer } from '../../server/index.ts';

export type TransportKind = 'tcp' | 'ws';

export interface RawPeer {
  readonly kind: TransportKind;
  send(data: string): void;
  waitFor(needle: string, timeoutMs?: number): Promise<string>;
  waitClosed(timeoutMs?: number): Promise<void>;
  readonly text: string;
  readonly closed: boolean;
  close(): void;
}

export async function rawPeer(kind: TransportKind, server: RunningServer): Promise<RawPeer> {
  if (kind === 'tcp') {
    const c = await RawClient.connect(server.ports.client);
    return {
      kind,
      send: (d) => c.send(d),
      waitFor: (n, t) => c.waitFor(n, t),
      waitClosed: (t) => c.waitClosed(t),
      get text() {
        return c.text;
      },
      get closed() {
        return c.closed;
      },
      close: () => c.destroy(),
    };
  }
  const w = await RawWsClient.connect(server.wsUrl!);
  return {
    kind,
    send: (d) => w.send(d),
    waitFor: (n, t) => w.waitFor(n, t),
    waitClosed: (t) => w.waitClosed(t),
    get text() {
      return w.text;
    },
    get closed() {
      return w.closed;
    },
    close: () => w.close(),
  };
}

/** The JSON of the first INFO line a peer received. */
export async function infoOf(peer: RawPeer): Promise<Record<string, unknown>> {
  const text = await peer.waitFor('\r\n');
  return JSON.parse(text.slice(5, text.indexOf('\r\n'))) as Record<string, unknown>;
}
