import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsErr, isApiError, jsApiError } from './js-errors.ts';

test('errors carry nats-server codes and fill placeholders', () => {
  assert.deepEqual(jsApiError('StreamNotFound'), { code: 404, err_code: 10059, description: 'stream not found' });
  assert.deepEqual(jsApiError('StreamWrongLastSequence', { seq: 41 }), {
    code: 400,
    err_code: 10071,
    description: 'wrong last sequence: 41',
  });
  assert.equal(jsApiError('StreamWrongLastMsgID', { id: '' }).description, 'wrong last msg ID: ');
  assert.equal(jsApiError('StreamStoreFailed', { err: 'maximum messages exceeded' }).description, 'maximum messages exceeded');
  // A missing parameter stays visible rather than vanishing.
  assert.equal(jsApiError('InvalidJSON').description, 'invalid JSON: {err}');
  assert.ok(isApiError(jsApiError('BadRequest')));
  assert.ok(!isApiError({ code: 1 }));
});

test('err_codes are unique in the catalogue', () => {
  const seen = new Map<number, string>();
  for (const [name, def] of Object.entries(JsErr)) {
    assert.ok(!seen.has(def.err_code), `${name} and ${seen.get(def.err_code)} share ${def.err_code}`);
    seen.set(def.err_code, name);
  }
});
