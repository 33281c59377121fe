// Rebuilding what a stream keeps only in memory after a restart: the Nats-Msg-Id dedupe window
// and the last msg id (for Nats-Expected-Last-Msg-Id), read back from the stored headers like
// nats-server's rebuildDedupe. Only messages inside the duplicate window are read: their first
// sequence is found by binary search on the (sequence-ordered, time-ordered) store.

import { findHeaderValue } from '../../protocol/headers.ts';
import type { DedupeWindow } from './dedupe.ts';
import type { StreamStore, TimeNs } from '../store/types.ts';

const MSG_ID = 'Nats-Msg-Id';

function msgIdOf(hdr: Uint8Array | null): string {
  return hdr === null ? '' : (findHeaderValue(hdr, MSG_ID) ?? '');
}

/** First live sequence whose message is at or after `cutoffNs`, or lastSeq + 1 if none. */
export function firstSeqAtOrAfter(store: StreamStore, cutoffNs: TimeNs): number {
  const st = store.state();
  if (st.messages === 0) return st.lastSeq + 1;
  let lo = st.firstSeq;
  let hi = st.lastSeq + 1;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const m = store.nextMatching(mid);
    if (m === undefined || m.timeNs >= cutoffNs) hi = mid;
    else lo = m.seq + 1;
  }
  return lo;
}

/** Refills `dedupe` from the messages inside the window; returns the newest message's msg id. */
export function rebuildDedupe(store: StreamStore, dedupe: DedupeWindow, nowNs: TimeNs, windowNs: number): string {
  const st = store.state();
  if (st.messages === 0) return '';
  const last = store.get(st.lastSeq);
  const lastMsgId = last === undefined ? '' : msgIdOf(last.hdr);
  if (windowNs <= 0) return lastMsgId;
  dedupe.clear();
  const from = firstSeqAtOrAfter(store, nowNs - BigInt(windowNs));
  for (const m of store.iterate(from)) {
    const id = msgIdOf(m.hdr);
    if (id !== '') dedupe.record(id, m.seq, m.timeNs);
  }
  return lastMsgId;
}
