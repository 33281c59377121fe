import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeOrigin, originAllowed } from './websocket.ts';

describe('WebSocket origin policy', () => {
  test('origins are compared as scheme://host:port with default ports filled in', () => {
    assert.equal(normalizeOrigin('https://App.Example.com'), 'https://app.example.com:443');
    assert.equal(normalizeOrigin('http://localhost:3000/'), 'http://localhost:3000');
    assert.equal(normalizeOrigin('null'), undefined);
    assert.equal(normalizeOrigin('not a url'), undefined);
  });

  const policy = (o: { allowed?: string[]; sameOrigin?: boolean; tls?: boolean; host?: string }) => ({
    allowed: new Set((o.allowed ?? []).map((a) => normalizeOrigin(a)!)),
    sameOrigin: o.sameOrigin ?? false,
    tls: o.tls ?? false,
    host: o.host,
  });

  test('no Origin (non-browser clients) is always accepted', () => {
    assert.equal(originAllowed(undefined, policy({ allowed: ['https://a.com'], sameOrigin: true })), true);
  });

  test('allowed_origins', () => {
    const p = policy({ allowed: ['https://a.com', 'http://b.com:8080'] });
    assert.equal(originAllowed('https://a.com', p), true);
    assert.equal(originAllowed('https://a.com:443', p), true);
    assert.equal(originAllowed('http://a.com', p), false);
    assert.equal(originAllowed('http://b.com:8080', p), true);
    assert.equal(originAllowed('http://b.com', p), false);
    assert.equal(originAllowed('null', p), false, 'opaque origins (file://, sandboxed frames) are refused');
    assert.equal(originAllowed('https://anything.com', policy({})), true, 'no list = any origin');
  });

  test('same_origin: scheme (https iff TLS), host and port of the request itself', () => {
    assert.equal(originAllowed('http://srv:8080', policy({ sameOrigin: true, host: 'srv:8080' })), true);
    assert.equal(originAllowed('https://srv:8080', policy({ sameOrigin: true, host: 'srv:8080' })), false);
    assert.equal(originAllowed('https://srv', policy({ sameOrigin: true, tls: true, host: 'srv:443' })), true);
    assert.equal(originAllowed('http://other:8080', policy({ sameOrigin: true, host: 'srv:8080' })), false);
    assert.equal(originAllowed('http://srv:8080', policy({ sameOrigin: true, host: undefined })), false);
  });
});
