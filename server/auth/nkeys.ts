// Nkey authentication: the server puts a fresh nonce in each INFO; a client holding the seed of a
// configured user nkey signs the nonce's bytes (Ed25519) and sends `nkey` + `sig` in CONNECT.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { useNativeEd25519 } from './ed25519.ts';

type NkeysModule = typeof import('@nats-io/nkeys');
let nkeys: NkeysModule | undefined;
/** @nats-io/nkeys (and its Ed25519 code) is read on the first nkey check, not at start-up: only
 * servers with nkey users need it. It is CommonJS, so it loads synchronously through require. */
function fromPublic(key: string): ReturnType<NkeysModule['fromPublic']> {
  nkeys ??= loadNkeys();
  return nkeys.fromPublic(key);
}

function loadNkeys(): NkeysModule {
  useNativeEd25519();
  return createRequire(import.meta.url)('@nats-io/nkeys') as NkeysModule;
}

/** nats-server's nonce: 11 random bytes, base64url without padding (15 characters). */
const NONCE_RAW_BYTES = 11;

/** A per-connection nonce. Entropy from node:crypto: it must be unpredictable, never seeded. */
export function newNonce(): string {
  return randomBytes(NONCE_RAW_BYTES).toString('base64url');
}

/** Signatures come base64url without padding (nats.js, nats.go); nats-server also takes std base64. */
function decodeSignature(sig: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(sig)) return undefined;
  const bytes = Buffer.from(sig.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  return bytes.length === 64 ? bytes : undefined;
}

/** Does `sig` prove that the holder of `publicKey`'s seed signed `nonce`? Never throws. */
export function verifyNonceSignature(publicKey: string, nonce: string, sig: string): boolean {
  if (nonce === '' || sig === '') return false;
  const signature = decodeSignature(sig);
  if (signature === undefined) return false;
  try {
    return fromPublic(publicKey).verify(Buffer.from(nonce, 'utf8'), signature);
  } catch {
    // Not a valid public key (bad prefix or checksum).
    return false;
  }
}

/** True when `key` decodes as a public user nkey (prefix U, valid checksum). */
export function isValidUserNkey(key: string): boolean {
  if (!key.startsWith('U')) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}

/** The JWT and the nkey seed of a NATS .creds file (two armored blocks, JWT first). */
const CREDS_BLOCK = /-{3,}[^\n]*-{3,}\r?\n\s*([^\s-][^\n]*?)\s*\r?\n\s*-{3,}[^\n]*-{3,}/g;

/**
 * Reads a .creds text and signs `nonce` with its seed, as a leaf node (or a client) proves who it
 * is: the user JWT and the signature, base64url without padding. Throws with a reason when the
 * text is not a creds file.
 */
export function signWithCreds(credsText: string, nonce: string): { jwt: string; sig: string } {
  const blocks = [...credsText.matchAll(CREDS_BLOCK)].map((m) => m[1]!);
  if (blocks.length < 2) throw new Error('not a credentials file: expected a JWT block and a seed block');
  nkeys ??= loadNkeys();
  const kp = nkeys.fromSeed(Buffer.from(blocks[1]!, 'utf8'));
  const sig = Buffer.from(kp.sign(Buffer.from(nonce, 'utf8'))).toString('base64url');
  return { jwt: blocks[0]!, sig };
}
