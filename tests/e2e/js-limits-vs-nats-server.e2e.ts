// JetStream account limits side by side: the same config (tests/integration/js-limits-suite.ts)
// run by nats-server 2.9.10 and by sluice, the same scenarios with the official client against
// each, and what the client was told compared: the limits and usage in $JS.API.INFO, max_streams,
// max_consumers, max_ack_pending, max_bytes_required and per-stream caps, max_bytes
// reservations, publishes into a full account and a full server, a mirror into a full account.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSideBySide, type SideBySide } from '../helpers/side-by-side.ts';
import { LIMITS_CONF, accountInfo, ackPending, fillUp, mirrorIntoFullAccount, perStreamBytes, reservations, streamAndConsumerCounts } from '../integration/js-limits-suite.ts';

describe('JetStream account limits: sluice and nats-server 2.9.10 answer the same', () => {
  let both: SideBySide | undefined;

  before(async () => {
    both = await startSideBySide(LIMITS_CONF, 'js-limits');
  });

  after(async () => {
    await both?.close();
  });

  const same = (name: string, run: (url: string) => Promise<unknown>): void => {
    test(name, async () => {
      const expected = await run(both!.reference);
      assert.deepEqual(await run(both!.sluice), expected);
    });
  };

  same('$JS.API.INFO: limits and usage per account', accountInfo);
  same('max_streams and max_consumers', streamAndConsumerCounts);
  same('max_ack_pending', ackPending);
  same('max_bytes_required and the per-stream cap', perStreamBytes);
  same("max_bytes against the account's and the server's totals", reservations);
  same('a full account (file)', (url) => fillUp(url, 'l', 'file', 400));
  same('a full account (memory)', (url) => fillUp(url, 'l', 'memory', 400));
  same('a mirror into a full account', mirrorIntoFullAccount);
  same('a full server (memory)', (url) => fillUp(url, 'u', 'memory', 3000));
});
