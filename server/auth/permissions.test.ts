import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConnectionPermissions,
  DEFAULT_ALLOW_RESPONSE_EXPIRES_MS,
  Permissions,
  REPLY_PERMISSION_MAX_ENTRIES,
  SubscribeDecision,
} from './permissions.ts';
import type { PermissionsConfig } from './users.ts';

const { Allow, Deny, AllowFiltered } = SubscribeDecision;

describe('publish permissions', () => {
  const table: [name: string, cfg: PermissionsConfig, subject: string, allowed: boolean][] = [
    ['no rules', {}, 'a.b', true],
    ['literal allow', { publish: { allow: ['a.b'] } }, 'a.b', true],
    ['literal allow, other subject', { publish: { allow: ['a.b'] } }, 'a.c', false],
    ['* allow', { publish: { allow: ['a.*'] } }, 'a.c', true],
    ['* allow is one token', { publish: { allow: ['a.*'] } }, 'a.c.d', false],
    ['> allow', { publish: { allow: ['a.>'] } }, 'a.c.d', true],
    ['> allow needs a token', { publish: { allow: ['a.>'] } }, 'a', false],
    ['deny only', { publish: { deny: ['secret.>'] } }, 'secret.x', false],
    ['deny only, elsewhere', { publish: { deny: ['secret.>'] } }, 'public.x', true],
    ['deny overrides allow', { publish: { allow: ['a.>'], deny: ['a.secret'] } }, 'a.secret', false],
    ['deny overrides allow, sibling ok', { publish: { allow: ['a.>'], deny: ['a.secret'] } }, 'a.public', true],
    ['empty allow list denies all', { publish: { allow: [] } }, 'a', false],
    ['JetStream API grant', { publish: { allow: ['$JS.API.INFO', '$JS.API.STREAM.INFO.*'] } }, '$JS.API.STREAM.INFO.ORDERS', true],
    ['JetStream API not granted', { publish: { allow: ['$JS.API.INFO'] } }, '$JS.API.STREAM.CREATE.ORDERS', false],
    ['allow_responses alone denies plain publishing', { allowResponses: true }, 'a.b', false],
    ['allow_responses keeps an explicit allow', { allowResponses: true, publish: { allow: ['a.>'] } }, 'a.b', true],
  ];
  for (const [name, cfg, subject, allowed] of table) {
    test(`${name}: ${subject} -> ${allowed ? 'allowed' : 'denied'}`, () => {
      const p = new Permissions(cfg);
      assert.equal(p.publishAllowed(subject), allowed);
      // Cached answers agree with the first one (memo, then map).
      assert.equal(p.publishAllowed(subject), allowed);
      p.publishAllowed('zz.other');
      assert.equal(p.publishAllowed(subject), allowed);
    });
  }

  test('restrictsPublish is false only when publishing is unrestricted', () => {
    assert.equal(new Permissions({ subscribe: { allow: ['a'] } }).restrictsPublish, false);
    assert.equal(new Permissions({ publish: { deny: ['a'] } }).restrictsPublish, true);
    assert.equal(new Permissions({ allowResponses: true }).restrictsPublish, true);
  });

  test('the decision cache stays bounded and correct past its size', () => {
    const p = new Permissions({ publish: { allow: ['ok.>'] } });
    for (let i = 0; i < 5000; i++) assert.equal(p.publishAllowed(`${i % 2 === 0 ? 'ok' : 'no'}.${i}`), i % 2 === 0);
  });
});

describe('subscribe permissions', () => {
  const table: [name: string, cfg: PermissionsConfig, subject: string, queue: string, want: SubscribeDecision][] = [
    ['no rules', {}, '>', '', Allow],
    ['literal allow', { subscribe: { allow: ['a.b'] } }, 'a.b', '', Allow],
    ['wildcard sub inside allow', { subscribe: { allow: ['a.>'] } }, 'a.*', '', Allow],
    ['wildcard sub wider than allow', { subscribe: { allow: ['a.*'] } }, 'a.>', '', Deny],
    ['> wider than allow', { subscribe: { allow: ['a.>'] } }, '>', '', Deny],
    ['deny literal', { subscribe: { deny: ['a.b'] } }, 'a.b', '', Deny],
    ['deny covers wildcard sub', { subscribe: { deny: ['a.>'] } }, 'a.*', '', Deny],
    ['wildcard sub overlapping a deny is filtered', { subscribe: { deny: ['a.secret'] } }, 'a.*', '', AllowFiltered],
    ['> overlapping a deny is filtered', { subscribe: { allow: ['>'], deny: ['a.secret'] } }, '>', '', AllowFiltered],
    ['deny overrides allow', { subscribe: { allow: ['a.>'], deny: ['a.b'] } }, 'a.b', '', Deny],
    ['queue entry allows that queue', { subscribe: { allow: ['jobs.> workers'] } }, 'jobs.x', 'workers', Allow],
    ['queue entry refuses other queues', { subscribe: { allow: ['jobs.> workers'] } }, 'jobs.x', 'others', Deny],
    ['queue entry refuses a plain sub', { subscribe: { allow: ['jobs.> workers'] } }, 'jobs.x', '', Deny],
    ['queue wildcard', { subscribe: { allow: ['jobs.> w.*'] } }, 'jobs.x', 'w.1', Allow],
    ['queue entry rules queue subs even with a plain entry', { subscribe: { allow: ['jobs.>', 'jobs.> workers'] } }, 'jobs.x', 'others', Deny],
    ['plain entry allows plain subs', { subscribe: { allow: ['jobs.>', 'jobs.> workers'] } }, 'jobs.x', '', Allow],
    ['plain deny also denies queue subs', { subscribe: { deny: ['jobs.>'] } }, 'jobs.x', 'workers', Deny],
    ['queue deny', { subscribe: { deny: ['jobs.> evil'] } }, 'jobs.x', 'evil', Deny],
    ['queue deny spares other queues', { subscribe: { deny: ['jobs.> evil'] } }, 'jobs.x', 'good', Allow],
  ];
  for (const [name, cfg, subject, queue, want] of table) {
    test(`${name}: SUB ${subject}${queue ? ` ${queue}` : ''}`, () => {
      assert.equal(new Permissions(cfg).subscribeDecision(subject, queue), want);
    });
  }

  test('a filtered connection withholds the denied subjects only', () => {
    const c = new ConnectionPermissions(new Permissions({ subscribe: { deny: ['a.secret'] } }), () => 0);
    assert.equal(c.admitDelivery('a.secret', ''), true, 'no filter before a filtered SUB');
    assert.equal(c.subscribeDecision('a.*', ''), AllowFiltered);
    assert.equal(c.admitDelivery('a.secret', ''), false);
    assert.equal(c.admitDelivery('a.public', ''), true);
  });
});

describe('allow_responses', () => {
  function setup(cfg: PermissionsConfig): { c: ConnectionPermissions; clock: { now: number } } {
    const clock = { now: 1000 };
    return { c: new ConnectionPermissions(new Permissions(cfg), () => clock.now), clock };
  }

  test('one reply per request by default', () => {
    const { c } = setup({ allowResponses: true });
    assert.equal(c.canPublish('_INBOX.r1'), false, 'no request received yet');
    c.admitDelivery('svc.echo', '_INBOX.r1');
    assert.equal(c.canPublish('_INBOX.r1'), true);
    assert.equal(c.canPublish('_INBOX.r1'), false, 'max 1 by default');
    assert.equal(c.canPublish('svc.other'), false);
  });

  test('max and expiry', () => {
    const { c, clock } = setup({ allowResponses: { maxMsgs: 3, expiresMs: 500 } });
    c.admitDelivery('svc', 'r');
    assert.deepEqual([c.canPublish('r'), c.canPublish('r'), c.canPublish('r'), c.canPublish('r')], [true, true, true, false]);
    c.admitDelivery('svc', 'r2');
    clock.now += 501;
    assert.equal(c.canPublish('r2'), false, 'expired');
  });

  test('default expiry is two minutes; negative max is unlimited', () => {
    const { c, clock } = setup({ allowResponses: { maxMsgs: -1 } });
    c.admitDelivery('svc', 'r');
    for (let i = 0; i < 100; i++) assert.equal(c.canPublish('r'), true);
    clock.now += DEFAULT_ALLOW_RESPONSE_EXPIRES_MS + 1;
    assert.equal(c.canPublish('r'), false);
  });

  test('remembered replies stay bounded', () => {
    const { c } = setup({ allowResponses: { maxMsgs: 1, expiresMs: -1 } });
    for (let i = 0; i < REPLY_PERMISSION_MAX_ENTRIES + 100; i++) c.admitDelivery('svc', `r.${i}`);
    assert.equal(c.canPublish('r.0'), false, 'oldest dropped');
    assert.equal(c.canPublish(`r.${REPLY_PERMISSION_MAX_ENTRIES + 99}`), true, 'newest kept');
  });

  test('explicit deny still applies to static grants; responses do not need them', () => {
    const { c } = setup({ allowResponses: true, publish: { allow: ['a.>'], deny: ['a.b'] } });
    assert.equal(c.canPublish('a.c'), true);
    assert.equal(c.canPublish('a.b'), false);
  });
});
