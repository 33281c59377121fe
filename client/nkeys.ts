// nkey authentication: decode a user seed (`SU...`), derive its public key and sign the server's
// nonce with Ed25519 through WebCrypto (Node >= 20 and current browsers), so the client needs no
// native or crypto dependency.
//
// Seed layout (nkeys): base32 (RFC 4648, no padding) of [b0, b1, 32-byte Ed25519 seed, crc16 LE],
// where b0 = (18 << 3) | (kind >> 5) and b1 = (kind & 31) << 3; the public key is base32 of
// [kind, 32-byte public key, crc16 LE]. crc16 is CRC-16/XMODEM.

import { ErrorCode, NatsError } from './errors.ts';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PREFIX_SEED = 18 << 3;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32 seed bytes follow. */
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

function bad(why: string): NatsError {
  return new NatsError(ErrorCode.InvalidOption, `invalid nkey seed: ${why}`);
}

function base32Decode(s: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of s) {
    const v = B32.indexOf(ch);
    if (v < 0) throw bad('not base32');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

function base32Encode(b: Uint8Array): string {
  let s = '';
  let bits = 0;
  let value = 0;
  for (const byte of b) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      s += B32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) s += B32[(value << (5 - bits)) & 31];
  return s;
}

function crc16(b: Uint8Array): number {
  let crc = 0;
  for (const byte of b) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

function base64Url(b: Uint8Array): string {
  let bin = '';
  for (const byte of b) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export interface NkeySigner {
  /** The public key (`U...` for a user seed). */
  publicKey: string;
  /** Ed25519 signature of `data`, base64url without padding (what CONNECT `sig` carries). */
  sign(data: Uint8Array): Promise<string>;
}

export async function nkeySigner(seed: string): Promise<NkeySigner> {
  const raw = base32Decode(seed.trim());
  if (raw.length !== 36) throw bad('wrong length');
  const body = raw.subarray(0, 34);
  const sum = raw[34]! | (raw[35]! << 8);
  if (crc16(body) !== sum) throw bad('checksum mismatch');
  if ((raw[0]! & 0xf8) !== PREFIX_SEED) throw bad('not a seed');
  const kind = ((raw[0]! & 7) << 5) | ((raw[1]! & 0xf8) >> 3);
  const der = new Uint8Array(PKCS8_ED25519.length + 32);
  der.set(PKCS8_ED25519, 0);
  der.set(raw.subarray(2, 34), PKCS8_ED25519.length);
  const subtle = globalThis.crypto.subtle;
  const key = await subtle.importKey('pkcs8', der, { name: 'Ed25519' }, true, ['sign']);
  const jwk = await subtle.exportKey('jwk', key);
  const pub = fromBase64Url(jwk.x ?? '');
  const pk = new Uint8Array(35);
  pk[0] = kind;
  pk.set(pub, 1);
  const c = crc16(pk.subarray(0, 33));
  pk[33] = c & 0xff;
  pk[34] = c >> 8;
  return {
    publicKey: base32Encode(pk),
    sign: async (data) => base64Url(new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, Uint8Array.from(data)))),
  };
}
