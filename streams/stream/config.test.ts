import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import {
  checkStreamConfigShape,
  checkStreamUpdate,
  findOverlap,
  normalizeStreamConfig,
  sameConfig,
} from './config.ts';

function normalize(body: Record<string, unknown>): StreamConfig {
  const r = normalizeStreamConfig(body);
  assert.ok(r.ok, r.ok ? '' : r.error.description);
  return r.config;
}

function failure(body: Record<string, unknown>): { err_code: number; description: string } {
  const r = normalizeStreamConfig(body);
  assert.ok(!r.ok, `expected ${JSON.stringify(body)} to be rejected`);
  return r.error;
}

test('defaults are filled in and echoed exactly like nats-server 2.10', () => {
  const cfg = normalize({ name: 'ORDERS' });
  // JSON text (field order included) of a nats-server 2.10 response to {"name":"ORDERS"}.
  assert.equal(
    JSON.stringify(cfg),
    '{"name":"ORDERS","subjects":["ORDERS"],"retention":"limits","max_consumers":-1,"max_msgs":-1,' +
      '"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old",' +
      '"storage":"file","num_replicas":1,"duplicate_window":120000000000,"compression":"none",' +
      '"allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,' +
      '"allow_rollup_hdrs":false,"consumer_limits":{}}',
  );
});

test('zero limits mean unlimited; given values are kept', () => {
  const cfg = normalize({
    name: 'S',
    subjects: ['a.*', 'b.>'],
    max_msgs: 0,
    max_bytes: 1024,
    max_msgs_per_subject: 5,
    max_msg_size: 0,
    storage: 'memory',
    retention: 'workqueue',
    discard: 'new',
    num_replicas: 0,
    description: 'd',
    no_ack: true,
    metadata: { a: 'b' },
  });
  assert.equal(cfg.max_msgs, -1);
  assert.equal(cfg.max_bytes, 1024);
  assert.equal(cfg.max_msgs_per_subject, 5);
  assert.equal(cfg.max_msg_size, -1);
  assert.equal(cfg.storage, 'memory');
  assert.equal(cfg.retention, 'workqueue');
  assert.equal(cfg.discard, 'new');
  assert.equal(cfg.num_replicas, 1);
  assert.equal(cfg.description, 'd');
  assert.equal(cfg.no_ack, true);
  assert.deepEqual(cfg.metadata, { a: 'b' });
  assert.deepEqual(cfg.subjects, ['a.*', 'b.>']);
});

test('duplicate window defaults to 2m, capped to max_age', () => {
  assert.equal(normalize({ name: 'S', max_age: 1e9 }).duplicate_window, 1e9);
  assert.equal(normalize({ name: 'S', max_age: 600e9 }).duplicate_window, 120e9);
  assert.equal(normalize({ name: 'S', duplicate_window: 5e9 }).duplicate_window, 5e9);
  assert.equal(normalize({ name: 'S', max_age: 10e9, duplicate_window: 5e9 }).duplicate_window, 5e9);
});

test('validation table (err_code and description as nats-server)', () => {
  const table: [Record<string, unknown>, number, string][] = [
    [{ name: '' }, 10052, "stream name is required and can not contain '.', '*', '>'"],
    [{ name: 'a.b' }, 10052, "stream name is required and can not contain '.', '*', '>'"],
    [{ name: 'a*' }, 10052, "stream name is required and can not contain '.', '*', '>'"],
    [{ name: 'x'.repeat(256) }, 10052, 'stream name is too long, maximum allowed is 255'],
    [{ name: 'S', max_msgs: -5 }, 10052, 'max_msgs must be set to -1'],
    [{ name: 'S', max_bytes: -2 }, 10052, 'max_bytes must be set to -1'],
    [{ name: 'S', max_msgs_per_subject: -3 }, 10052, 'max_msgs_per_subject must be set to -1'],
    [{ name: 'S', max_consumers: -9 }, 10052, 'max_consumers must be set to -1'],
    [{ name: 'S', max_age: -1 }, 10052, 'max age can not be negative'],
    [{ name: 'S', max_age: 5 }, 10052, 'max age needs to be >= 100ms'],
    [{ name: 'S', duplicate_window: -1 }, 10052, 'duplicates window can not be negative'],
    [{ name: 'S', duplicate_window: 50e6 }, 10052, 'duplicates window needs to be >= 100ms'],
    [{ name: 'S', max_age: 1e9, duplicate_window: 2e9 }, 10052, 'duplicates window can not be larger then max age'],
    [{ name: 'S', deny_purge: true, allow_rollup_hdrs: true }, 10052, 'roll-ups require the purge permission'],
    [{ name: 'S', discard_new_per_subject: true }, 10052, 'discard new per subject requires discard new policy to be set'],
    [
      { name: 'S', discard: 'new', discard_new_per_subject: true },
      10052,
      'discard new per subject requires max msgs per subject > 0',
    ],
    [{ name: 'S', subjects: ['a..b'] }, 10052, 'invalid subject'],
    [{ name: 'S', subjects: ['a', 'a'] }, 10052, 'duplicate subjects detected'],
    [{ name: 'S', subjects: ['a.*', 'a.b'] }, 10052, 'subject "a.*" overlaps with "a.b"'],
    [{ name: 'S', subjects: ['>'] }, 10052, 'capturing all subjects requires no-ack to be true'],
    [{ name: 'S', subjects: ['$JS.API.>'] }, 10052, 'subjects that overlap with jetstream api require no-ack to be true'],
    [{ name: 'S', subjects: ['$SYS.>'] }, 10052, 'subjects that overlap with system api require no-ack to be true'],
    [{ name: 'S', num_replicas: 6 }, 10052, 'maximum replicas is 5'],
    [{ name: 'S', num_replicas: -1 }, 10133, 'replicas count cannot be negative'],
    [{ name: 'S', placement: { preferred: 'n1' } }, 10052, 'preferred server not permitted in placement'],
    [{ name: 'S', mirror: { name: 'O' }, num_replicas: 3 }, 10052, 'stream mirrors, sources and republish are not supported with replicas > 1 by this server'],
  ];
  for (const [body, code, description] of table) {
    const e = failure(body);
    assert.equal(e.err_code, code, JSON.stringify(body));
    assert.equal(e.description, description, JSON.stringify(body));
  }
  // Allowed edge cases.
  normalize({ name: 'S', subjects: ['>'], no_ack: true });
  normalize({ name: 'S', subjects: ['$JS.EVENT.>'] });
  normalize({ name: 'S', max_age: 100e6 });
});

test('wrongly typed fields are reported like Go json.Unmarshal (for a 10025)', () => {
  assert.equal(
    checkStreamConfigShape({ name: 'S', max_msgs: 'abc' }),
    'json: cannot unmarshal string into Go struct field StreamConfig.max_msgs of type int64',
  );
  assert.equal(checkStreamConfigShape({ name: 'S', retention: 'forever' }), 'can not unmarshal "forever"');
  assert.equal(
    checkStreamConfigShape({ name: 'S', subjects: 'a' }),
    'json: cannot unmarshal string into Go struct field StreamConfig.subjects of type []string',
  );
  assert.match(checkStreamConfigShape({ name: 'S', max_msgs: 1.5 }) ?? '', /number 1.5/);
  assert.equal(checkStreamConfigShape({ name: 'S', max_msgs: null, unknown_field: 1 }), undefined);
});

test('update rules', () => {
  const base = normalize({ name: 'S', deny_delete: true, deny_purge: true });
  const cases: [Record<string, unknown>, string][] = [
    [{ storage: 'memory' }, 'stream configuration update can not change storage type'],
    [{ retention: 'workqueue' }, 'stream configuration update can not change retention policy to/from workqueue'],
    [{ deny_delete: false }, 'stream configuration update can not cancel deny message deletes'],
    [{ deny_purge: false }, 'stream configuration update can not cancel deny purge'],
    [{ max_consumers: 5 }, 'stream configuration update can not change MaxConsumers'],
  ];
  for (const [change, description] of cases) {
    const next = normalize({ ...base, ...change });
    const r = checkStreamUpdate(base, next);
    assert.ok(!r.ok, JSON.stringify(change));
    assert.equal(r.error.err_code, 10052);
    assert.equal(r.error.description, description);
  }
  const ok = checkStreamUpdate(base, normalize({ ...base, max_msgs: 10, retention: 'interest', subjects: ['x.>'] }));
  assert.ok(ok.ok);
  const sealed = checkStreamUpdate(base, normalize({ ...base, sealed: true, max_age: 500e9 }));
  assert.ok(sealed.ok);
  assert.equal(sealed.config.max_age, 0);
  assert.equal(sealed.config.discard, 'new');
  const unseal = checkStreamUpdate(sealed.config, normalize({ ...sealed.config, sealed: false }));
  assert.ok(!unseal.ok);
  assert.equal(unseal.error.description, 'stream configuration update can not unseal a sealed stream');
});

test('overlap detection and config equality', () => {
  const others = [
    { name: 'A', subjects: ['orders.*'] },
    { name: 'B', subjects: ['audit.>'] },
  ];
  assert.equal(findOverlap(['orders.new'], others), 'A');
  assert.equal(findOverlap(['audit.x.y'], others), 'B');
  assert.equal(findOverlap(['orders.new.x'], others), undefined);
  assert.equal(findOverlap(['orders.*'], others, 'A'), undefined);
  assert.ok(sameConfig(normalize({ name: 'S', max_msgs: 0 }), normalize({ name: 'S', max_msgs: -1 })));
  assert.ok(!sameConfig(normalize({ name: 'S' }), normalize({ name: 'S', max_msgs: 5 })));
});
