import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildHealthz } from './healthz.ts';
import { HttpAnswer, QueryError } from './http.ts';

const q = (s: string) => new URLSearchParams(s);

test('503 with the reason while JetStream is not ready; the parameters narrow the check', () => {
  const asked: boolean[] = [];
  const src = {
    jetstreamEnabled: () => true,
    jetstreamHealth: (serverOnly: boolean) => {
      asked.push(serverOnly);
      return serverOnly ? '' : 'JetStream stream S has no leader';
    },
  };
  const full = buildHealthz(src, q(''));
  assert.ok(full instanceof HttpAnswer);
  assert.equal(full.statusCode, 503);
  assert.deepEqual(full.body, { status: 'unavailable', error: 'JetStream stream S has no leader' });
  assert.deepEqual(buildHealthz(src, q('js-server-only=true')), { status: 'ok' });
  assert.deepEqual(buildHealthz(src, q('js-enabled-only=1')), { status: 'ok' });
  assert.deepEqual(asked, [false, true]);
  assert.throws(() => buildHealthz(src, q('js-server-only=maybe')), QueryError);
});

test('a server without JetStream is healthy', () => {
  assert.deepEqual(buildHealthz({ jetstreamEnabled: () => false, jetstreamHealth: () => 'unreachable' }, q('')), { status: 'ok' });
});

