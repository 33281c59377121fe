// Ed25519 signature checks at native speed. @nats-io/nkeys (and @nats-io/jwt, which verifies
// through it) checks signatures with tweetnacl's JavaScript Ed25519: 2-10 ms of CPU each here,
// holding the event loop for every connecting nkey or JWT user (a JWT user needs two checks).
// node:crypto's Ed25519 (OpenSSL) takes ~0.1 ms. The libraries still decode the keys and the
// JWTs and decide what to verify; only the primitive they call is node's.

import { createPublicKey, verify } from 'node:crypto';
import { createRequire } from 'node:module';

/** DER SubjectPublicKeyInfo of an Ed25519 key, before its 32 raw bytes (RFC 8410). */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

type Verify = (msg: Uint8Array, sig: Uint8Array, publicKey: Uint8Array) => boolean;

/** tweetnacl's contract: true only for a valid 64-byte signature by this 32-byte key. */
export const nativeVerify: Verify = (msg, sig, publicKey) => {
  if (sig.length !== 64 || publicKey.length !== 32) return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    return verify(null, msg, key, sig);
  } catch {
    return false;
  }
};

let installed = false;

/**
 * Points nkeys' signature check at `nativeVerify` (once per process). Should a later nkeys lay
 * its files out otherwise, its own check stays: slower, never wrong.
 */
export function useNativeEd25519(): void {
  if (installed) return;
  installed = true;
  let nacl: { sign?: { detached?: { verify?: Verify } } } | undefined;
  try {
    nacl = (createRequire(import.meta.url)('@nats-io/nkeys/lib/nacl.js') as { default?: typeof nacl }).default;
  } catch {
    return;
  }
  const detached = nacl?.sign?.detached;
  if (detached !== undefined && typeof detached.verify === 'function') detached.verify = nativeVerify;
}
