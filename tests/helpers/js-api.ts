// Shared by the JetStream integration tests: raw $JS.API requests and JetStream error assertions.

import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError } from '@nats-io/jetstream';

/** A raw JetStream API request; returns the parsed JSON reply. */
export async function jsApi(nc: NatsConnection, subject: string, body: unknown = ''): Promise<Record<string, any>> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const m = await nc.request(subject, payload, { timeout: 5000 });
  return m.json();
}

/** `p` rejects with the official client's JetStreamApiError carrying `errCode` (and description). */
export async function rejectsWithJsError(p: Promise<unknown>, errCode: number, description?: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof JetStreamApiError, `expected a JetStreamApiError, got ${String(err)}`);
    assert.equal(err.code, errCode, err.message);
    if (typeof description === 'string') assert.equal(err.message, description);
    else if (description !== undefined) assert.match(err.message, description);
    return true;
  });
}
