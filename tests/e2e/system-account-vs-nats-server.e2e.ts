// The system account's requests and JetStream's advisories side by side: the same config
// (tests/integration/accounts-suite.ts) run by nats-server 2.9.10 and by sluice, the same requests
// and the same JetStream calls against each, and the shapes of what came back compared
// (tests/integration/system-account-suite.ts): every key nats-server answers with is there.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from '../helpers/server.ts';
import { startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import { ACCOUNTS_CONF } from '../integration/accounts-suite.ts';
import { accountPingRequests, jetstreamAdvisories, systemRequests, type AdvisoryShape, type RequestShape } from '../integration/system-account-suite.ts';

/** Keys nats-server answers with that sluice does not, by request. */
const ABSENT: Record<string, readonly string[]> = {
  // nats-server lists its system imports ($SYS.REQ.ACCOUNT.PING.CONNZ, ...) among every account's.
  '$SYS.REQ.ACCOUNT.A.INFO ': ['imports'],
};

/** Data keys of `shape` limited to `keep` (sluice may say more: server_name in ROUTEZ, sluice_version). */
function limited(shape: RequestShape, keep: readonly string[] | null | undefined): RequestShape {
  const absent = ABSENT[shape.request] ?? [];
  if (!Array.isArray(shape.data)) return shape;
  return { ...shape, data: shape.data.filter((k) => !absent.includes(k) && (keep ?? []).includes(k)) };
}

describe('the system account and JetStream advisories: sluice answers with nats-server 2.9.10\'s shapes', () => {
  let dir: string;
  let reference: ReferenceServer | undefined;
  let sluice: RunningServer | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-sysacct-e2e-'));
    const refConf = join(dir, 'nats.conf');
    writeFileSync(refConf, ACCOUNTS_CONF.replace('$STORE', join(dir, 'ref-store')));
    reference = await startNatsServer(['-c', refConf]);
    const loaded = loadConfigText(ACCOUNTS_CONF.replace('$STORE', join(dir, 'sluice-store')), 'accounts.conf');
    sluice = await startTestServer(loaded.options);
  });

  after(async () => {
    await sluice?.close();
    await reference?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('$SYS.REQ.SERVER and $SYS.REQ.ACCOUNT requests: the same envelope, server block, data keys and errors', async () => {
    const expected = await systemRequests(reference!.url);
    const actual = await systemRequests(sluice!.clientUrl);
    assert.deepEqual(
      actual.map((a, i) => limited(a, expected[i]?.data)),
      expected.map((e) => limited(e, e.data)),
    );
  });

  test("the requests every account may send: its connections and statistics only", async () => {
    const expected = await accountPingRequests(reference!.url);
    const actual = await accountPingRequests(sluice!.clientUrl);
    assert.deepEqual(
      actual.map((a, i) => limited(a, expected[i]?.data)),
      expected,
    );
  });

  test('stream and consumer advisories and the API audit of each request', async () => {
    // The audit's client: nats-server 2.9.10 names the account and server only; sluice says more.
    const comparable = (list: AdvisoryShape[]): AdvisoryShape[] => list.map((a) => ({ ...a, detail: a.detail.replace(/ client \S+/, '') }));
    const expected = await jetstreamAdvisories(reference!.url);
    const actual = await jetstreamAdvisories(sluice!.clientUrl);
    assert.deepEqual(comparable(actual), comparable(expected));
    for (const a of actual.filter((x) => x.type.endsWith('api_audit'))) assert.match(a.detail, / client \S*acc\S*server/);
  });
});
