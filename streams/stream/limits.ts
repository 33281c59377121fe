// Stream limits, as nats-server's stores apply them:
// - discard "new": a publish that would exceed max_msgs / max_bytes / (with
//   discard_new_per_subject) max_msgs_per_subject is refused before anything is assigned
//   (checkDiscardNew, leader side, 503/10077 with the store error text);
// - discard "old" (and max_msgs_per_subject under either policy): after an append the oldest
//   messages are removed until the stream is within its limits (enforceLimits, apply side).
//
// enforceLimits reads only the store and the config, so running it inside applyOp keeps replicas
// identical without logging the evictions as separate entries (see docs/adr/0004-stream-ops.md).

import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import type { StreamStore } from '../store/types.ts';

export const StoreFailure = {
  MaxMsgs: 'maximum messages exceeded',
  MaxBytes: 'maximum bytes exceeded',
  MaxMsgsPerSubject: 'maximum messages per subject exceeded',
} as const;

/** Messages stored on exactly `subject`. */
export function subjectCount(store: StreamStore, subject: string): number {
  return store.numPendingFrom(0, subject);
}

/**
 * nats-server's discard-new admission (filestore/memstore storeRawMsg): returns the store error
 * text when the message must be refused, else undefined. `size` is store.msgSize of the message.
 */
export function checkDiscardNew(cfg: StreamConfig, store: StreamStore, subject: string, size: number): string | undefined {
  if (cfg.discard !== 'new') return undefined;
  const state = store.state();
  // "At subject limit": the new message will replace the oldest on its subject, so the stream does
  // not grow in count and max_msgs does not apply (nats-server's `asl`).
  let atSubjectLimit = false;
  let replacedSize = 0;
  if (cfg.max_msgs_per_subject > 0) {
    if (subjectCount(store, subject) >= cfg.max_msgs_per_subject) {
      if (cfg.discard_new_per_subject === true) return StoreFailure.MaxMsgsPerSubject;
      atSubjectLimit = true;
      const oldest = store.nextMatching(0, subject);
      if (oldest !== undefined) replacedSize = store.msgSize(oldest.subject, oldest.hdr, oldest.data);
    }
  }
  if (cfg.max_msgs > 0 && state.messages >= cfg.max_msgs && !atSubjectLimit) return StoreFailure.MaxMsgs;
  if (cfg.max_bytes > 0 && state.bytes + size > cfg.max_bytes) {
    if (!atSubjectLimit || replacedSize < size) return StoreFailure.MaxBytes;
  }
  return undefined;
}

/**
 * Removes what the limits no longer allow after the append of `subject` (or, with no subject,
 * after a config change: every subject is checked). Returns how many messages were removed.
 * Per-subject limits apply under both discard policies; max_msgs and max_bytes evict only under
 * discard "old" (under "new" they were enforced at admission).
 */
export function enforceLimits(store: StreamStore, cfg: StreamConfig, subject?: string): number {
  let removed = 0;
  const perSubject = cfg.max_msgs_per_subject;
  if (perSubject > 0) {
    if (subject !== undefined) {
      removed += trimSubject(store, subject, perSubject);
    } else {
      for (const [subj, count] of Object.entries(store.subjectsState())) {
        if (count > perSubject) removed += trimSubject(store, subj, perSubject);
      }
    }
  }
  if (cfg.discard !== 'old') return removed;
  if (cfg.max_msgs > 0) {
    let state = store.state();
    while (state.messages > cfg.max_msgs) {
      if (!store.delete(state.firstSeq)) break; // firstSeq is always live while messages > 0
      removed++;
      state = store.state();
    }
  }
  if (cfg.max_bytes > 0) {
    let state = store.state();
    while (state.bytes > cfg.max_bytes && state.messages > 0) {
      if (!store.delete(state.firstSeq)) break;
      removed++;
      state = store.state();
    }
  }
  return removed;
}

function trimSubject(store: StreamStore, subject: string, max: number): number {
  let count = subjectCount(store, subject);
  let removed = 0;
  while (count > max) {
    const oldest = store.nextMatching(0, subject);
    if (oldest === undefined || !store.delete(oldest.seq)) break;
    removed++;
    count--;
  }
  return removed;
}
