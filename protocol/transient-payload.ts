// Small payloads of client PUBs handed to the server in reused buffers instead of a new view each.
//
// The server parser used to give every payload a zero-copy view of the socket chunk. A view is a
// typed array object: ~150-300 ns per message here once its garbage is counted (micro-measure
// with dist/'s OutboundBuffer, Dec 7 14:05: 4 frames of a 16 B payload cost ~110 ns each from
// one fixed Buffer, ~185 ns each when a view was made per message), where copying 16 bytes
// costs ~10 ns. So a payload of up to TRANSIENT_MAX_BYTES is copied into the buffer kept for
// its size and that buffer is delivered.
//
// That is only sound because of the rule every receiver of a client payload already follows: the
// bytes are valid only during the delivery call (a payload split across reads arrives in the
// parser's reused scratch buffer too). Whoever keeps bytes copies them: outbound frames, routes,
// leaf links, stores; InternalClient copies a transient buffer before handing it to an internal
// handler (the JetStream API, streams, KV), so those never see one. The buffers are shared by
// every parser of the process: deliveries are synchronous and one runs at a time, and a parse
// that starts inside another's delivery (never the case today) gets views, not the buffers in use.

import { Buffer } from 'node:buffer';

/** Payloads up to this size are delivered in the reused buffer of their size. */
export const TRANSIENT_MAX_BYTES = 256;

// One slab: the buffer for size n starts at n(n-1)/2 (sizes 1..MAX), so any transient buffer is
// recognised by its ArrayBuffer alone.
const slab = Buffer.allocUnsafeSlow((TRANSIENT_MAX_BYTES * (TRANSIENT_MAX_BYTES + 1)) / 2);
const bySize: Buffer[] = [Buffer.alloc(0)];
for (let n = 1; n <= TRANSIENT_MAX_BYTES; n++) {
  const start = (n * (n - 1)) / 2;
  bySize.push(slab.subarray(start, start + n));
}

const LOOP_COPY_MAX_BYTES = 64;

let inUse = false;

/** Whether `b` is one of the reused payload buffers (valid only during its delivery). */
export function isTransient(b: Uint8Array): boolean {
  return b.buffer === slab.buffer;
}

/**
 * Copies `src[start, start + n)` (n <= TRANSIENT_MAX_BYTES, n > 0) into the buffer of size n and
 * calls `deliver` with it; false, doing nothing, when a delivery already holds the buffers.
 */
export function deliverTransient(src: Buffer, start: number, n: number, deliver: (msg: Buffer) => void): boolean {
  if (inUse) return false;
  const buf = bySize[n]!;
  // A byte loop beats Buffer#copy's native call for short payloads only (~64 B crossover here).
  if (n <= LOOP_COPY_MAX_BYTES) for (let i = 0; i < n; i++) buf[i] = src[start + i]!;
  else src.copy(buf, 0, start, start + n);
  inUse = true;
  try {
    deliver(buf);
  } finally {
    inUse = false;
  }
  return true;
}
