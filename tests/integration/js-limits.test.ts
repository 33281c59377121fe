// JetStream account limits with the official client against one sluice server: the scenarios of
// js-limits-suite.ts, answered as nats-server 2.9.10 answers them (tests/e2e/js-limits-vs-nats-server.e2e.ts
// compares the two side by side), and /jsz per account.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from '../helpers/server.ts';
import { LIMITS_CONF, accountInfo, ackPending, connectAs, fillUp, mirrorIntoFullAccount, perStreamBytes, reservations, streamAndConsumerCounts } from './js-limits-suite.ts';
import { jetstreamManager } from '@nats-io/jetstream';

const NONE = { max_memory: -1, max_storage: -1, max_streams: -1, max_consumers: -1, max_ack_pending: -1, memory_max_stream_bytes: -1, storage_max_stream_bytes: -1, max_bytes_required: false };
const unused = { memory: 0, storage: 0, streams: 0, consumers: 0, api_keys: ['errors', 'total'] };

describe('JetStream account limits', () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-js-limits-'));
    const loaded = loadConfigText(LIMITS_CONF.replace('$STORE', join(dir, 'store')), 'limits.conf');
    assert.deepEqual(loaded.warnings, []);
    server = await startTestServer({ ...loaded.options, httpPort: 0 });
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('$JS.API.INFO reports each account its limits (sizes as nats-server reads 64K: 64,000)', async () => {
    assert.deepEqual(await accountInfo(server.clientUrl), {
      l: { ...unused, limits: { ...NONE, max_memory: 64_000, max_storage: 256_000, max_streams: 3, max_consumers: 2 } },
      m: { ...unused, limits: { ...NONE, max_memory: 32_000, max_storage: 1_000_000, max_ack_pending: 100 } },
      r: { ...unused, limits: { ...NONE, storage_max_stream_bytes: 100_000, max_bytes_required: true } },
      u: { ...unused, limits: NONE },
    });
  });

  test('max_streams and max_consumers (per stream, as nats-server 2.9)', async () => {
    assert.deepEqual(await streamAndConsumerCounts(server.clientUrl), [
      'stream C1: ok',
      'stream C2: ok',
      'stream C3: ok',
      'stream C4: 400 10027 maximum number of streams reached',
      'C1 again, same config: 400 10027 maximum number of streams reached',
      'consumer d1 on C1: ok',
      'consumer d2 on C1: ok',
      'consumer d3 on C1: 400 10026 maximum consumers limit reached',
      'consumer d1 on C2: ok',
      'stream max_consumers 5 (account 2): 500 10052 stream configuration update can not change MaxConsumers',
      'C4 after deleting C3: 400 10026 maximum consumers limit reached',
      'account: 2 streams, 3 consumers',
    ]);
  });

  test("the account's max_ack_pending is a consumer's default and its ceiling", async () => {
    assert.deepEqual(await ackPending(server.clientUrl), [
      'default: max_ack_pending 100',
      '50: max_ack_pending 50',
      '500: 400 10121 consumer max ack pending exceeds system limit of 100',
      'ack none: max_ack_pending -',
    ]);
  });

  test('max_bytes_required and the per-stream cap, on create and update', async () => {
    const required = '400 10113 account requires a stream config to have max bytes set';
    const cap = '400 10122 stream max bytes exceeds account limit max stream bytes';
    assert.deepEqual(await perStreamBytes(server.clientUrl), [
      `no max_bytes: ${required}`,
      `max_bytes 200K: ${cap}`,
      'memory, max_bytes 200K (no memory cap): ok',
      'max_bytes 50K: ok',
      `update to max_bytes 150K: ${cap}`,
      `update to no max_bytes: ${required}`,
    ]);
  });

  test("a stream's max_bytes must fit in what the account and the server have left", async () => {
    const storage = '500 10047 insufficient storage resources available';
    const memory = '500 10028 insufficient memory resources available';
    assert.deepEqual(await reservations(server.clientUrl), [
      'l F1 file max_bytes 204800: ok',
      `l F2 file max_bytes 102400: ${storage}`,
      `l F3 file max_bytes 57344: ${storage}`,
      'l F4 file max_bytes -: ok',
      `l M1 memory max_bytes 131072: ${memory}`,
      `l M2 memory max_bytes 65536: ${memory}`,
      `l BIG file max_bytes 104857600: ${storage}`,
      `l BIGM memory max_bytes 3145728: ${memory}`,
      `l update F1 to max_bytes 300K: ${storage}`,
      'l account: 2 streams',
      'u F1 file max_bytes 204800: ok',
      'u F2 file max_bytes 102400: ok',
      'u F3 file max_bytes 57344: ok',
      'u F4 file max_bytes -: ok',
      'u M1 memory max_bytes 131072: ok',
      'u M2 memory max_bytes 65536: ok',
      // Over the server's totals (max_file 64M, max_mem 2M).
      `u BIG file max_bytes 104857600: ${storage}`,
      `u BIGM memory max_bytes 3145728: ${memory}`,
      'u update F1 to max_bytes 300K: ok',
      'u account: 6 streams',
    ]);
  });

  test("publishes once the account's storage is full: 10002, each refusal uses a sequence", async () => {
    const refused = '400 10002 resource limits exceeded for account';
    assert.deepEqual(await fillUp(server.clientUrl, 'l', 'file', 400), [
      `l file: stored 241, then ${refused}`,
      `l file: next publish: ${refused}`,
      'l file: state 241 messages, first 1, last 243',
      'l file: account memory 0, storage used',
      'l file: after purge: ok',
    ]);
    assert.deepEqual(await fillUp(server.clientUrl, 'm', 'memory', 400), [
      `m memory: stored 30, then ${refused}`,
      `m memory: next publish: ${refused}`,
      'm memory: state 30 messages, first 1, last 32',
      'm memory: account memory used, storage 0',
      'm memory: after purge: ok',
    ]);
  });

  test("a mirror's copies beyond the account's storage keep their sequence, not their message", async () => {
    assert.deepEqual(await mirrorIntoFullAccount(server.clientUrl), ['MIR: 21 messages, first 1, last 40', 'after purging both: MIR 1 messages, last 41']);
  });

  test("publishes once the server's memory total is used: 10023", async () => {
    assert.deepEqual(await fillUp(server.clientUrl, 'u', 'memory', 3000), [
      'u memory: stored 1913, then 503 10023 insufficient resources',
      'u memory: next publish: 503 10023 insufficient resources',
      'u memory: state 1913 messages, first 1, last 1913',
      'u memory: account memory used, storage 0',
      'u memory: after purge: ok',
    ]);
  });

  test('/jsz totals every account; acc= and accounts=1 show each one', async () => {
    const nc = await connectAs(server.clientUrl, 'l');
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'JSZ', subjects: ['jsz.>'] });
      await nc.request('jsz.1', 'x');
      type Jsz = { config: { max_memory: number; max_storage: number }; accounts: number; streams: number; messages: number; account_details?: { name: string; reserved_memory: number; reserved_storage: number; stream_detail?: { name: string }[] }[] };
      const get = async (q: string): Promise<Jsz> => (await (await fetch(`${server.httpUrl}/jsz${q}`)).json()) as Jsz;
      const all = await get('');
      assert.deepEqual([all.config.max_memory, all.config.max_storage, all.accounts, all.streams, all.messages], [2_000_000, 64_000_000, 4, 1, 1]);
      assert.equal(all.account_details, undefined);
      const one = await get('?acc=L&streams=1');
      assert.deepEqual(
        one.account_details?.map((a) => [a.name, a.reserved_memory, a.reserved_storage, a.stream_detail?.map((s) => s.name)]),
        [['L', 64_000, 256_000, ['JSZ']]],
      );
      const each = await get('?accounts=1');
      assert.deepEqual(each.account_details?.map((a) => a.name), ['L', 'M', 'R', 'U']);
      await jsm.streams.delete('JSZ');
    } finally {
      await nc.close();
    }
  });
});
