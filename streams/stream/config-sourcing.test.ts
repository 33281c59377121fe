import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { checkStreamConfigShape, normalizeStreamConfig } from './config.ts';
import { checkLateTransforms } from './config-sourcing.ts';

function base(name: string, extra: Partial<StreamConfig> = {}): StreamConfig {
  const r = normalizeStreamConfig({ name, ...extra });
  assert.ok(r.ok);
  return r.config;
}

const others = new Map<string, StreamConfig>([
  ['O', base('O', { subjects: ['o.>'], allow_direct: true, max_msg_size: 1000 })],
  ['A', base('A', { subjects: ['a.>'] })],
  // B sources A; a stream that B feeds into A would close the loop.
  ['B', base('B', { subjects: ['b.>'], sources: [{ name: 'A' }] })],
]);
const lookup = (n: string): StreamConfig | undefined => others.get(n);

function ok(body: Record<string, unknown>): StreamConfig {
  const r = normalizeStreamConfig(body, lookup);
  assert.ok(r.ok, r.ok ? '' : r.error.description);
  return r.config;
}

test('a mirror has no subjects, no duplicate window and inherits allow_direct as mirror_direct', () => {
  const cfg = ok({ name: 'M', mirror: { name: 'O', opt_start_seq: 5 } });
  assert.equal(cfg.subjects, undefined);
  assert.equal(cfg.duplicate_window, undefined);
  assert.equal(cfg.mirror_direct, true);
  assert.deepEqual(cfg.mirror, { name: 'O', opt_start_seq: 5 });
  // Echo order: mirror after placement, before compression (nats-server's field order).
  const keys = Object.keys(cfg);
  assert.ok(keys.indexOf('mirror') < keys.indexOf('compression'));
});

test('sources keep the default duplicate window and the subjects they were given', () => {
  const cfg = ok({ name: 'AGG', sources: [{ name: 'O', filter_subject: 'o.x' }, { name: 'A', subject_transforms: [{ src: 'a.*', dest: 'x.$1' }] }] });
  assert.equal(cfg.duplicate_window, 120e9);
  assert.equal(cfg.subjects, undefined);
  assert.deepEqual(cfg.sources, [
    { name: 'O', filter_subject: 'o.x' },
    { name: 'A', subject_transforms: [{ src: 'a.*', dest: 'x.$1' }] },
  ]);
});

test('republish defaults its source to > and subject_transform is echoed as given', () => {
  const cfg = ok({ name: 'R', subjects: ['r.>'], republish: { dest: 'out.>' }, subject_transform: { src: 'r.*', dest: 'r.x.$1' } });
  assert.deepEqual(cfg.republish, { src: '>', dest: 'out.>' });
  assert.deepEqual(cfg.subject_transform, { src: 'r.*', dest: 'r.x.$1' });
});

test('mirror, source and republish validation answers with nats-server err_codes and descriptions', () => {
  const table: [Record<string, unknown>, number, string][] = [
    [{ name: 'M', mirror: { name: 'O' }, first_seq: 3 }, 10143, 'stream mirrors can not have first sequence configured'],
    [{ name: 'M', mirror: { name: 'O' }, subjects: ['m'] }, 10034, 'stream mirrors can not contain subjects'],
    [{ name: 'M', mirror: { name: 'O' }, sources: [{ name: 'A' }] }, 10031, 'stream mirrors can not also contain other sources'],
    [
      { name: 'M', mirror: { name: 'O', filter_subject: 'o.a', subject_transforms: [{ src: 'o.b', dest: 'x' }] } },
      10150,
      'mirror with multiple subject transforms cannot also have a single subject filter',
    ],
    [{ name: 'M', mirror: { name: 'O', subject_transforms: [{ src: 'o..', dest: 'x' }] } }, 10151, 'mirror subject filter is invalid'],
    [
      { name: 'M', mirror: { name: 'O', subject_transforms: [{ src: 'o.*', dest: 'x.$1' }, { src: 'o.a', dest: 'y' }] } },
      10152,
      'mirror subject filters can not overlap',
    ],
    [{ name: 'M', mirror: { name: 'O.x' } }, 10142, 'mirrored stream name is invalid'],
    [{ name: 'M', mirror: { name: 'O' }, max_msg_size: 10 }, 10030, 'stream mirror must have max message size >= source'],
    [{ name: 'S', sources: [{ name: '' }] }, 10141, 'sourced stream name is invalid'],
    [{ name: 'S', sources: [{ name: 'A' }, { name: 'A' }] }, 10140, 'duplicate source configuration detected'],
    [{ name: 'S', sources: [{ name: 'O' }], max_msg_size: 10 }, 10046, 'stream source must have max message size >= target'],
    [
      { name: 'S', sources: [{ name: 'A', filter_subject: 'a.b', subject_transforms: [{ src: 'a.c', dest: 'x' }] }] },
      10144,
      'source with multiple subject transforms cannot also have a single subject filter',
    ],
    [{ name: 'S', sources: [{ name: 'A', subject_transforms: [{ src: 'a.c', dest: 'x.{{nope(1)}}' }] }] }, 10146, 'source transform destination is invalid'],
    [{ name: 'S', sources: [{ name: 'A', subject_transforms: [{ src: '', dest: 'x' }] }] }, 10145, 'source subject filter is invalid'],
    [
      { name: 'S', sources: [{ name: 'A', subject_transforms: [{ src: 'a.>', dest: 'x.>' }, { src: 'a.b', dest: 'y' }] }] },
      10147,
      'source filters can not overlap',
    ],
    [{ name: 'A', subjects: ['a.>'], sources: [{ name: 'B' }] }, 10052, 'detected cycle'],
    [{ name: 'M', mirror: { name: 'M' } }, 10052, 'detected cycle'],
    [{ name: 'R', subjects: ['r.>'], republish: { src: 'r.>', dest: 'r.x.>' } }, 10052, 'stream configuration for republish destination forms a cycle'],
    [
      { name: 'R', subjects: ['r.>'], republish: { src: 'r.*', dest: 'out.$2' } },
      10052,
      "stream configuration for republish with transform from 'r.*' to 'out.$2' not valid",
    ],
    [{ name: 'S', sources: [{ name: 'A', external: { api: '$JS.API', deliver: '' } }] }, 10021, 'stream external api prefix $JS.API must not overlap with $JS.API'],
    [{ name: 'S', sources: [{ name: 'A', external: { api: '$JS.hub.API', deliver: 'd.*' } }] }, 10024, 'stream external delivery prefix d.* must not contain wildcards'],
  ];
  for (const [body, code, description] of table) {
    const r = normalizeStreamConfig(body, lookup);
    assert.ok(!r.ok, JSON.stringify(body));
    assert.equal(r.error.err_code, code, JSON.stringify(body));
    assert.equal(r.error.description, description, JSON.stringify(body));
  }
});

test('transform compile errors nats-server meets when building the stream (10049 / 10069 text)', () => {
  assert.equal(
    checkLateTransforms(ok({ name: 'T', subjects: ['t.*'], subject_transform: { src: 't.*', dest: 'u.$2' } }), false),
    "stream subject transform from 't.*' to 'u.$2': invalid mapping destination: wildcard index out of range in $2: [2]",
  );
  assert.equal(
    checkLateTransforms(ok({ name: 'T', subjects: ['t.*'], subject_transform: { src: 't.*', dest: 'u.*' } }), true),
    "stream configuration for subject transform from 't.*' to 'u.*': invalid subject",
  );
  assert.equal(
    checkLateTransforms(ok({ name: 'S', sources: [{ name: 'A', subject_transforms: [{ src: 'a.*', dest: 'x.{{wildcard(3)}}' }] }] }), false),
    "subject transform from 'a.*' to 'x.{{wildcard(3)}}' for the source: invalid mapping destination: wildcard index out of range in {{wildcard(3)}}: [3]",
  );
  assert.equal(checkLateTransforms(ok({ name: 'M', mirror: { name: 'O', filter_subject: 'o..' } }), false), "subject filter 'o..' for the mirror invalid subject");
  assert.equal(checkLateTransforms(ok({ name: 'T', subjects: ['t.*'], subject_transform: { src: 't.*', dest: 'u.$1' } }), false), undefined);
});

test('nested objects are type-checked like Go json.Unmarshal', () => {
  assert.equal(
    checkStreamConfigShape({ name: 'S', sources: [{ name: 1 }] }),
    'json: cannot unmarshal number 1 into Go struct field StreamSource.name of type string',
  );
  assert.equal(
    checkStreamConfigShape({ name: 'S', republish: { dest: 'x', headers_only: 'yes' } }),
    'json: cannot unmarshal string into Go struct field RePublish.headers_only of type bool',
  );
});

test('a source or mirror in another domain (external api) is accepted and echoed; on replicas it is still refused', () => {
  const body = { name: 'S', sources: [{ name: 'A', external: { api: '$JS.edge1.API', deliver: '' } }, { name: 'A', external: { api: '$JS.edge2.API', deliver: '' } }] };
  const r = normalizeStreamConfig(body, lookup);
  assert.ok(r.ok);
  assert.deepEqual(r.config.sources, body.sources);
  const m = normalizeStreamConfig({ name: 'M', mirror: { name: 'A', external: { api: '$JS.edge1.API', deliver: '' } } }, lookup);
  assert.ok(m.ok);
  const r3 = normalizeStreamConfig({ ...body, num_replicas: 3 }, lookup);
  assert.ok(!r3.ok);
  assert.equal(r3.error.err_code, 10052);
});
