// How streams and stored messages look on screen (`stream info`, `stream ls`, `stream get`).

import { MsgHeaders, type StreamInfo } from '../client/index.ts';
import { humanDuration, timeAgo, type Output } from './format.ts';

const RETENTION_NAME: Readonly<Record<string, string>> = { limits: 'Limits', interest: 'Interest', workqueue: 'WorkQueue' };

export function renderStreamInfo(out: Output, info: StreamInfo, nowMs: number): void {
  const c = info.config;
  const s = info.state;
  out.line(out.bold(`Information for Stream ${c.name} created ${timeAgo(out, info.created, nowMs)}`));
  out.line();
  const config: [string, string][] = [];
  if (c.description !== undefined && c.description !== '') config.push(['Description', c.description]);
  config.push(
    ['Subjects', (c.subjects ?? []).join(', ') || '-'],
    ['Replicas', String(c.num_replicas)],
    ['Storage', c.storage === 'memory' ? 'Memory' : 'File'],
    ['Retention', RETENTION_NAME[c.retention] ?? c.retention],
    ['Discard Policy', c.discard === 'new' ? `New${c.discard_new_per_subject === true ? ' Per Subject' : ''}` : 'Old'],
    ['Duplicate Window', out.nanos(c.duplicate_window ?? 0, 'off')],
    ['Allows Msg Delete', String(!c.deny_delete)],
    ['Allows Purge', String(!c.deny_purge)],
    ['Allows Rollups', String(c.allow_rollup_hdrs)],
    ['Allows Direct', String(c.allow_direct)],
    ['Maximum Messages', out.count(c.max_msgs)],
    ['Maximum Per Subject', out.count(c.max_msgs_per_subject)],
    ['Maximum Bytes', out.bytes(c.max_bytes)],
    ['Maximum Age', out.nanos(c.max_age)],
    ['Maximum Message Size', out.bytes(c.max_msg_size)],
    ['Maximum Consumers', out.count(c.max_consumers)],
  );
  if (c.sealed) config.push(['Sealed', 'true']);
  out.fields('Configuration:', config);
  const state: [string, string][] = [
    ['Messages', out.count(s.messages)],
    ['Bytes', out.bytes(s.bytes)],
    ['First Sequence', s.messages > 0 ? `${s.first_seq} @ ${timeAgo(out, s.first_ts, nowMs)}` : String(s.first_seq)],
    ['Last Sequence', s.last_seq > 0 ? `${s.last_seq} @ ${timeAgo(out, s.last_ts, nowMs)}` : String(s.last_seq)],
  ];
  if ((s.num_deleted ?? 0) > 0) state.push(['Deleted Messages', out.count(s.num_deleted ?? 0)]);
  state.push(['Active Consumers', String(s.consumer_count)]);
  if (s.num_subjects !== undefined) state.push(['Number of Subjects', out.count(s.num_subjects)]);
  out.fields('State:', state);
}

export function renderStreamList(out: Output, infos: readonly StreamInfo[], nowMs: number): void {
  if (infos.length === 0) {
    out.line('No Streams defined');
    return;
  }
  const rows = [...infos]
    .sort((a, b) => a.config.name.localeCompare(b.config.name))
    .map((i) => [
      i.config.name,
      (i.config.subjects ?? []).join(', '),
      out.count(i.state.messages),
      out.bytes(i.state.bytes),
      String(i.state.consumer_count),
      i.state.last_seq > 0 ? (out.human ? humanDuration(Math.max(0, nowMs - Date.parse(i.state.last_ts))) + ' ago' : i.state.last_ts) : 'never',
    ]);
  out.table(['Name', 'Subjects', 'Messages', 'Size', 'Consumers', 'Last Message'], rows, out.human ? `Streams (${infos.length})` : undefined);
}

export interface StoredMessage {
  subject: string;
  seq: number;
  time: string;
  headers: MsgHeaders | undefined;
  data: Uint8Array;
}

function fromBase64(s: string | undefined): Uint8Array {
  return s === undefined || s === '' ? new Uint8Array(0) : Buffer.from(s, 'base64');
}

/** The API's stored message (base64 fields) decoded. */
export function decodeStored(m: { subject: string; seq: number; time: string; hdrs?: string; data?: string }): StoredMessage {
  const h = fromBase64(m.hdrs);
  return { subject: m.subject, seq: m.seq, time: m.time, headers: h.length > 0 ? MsgHeaders.decode(h) : undefined, data: fromBase64(m.data) };
}

export function renderStoredMessage(out: Output, stream: string, m: StoredMessage, nowMs: number): void {
  out.line(`Item: ${stream}#${m.seq} received ${timeAgo(out, m.time, nowMs)} on Subject ${m.subject}`);
  out.line();
  if (m.headers !== undefined && m.headers.size > 0) {
    out.line('Headers:');
    for (const k of m.headers.keys()) for (const v of m.headers.getAll(k)) out.line(`  ${k}: ${v}`);
    out.line();
  }
  out.line(new TextDecoder().decode(m.data));
}
