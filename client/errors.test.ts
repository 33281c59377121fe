import { test } from 'node:test';
import assert from 'node:assert/strict';
import { permissionsViolationPublish, permissionsViolationReply, permissionsViolationSubscribe } from '../protocol/errors.ts';
import { AuthorizationError, ErrorCode, PermissionsError, ServerError, errorFromServerText, serverKeepsConnection } from './errors.ts';

test('permissions violations are parsed from the exact server texts', () => {
  const pub = errorFromServerText(permissionsViolationPublish('a.b'));
  assert.ok(pub instanceof PermissionsError);
  assert.deepEqual([pub.operation, pub.subject, pub.queue, pub.code], ['publish', 'a.b', '', ErrorCode.PermissionsViolation]);
  const sub = errorFromServerText(permissionsViolationSubscribe('x.>', 'workers'));
  assert.ok(sub instanceof PermissionsError);
  assert.deepEqual([sub.operation, sub.subject, sub.queue], ['subscription', 'x.>', 'workers']);
  const reply = errorFromServerText(permissionsViolationReply('_INBOX.x'));
  assert.ok(reply instanceof PermissionsError);
  assert.deepEqual([reply.operation, reply.subject], ['reply', '_INBOX.x']);
  assert.equal(serverKeepsConnection(pub), true);
});

test('auth, stale, payload and other texts map to codes', () => {
  assert.ok(errorFromServerText('Authorization Violation') instanceof AuthorizationError);
  assert.ok(errorFromServerText('User Authentication Expired') instanceof AuthorizationError);
  assert.equal(errorFromServerText('Stale Connection').code, ErrorCode.StaleConnection);
  assert.equal(errorFromServerText('Maximum Payload Violation').code, ErrorCode.MaxPayloadExceeded);
  const other = errorFromServerText('Unknown Protocol Operation');
  assert.ok(other instanceof ServerError);
  assert.equal(serverKeepsConnection(other), false);
  assert.equal(serverKeepsConnection(errorFromServerText('Invalid Subject')), true);
  assert.equal(serverKeepsConnection(errorFromServerText('maximum subscriptions exceeded')), true);
});
