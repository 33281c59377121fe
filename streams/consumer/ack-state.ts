// A consumer's delivery and ack bookkeeping, as nats-server keeps it (server/consumer.go):
// the next stream sequence to look at, the next delivery sequence, the ack floor, the sparse
// pending map (delivered, not yet acked), delivery counts of redelivered messages, and the queue
// of messages waiting to be redelivered.
//
// Pure: no I/O, no timers; every time is an argument (epoch ms). The consumer drives it and does
// the effects (delivery, advisories, persistence, retention).
//
// Ack-floor moves are O(1) amortized: `pending` keeps its stream sequences in ascending order
// with a lazily advanced head (see pending.ts).

import type { AckPolicy } from '../../protocol/jetstream-api.ts';
import { PendingSet } from './pending.ts';

export { PendingSet, type PendingEntry } from './pending.ts';

/** What an expiry check found. */
export interface ExpiryResult {
  /** Messages to redeliver (already queued, ascending). */
  readonly expired: number[];
  /** Messages that reached max_deliver: dropped from pending, with their delivery count. */
  readonly exceeded: { sseq: number; dc: number }[];
  /** Ms until the next pending message's deadline, or -1 when none is waiting for one. */
  readonly nextMs: number;
}

export interface AckTiming {
  /** ack_wait in ms. */
  readonly ackWaitMs: number;
  /** backoff in ms per delivery attempt (empty: ack_wait for every attempt). */
  readonly backoffMs: readonly number[];
  /** max_deliver; <= 0 is unlimited. */
  readonly maxDeliver: number;
}

/** Persisted form (msgpackr-encoded by the consumer store; never JSON). */
export interface StateSnapshot {
  readonly v: 1;
  /** [delivered consumer seq, delivered stream seq] */
  readonly d: [number, number];
  /** [ack floor consumer seq, ack floor stream seq] */
  readonly a: [number, number];
  /** Base for the pending timestamps, epoch ms. */
  readonly t: number;
  /** Pending, flattened and delta-encoded: [Δsseq, Δdseq, tsMs - t] per entry, ascending. */
  readonly p: number[];
  /** Redelivery counts: [Δsseq, dc] per entry, ascending. */
  readonly r: number[];
}

export class AckState {
  /** Next stream sequence to look at for new messages (nats-server o.sseq). */
  sseq = 1;
  /** Next consumer sequence to assign (o.dseq). */
  dseq = 1;
  /** Highest stream sequence delivered for the first time (ConsumerInfo.delivered.stream_seq). */
  deliveredSseq = 0;
  /** Ack floor: every delivery up to here is acknowledged. */
  adflr = 0;
  asflr = 0;
  lastDeliveredMs = 0;
  lastAckMs = 0;
  readonly pending = new PendingSet();
  /** Delivery count of messages delivered more than once (and of those that hit max_deliver). */
  readonly rdc = new Map<number, number>();
  private rdq: number[] = [];
  private rdqHead = 0;
  private readonly rdqSet = new Set<number>();
  readonly ackPolicy: AckPolicy;

  constructor(ackPolicy: AckPolicy) {
    this.ackPolicy = ackPolicy;
  }

  /** A fresh consumer starting at stream sequence `sseq` (nats-server selectStartingSeqNo tail). */
  start(sseq: number): void {
    this.sseq = sseq;
    this.dseq = 1;
    this.adflr = 0;
    this.asflr = sseq - 1;
    this.deliveredSseq = sseq - 1;
  }

  // ---- deliveries ----------------------------------------------------------------------------

  deliveryCount(sseq: number): number {
    return this.rdc.get(sseq) ?? 1;
  }

  /** Records a delivery attempt and returns its consumer sequence. */
  recordDelivery(sseq: number, dc: number, nowMs: number): number {
    const dseq = this.dseq++;
    this.lastDeliveredMs = nowMs;
    if (dc === 1 && sseq > this.deliveredSseq) this.deliveredSseq = sseq;
    if (this.ackPolicy === 'none') {
      this.adflr = dseq;
      this.asflr = sseq;
      return dseq;
    }
    const p = this.pending.get(sseq);
    if (p !== undefined) p.tsMs = nowMs;
    else this.pending.add(sseq, { dseq, tsMs: nowMs });
    if (dc > 1) this.rdc.set(sseq, dc);
    return dseq;
  }

  // ---- acks ----------------------------------------------------------------------------------

  /**
   * An ack (or a TERM, which acks to stop redelivery). Returns how many messages stopped being
   * pending; their stream sequences are appended to `released` when given (interest/workqueue
   * retention needs them; limits retention passes null and allocates nothing).
   */
  /** Whether `sseq` was ever delivered as far as this state knows (acks for others are ignored). */
  wasDelivered(sseq: number): boolean {
    return !(sseq >= this.sseq && sseq > this.deliveredSseq);
  }

  ack(sseq: number, dseq: number, nowMs: number, released: number[] | null): number {
    // Acks for what was never delivered are ignored (nats-server: "ACK sequence past last").
    if (!this.wasDelivered(sseq)) return 0;
    switch (this.ackPolicy) {
      case 'explicit': {
        const p = this.pending.get(sseq);
        if (this.rdc.size > 0) this.rdc.delete(sseq);
        if (this.rdqSet.size > 0) this.removeFromRedeliveries(sseq);
        if (p === undefined) return 0;
        this.pending.delete(sseq);
        this.moveAckFloor(p.dseq, sseq);
        this.lastAckMs = nowMs;
        released?.push(sseq);
        return 1;
      }
      case 'all': {
        if (dseq <= this.adflr || sseq <= this.asflr) return 0;
        this.adflr = dseq;
        this.asflr = sseq;
        const removed: number[] = [];
        for (const seq of this.pending.keys()) {
          if (seq > sseq) break;
          removed.push(seq);
        }
        for (const seq of removed) {
          this.pending.delete(seq);
          this.rdc.delete(seq);
          this.removeFromRedeliveries(seq);
        }
        if (!removed.includes(sseq)) removed.push(sseq);
        if (this.pending.size === 0) this.floorToDelivered();
        this.lastAckMs = nowMs;
        if (released !== null) for (const seq of removed) released.push(seq);
        return removed.length;
      }
      default:
        return 0;
    }
  }

  /** nats-server moveAckFloor, using the ascending order of `pending` instead of a seq walk. */
  private moveAckFloor(dseq: number, sseq: number): void {
    if (this.pending.size === 0) {
      this.floorToDelivered();
      return;
    }
    if (dseq !== this.adflr + 1) return;
    const firstSeq = this.pending.firstSeq();
    this.adflr = this.pending.get(firstSeq)!.dseq - 1;
    this.asflr = firstSeq - 1;
    // Never behind what was just acked (first is above it by the ordering invariant).
    if (this.asflr < sseq) this.asflr = sseq;
  }

  private floorToDelivered(): void {
    this.adflr = this.dseq - 1;
    this.asflr = this.sseq - 1;
  }

  /**
   * -NAK: redeliver now (queued) or after `delayMs`. False when the message is not pending or
   * the delivery sequence is out of range (a stale NAK).
   */
  nak(sseq: number, dseq: number, delayMs: number | undefined, nowMs: number, timing: AckTiming): boolean {
    if (dseq <= this.adflr || dseq >= this.dseq) return false;
    const p = this.pending.get(sseq);
    if (p === undefined) return false;
    if (delayMs !== undefined) {
      this.removeFromRedeliveries(sseq);
      // Expire exactly `delayMs` from now: the deadline counts from tsMs.
      p.tsMs = nowMs - this.deadlineMs(sseq, timing) + delayMs;
      return true;
    }
    this.queueRedelivery(sseq);
    return true;
  }

  /** +WPI: the ack wait starts again. */
  progress(sseq: number, nowMs: number): boolean {
    const p = this.pending.get(sseq);
    if (p === undefined) return false;
    p.tsMs = nowMs;
    return true;
  }

  /** Would this consumer still need `sseq` (interest retention keeps it while any consumer does)? */
  needsAck(sseq: number): boolean {
    let need: boolean;
    if (this.ackPolicy === 'explicit') need = sseq > this.asflr && (sseq >= this.sseq || this.pending.has(sseq));
    else need = sseq > this.asflr;
    return need || this.rdc.has(sseq);
  }

  // ---- redelivery ----------------------------------------------------------------------------

  /** How long a delivery attempt of `sseq` may stay unacknowledged. */
  deadlineMs(sseq: number, timing: AckTiming): number {
    const bo = timing.backoffMs;
    if (bo.length === 0) return timing.ackWaitMs;
    const i = Math.min(this.deliveryCount(sseq) - 1, bo.length - 1);
    return bo[Math.max(0, i)]!;
  }

  /**
   * nats-server checkPending: queues every pending message whose ack wait (or backoff step) has
   * passed, and drops those that already had max_deliver attempts.
   */
  checkExpired(nowMs: number, timing: AckTiming): ExpiryResult {
    const expired: number[] = [];
    const exceeded: { sseq: number; dc: number }[] = [];
    let nextMs = -1;
    for (const [seq, p] of this.pending) {
      if (this.rdqSet.has(seq)) continue;
      const deadline = this.deadlineMs(seq, timing);
      const elapsed = nowMs - p.tsMs;
      if (elapsed >= deadline) {
        const dc = this.deliveryCount(seq);
        if (timing.maxDeliver > 0 && dc >= timing.maxDeliver) exceeded.push({ sseq: seq, dc });
        else expired.push(seq);
      } else if (nextMs < 0 || deadline - elapsed < nextMs) {
        nextMs = deadline - elapsed;
      }
    }
    for (const { sseq, dc } of exceeded) this.dropExceeded(sseq, dc);
    for (const seq of expired) this.queueRedelivery(seq);
    return { expired, exceeded, nextMs };
  }

  /** A message that had its max_deliver attempts: no longer pending, but remembered in rdc. */
  dropExceeded(sseq: number, dc: number): void {
    const p = this.pending.get(sseq);
    this.removeFromRedeliveries(sseq);
    this.rdc.set(sseq, dc);
    if (p === undefined) return;
    this.pending.delete(sseq);
    this.moveAckFloor(p.dseq, sseq);
  }

  /** Forgets a pending message that left the stream (purged, deleted, evicted by a limit). */
  dropMissing(sseq: number): void {
    const p = this.pending.get(sseq);
    this.removeFromRedeliveries(sseq);
    this.rdc.delete(sseq);
    if (p === undefined) return;
    this.pending.delete(sseq);
    this.moveAckFloor(p.dseq, sseq);
  }

  /**
   * The stream's first sequence moved up to `firstSeq` (purge, expiry, limits): everything below
   * is gone, so it is no longer pending and the floors move past it (nats-server consumer.purge).
   */
  streamFirstMoved(firstSeq: number): boolean {
    let changed = false;
    if (this.sseq < firstSeq) {
      this.sseq = firstSeq;
      changed = true;
    }
    if (this.asflr < firstSeq - 1) {
      this.asflr = firstSeq - 1;
      changed = true;
      const gone: number[] = [];
      for (const [seq, p] of this.pending) {
        if (seq >= firstSeq) break;
        gone.push(seq);
        if (p.dseq > this.adflr) this.adflr = p.dseq;
      }
      for (const seq of gone) {
        this.pending.delete(seq);
        this.removeFromRedeliveries(seq);
      }
    }
    for (const seq of this.rdc.keys()) {
      if (seq < firstSeq) {
        this.rdc.delete(seq);
        changed = true;
      }
    }
    if (this.pending.size === 0 && changed) this.floorToDelivered();
    return changed;
  }

  queueRedelivery(sseq: number): void {
    if (this.rdqSet.has(sseq)) return;
    this.rdqSet.add(sseq);
    this.rdq.push(sseq);
  }

  get redeliveriesQueued(): number {
    return this.rdqSet.size;
  }

  /** The next message to redeliver, without taking it off the queue. */
  peekRedelivery(): number {
    if (this.rdqSet.size === 0) {
      // The common case (nothing to redeliver): no work, and nothing allocated.
      if (this.rdq.length > 0) this.compactRdq();
      return 0;
    }
    while (this.rdqHead < this.rdq.length) {
      const seq = this.rdq[this.rdqHead]!;
      if (this.rdqSet.has(seq)) return seq;
      this.rdqHead++; // removed meanwhile
    }
    this.compactRdq();
    return 0;
  }

  shiftRedelivery(): void {
    const seq = this.peekRedelivery();
    if (seq === 0) return;
    this.rdqSet.delete(seq);
    this.rdqHead++;
    if (this.rdqHead >= this.rdq.length) this.compactRdq();
  }

  private removeFromRedeliveries(sseq: number): void {
    // Lazy: the array entry is skipped by peekRedelivery once it is not in the set.
    if (this.rdqSet.delete(sseq) && this.rdqSet.size === 0) this.compactRdq();
  }

  private compactRdq(): void {
    if (this.rdqSet.size === 0) {
      this.rdq = [];
      this.rdqHead = 0;
    } else if (this.rdqHead > 1024 && this.rdqHead * 2 > this.rdq.length) {
      this.rdq = this.rdq.slice(this.rdqHead);
      this.rdqHead = 0;
    }
  }

  // ---- persistence ---------------------------------------------------------------------------

  snapshot(): StateSnapshot {
    const p: number[] = [];
    let base = 0;
    let prevS = 0;
    let prevD = 0;
    this.pending.forEach((seq, e) => {
      if (p.length === 0) base = e.tsMs;
      p.push(seq - prevS, e.dseq - prevD, e.tsMs - base);
      prevS = seq;
      prevD = e.dseq;
    });
    const r: number[] = [];
    if (this.rdc.size > 0) {
      let prev = 0;
      for (const seq of [...this.rdc.keys()].sort((a, b) => a - b)) {
        r.push(seq - prev, this.rdc.get(seq)!);
        prev = seq;
      }
    }
    return { v: 1, d: [this.dseq - 1, this.deliveredSseq], a: [this.adflr, this.asflr], t: base, p, r };
  }

  /** Restores a snapshot: delivery resumes after the last delivered stream sequence. */
  restore(s: StateSnapshot): void {
    this.dseq = s.d[0] + 1;
    this.deliveredSseq = s.d[1];
    this.sseq = s.d[1] + 1;
    this.adflr = s.a[0];
    this.asflr = s.a[1];
    this.pending.clear();
    this.rdc.clear();
    let seq = 0;
    let dseq = 0;
    for (let i = 0; i + 2 < s.p.length; i += 3) {
      seq += s.p[i]!;
      dseq += s.p[i + 1]!;
      this.pending.add(seq, { dseq, tsMs: s.t + s.p[i + 2]! });
    }
    seq = 0;
    for (let i = 0; i + 1 < s.r.length; i += 2) {
      seq += s.r[i]!;
      this.rdc.set(seq, s.r[i + 1]!);
    }
  }
}

/** Checks a value read back from the store before restoring it. */
export function isStateSnapshot(v: unknown): v is StateSnapshot {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return s.v === 1 && Array.isArray(s.d) && Array.isArray(s.a) && typeof s.t === 'number' && Array.isArray(s.p) && Array.isArray(s.r);
}
