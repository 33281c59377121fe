import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BAD_SUBJECT, TransformErr, compileSubjectTransform, validateMappingDestination } from './subject-transform.ts';

function mapOf(src: string, dest: string, subject: string): string | undefined {
  const r = compileSubjectTransform(src, dest);
  assert.ok(r.ok, `${src} -> ${dest}: ${r.ok ? '' : r.error}`);
  return r.transform === null ? subject : r.transform.match(subject);
}

function errorOf(src: string, dest: string): string {
  const r = compileSubjectTransform(src, dest);
  assert.ok(!r.ok, `${src} -> ${dest} compiled`);
  return r.error;
}

// Outputs as nats-server 2.10 produces them (its subject_transform tests and our e2e run).
const MAPPINGS: readonly [string, string, string, string][] = [
  ['', 'prefix.>', 'foo', 'prefix.foo'],
  ['foo', '', 'foo', 'foo'],
  ['foo', 'bar', 'foo', 'bar'],
  ['foo.*.bar.*.baz', 'req.$2.$1', 'foo.A.bar.B.baz', 'req.B.A'],
  ['foo.*.bar.*.baz', 'req.{{wildcard(2)}}.{{wildcard(1)}}', 'foo.A.bar.B.baz', 'req.B.A'],
  ['foo.*.bar.*.baz', 'req.{{ Wildcard( 2 ) }}.x', 'foo.A.bar.B.baz', 'req.B.x'],
  ['baz.>', 'my.pre.>', 'baz.1.2.3', 'my.pre.1.2.3'],
  ['*', 'foo.bar.$1', 'foo', 'foo.bar.foo'],
  ['*', '{{splitfromleft(1,3)}}', '12345', '123.45'],
  ['*', '{{SplitFromRight(1,3)}}', '12345', '12.345'],
  ['*', '{{splitfromleft(1,9)}}', '12345', '12345'],
  ['*', '{{SliceFromLeft(1,3)}}', '1234567890', '123.456.789.0'],
  ['*', '{{SliceFromRight(1,3)}}', '1234567890', '1.234.567.890'],
  ['*', '{{slicefromleft(1,2)}}', '123456', '12.34.56'],
  ['*', '{{split(1,-)}}', '-abc-def--ghi-', 'abc.def.ghi'],
  ['*', '{{split(1,-)}}', 'abc-def--ghi-', 'abc.def.ghi'],
  ['*', '{{split(1,-)}}', '--abc', '.abc'],
  ['*.*', '{{split(2,-)}}.{{splitfromleft(1,2)}}', 'foo.-abc-def--ghij-', 'abc.def.ghij.fo.o'],
  ['*', '{{right(1,3)}}', '1234', '234'],
  ['*', '{{left(1,3)}}', '1234', '123'],
  ['*', '{{left(1,6)}}', '1234', '1234'],
  ['orders.*.*', 'p.{{partition(3,1,2)}}.$1.$2', 'orders.eu.42', 'p.0.eu.42'],
  ['orders.*.*', 'p.{{partition(10,1)}}.$1', 'orders.eu.42', 'p.3.eu'],
  ['orders.*.>', 'x.$1.>', 'orders.eu.a.b', 'x.eu.a.b'],
];

test('transforms map subjects as nats-server does', () => {
  for (const [src, dest, subject, want] of MAPPINGS) assert.equal(mapOf(src, dest, subject), want, `${src} -> ${dest} on ${subject}`);
});

test('a subject outside the source is not transformed', () => {
  assert.equal(mapOf('foo.*', 'bar.$1', 'baz.x'), undefined);
  assert.equal(mapOf('foo.*', 'bar.$1', 'foo.x.y'), undefined);
  assert.equal(mapOf('foo.>', 'bar.>', 'foo'), undefined);
  assert.equal(mapOf('foo.*', 'bar.$1', 'foo.*'), undefined);
});

test('bad transforms are refused with nats-server error texts', () => {
  assert.equal(errorOf('foo..', 'bar'), BAD_SUBJECT);
  assert.equal(errorOf('foo.*', 'bar.*'), BAD_SUBJECT);
  assert.equal(errorOf('foo.*', 'bar.$1.>'), BAD_SUBJECT);
  assert.equal(errorOf('foo.>', 'bar.baz'), BAD_SUBJECT);
  assert.equal(errorOf('foo.*', 'bar.$2'), `${TransformErr.IndexOutOfRange} in $2: [2]`);
  assert.equal(errorOf('foo.*', 'foo.{{wildcard(2)}}'), `${TransformErr.IndexOutOfRange} in {{wildcard(2)}}: [2]`);
  assert.equal(errorOf('foo.*', 'foo.{{unimplemented(1)}}'), `${TransformErr.UnknownFunction} in {{unimplemented(1)}}`);
  assert.equal(errorOf('foo.*', 'foo.{{partition(10)}}'), `${TransformErr.NotEnoughArgs} in {{partition(10)}}`);
  assert.equal(errorOf('foo.*', 'foo.{{wildcard(foo)}}'), `${TransformErr.InvalidArg} in {{wildcard(foo)}}`);
  assert.equal(errorOf('foo.*', 'foo.{{wildcard()}}'), `${TransformErr.NotEnoughArgs} in {{wildcard()}}`);
  assert.equal(errorOf('foo.*', 'foo.{{wildcard(1,2)}}'), `${TransformErr.TooManyArgs} in {{wildcard(1,2)}}`);
  assert.equal(errorOf('foo.*', 'foo.{{ wildcard5) }}'), `${TransformErr.UnknownFunction} in {{ wildcard5) }}`);
  assert.equal(errorOf('foo.*', 'foo.{{split(1,a b)}}'), `${TransformErr.InvalidArg} in {{split(1,a b)}}`);
  assert.equal(errorOf('foo.*', 'foo.{{splitfromleft(1)}}'), `${TransformErr.NotEnoughArgs} in {{splitfromleft(1)}}`);
  assert.equal(errorOf('foo', 'bla.{{wildcard(1)}}'), `${TransformErr.IndexOutOfRange} in {{wildcard(1)}}`);
  assert.equal(errorOf('foo.>', 'bla.{{wildcard(1)}}.>'), `${TransformErr.IndexOutOfRange} in {{wildcard(1)}}`);
});

test('$ tokens that are not numbers are literals', () => {
  assert.equal(mapOf('foo.*', 'bar.$foo.$1', 'foo.x'), 'bar.$foo.x');
});

test('source transform destinations are validated like nats-server ValidateMappingDestination', () => {
  assert.equal(validateMappingDestination(''), undefined);
  assert.equal(validateMappingDestination('a.{{wildcard(1)}}.>'), undefined);
  assert.equal(validateMappingDestination('a..b'), `${TransformErr.InvalidTransform} in `);
  assert.equal(validateMappingDestination('a.{{nope(1)}}'), `${TransformErr.UnknownFunction} in {{nope(1)}}`);
  assert.equal(validateMappingDestination('a b'), TransformErr.InvalidTransform);
});
