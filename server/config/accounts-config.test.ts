// Config files: the accounts block, no_auth_user and system_account (nats-server syntax and JSON).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfigText } from './load.ts';
import { resolveOptions } from '../options.ts';

const load = (text: string): ReturnType<typeof loadConfigText> => loadConfigText(text, 'c.conf', { env: {} });

function assertConfigError(text: string, re: RegExp): void {
  assert.throws(
    () => load(text),
    (err: unknown) => err instanceof ConfigError && !err.message.includes('\n') && re.test(err.message),
  );
}

describe('accounts block', () => {
  test("nats-server's shapes map onto accounts and users", () => {
    const r = load(`
      accounts {
        A: {
          users: [ { user: a, password: a } ]
          default_permissions: { publish: "a.>" }
          exports: [ { stream: "a.>" }, { service: "svc.>", response: chunked, accounts: [B] } ]
          jetstream: { max_mem: 1G, max_file: 10GB, max_streams: 5, max_consumers: 7 }
        }
        B: {
          users: [ { user: b, password: b, permissions: { publish: "b.>" } } ]
          imports: [ { stream: { account: A, subject: "a.>" }, prefix: "from_a." }, { service: { account: A, subject: "svc.x" }, to: "x" } ]
        }
      }
      no_auth_user: b
      system_account: A
    `);
    assert.deepEqual(r.options.accounts, [
      {
        name: 'A',
        exports: [{ kind: 'stream', subject: 'a.>' }, { kind: 'service', subject: 'svc.>', responseType: 'chunked', accounts: ['B'] }],
        imports: [],
        jetstream: true,
        // nats-server's sizes: G = 1000^3, GB = 1024^3; what is not given is -1 (no limit).
        jetstreamLimits: {
          max_memory: 1_000_000_000,
          max_storage: 10 * 1024 ** 3,
          max_streams: 5,
          max_consumers: 7,
          max_ack_pending: -1,
          memory_max_stream_bytes: -1,
          storage_max_stream_bytes: -1,
          max_bytes_required: false,
        },
      },
      {
        name: 'B',
        exports: [],
        imports: [
          { kind: 'stream', account: 'A', subject: 'a.>', prefix: 'from_a', to: '' },
          { kind: 'service', account: 'A', subject: 'svc.x', to: 'x' },
        ],
        jetstream: false,
      },
    ]);
    assert.deepEqual(r.options.users, [
      { user: 'a', password: 'a', permissions: { publish: { allow: ['a.>'] } }, account: 'A' },
      { user: 'b', password: 'b', permissions: { publish: { allow: ['b.>'] } }, account: 'B' },
    ]);
    assert.equal(r.options.noAuthUser, 'b');
    assert.equal(r.options.systemAccount, 'A');
    assert.deepEqual(r.warnings, []);
    assert.doesNotThrow(() => resolveOptions(r.options));
  });

  test('authorization users may name an account; account users come after them', () => {
    const r = load('authorization { users: [ { user: g, password: g }, { user: x, password: x, account: A } ] }\naccounts { A: { users: [ { user: a } ] } }');
    assert.deepEqual(r.options.users?.map((u) => [u.user, u.account]), [['g', undefined], ['x', 'A'], ['a', 'A']]);
  });

  test("JetStream limits take nats-server's other spellings; the server's totals come from the jetstream block", () => {
    const r = load('jetstream { max_memory_store: 2M, max_file_store: 1G }\naccounts { A: { jetstream: { max_memory: 1K, max_store: 2K, mem_max_stream_bytes: 100, max_bytes_required: true } } }');
    const l = r.options.accounts?.[0]?.jetstreamLimits;
    assert.deepEqual([l?.max_memory, l?.max_storage, l?.memory_max_stream_bytes, l?.max_bytes_required, l?.max_streams], [1000, 2000, 100, true, -1]);
    assert.deepEqual([r.options.jetstreamMaxMemory, r.options.jetstreamMaxStore], [2_000_000, 1_000_000_000]);
    assertConfigError('accounts { A: { jetstream: { max_mem: lots } } }', /"accounts\.A\.jetstream\.max_mem"/);
    assertConfigError('accounts { A: { jetstream: { max_sandwiches: 1 } } }', /"accounts\.A\.jetstream\.max_sandwiches"/);
  });

  test("accounts' limits adding up to more than the server's totals stop the start, as nats-server", () => {
    const conf = (serverMax: string) => `jetstream { store_dir: /tmp/x, max_file: ${serverMax} }\naccounts { L: { jetstream: { max_file: 2M } }, K: { jetstream: { max_file: 512K } }, U: { jetstream: enabled } }`;
    assert.throws(
      () => resolveOptions(load(conf('1M')).options),
      /add up to more than jetstream max_file 1000000: insufficient storage resources available/,
    );
    assert.doesNotThrow(() => resolveOptions(load(conf('3M')).options));
  });

  test('a list of names', () => {
    assert.deepEqual(load('accounts: [A, B]').options.accounts?.map((a) => a.name), ['A', 'B']);
  });

  test('JSON takes the same shapes', () => {
    const r = load(JSON.stringify({ accounts: { A: { users: [{ user: 'a', password: 'a' }], exports: [{ stream: 'a.>' }] } }, no_auth_user: 'a' }));
    assert.equal(r.options.accounts?.[0]?.exports[0]?.subject, 'a.>');
    assert.equal(r.options.noAuthUser, 'a');
  });

  test('bad values are one line naming the key', () => {
    assertConfigError('accounts { A: { exports: [ { stream: "a.>", service: "b" } ] } }', /"accounts\.A\.exports\[0\]": expected an export/);
    assertConfigError('accounts { A: { exports: [ { stream: "a.>", response_type: stream } ] } }', /response_type/);
    assertConfigError('accounts { A: { exports: [ { service: "a.>", response_type: sometimes } ] } }', /"singleton", "stream" or "chunked"/);
    assertConfigError('accounts { A: { imports: [ { stream: { account: B } } ] } }', /"accounts\.A\.imports\[0\]\.stream": expected an account name and a subject/);
    assertConfigError('accounts { A: { imports: [ { service: { account: B, subject: x }, prefix: p } ] } }', /prefix.*stream imports/);
    assertConfigError('accounts { A: { imports: [ { stream: { account: B, subject: "a..b" } } ] } }', /accounts\.A\.imports\[0\]\.subject to be a valid subject/);
    assertConfigError('accounts { A: { jetstream: sometimes } }', /"accounts\.A\.jetstream"/);
    assertConfigError('accounts { A: { exports: [ { stream: "a.>", bogus: 1 } ] } }', /"accounts\.A\.exports\[0\]\.bogus"/);
  });

  test("nats-server's keys sluice does not have yet are warnings", () => {
    const r = load('accounts { A: { nkey: ADX, mappings: { a: b }, exports: [ { service: x, latency: y } ] } }');
    assert.deepEqual(
      r.warnings.map((w) => /"([^"]+)"/.exec(w)?.[1]),
      ['accounts.A.nkey', 'accounts.A.mappings', 'accounts.A.exports[0].latency'],
    );
  });
});
