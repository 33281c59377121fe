// Sources and mirrors from another account side by side: the same config
// (tests/integration/cross-account-sourcing-suite.ts) run by nats-server 2.9.10 and by sluice, B
// mirroring and sourcing A's stream through imports of A's consumer API, deliver subjects and
// flow control, and what B's streams hold compared.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSideBySide, type SideBySide } from '../helpers/side-by-side.ts';
import { SOURCING_CONF, mirrorAndSourceFromAccount } from '../integration/cross-account-sourcing-suite.ts';

describe('sources and mirrors from another account: sluice and nats-server 2.9.10 hold the same', () => {
  let both: SideBySide | undefined;

  before(async () => {
    both = await startSideBySide(SOURCING_CONF, 'xacc-sourcing');
  });

  after(async () => {
    await both?.close();
  });

  test("B's mirror and source of A's ORDERS, before and after A publishes more", async () => {
    const expected = await mirrorAndSourceFromAccount(both!.reference);
    assert.deepEqual(await mirrorAndSourceFromAccount(both!.sluice), expected);
  });
});
