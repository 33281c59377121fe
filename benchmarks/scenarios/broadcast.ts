// The engine behind pubsub, fanout and queue: one raw publisher, S raw subscribers (plain, or one
// queue group), all on one subject. Subscribers are set up and synced with PING/PONG before the
// first publish; the clock runs from the first publish to the moment the last expected message has
// been scanned. Afterwards every connection is flushed once more so late duplicates are caught, and
// delivery is checked: 'order' = every subscriber got 0..n-1 in order; 'once' = across the group
// every sequence number arrived exactly once.

import { performance } from 'node:perf_hooks';
import { completion } from '../lib/completion.ts';
import { RawConn } from '../lib/raw-conn.ts';
import type { Endpoint } from '../lib/raw-conn.ts';
import { buildPubBlock, publishFrames } from '../lib/publisher.ts';
import type { RunContext } from './types.ts';

export type DeliveryCheck = 'order' | 'once' | 'none';

export function parseCheck(v: unknown): DeliveryCheck {
  if (v === 'order' || v === 'once' || v === 'none') return v;
  throw new Error(`check must be order, once or none (got ${String(v)})`);
}

export interface BroadcastOptions {
  subject: string;
  payloadBytes: number;
  msgs: number;
  subscribers: number;
  /** When set, all subscribers join this queue group. */
  queue?: string;
  check: DeliveryCheck;
  timeoutMs: number;
  /** Cluster scenarios: the publisher's server and each subscriber's (subscriber i connects to
   * subServers[i % length]); both default to ctx.server. */
  pubServer?: Endpoint;
  subServers?: readonly Endpoint[];
  /** Runs after the subscribers are synced and before the clock starts (e.g. wait until their
   * interest has reached the publisher's server). */
  beforePublish?: () => Promise<void>;
}

export interface BroadcastResult {
  elapsedMs: number;
  /** Time to hand every PUB to the socket (publisher-side rate). */
  publishMs: number;
  delivered: number;
  perSubscriber: number[];
}

export async function runBroadcast(ctx: RunContext, o: BroadcastOptions): Promise<BroadcastResult> {
  const seqBytes = o.check !== 'none' && o.payloadBytes >= 4;
  const seen = o.check === 'once' && seqBytes ? new Uint8Array(o.msgs) : null;
  let seqErrors = 0;
  let firstSeqError = '';
  const noteSeqError = (what: string): void => {
    if (seqErrors++ === 0) firstSeqError = what;
  };

  const conns: RawConn[] = [];
  const subs: RawConn[] = [];
  try {
    for (let i = 0; i < o.subscribers; i++) {
      let expected = 0;
      const onSeq =
        !seqBytes
          ? undefined
          : seen !== null
            ? (seq: number): void => {
                if (seq >= o.msgs) noteSeqError(`sequence ${seq} out of range`);
                else if (seen[seq] !== 0) noteSeqError(`sequence ${seq} delivered twice`);
                else seen[seq] = 1;
              }
            : (seq: number): void => {
                if (seq !== expected) noteSeqError(`subscriber ${i}: expected ${expected}, got ${seq}`);
                expected = seq + 1;
              };
      const subServer = o.subServers !== undefined && o.subServers.length > 0 ? o.subServers[i % o.subServers.length] : ctx.server;
      const c = await RawConn.connect(subServer, { name: `sub${i}`, onSeq });
      conns.push(c);
      subs.push(c);
      c.sub(o.subject, 1, o.queue);
    }
    await Promise.all(subs.map((s) => s.flush()));
    const pub = await RawConn.connect(o.pubServer ?? ctx.server, { name: 'pub' });
    if (o.beforePublish !== undefined) await o.beforePublish();
    conns.push(pub);

    const perSubTarget = o.queue === undefined ? o.msgs : 0;
    const totalTarget = o.queue === undefined ? o.msgs * o.subscribers : o.msgs;
    const done = completion<number>(o.timeoutMs, () => `timed out after ${o.timeoutMs} ms waiting for ${totalTarget} deliveries (have ${subs.map((s) => s.scanner.count).join(', ')})`);
    const check = (): void => {
      let total = 0;
      for (const s of subs) {
        if (s.scanner.count < perSubTarget) return;
        total += s.scanner.count;
      }
      if (total >= totalTarget) done.resolve(performance.now());
    };
    for (const c of conns) {
      if (c.failure !== null) done.reject(c.failure);
      c.onFailure = done.reject;
    }
    for (const s of subs) s.onData = check;

    const block = buildPubBlock(o.subject, o.payloadBytes);
    let t0 = 0;
    let tPub = 0;
    let tEnd = 0;
    ctx.measureStart();
    t0 = performance.now();
    await publishFrames(pub, block, { count: o.msgs, stampSeq: seqBytes });
    tPub = performance.now();
    const pubFlushed = pub.flush();
    pubFlushed.catch(() => undefined); // a failure also rejects `done`, which is awaited first
    tEnd = await done.promise;
    ctx.measureEnd();
    await pubFlushed;
    for (const s of subs) s.onData = null;
    await Promise.all(subs.map((s) => s.flush()));

    const perSubscriber = subs.map((s) => s.scanner.count);
    const delivered = perSubscriber.reduce((a, b) => a + b, 0);
    if (delivered !== totalTarget) throw new Error(`expected ${totalTarget} deliveries, got ${delivered} (${perSubscriber.join(', ')})`);
    if (seqErrors > 0) throw new Error(`${seqErrors} delivery errors; first: ${firstSeqError}`);
    return { elapsedMs: tEnd - t0, publishMs: tPub - t0, delivered, perSubscriber };
  } finally {
    for (const c of conns) c.close();
  }
}
