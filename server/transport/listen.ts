// Binding a listener the way nats-server binds: `0.0.0.0`, the default host, means every address,
// IPv6 included. Go listens on a dual-stack socket for it, so a client whose `localhost` resolves
// to ::1 connects; Node's `listen(port, '0.0.0.0')` is IPv4 only and refuses it. So 0.0.0.0
// listens on `::` with IPv6-only off (IPv4 clients arrive as ::ffff:a.b.c.d), and falls back to
// 0.0.0.0 on a machine without IPv6.

import type net from 'node:net';

/** Errors of listen('::') on a host without IPv6. */
const NO_IPV6 = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

function listenOnce(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Listens on host:port; 0.0.0.0 on every IPv4 and IPv6 address (see above). */
export async function listenOn(server: net.Server, host: string, port: number): Promise<void> {
  if (host === '0.0.0.0') {
    try {
      await listenOnce(server, '::', port);
      return;
    } catch (err) {
      if (!NO_IPV6.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  await listenOnce(server, host, port);
}

/** A dual-stack listener's IPv4 peers as plain IPv4: '::ffff:127.0.0.1' -> '127.0.0.1'. */
export function peerAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
