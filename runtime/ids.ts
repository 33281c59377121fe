// Identifiers: server ids shaped like nats-server's (56 chars of base32, starting with 'N'), and
// NUID-like random tokens. Entropy comes from node:crypto; ids never drive simulated behaviour.

import { randomBytes } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function randomString(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[bytes[i]! % alphabet.length];
  return s;
}

/** A 56-character id starting with 'N', the shape of a nats-server nkey server id. */
export function newServerId(): string {
  return 'N' + randomString(55, BASE32);
}

/** A random base62 token (22 chars by default, like a NUID). */
export function newToken(length = 22): string {
  return randomString(length, BASE62);
}
