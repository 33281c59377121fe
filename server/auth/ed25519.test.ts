// node:crypto's Ed25519 in nkeys' place: the same answers as nkeys' own JavaScript check.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createUser, fromPublic } from '@nats-io/nkeys';
import { nativeVerify, useNativeEd25519 } from './ed25519.ts';

test('nativeVerify accepts exactly what tweetnacl accepts', () => {
  const nacl = (createRequire(import.meta.url)('@nats-io/nkeys/lib/nacl.js') as { default: { sign: { detached: { verify: typeof nativeVerify } } } }).default;
  const js = nacl.sign.detached.verify;
  const kp = createUser();
  const other = createUser();
  const msg = Buffer.from('a nonce to sign');
  const sig = kp.sign(msg);
  // nkeys' raw key: what PublicKey.verify hands to nacl (its own codec strips prefix and checksum).
  const codec = (createRequire(import.meta.url)('@nats-io/nkeys/lib/codec.js') as { Codec: { decode(p: number, s: Uint8Array): Uint8Array } }).Codec;
  const raw = (pub: string): Uint8Array => codec.decode(160, Buffer.from(pub));
  const tampered = Buffer.from(sig);
  tampered[10] = tampered[10]! ^ 1;
  const cases: [string, Uint8Array, Uint8Array, Uint8Array][] = [
    ['valid', msg, sig, raw(kp.getPublicKey())],
    ['other message', Buffer.from('another'), sig, raw(kp.getPublicKey())],
    ['tampered signature', msg, tampered, raw(kp.getPublicKey())],
    ['other key', msg, sig, raw(other.getPublicKey())],
    ['short signature', msg, sig.subarray(0, 63), raw(kp.getPublicKey())],
  ];
  for (const [what, m, s, k] of cases) {
    const expected = what === 'short signature' ? false : js(m, s, k);
    assert.equal(nativeVerify(m, s, k), expected, what);
  }
  assert.equal(nativeVerify(msg, sig, raw(kp.getPublicKey())), true);
});

test('useNativeEd25519 puts it under nkeys, whose key handling is unchanged', () => {
  useNativeEd25519();
  const nacl = (createRequire(import.meta.url)('@nats-io/nkeys/lib/nacl.js') as { default: { sign: { detached: { verify: unknown } } } }).default;
  assert.equal(nacl.sign.detached.verify, nativeVerify);
  const kp = createUser();
  const msg = Buffer.from('hello');
  assert.equal(fromPublic(kp.getPublicKey()).verify(msg, kp.sign(msg)), true);
  assert.equal(fromPublic(createUser().getPublicKey()).verify(msg, kp.sign(msg)), false);
});
