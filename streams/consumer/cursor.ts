// The delivery cursor of one consumer: where it stands in its stream and the choice of the next
// message: due redeliveries first (dropping those past max_deliver or gone from the stream), then
// — room permitting under max_ack_pending — the last-per-subject skip list, then new messages
// matching the filters. Also keeps num_pending: counted up on appends, down on first deliveries,
// recounted from the store only after removals (so ConsumerInfo never scans). The store queries it
// uses are in store-reads.ts.

import { subjectMatches } from '../../protocol/subject.ts';
import { nextMatching, numPendingFrom, type SkipList } from './store-reads.ts';
import type { AckState, AckTiming } from './ack-state.ts';
import type { StreamOp } from '../stream/ops.ts';
import type { StoredMsg } from '../store/types.ts';
import type { Stream } from '../stream/stream.ts';

/** Why peek() found nothing. */
export const Stop = { Eof: 0, MaxAckPending: 1, NoTarget: 2, Budget: 3 } as const;
export type Stop = (typeof Stop)[keyof typeof Stop];

const Source = { Redelivery: 0, Skip: 1, New: 2 } as const;
type Source = (typeof Source)[keyof typeof Source];

export interface CursorEvents {
  /** A message had its max_deliver attempts and is dropped (advisory). */
  maxDeliveries(seq: number, deliveries: number): void;
  /** The ack state changed outside a delivery (persist it). */
  changed(): void;
}

export class Cursor {
  private readonly stream: Stream;
  private readonly state: AckState;
  private readonly events: CursorEvents;
  /** Filter subjects; empty = every subject of the stream ('>' alone is normalised away). */
  filters: string[] = [];
  skip: SkipList | null = null;
  private npc = 0;
  private npcStale = true;
  /** The guess that the next message sits right at `sseq` keeps failing (sparse filter). */
  private guessMissed = false;
  // What peek() found.
  msg: StoredMsg | undefined = undefined;
  dc = 1;
  stop: Stop = Stop.Eof;
  private source: Source = Source.New;

  constructor(stream: Stream, state: AckState, events: CursorEvents) {
    this.stream = stream;
    this.state = state;
    this.events = events;
  }

  setFilters(filters: readonly string[]): void {
    this.filters = filters.filter((f) => f !== '>');
    this.npcStale = true;
    this.guessMissed = false;
  }

  matches(subject: string): boolean {
    const fs = this.filters;
    if (fs.length === 0) return true;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (f === subject || subjectMatches(f, subject)) return true;
    }
    return false;
  }

  /** A message was stored; true when it matches (the consumer may have work). */
  appended(seq: number, subject: string): boolean {
    if (!this.matches(subject)) return false;
    const counted = this.skip !== null ? seq > this.skip.resume : seq >= this.state.sseq;
    if (counted && !this.npcStale) this.npc++;
    return true;
  }

  /**
   * Messages were removed by `op`: num_pending is recounted when next asked, and removed messages
   * stop being pending. True when the ack state changed. Interior evictions by per-subject limits
   * are not looked for here; they are noticed when the message is due for redelivery.
   */
  removed(op: StreamOp): boolean {
    this.npcStale = true;
    const st = this.state;
    if (op.op === 'delete') {
      // One message (MSG.DELETE, or a workqueue/interest ack): forget it if it was pending here.
      if (!st.pending.has(op.seq) && !st.rdc.has(op.seq)) return false;
      st.dropMissing(op.seq);
      return true;
    }
    if (op.op === 'purge' && op.subject !== undefined && st.pending.size > 0) {
      // A filtered purge can remove pending messages anywhere: look at each (purges are rare).
      const store = this.stream.store;
      const gone: number[] = [];
      for (const seq of st.pending.keys()) if (store.get(seq) === undefined) gone.push(seq);
      for (const seq of gone) st.dropMissing(seq);
      return gone.length > 0;
    }
    return false;
  }

  /** num_pending: matching messages not yet delivered. */
  numPending(): number {
    if (this.npcStale) {
      const store = this.stream.store;
      const skip = this.skip;
      this.npc =
        skip !== null
          ? skip.seqs.length - skip.idx + numPendingFrom(store, skip.resume + 1, this.filters)
          : numPendingFrom(store, this.state.sseq, this.filters);
      this.npcStale = false;
    }
    return this.npc;
  }

  /** Finds the next message without taking it; false with `stop` set when there is none. */
  peek(maxAckPending: number, timing: AckTiming): boolean {
    const st = this.state;
    const store = this.stream.store;
    for (let seq = st.peekRedelivery(); seq !== 0; seq = st.peekRedelivery()) {
      const dc = st.deliveryCount(seq) + 1;
      if (timing.maxDeliver > 0 && dc > timing.maxDeliver) {
        st.shiftRedelivery();
        st.dropExceeded(seq, dc - 1);
        this.events.maxDeliveries(seq, dc - 1);
        this.events.changed();
        continue;
      }
      const msg = store.get(seq);
      if (msg === undefined) {
        st.shiftRedelivery();
        st.dropMissing(seq);
        this.events.changed();
        continue;
      }
      return this.found(msg, dc, Source.Redelivery);
    }
    if (maxAckPending > 0 && st.pending.size >= maxAckPending) {
      this.stop = Stop.MaxAckPending;
      return false;
    }
    const skip = this.skip;
    if (skip !== null) {
      while (skip.idx < skip.seqs.length) {
        const msg = store.get(skip.seqs[skip.idx]!);
        if (msg !== undefined) return this.found(msg, 1, Source.Skip);
        skip.idx++;
      }
      this.endSkip(skip);
    }
    const msg = this.nextNew(st.sseq);
    if (msg === undefined) {
      // Nothing matches up to the end: later lookups can start past it.
      const last = store.state().lastSeq;
      if (st.sseq <= last) st.sseq = last + 1;
      this.stop = Stop.Eof;
      return false;
    }
    return this.found(msg, 1, Source.New);
  }

  /** Takes the peeked message: advances the read position or the redelivery queue. */
  commit(): void {
    const st = this.state;
    const seq = this.msg!.seq;
    this.msg = undefined;
    switch (this.source) {
      case Source.Redelivery:
        st.shiftRedelivery();
        return;
      case Source.Skip: {
        const skip = this.skip!;
        skip.idx++;
        if (skip.idx >= skip.seqs.length) this.endSkip(skip);
        break;
      }
      default:
        st.sseq = seq + 1;
    }
    if (!this.npcStale && this.npc > 0) this.npc--;
  }

  /** Drops a peeked message that found no taker (it stays where it is). */
  release(): void {
    this.msg = undefined;
  }

  private found(msg: StoredMsg, dc: number, source: Source): boolean {
    this.msg = msg;
    this.dc = dc;
    this.source = source;
    return true;
  }

  /**
   * The next matching message at or after `from`. Usually it is the one at `from` itself (a
   * consumer reading a stream without gaps, or a filter matching a run of messages), which a point
   * read answers far cheaper than the store's range lookup; the guess is skipped while it keeps
   * failing.
   */
  private nextNew(from: number): StoredMsg | undefined {
    const store = this.stream.store;
    if (!this.guessMissed) {
      const m = store.get(from);
      if (m !== undefined && this.matches(m.subject)) return m;
      this.guessMissed = true;
    }
    const m = nextMatching(store, from, this.filters);
    if (m !== undefined && m.seq === from) this.guessMissed = false;
    return m;
  }

  private endSkip(skip: SkipList): void {
    if (this.state.sseq <= skip.resume) this.state.sseq = skip.resume + 1;
    this.skip = null;
  }
}
