// The bench's clients, each on its own connection: core publishers and subscribers, JetStream
// publishers (windowed PubAcks) and stream readers (ordered consumers), requesters and
// responders. Hot loops are lean, so the bench measures the server and not itself: a core
// publisher sends prepared batches of ~1 MiB (NatsConnection.prepare/publishPrepared: encoded
// once, one copy per batch) and keeps a window of flush round trips in flight (the PONGs are the
// backpressure); a subscriber uses a dataCallback (a view of the payload: no copy, no Msg).
// JetStream publishers and requesters take the same path (prepared PUBs, replies read by a
// dataCallback), and responders echo from a dataCallback. Only stream readers use the ordinary
// client (an ordered consumer).
//
// Latency: payloads of 8 bytes or more carry the publish time (monotonic ns, float64 LE) in
// their first 8 bytes on every `stampEvery`-th message (the others carry 0 there). Subscribers
// record now - stamp for stamped messages, so end-to-end latency is sampled exactly rather than
// estimated; JetStream publishers record publish -> PubAck, requesters publish -> reply.

import type { Clock, JetStreamClient, NatsConnection, PreparedPublish } from '../../client/index.ts';
import { LatencyHistogram } from './histogram.ts';

export type ClientKind = 'pub' | 'sub' | 'req' | 'rep';

export interface ClientResult {
  name: string;
  kind: ClientKind;
  /** Messages published, received or answered. */
  msgs: number;
  /** Expected messages (a subscriber that got fewer is reported). */
  expected: number;
  payloadBytes: number;
  startNs: number;
  endNs: number;
  latency: LatencyHistogram | undefined;
}

/** Shared progress: what the progress bar shows. */
export interface Progress {
  done: number;
}

const BATCH_BYTES = 1024 * 1024;
const FLUSH_WINDOW = 4;

export interface PublishPlan {
  subject: string;
  size: number;
  count: number;
  stampEvery: number;
  /** Monotonic start of the run (the same for every client). */
  startNs: number;
}

const stampScratch = new Float64Array(1);
const stampBytes = new Uint8Array(stampScratch.buffer);

function stamp(payload: Uint8Array, ns: number): void {
  stampScratch[0] = ns;
  for (let k = 0; k < 8; k++) payload[k] = stampBytes[k]!;
}

/** The stamp in a payload, or 0 when it carries none. */
export function readStamp(data: Uint8Array): number {
  if (data.length < 8 || data[7] === 0) return 0;
  for (let k = 0; k < 8; k++) stampBytes[k] = data[k]!;
  return stampScratch[0]!;
}

export function makePayload(size: number): Uint8Array {
  return new Uint8Array(size);
}

/**
 * Publishes `plan.count` messages as prepared batches of ~1 MiB (one copy into the client's
 * outbound buffer per batch), stamping every `stampEvery`-th payload just before its batch goes
 * out. `countsProgress`: the bar follows publishers (there are no subscribers).
 */
export async function corePublisher(name: string, nc: NatsConnection, clock: Clock, plan: PublishPlan, progress: Progress, countsProgress: boolean): Promise<ClientResult> {
  const payload = makePayload(plan.size);
  const canStamp = plan.size >= 8;
  const every = plan.stampEvery;
  const perBatch = Math.max(1, Math.min(plan.count, Math.floor(BATCH_BYTES / (plan.subject.length + plan.size + 24))));
  const full = nc.prepare(plan.subject, payload, { count: perBatch });
  const rest = plan.count % perBatch;
  const last = rest === 0 ? full : nc.prepare(plan.subject, payload, { count: rest });
  const stamped = (b: PreparedPublish): Uint8Array[] => {
    const views: Uint8Array[] = [];
    if (canStamp) for (let i = 0; i < b.count; i += every) views.push(b.payload(i));
    return views;
  };
  const fullStamps = stamped(full);
  const lastStamps = stamped(last);
  const window: Promise<void>[] = [];
  const start = clock.monoNs();
  for (let sent = 0; sent < plan.count; ) {
    const isLast = plan.count - sent <= perBatch;
    const batch = isLast ? last : full;
    const now = clock.monoNs();
    for (const v of isLast ? lastStamps : fullStamps) stamp(v, now);
    nc.publishPrepared(batch);
    sent += batch.count;
    if (countsProgress) progress.done += batch.count;
    window.push(nc.flush());
    if (window.length >= FLUSH_WINDOW) await window.shift();
  }
  await Promise.all(window);
  return { name, kind: 'pub', msgs: plan.count, expected: plan.count, payloadBytes: plan.count * plan.size, startNs: start, endNs: clock.monoNs(), latency: undefined };
}

export interface Receiver {
  /** Resolves with the result once `expected` messages arrived (or stop() was called). */
  readonly result: Promise<ClientResult>;
  received(): number;
  stop(): void;
}

export function coreSubscriber(name: string, nc: NatsConnection, clock: Clock, subject: string, expected: number, startNs: () => number, progress: Progress, queue?: string): Receiver {
  const hist = new LatencyHistogram();
  let n = 0;
  let bytes = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const sub = nc.subscribe(subject, {
    queue,
    dataCallback: (d: Uint8Array) => {
      n++;
      progress.done++;
      bytes += d.length;
      const s = readStamp(d);
      if (s !== 0) hist.record(clock.monoNs() - s);
      if (n === expected) finish();
    },
  });
  const result = done.then(() => {
    sub.unsubscribe();
    return { name, kind: 'sub' as const, msgs: n, expected, payloadBytes: bytes, startNs: startNs(), endNs: clock.monoNs(), latency: hist };
  });
  return { result, received: () => n, stop: finish };
}

const ASCII_S = 0x73;

function ackFailure(d: Uint8Array, subject: string): Error {
  if (d.length === 0) return new Error(`no stream stores subject "${subject}" (no responders)`);
  try {
    const e = (JSON.parse(new TextDecoder().decode(d)) as { error?: { description?: string; err_code?: number } }).error;
    if (e !== undefined) return new Error(`publish refused: ${e.description ?? 'error'} (JetStream error ${e.err_code ?? 0})`);
  } catch {
    // not JSON: fall through
  }
  return new Error(`unexpected PubAck: ${new TextDecoder().decode(d.subarray(0, 200))}`);
}

/**
 * JetStream publisher on the lean path, like the raw generator's js-pub: prepared PUBs with one
 * reply inbox, at most `windowSize` unacknowledged, refilled in one batch as acks arrive. A
 * single connection publishing into one stream gets its PubAcks in publish order, so ack k
 * belongs to publish k: its latency is now - send time, and a PubAck is checked by one byte
 * (`{"stream"...` vs `{"error"...`), with no Msg, promise or timer per message.
 */
export async function jsPublisher(name: string, nc: NatsConnection, clock: Clock, plan: PublishPlan, windowSize: number, timeoutMs: number, progress: Progress, countsProgress: boolean): Promise<ClientResult> {
  const hist = new LatencyHistogram();
  const inbox = nc.createInbox();
  const window = Math.max(1, Math.min(windowSize, plan.count));
  const prepared = nc.prepare(plan.subject, makePayload(plan.size), { reply: inbox, count: window });
  const views = plan.size >= 8 ? Array.from({ length: window }, (_, i) => prepared.payload(i)) : [];
  const sentAt = new Float64Array(window);
  let sent = 0;
  let acked = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const sub = nc.subscribe(inbox, {
    dataCallback: (d: Uint8Array) => {
      if (d.length < 3 || d[2] !== ASCII_S) failure ??= ackFailure(d, plan.subject);
      hist.record(clock.monoNs() - sentAt[acked % window]!);
      acked++;
      if (countsProgress) progress.done++;
      const w = wake;
      if (w !== undefined) {
        wake = undefined;
        w();
      }
    },
  });
  await nc.flush();
  const start = clock.monoNs();
  try {
    while (acked < plan.count && failure === undefined) {
      const room = Math.min(window - (sent - acked), plan.count - sent);
      if (room > 0) {
        const now = clock.monoNs();
        for (let k = 0; k < room; k++) sentAt[(sent + k) % window] = now;
        for (let k = 0; k < room && k < views.length; k++) stamp(views[k]!, now);
        nc.publishPrepared(prepared, room);
        sent += room;
      }
      const before = acked;
      let timer: { cancel(): void } | undefined;
      await new Promise<void>((r) => {
        wake = r;
        timer = clock.setTimeout(r, timeoutMs);
      });
      timer?.cancel();
      if (acked === before && failure === undefined) failure = new Error(`no PubAck within ${timeoutMs} ms (${acked} of ${plan.count} acknowledged)`);
    }
  } finally {
    sub.unsubscribe();
  }
  if (failure !== undefined) throw failure;
  return { name, kind: 'pub', msgs: plan.count, expected: plan.count, payloadBytes: plan.count * plan.size, startNs: start, endNs: clock.monoNs(), latency: hist };
}

/** Reads the whole stream with an ordered consumer until `expected` messages arrived. */
export function streamReader(name: string, js: JetStreamClient, clock: Clock, stream: string, expected: number, startNs: () => number, progress: Progress): Receiver {
  const hist = new LatencyHistogram();
  let n = 0;
  let bytes = 0;
  const it = js.consumers.ordered(stream, { deliverPolicy: 'all' }).consume({ maxMessages: 1000 });
  const result = (async (): Promise<ClientResult> => {
    for await (const m of it) {
      n++;
      progress.done++;
      bytes += m.data.length;
      const s = readStamp(m.data);
      if (s !== 0) hist.record(clock.monoNs() - s);
      if (n >= expected) break;
    }
    it.stop();
    return { name, kind: 'sub', msgs: n, expected, payloadBytes: bytes, startNs: startNs(), endNs: clock.monoNs(), latency: hist };
  })();
  return { result, received: () => n, stop: () => it.stop() };
}

/**
 * Sequential requests. The first goes through request(), so no responders or a timeout fail
 * clearly; the rest are one prepared PUB each with a fixed reply inbox read by a dataCallback
 * (one request in flight, so the next reply on the inbox is this request's).
 */
export async function requester(name: string, nc: NatsConnection, clock: Clock, plan: PublishPlan, timeoutMs: number, progress: Progress): Promise<ClientResult> {
  const hist = new LatencyHistogram();
  const payload = makePayload(plan.size);
  const start = clock.monoNs();
  await nc.request(plan.subject, payload, { timeoutMs });
  hist.record(clock.monoNs() - start);
  progress.done++;
  const inbox = nc.createInbox();
  const prepared = nc.prepare(plan.subject, payload, { reply: inbox });
  let replies = 0;
  let wake: (() => void) | undefined;
  const sub = nc.subscribe(inbox, {
    dataCallback: () => {
      replies++;
      const w = wake;
      if (w !== undefined) {
        wake = undefined;
        w();
      }
    },
  });
  await nc.flush();
  try {
    for (let i = 1; i < plan.count; i++) {
      const t = clock.monoNs();
      const want = replies + 1;
      nc.publishPrepared(prepared);
      let timer: { cancel(): void } | undefined;
      while (replies < want) {
        const timedOut = await new Promise<boolean>((r) => {
          wake = () => r(false);
          timer = clock.setTimeout(() => r(true), timeoutMs);
        });
        timer?.cancel();
        if (timedOut && replies < want) throw new Error(`no reply within ${timeoutMs} ms (request ${i + 1} of ${plan.count})`);
      }
      hist.record(clock.monoNs() - t);
      progress.done++;
    }
  } finally {
    sub.unsubscribe();
  }
  return { name, kind: 'req', msgs: plan.count, expected: plan.count, payloadBytes: plan.count * plan.size, startNs: start, endNs: clock.monoNs(), latency: hist };
}

/** Answers requests (echoing the payload) in the bench's queue group until stopped. */
export function responder(name: string, nc: NatsConnection, clock: Clock, subject: string, startNs: () => number): Receiver {
  let n = 0;
  let bytes = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const sub = nc.subscribe(subject, {
    queue: 'sluice-bench',
    dataCallback: (data: Uint8Array, _subject: string, reply: string) => {
      n++;
      bytes += data.length;
      if (reply !== '') nc.publish(reply, data);
    },
  });
  const result = done.then(() => {
    sub.unsubscribe();
    return { name, kind: 'rep' as const, msgs: n, expected: 0, payloadBytes: bytes, startNs: startNs(), endNs: clock.monoNs(), latency: undefined };
  });
  return { result, received: () => n, stop: finish };
}
