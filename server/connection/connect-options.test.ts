// CONNECT field types as nats-server checks them (its CONNECT is a typed Go struct).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectJson } from './connect-options.ts';

function reason(json: string): string | undefined {
  const r = parseConnectJson(json);
  return r.ok ? undefined : r.reason;
}

test('fields of the wrong JSON type are refused, naming the field', () => {
  const cases: [string, RegExp][] = [
    ['{"verbose":"yes","pedantic":1}', /"verbose" must be a JSON boolean, got a JSON string/],
    ['{"pedantic":1}', /"pedantic" must be a JSON boolean, got a JSON number/],
    ['{"echo":"x"}', /"echo"/],
    ['{"headers":1}', /"headers"/],
    ['{"no_responders":"true"}', /"no_responders"/],
    ['{"tls_required":0}', /"tls_required"/],
    ['{"name":5}', /"name" must be a JSON string, got a JSON number/],
    ['{"lang":[]}', /"lang" must be a JSON string, got a JSON array/],
    ['{"user":{}}', /"user" must be a JSON string, got a JSON object/],
    ['{"sig":5}', /"sig"/],
    ['{"auth_token":true}', /"auth_token"/],
    ['{"protocol":"1"}', /"protocol" must be an integer, got a JSON string/],
    ['{"protocol":1.5}', /"protocol" must be an integer, got 1.5/],
    ['{"protocol":1e300}', /"protocol" must be an integer/],
    ['{"import":"x"}', /"import" must be a JSON object/],
    // The last of duplicate keys counts, in JSON.parse as in Go.
    ['{"verbose":false,"verbose":"x"}', /"verbose"/],
  ];
  for (const [json, pattern] of cases) assert.match(reason(json) ?? '(accepted)', pattern, json);
});

test('null keeps the default, unknown fields and odd key names are ignored', () => {
  const r = parseConnectJson('{"verbose":null,"protocol":null,"name":null,"unknown":{"a":1},"constructor":1,"__proto__":2,"toString":"x"}');
  assert.ok(r.ok);
  assert.equal(r.options.verbose, true);
  assert.equal(r.options.protocol, 0);
  assert.equal(r.options.name, '');
});

test('well-typed CONNECTs decode as before', () => {
  const r = parseConnectJson('{"verbose":false,"pedantic":false,"echo":false,"headers":true,"no_responders":true,"protocol":1,"name":"n","lang":"go","version":"1.2","user":"u","pass":"p","import":{"allow":["a"]}}');
  assert.ok(r.ok);
  assert.deepEqual(
    [r.options.verbose, r.options.echo, r.options.headers, r.options.noResponders, r.options.protocol, r.options.name, r.options.user],
    [false, false, true, true, 1, 'n', 'u'],
  );
});

test('not JSON, or not an object, is refused', () => {
  assert.match(reason('{"verbose":false') ?? '', /not valid JSON/);
  assert.match(reason('[1,2]') ?? '', /not a JSON object/);
  assert.match(reason('"str"') ?? '', /not a JSON object/);
});
