// Sources and mirrors from another account side by side: the same config
// (tests/integration/cross-account-sourcing-suite.ts) run by nats-server 2.9.10 and by sluice, B
// mirroring and sourcing A's stream through imports of A's consumer API, deliver subjects and
// flow control, and what B's streams hold compared.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from '../helpers/server.ts';
import { startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import { SOURCING_CONF, mirrorAndSourceFromAccount } from '../integration/cross-account-sourcing-suite.ts';

describe('sources and mirrors from another account: sluice and nats-server 2.9.10 hold the same', () => {
  let dir: string;
  let reference: ReferenceServer | undefined;
  let sluice: RunningServer | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-xacc-sourcing-e2e-'));
    const refConf = join(dir, 'nats.conf');
    writeFileSync(refConf, SOURCING_CONF.replace('$STORE', join(dir, 'ref-store')));
    reference = await startNatsServer(['-c', refConf]);
    const loaded = loadConfigText(SOURCING_CONF.replace('$STORE', join(dir, 'sluice-store')), 'sourcing.conf');
    sluice = await startTestServer({ ...loaded.options });
  });

  after(async () => {
    await sluice?.close();
    await reference?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("B's mirror and source of A's ORDERS, before and after A publishes more", async () => {
    const expected = await mirrorAndSourceFromAccount(reference!.url);
    assert.deepEqual(await mirrorAndSourceFromAccount(sluice!.clientUrl), expected);
  });
});
