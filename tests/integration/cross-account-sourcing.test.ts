// A stream in account B mirrors and sources a stream of account A through imports of A's
// consumer API, deliver subjects and flow control (external: { api: "$JS.A.API", deliver }), with
// the official client: the scenarios of cross-account-sourcing-suite.ts against sluice (the e2e
// compares them with nats-server 2.9.10), then the mirror resuming after the server restarts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import { startTestServer } from '../helpers/server.ts';
import { SOURCING_CONF, mirrorAndSourceFromAccount, mirrorResumes } from './cross-account-sourcing-suite.ts';

describe('sources and mirrors from another account', () => {
  let dir: string;
  let options: Partial<ServerOptions>;
  let server: RunningServer | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-xacc-sourcing-'));
    const loaded = loadConfigText(SOURCING_CONF.replace('$STORE', join(dir, 'store')), 'sourcing.conf');
    assert.deepEqual(loaded.warnings, []);
    options = loaded.options;
    server = await startTestServer({ ...options });
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("B's mirror and filtered source follow A's stream, 3,006 messages through flow control", async () => {
    assert.deepEqual(await mirrorAndSourceFromAccount(server!.clientUrl, true), [
      'COPY: 6 messages, 1..6: orders.us.1=order 1 orders.eu.2=order 2 orders.us.3=order 3 orders.eu.4=order 4 orders.us.5=order 5 orders.eu.6=order 6',
      'EU: 4 messages, 1..4: orders.eu.2=order 2 orders.eu.4=order 4 orders.eu.6=order 6 local.1=own',
      'COPY mirror ORDERS external $JS.A.API lag 0',
      'EU sources ORDERS lag 0',
      "A's ORDERS: 6 messages",
      'COPY after 3000 more: 3006 messages, as many bytes as ORDERS, last orders.bulk.2999=m2999',
    ]);
  });

  test('after a restart the mirror goes on from where it was: no gap, no duplicate', async () => {
    await server!.close();
    server = await startTestServer({ ...options });
    assert.equal(await mirrorResumes(server.clientUrl, 500), 'COPY 3506 messages, 1..3506, ORDERS 3506 1..3506, last orders.after.499=m499');
  });
});
