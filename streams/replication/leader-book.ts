// What a replicated stream's leader keeps about its proposals in flight, and the rules that use it
// (ADR 0010 step 7), with no I/O: replicated-stream.ts drives it with raft and the bus, and the
// deterministic simulation (tests/sim/stream-sim.ts) drives the very same code.
//
// - Leading starts from the store's last sequence (everything committed is applied by then) and
//   decides ahead of apply: proposals in flight already took sequences (Stream.proposedLastSeq).
// - A Nats-Msg-Id in flight is a duplicate (Stream.pendingMsgId), but its retry is answered only
//   once that proposal applies: it may yet be lost with a leader change.
// - A publish is acknowledged when its op applies here, never when it is proposed.
// `R` is whatever identifies the publisher to answer: a reply subject, or a simulated client.

import type { AppendDecision, Stream } from '../stream/stream.ts';
import type { StreamOp } from '../stream/ops.ts';

/** What to do with a publish, after LeaderBook.decide. */
export type LeaderDecision =
  /** Propose this op; call proposed() if it was appended to the log. */
  | { readonly kind: 'propose'; readonly op: StreamOp & { op: 'append' } }
  /** Answer now (a duplicate of an applied message, or a rejection). */
  | { readonly kind: 'answer'; readonly decided: AppendDecision }
  /** A retry of a publish in flight at `seq`: applied() will name it with that proposal. */
  | { readonly kind: 'waiting'; readonly seq: number };

/** The publishers to answer once an append applies: its own, and retries of it. */
export interface AppliedAnswers<R> {
  /** The append's sequence (0 for other ops). */
  readonly seq: number;
  readonly appended: R | undefined;
  readonly duplicates: readonly R[];
}

const NONE: AppliedAnswers<never> = { seq: 0, appended: undefined, duplicates: [] };

export class LeaderBook<R> {
  private readonly acks = new Map<number, R>();
  private readonly ids = new Map<string, number>();
  private readonly retries = new Map<number, R[]>();
  private stream: Stream | null = null;

  get leading(): boolean {
    return this.stream !== null;
  }

  /** Call once every committed entry is applied. */
  start(stream: Stream): void {
    this.stream = stream;
    stream.proposedLastSeq = stream.store.state().lastSeq;
    stream.pendingMsgId = (id) => this.ids.get(id);
  }

  /** Leadership lost (or the replica closes): what was in flight is forgotten, clients retry. */
  stop(): void {
    if (this.stream === null) return;
    this.stream.proposedLastSeq = -1;
    this.stream.pendingMsgId = null;
    this.stream = null;
    this.acks.clear();
    this.ids.clear();
    this.retries.clear();
  }

  /** The leader's decision for a publish; `from` is null when nobody waits for an answer. */
  decide(stream: Stream, subject: string, hdr: Uint8Array | null, data: Uint8Array, from: R | null): LeaderDecision {
    const decided = stream.decideAppend(subject, hdr, data);
    if (decided.kind === 'append') return { kind: 'propose', op: decided.op };
    if (decided.kind === 'duplicate' && decided.seq > stream.store.state().lastSeq) {
      if (from !== null) {
        const waiting = this.retries.get(decided.seq);
        if (waiting === undefined) this.retries.set(decided.seq, [from]);
        else waiting.push(from);
      }
      return { kind: 'waiting', seq: decided.seq };
    }
    return { kind: 'answer', decided };
  }

  /** The op went into the log: its sequence is taken, its msg id in flight. */
  proposed(op: StreamOp & { op: 'append' }, from: R | null): void {
    this.stream!.proposedLastSeq = op.seq;
    if (op.msgId !== '') this.ids.set(op.msgId, op.seq);
    if (from !== null) this.acks.set(op.seq, from);
  }

  /** An op applied here: the publishers to acknowledge with its sequence. */
  applied(op: StreamOp): AppliedAnswers<R> {
    if (op.op !== 'append' || this.stream === null) return NONE;
    if (op.msgId !== '' && this.ids.get(op.msgId) === op.seq) this.ids.delete(op.msgId);
    const appended = this.acks.get(op.seq);
    const duplicates = this.retries.get(op.seq);
    if (appended === undefined && duplicates === undefined) return NONE;
    this.acks.delete(op.seq);
    this.retries.delete(op.seq);
    return { seq: op.seq, appended, duplicates: duplicates ?? [] };
  }
}
