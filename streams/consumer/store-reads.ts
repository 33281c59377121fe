// Read-only store queries for a consumer's filters: the starting sequence for each deliver policy
// (nats-server selectStartingSeqNo), the skip list of deliver last_per_subject, the next matching
// message and the number of matching messages left (num_pending), for zero, one or several
// subject filters. Reads the store only; changes nothing.

import type { ConsumerConfig, StreamConfig } from '../../protocol/jetstream-api.ts';
import type { StoredMsg, StreamStore } from '../store/types.ts';
import { parseTimeNs } from '../time.ts';

/**
 * deliver_policy last_per_subject: the last message of every matching subject, ascending, then
 * everything after `resume` (the stream's last sequence when the consumer was created).
 */
export interface SkipList {
  readonly seqs: number[];
  idx: number;
  readonly resume: number;
}

export interface StartPosition {
  readonly sseq: number;
  readonly skip: SkipList | null;
}

/** First live matching message at or after `from` (`filters` empty = every subject). */
export function nextMatching(store: StreamStore, from: number, filters: readonly string[]): StoredMsg | undefined {
  if (filters.length === 0) return store.nextMatching(from);
  if (filters.length === 1) return store.nextMatching(from, filters[0]);
  let best: StoredMsg | undefined;
  for (const f of filters) {
    const m = store.nextMatching(from, f);
    if (m !== undefined && (best === undefined || m.seq < best.seq)) best = m;
  }
  return best;
}

/** Matching messages with seq >= from (the filters never overlap, so counts add up). */
export function numPendingFrom(store: StreamStore, from: number, filters: readonly string[]): number {
  if (filters.length === 0) return store.numPendingFrom(from);
  let n = 0;
  for (const f of filters) n += store.numPendingFrom(from, f);
  return n;
}

/** The last sequence of every subject matching the filters, ascending. */
export function lastPerSubject(store: StreamStore, filters: readonly string[]): number[] {
  const seqs: number[] = [];
  const seen = new Set<string>();
  for (const f of filters.length === 0 ? ['>'] : filters) {
    for (const subject of Object.keys(store.subjectsState(f))) {
      if (seen.has(subject)) continue;
      seen.add(subject);
      const m = store.lastBySubject(subject);
      if (m !== undefined) seqs.push(m.seq);
    }
  }
  return seqs.sort((a, b) => a - b);
}

/** The first message stored at or after `timeNs` (binary search: times grow with sequences). */
export function seqFromTime(store: StreamStore, timeNs: bigint): number {
  const st = store.state();
  if (st.messages === 0) return st.lastSeq + 1;
  let lo = st.firstSeq;
  let hi = st.lastSeq + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const m = store.nextMatching(mid);
    if (m === undefined || m.timeNs >= timeNs) hi = mid;
    else lo = m.seq + 1;
  }
  return store.nextMatching(lo)?.seq ?? st.lastSeq + 1;
}

/** nats-server selectStartingSeqNo. */
export function selectStart(store: StreamStore, cfg: ConsumerConfig, stream: StreamConfig, filters: readonly string[]): StartPosition {
  const st = store.state();
  let sseq = 0;
  let skip: SkipList | null = null;
  const optStart = cfg.opt_start_seq ?? 0;
  if (optStart === 0) {
    switch (cfg.deliver_policy) {
      case 'all':
        sseq = st.firstSeq;
        break;
      case 'last':
        if (filters.length === 0) {
          sseq = st.lastSeq;
        } else {
          for (const f of filters) {
            const last = store.lastBySubject(f)?.seq ?? 0;
            if (last > sseq) sseq = last;
          }
        }
        break;
      case 'last_per_subject':
        if (stream.max_msgs_per_subject === 1) {
          sseq = st.firstSeq;
        } else {
          const seqs = lastPerSubject(store, filters);
          if (seqs.length === 0) {
            sseq = st.lastSeq;
          } else {
            sseq = seqs[0]!;
            skip = { seqs, idx: 0, resume: st.lastSeq };
          }
        }
        break;
      case 'by_start_time': {
        const t = parseTimeNs(cfg.opt_start_time ?? '') ?? 0n;
        sseq = seqFromTime(store, t);
        break;
      }
      default:
        // 'new' (and by_start_sequence without a sequence, refused earlier).
        sseq = st.lastSeq + 1;
    }
  } else {
    sseq = optStart;
  }
  if (st.firstSeq === 0 && optStart === 0) sseq = 1;
  else if (sseq > st.lastSeq && optStart === 0) sseq = st.lastSeq + 1;
  else if (sseq < st.firstSeq) sseq = st.firstSeq;
  return { sseq: Math.max(1, sseq), skip };
}
