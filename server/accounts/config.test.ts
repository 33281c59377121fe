// Accounts options: subject mapping between an import's sides, and the whole-config checks
// (unknown accounts, unauthorized imports, cycles, no_auth_user, the JetStream account).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OptionsError, resolveOptions } from '../options.ts';
import type { ServerOptions } from '../options-types.ts';
import { mapSubject, mappable, type AccountConfig, type ImportConfig } from './config.ts';

const stream = (account: string, subject: string, prefix = ''): ImportConfig => ({ kind: 'stream', account, subject, prefix, to: '' });
const service = (account: string, subject: string, to = ''): ImportConfig => ({ kind: 'service', account, subject, to });
const acc = (name: string, extra: Partial<AccountConfig> = {}): AccountConfig => ({ name, exports: [], imports: [], jetstream: false, ...extra });

function refused(o: Partial<ServerOptions>, re: RegExp): void {
  assert.throws(
    () => resolveOptions(o),
    (err: unknown) => err instanceof OptionsError && !err.message.includes('\n') && re.test(err.message),
  );
}

describe('import subject mapping', () => {
  test('wildcards fill the other side in order', () => {
    assert.equal(mapSubject('svc.*', 'svc.*', 'svc.x'), 'svc.x');
    assert.equal(mapSubject('local.*.>', 'remote.*.v1.>', 'local.a.b.c'), 'remote.a.v1.b.c');
    assert.equal(mapSubject('local.x', 'svc.x', 'local.x'), 'svc.x');
    assert.equal(mappable('a.*', 'b.*'), true);
    assert.equal(mappable('a.*', 'b.>'), false);
    assert.equal(mappable('a.*.*', 'b.*'), false);
  });
});

describe('accounts checks', () => {
  const A = acc('A', { exports: [{ kind: 'stream', subject: 'a.>' }, { kind: 'service', subject: 'svc.>', responseType: 'singleton', accounts: ['B'] }] });

  test('a valid set resolves', () => {
    const o = resolveOptions({
      accounts: [A, acc('B', { imports: [stream('A', 'a.x', 'from_a'), service('A', 'svc.q', 'q')] })],
      users: [{ user: 'a', password: 'a', account: 'A' }, { user: 'b', password: 'b', account: 'B' }],
      noAuthUser: 'b',
    });
    assert.equal(o.accounts.length, 2);
  });

  test('every problem is one line naming the account and the import', () => {
    refused({ accounts: [acc('B', { imports: [stream('X', 'a.>')] })] }, /account B: stream import "a\.>" from X: "X" account not defined/);
    refused({ accounts: [A, acc('B', { imports: [stream('A', 'b.>')] })] }, /account B: stream import "b\.>" from A: stream import not authorized/);
    refused({ accounts: [A, acc('B'), acc('C', { imports: [service('A', 'svc.q')] })] }, /account C: service import "svc\.q" from A: service import not authorized/);
    refused({ accounts: [A, acc('B', { imports: [service('A', 'a.x')] })] }, /service import not authorized/);
    refused({ accounts: [acc('A', { exports: [{ kind: 'stream', subject: 'x', accounts: ['Z'] }] })] }, /"Z" account not defined for stream export/);
    refused({ accounts: [acc('$G')] }, /reserved/);
    refused({ accounts: [acc('A'), acc('A')] }, /unique/);
    refused({ accounts: [acc('A')], users: [{ user: 'u', account: 'Q' }] }, /"users\[0\]\.account": account "Q" is not defined/);
    refused({ accounts: [acc('A')], users: [{ user: 'u', account: 'A' }], noAuthUser: 'nobody' }, /"noAuthUser": "nobody" is not a user/);
    refused({ accounts: [acc('A')], systemAccount: 'SYS' }, /"systemAccount": account "SYS" is not defined/);
    // $SYS exists by itself only while it is the system account.
    assert.doesNotThrow(() => resolveOptions({ users: [{ user: 'u', account: '$SYS' }] }));
    refused({ accounts: [acc('SYS')], systemAccount: 'SYS', users: [{ user: 'u', account: '$SYS' }] }, /account "\$SYS" is not defined/);
    // Several JetStream accounts in a cluster each replicate on their own (account-networks.ts).
    assert.doesNotThrow(() =>
      resolveOptions({ accounts: [acc('A', { jetstream: true }), acc('B', { jetstream: true })], storeDir: '/tmp/x', cluster: { name: 'c', port: 0 } as never }),
    );
    refused({ accounts: [acc('A', { imports: [{ kind: 'stream', account: 'B', subject: 'b.*', prefix: 'p.*', to: '' }] })] }, /prefix to be a subject prefix without wildcards/);
    refused({ accounts: [acc('A', { imports: [service('B', 'svc.*', 'local.>')] })] }, /to to have the same wildcards/);
  });

  test('service imports that lead back to the importer are a cycle', () => {
    const a = acc('A', { exports: [{ kind: 'service', subject: 'q', responseType: 'singleton' }], imports: [service('B', 'q')] });
    const b = acc('B', { exports: [{ kind: 'service', subject: 'q', responseType: 'singleton' }], imports: [service('A', 'q')] });
    refused({ accounts: [a, b] }, /import forms a cycle/);
  });

  test('stream imports that lead back to the exporter are a cycle', () => {
    const a = acc('A', { exports: [{ kind: 'stream', subject: 's.>' }], imports: [stream('B', 's.>')] });
    const b = acc('B', { exports: [{ kind: 'stream', subject: 's.>' }], imports: [stream('A', 's.>')] });
    refused({ accounts: [a, b] }, /import forms a cycle/);
  });

  test('a leaf remote names an existing account', () => {
    refused(
      { accounts: [acc('A')], leafnodes: { remotes: [{ urls: ['nats-leaf://h:1'], account: 'Q' }] } as never },
      /"leafnodes\.remotes\[0\]\.account": account "Q" is not defined/,
    );
  });
});
