// Where nats-server is strict, sluice is too: a CONNECT whose fields have the wrong JSON types is
// refused and the connection closed, and write_deadline is enforced (a client whose socket stops
// taking bytes for longer is closed as a slow consumer). Other connections carry on.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogger } from '../../runtime/logger.ts';
import type { RunningServer } from '../../server/index.ts';
import { waitFor } from '../helpers/deadline.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startTestServer } from '../helpers/server.ts';

/** A connected raw client that has seen PONG (so the server processed its CONNECT). */
async function connected(port: number, connect = '{"verbose":false,"pedantic":false}'): Promise<RawClient> {
  const raw = await RawClient.connect(port);
  raw.send(`CONNECT ${connect}\r\nPING\r\n`);
  await raw.waitFor('PONG\r\n');
  raw.clear();
  return raw;
}

async function pong(raw: RawClient): Promise<void> {
  raw.clear();
  raw.send('PING\r\n');
  await raw.waitFor('PONG\r\n');
}

describe('CONNECT field types', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('a field of the wrong JSON type: -ERR, closed; the others carry on', async () => {
    const bystander = await connected(server.ports.client);
    try {
      for (const bad of ['{"verbose":"yes","pedantic":1}', '{"name":5}', '{"protocol":"1"}', '{"headers":1}', '{"user":[]}']) {
        const raw = await RawClient.connect(server.ports.client);
        await raw.waitFor('INFO ');
        raw.send(`CONNECT ${bad}\r\nPING\r\n`);
        await raw.waitFor("-ERR 'Unknown Protocol Operation'\r\n");
        await raw.waitClosed();
        assert.doesNotMatch(raw.text, /PONG/, bad);
        await pong(bystander);
      }
    } finally {
      bystander.destroy();
    }
  });

  test('null keeps the default and unknown fields are ignored, as in nats-server', async () => {
    const raw = await connected(server.ports.client, '{"verbose":false,"pedantic":null,"protocol":null,"some_future_field":{"x":1}}');
    try {
      await pong(raw);
      assert.equal(raw.closed, false);
    } finally {
      raw.destroy();
    }
  });
});

describe('write_deadline', () => {
  const logger = new MemoryLogger();
  let server: RunningServer;
  before(async () => {
    // A pending-bytes limit far above what the test sends: only the deadline can close the reader.
    server = await startTestServer({ writeDeadlineMs: 300, maxPendingBytes: 256 * 1024 * 1024 }, logger);
  });
  after(async () => {
    await server.close();
  });

  test('a subscriber whose socket stops taking bytes is closed as a slow consumer', { timeout: 30_000 }, async () => {
    const stuck = await connected(server.ports.client);
    const publisher = await connected(server.ports.client);
    const bystander = await connected(server.ports.client);
    try {
      stuck.send('SUB big 1\r\nPING\r\n');
      await stuck.waitFor('PONG\r\n');
      stuck.socket.pause(); // reads nothing from now on
      // ~20 MB: more than loopback's socket buffers hold, so bytes queue in the server.
      const payload = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 320; i++) publisher.send(Buffer.concat([Buffer.from(`PUB big ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
      const closed = await waitFor(
        () => logger.entries.find((e) => e.msg === 'client connection closed' && e.fields.reason === 'Slow Consumer (Write Deadline)'),
        'the stuck subscriber to be closed for its write deadline',
        20_000,
      );
      assert.ok(logger.entries.some((e) => e.level === 'warn' && e.msg.includes('write deadline exceeded') && e.fields.cid === closed.fields.cid));
      await pong(bystander);
      await pong(publisher);
      assert.equal(server.connectionCount(), 2);
    } finally {
      stuck.destroy();
      publisher.destroy();
      bystander.destroy();
    }
  });
});
