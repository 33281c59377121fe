// `host: 0.0.0.0` (the default) means every address, IPv6 included, as with nats-server: a client
// whose `localhost` resolves to ::1 connects, and IPv4 clients are still reported as IPv4.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';

/** Whether this machine can listen on ::1 at all (IPv6 may be disabled). */
function hasIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

async function info(host: string, port: number): Promise<Record<string, unknown>> {
  const raw = await RawClient.connect(port, host);
  try {
    const text = await raw.waitFor('\r\n');
    return JSON.parse(text.slice('INFO '.length, text.indexOf('\r\n'))) as Record<string, unknown>;
  } finally {
    raw.destroy();
  }
}

test('0.0.0.0 accepts IPv4 and IPv6 clients; IPv4 peers are reported as IPv4', async () => {
  const ipv6 = await hasIpv6();
  const server = await startTestServer({ host: '0.0.0.0', httpPort: 0 });
  try {
    const v4 = await info('127.0.0.1', server.ports.client);
    assert.equal(v4.client_ip, '127.0.0.1');
    assert.equal(v4.host, '0.0.0.0');
    // Without IPv6 the server falls back to IPv4 alone: what is checked above is all there is.
    if (!ipv6) return;
    const v6 = await info('::1', server.ports.client);
    assert.equal(v6.client_ip, '::1');
    // The monitoring port too.
    const res = await fetch(`http://[::1]:${server.ports.http!}/healthz`);
    assert.equal(res.status, 200);
  } finally {
    await server.close();
  }
});

test('a specific IPv4 address stays IPv4 only', async () => {
  const server = await startTestServer({ host: '127.0.0.1' });
  try {
    assert.equal((await info('127.0.0.1', server.ports.client)).client_ip, '127.0.0.1');
    // Refused on a machine with IPv6; unreachable on one without it: never accepted either way.
    await assert.rejects(RawClient.connect(server.ports.client, '::1'), /ECONNREFUSED|EADDRNOTAVAIL|ENETUNREACH|EAFNOSUPPORT/);
  } finally {
    await server.close();
  }
});
