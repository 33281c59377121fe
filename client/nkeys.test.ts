import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUser, fromPublic } from '@nats-io/nkeys';
import { ErrorCode, NatsError } from './errors.ts';
import { nkeySigner } from './nkeys.ts';

test('a user seed yields the same public key as @nats-io/nkeys, and signatures verify', async () => {
  for (let i = 0; i < 5; i++) {
    const kp = createUser();
    const seed = new TextDecoder().decode(kp.getSeed());
    const signer = await nkeySigner(seed);
    assert.equal(signer.publicKey, kp.getPublicKey());
    const nonce = new TextEncoder().encode(`nonce-${i}`);
    const sig = await signer.sign(nonce);
    assert.doesNotMatch(sig, /[=+/]/, 'base64url without padding');
    const raw = Buffer.from(sig, 'base64url');
    assert.equal(fromPublic(kp.getPublicKey()).verify(nonce, raw), true);
  }
});

test('corrupt seeds are refused with INVALID_OPTION', async () => {
  const seed = new TextDecoder().decode(createUser().getSeed());
  const flipped = seed.slice(0, 10) + (seed[10] === 'A' ? 'B' : 'A') + seed.slice(11);
  for (const bad of [flipped, 'SUAB', 'not-base32!']) {
    await assert.rejects(nkeySigner(bad), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.InvalidOption);
  }
});
