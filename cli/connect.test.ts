// The connection flags against servers that require them: --user/--password (and NATS_USER /
// NATS_PASSWORD), --token, --nkey FILE, --tlsca/--tlscert/--tlskey.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import type { RunningServer } from '../server/index.ts';
import { startTestServer } from '../tests/helpers/server.ts';
import { makeTestCerts, type TestCerts } from '../tests/helpers/certs.ts';
import { cli, oneErrorLine } from '../tests/helpers/cli.ts';
import { connectionOptions } from './connect.ts';

let dir: string;
const servers: RunningServer[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-connect-'));
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function serve(opts: Parameters<typeof startTestServer>[0]): Promise<string> {
  const s = await startTestServer(opts);
  servers.push(s);
  return s.clientUrl;
}

describe('connection flags', () => {
  test('--user/--password, or NATS_USER/NATS_PASSWORD; a wrong password is one line', async () => {
    const url = await serve({ user: 'alice', pass: 's3cret' });
    assert.equal((await cli(['rtt', '1', '-s', url, '--user', 'alice', '--password', 's3cret'])).code, 0);
    assert.equal((await cli(['--user', 'alice', 'rtt', '1', '-s', url], { env: { NATS_PASSWORD: 's3cret' } })).code, 0);
    assert.equal((await cli(['rtt', '1', '-s', url], { env: { NATS_USER: 'alice', NATS_PASSWORD: 's3cret' } })).code, 0);
    oneErrorLine(await cli(['rtt', '1', '-s', url, '--user', 'alice', '--password', 'nope']), /^sluice: cannot connect to nats:\/\/127\.0\.0\.1:\d+: .*authorization violation/i);
  });

  test('--token', async () => {
    const url = await serve({ token: 'tok' });
    assert.equal((await cli(['rtt', '1', '-s', url, '--token', 'tok'])).code, 0);
    oneErrorLine(await cli(['rtt', '1', '-s', url]), /authorization violation/i);
  });

  test('--nkey FILE holding a user seed', async () => {
    const user = createUser();
    const seedFile = join(dir, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
    const url = await serve({ users: [{ nkey: user.getPublicKey() }] });
    assert.equal((await cli(['rtt', '1', '-s', url, '--nkey', seedFile])).code, 0);
    const bad = join(dir, 'bad.nk');
    writeFileSync(bad, 'not a seed\n');
    oneErrorLine(await cli(['rtt', '1', '-s', url, '--nkey', bad]), /--nkey file .*bad\.nk holds no user seed/);
  });

  test('precedence: flag, then SLUICE_URL, then NATS_URL; --timeout sets connect and request timeouts', () => {
    assert.deepEqual(connectionOptions({}, {}).servers, ['nats://127.0.0.1:4222']);
    assert.deepEqual(connectionOptions({}, { NATS_URL: 'nats://a:1' }).servers, ['nats://a:1']);
    assert.deepEqual(connectionOptions({}, { NATS_URL: 'nats://a:1', SLUICE_URL: 'nats://b:2,nats://c:3' }).servers, ['nats://b:2', 'nats://c:3']);
    assert.deepEqual(connectionOptions({ server: 'nats://d:4' }, { SLUICE_URL: 'nats://b:2' }).servers, ['nats://d:4']);
    const o = connectionOptions({ timeout: '1.5s' }, {});
    assert.deepEqual([o.timeoutMs, o.requestTimeoutMs, o.reconnect], [1500, 1500, false]);
    assert.equal(connectionOptions({}, { NATS_TIMEOUT: '250ms' }).timeoutMs, 250);
    assert.throws(() => connectionOptions({ user: 'a', token: 't' }, {}), /--user and --token cannot be used together/);
  });
});

describe('TLS flags', () => {
  let certs: TestCerts;
  let url: string;
  let verifyingUrl: string;
  before(async () => {
    certs = makeTestCerts();
    const t = { certFile: certs.certFile, keyFile: certs.keyFile };
    url = await serve({ tls: t as never });
    verifyingUrl = await serve({ tls: { ...t, caFile: certs.caFile, verify: true } as never });
  });
  after(() => certs?.remove());

  test('--tlsca trusts the server; a client certificate with --tlscert/--tlskey', async () => {
    assert.equal((await cli(['rtt', '1', '-s', url, '--tlsca', certs.caFile])).code, 0);
    oneErrorLine(await cli(['rtt', '1', '-s', url, '--tlsca', certs.otherCaFile]), /^sluice: cannot connect to .*TLS/);
    assert.equal((await cli(['rtt', '1', '-s', verifyingUrl, '--tlsca', certs.caFile, '--tlscert', certs.clientCertFile, '--tlskey', certs.clientKeyFile])).code, 0);
  });
});
