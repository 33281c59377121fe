import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptions } from '../options.ts';
import { denyList } from './deny.ts';
import { defaultLeafNodeOptions, defaultLeafRemote, leafnodesRule, parseLeafUrl } from './options.ts';

test('leafnode URLs: schemes, credentials, the default port', () => {
  assert.deepEqual(parseLeafUrl('nats-leaf://u:p%40ss@hub.example:7000'), { host: 'hub.example', port: 7000, tls: false, ws: false, path: '', user: 'u', pass: 'p@ss' });
  assert.deepEqual(parseLeafUrl('tls://[::1]'), { host: '::1', port: 7422, tls: true, ws: false, path: '', user: '', pass: '' });
  assert.deepEqual(parseLeafUrl('wss://hub'), { host: 'hub', port: 443, tls: true, ws: true, path: '/leafnode', user: '', pass: '' });
  assert.equal(parseLeafUrl('ws://hub:8080/nats/leafnode')?.path, '/nats/leafnode');
  assert.equal(parseLeafUrl('ws://hub:8080/nats')?.path, '/nats/leafnode');
  assert.equal(parseLeafUrl('nats-leaf://hub:7422/x'), undefined, 'a path only for WebSocket remotes');
  assert.equal(parseLeafUrl('nats://hub:7422/')?.port, 7422);
  for (const bad of ['http://hub:7422', 'hub:7422', 'nats-leaf://hub:99999', 'nats-leaf://']) assert.equal(parseLeafUrl(bad), undefined, bad);
});

test('leafnodes rule: one line naming the field', () => {
  assert.equal(leafnodesRule(undefined), undefined);
  assert.equal(leafnodesRule({ ...defaultLeafNodeOptions(), port: 7422, remotes: [defaultLeafRemote(['nats-leaf://h:1'])] }), undefined);
  assert.match(leafnodesRule({ ...defaultLeafNodeOptions(), port: -5 })!, /^leafnodes\.port/);
  assert.match(leafnodesRule({ ...defaultLeafNodeOptions(), remotes: [defaultLeafRemote([])] })!, /^leafnodes\.remotes\[0\]\.url/);
  assert.match(leafnodesRule({ ...defaultLeafNodeOptions(), remotes: [{ ...defaultLeafRemote(['nats-leaf://h:1']), account: 'a b' }] })!, /account/);
  assert.match(leafnodesRule({ ...defaultLeafNodeOptions(), bogus: 1 })!, /no key "bogus"/);
});

test('embedding callers may give a remote in part; defaults fill the rest', () => {
  const o = resolveOptions({ leafnodes: { remotes: [{ urls: ['nats-leaf://h:7422'] }] } as never });
  assert.deepEqual(o.leafnodes?.remotes[0], defaultLeafRemote(['nats-leaf://h:7422']));
  assert.equal(o.leafnodes?.port, undefined);
  assert.throws(() => resolveOptions({ leafnodes: { remotes: [{ urls: ['x'] }] } as never }), /leafnodes\.remotes\[0\]\.urls\[0\]/);
});

test('deny lists: literal subjects by pattern, interest only when wholly inside a pattern', () => {
  const d = denyList(['secret.>', 'a.*.c'])!;
  assert.equal(d.denies('secret.x'), true);
  assert.equal(d.denies('secret'), false);
  assert.equal(d.denies('a.b.c'), true);
  assert.equal(d.denies('a.b.d'), false);
  assert.equal(d.deniesAll('secret.*'), true);
  assert.equal(d.deniesAll('>'), false, 'wider interest is still announced; messages are filtered');
  assert.equal(denyList([]), null);
});
