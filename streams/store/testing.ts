// Test helpers for stores. Product code never appends on its own: the leader decides the sequence
// and time (streams/stream/stream.ts) and applyOp stores them. Tests that exercise a store alone
// play the leader with appendNext.

import { systemClock } from '../../runtime/clock.ts';
import type { StreamStore, TimeNs } from './types.ts';

/** Stores a message at lastSeq + 1, as a leader would decide it (`timeNs`: now); returns that seq. */
export function appendNext(
  store: StreamStore,
  subject: string,
  hdr: Uint8Array | null,
  data: Uint8Array,
  timeNs: TimeNs = systemClock.epochNs(),
): number {
  const seq = store.state().lastSeq + 1;
  store.applyAppend(seq, subject, hdr, data, timeNs);
  return seq;
}
