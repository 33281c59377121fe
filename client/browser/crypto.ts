// Stands in for node:crypto in the browser bundle: runtime/ids.ts needs only randomBytes, which
// WebCrypto's getRandomValues provides.

export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  globalThis.crypto.getRandomValues(out);
  return out;
}
