// Operator mode side by side: the same operator, account and user JWTs (tests/integration/
// operator-suite.ts) and the same config run by nats-server 2.9.10 and by sluice, the same
// scenarios against each, the outcomes compared: who may connect (revoked, expired, forged,
// unknown-account, wrong connection type, bearer), isolation and imports from account JWTs,
// permissions from user JWTs and a scoped signing key, a user JWT expiring while connected, and
// JetStream enabled by the account JWT.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from '../helpers/server.ts';
import { startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import {
  expiryWhileConnected,
  isolationAndImports,
  jetstreamFromJwt,
  makeOperatorFixture,
  permissions,
  whoConnects,
  type OperatorFixture,
} from '../integration/operator-suite.ts';

describe('operator mode: sluice and nats-server 2.9.10 agree', () => {
  let dir: string;
  let f: OperatorFixture;
  let reference: ReferenceServer | undefined;
  let sluice: RunningServer | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-operator-e2e-'));
    f = await makeOperatorFixture(dir);
    const refConf = join(dir, 'nats.conf');
    writeFileSync(refConf, f.conf.replace('$STORE', join(dir, 'ref-store')));
    reference = await startNatsServer(['-c', refConf]);
    const loaded = loadConfigText(f.conf.replace('$STORE', join(dir, 'sluice-store')), 'operator.conf');
    sluice = await startTestServer(loaded.options);
  });

  after(async () => {
    await sluice?.close();
    await reference?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const same = (name: string, run: (url: string, f: OperatorFixture) => Promise<string[]>): void => {
    test(name, async () => {
      const [expected, actual] = await Promise.all([run(reference!.url, f), run(sluice!.clientUrl, f)]);
      assert.deepEqual(actual, expected);
    });
  };

  // nats-server closes a connection over its account's conn limit right after the -ERR, often
  // before the client's CONNECT+PING write completes (EPIPE: the client never reads why); sluice
  // lets the -ERR be read. In some runs nats-server's first word is a refused subscription
  // instead ("maximum subscriptions exceeded", seen in CI at 4b84f55: the account's limits are
  // all 0). Both refuse, which is what is compared for that user.
  const refusedForLimit = (lines: string[]): string[] =>
    lines.map((l) => (/^sys: .*(EPIPE|ECONNRESET|maximum account active connections exceeded|maximum subscriptions exceeded)/.test(l) ? 'sys: refused (account conn limit 0)' : l));
  same('who may connect', async (url, f) => refusedForLimit(await whoConnects(url, f)));
  same('isolation, stream, token-guarded and service imports', isolationAndImports);
  same('permissions from the user JWT and a scoped signing key', permissions);
  same('a user JWT expiring while connected', expiryWhileConnected);
  same('JetStream enabled by the account JWT', jetstreamFromJwt);
});
