// Accounts side by side: the same config file (tests/integration/accounts-suite.ts) run by
// nats-server 2.9.10 and by sluice, the same clients and scenarios against each, and what every
// client received compared: isolation, stream imports with a prefix and to named accounts,
// service imports (to, wildcard, no responders, response types), queue groups, JetStream per
// account (10039), and the accounts' exports and imports as /accountz shows them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from '../helpers/server.ts';
import { freePort, startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import {
  ACCOUNTS_CONF,
  accountDetail,
  accountStatz,
  closeAll,
  connectAll,
  isolation,
  jetstreamIsolation,
  jetstreamPerAccount,
  queueGroups,
  responseTypes,
  serviceImport,
  serviceNoResponders,
  streamImport,
  systemEvents,
  crossAccountJetStream,
  type Clients,
} from '../integration/accounts-suite.ts';

describe('accounts: sluice and nats-server 2.9.10 deliver the same', () => {
  let dir: string;
  let reference: ReferenceServer | undefined;
  let refHttp = '';
  let sluice: RunningServer | undefined;
  let ref: Clients | undefined;
  let ours: Clients | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-accounts-e2e-'));
    const refConf = join(dir, 'nats.conf');
    writeFileSync(refConf, ACCOUNTS_CONF.replace('$STORE', join(dir, 'ref-store')));
    const httpPort = await freePort();
    reference = await startNatsServer(['-c', refConf, '-m', String(httpPort)]);
    refHttp = `http://127.0.0.1:${httpPort}`;
    const loaded = loadConfigText(ACCOUNTS_CONF.replace('$STORE', join(dir, 'sluice-store')), 'accounts.conf');
    sluice = await startTestServer({ ...loaded.options, httpPort: 0 });
    ref = await connectAll(reference.url);
    ours = await connectAll(sluice.clientUrl);
  });

  after(async () => {
    await closeAll(ref);
    await closeAll(ours);
    await sluice?.close();
    await reference?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const same = (name: string, run: (cl: Clients) => Promise<string[]>): void => {
    test(name, async () => {
      const expected = await run(ref!);
      const actual = await run(ours!);
      assert.deepEqual(actual, expected);
    });
  };

  same('isolation: the same subject in every account', isolation);
  same('stream imports: a prefix, and an export to named accounts', streamImport);
  same('service imports: to, wildcards, no responders', serviceImport);
  same('response types: singleton and stream', responseTypes);

  test('a service import nobody serves: no-responders (nats-server >= 2.11), where 2.9.10 times out', async () => {
    // nats-server ce309b79d (v2.11.0) answers no-responders when a service import delivered
    // nowhere; sluice does the same, so a requester fails fast instead of waiting out its timeout.
    assert.deepEqual(await serviceNoResponders(ref!), ['error TimeoutError']);
    assert.deepEqual(await serviceNoResponders(ours!), ['error RequestError (no responders)']);
  });
  same('queue groups stay in their account', queueGroups);
  same('JetStream per account: 10039 where it is not enabled', jetstreamPerAccount);
  same('JetStream per account: the same stream name in two accounts, each its own messages', jetstreamIsolation);
  same("cross-account JetStream through imports of A's API, subjects and acks", crossAccountJetStream);

  test('the system account: connect and disconnect events, PING', async () => {
    assert.deepEqual(await systemEvents(sluice!.clientUrl), await systemEvents(reference!.url));
  });

  test('/accstatz: accounts with connections, all with unused=1', async () => {
    assert.deepEqual(await accountStatz(sluice!.httpUrl!, sluice!.clientUrl), await accountStatz(refHttp, reference!.url));
  });

  test('/accountz: the accounts, their exports and imports', async () => {
    assert.deepEqual(await accountDetail(sluice!.httpUrl!), await accountDetail(refHttp));
  });
});
