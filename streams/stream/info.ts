// The read side of a stream as the API shows it: StreamInfo/StreamState JSON (field order and
// omissions as nats-server 2.10), stored messages for MSG.GET, and the header block of a direct
// get reply.

import type { ClusterInfo, StoredMsgJson, StreamInfo, StreamSourceInfo, StreamState } from '../../protocol/jetstream-api.ts';
import type { StoredMsg } from '../store/types.ts';
import type { Stream } from './stream.ts';
import { formatTimeNs } from '../time.ts';
import { appendHeaderLines } from './header-block.ts';

/** nats-server JSMaxSubjectDetails: subjects per STREAM.INFO page. */
export const MAX_SUBJECT_DETAILS = 100_000;

export interface InfoOptions {
  /** Include `deleted` (interior deleted sequences). */
  deletedDetails?: boolean;
  /** Include `subjects` counts for subjects matching this filter (paged). */
  subjectsFilter?: string;
  offset?: number;
  /** The server's JetStream domain (omitted when undefined). */
  domain?: string | undefined;
  /** Leader name for `cluster` (omitted when undefined). */
  leader?: string;
  /** A replicated stream's whole `cluster` block (name, leader, replicas); wins over `leader`. */
  cluster?: ClusterInfo;
  /** `mirror` / `sources` progress (streams/sourcing). */
  sourcing?: { mirror?: StreamSourceInfo; sources?: StreamSourceInfo[] };
  /** Current time for `ts`. */
  nowNs: bigint;
  consumerCount?: number;
  /** Durability note for file streams when acks do not wait for fdatasync. */
  syncNote?: string;
}

export interface InfoResult {
  info: StreamInfo & { sync?: string };
  total: number;
  offset: number;
  limit: number;
}

export function streamState(stream: Stream, opts: InfoOptions): { state: StreamState; total: number; offset: number; limit: number } {
  const st = stream.store.state({ deleted: opts.deletedDetails === true });
  // Optional fields go in nats-server's order, before consumer_count.
  const out = {
    messages: st.messages,
    bytes: st.bytes,
    first_seq: st.firstSeq,
    first_ts: formatTimeNs(st.firstTimeNs),
    last_seq: st.lastSeq,
    last_ts: formatTimeNs(st.lastTimeNs),
  } as StreamState;
  if (st.numSubjects > 0) out.num_subjects = st.numSubjects;
  let total = 0;
  let offset = 0;
  let limit = 0;
  if (opts.subjectsFilter !== undefined && opts.subjectsFilter !== '') {
    const all = stream.store.subjectsState(opts.subjectsFilter);
    const keys = Object.keys(all);
    total = keys.length;
    limit = MAX_SUBJECT_DETAILS;
    offset = Math.max(0, Math.floor(opts.offset ?? 0));
    if (total > MAX_SUBJECT_DETAILS || offset > 0) {
      keys.sort();
      const page: Record<string, number> = {};
      for (const k of keys.slice(offset, offset + MAX_SUBJECT_DETAILS)) page[k] = all[k]!;
      if (Object.keys(page).length > 0) out.subjects = page;
    } else if (total > 0) {
      out.subjects = all;
    }
  }
  if (st.numDeleted > 0) out.num_deleted = st.numDeleted;
  if (st.deleted !== undefined && st.deleted.length > 0) out.deleted = st.deleted;
  out.consumer_count = opts.consumerCount ?? 0;
  return { state: out, total, offset, limit };
}

export function streamInfo(stream: Stream, opts: InfoOptions): InfoResult {
  const { state, total, offset, limit } = streamState(stream, opts);
  const info: StreamInfo & { sync?: string } = {
    config: stream.config,
    created: formatTimeNs(stream.createdNs),
    state,
    ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
    ...(opts.cluster !== undefined ? { cluster: opts.cluster } : opts.leader !== undefined ? { cluster: { leader: opts.leader } } : {}),
    ...(opts.sourcing?.mirror !== undefined ? { mirror: opts.sourcing.mirror } : {}),
    ...(opts.sourcing?.sources !== undefined ? { sources: opts.sourcing.sources } : {}),
    ts: formatTimeNs(opts.nowNs),
  };
  if (opts.syncNote !== undefined) info.sync = opts.syncNote;
  return { info, total, offset, limit };
}

/** A stored message as MSG.GET returns it (hdrs/data base64, omitted when empty). */
export function storedMsgJson(m: StoredMsg): StoredMsgJson {
  const out: StoredMsgJson = { subject: m.subject, seq: m.seq } as StoredMsgJson;
  if (m.hdr !== null && m.hdr.length > 0) out.hdrs = b64(m.hdr);
  if (m.data.length > 0) out.data = b64(m.data);
  out.time = formatTimeNs(m.timeNs);
  return out;
}

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/**
 * The header block of a direct-get reply: the message's own headers (if any) followed by
 * Nats-Stream, Nats-Subject, Nats-Sequence and Nats-Time-Stamp, as nats-server's genHeader appends
 * them.
 */
export function directGetHeader(streamName: string, m: StoredMsg, extra?: readonly [string, string][]): Buffer {
  let added = `Nats-Stream: ${streamName}\r\nNats-Subject: ${m.subject}\r\nNats-Sequence: ${m.seq}\r\nNats-Time-Stamp: ${formatTimeNs(m.timeNs)}\r\n`;
  if (extra !== undefined) for (const [k, v] of extra) added += `${k}: ${v}\r\n`;
  return appendHeaderLines(m.hdr, added);
}
