// One stream on its leader: capture of published messages (ingest), the decide step that turns a
// publish or an admin request into a StreamOp, applying it (ops.ts), PubAcks once the change is
// durable, and the timers for age expiry and the dedupe window.
//
// Ingest order (nats-server processJetStreamMsg): sealed -> Nats-Expected-Stream -> Nats-Msg-Id
// duplicate -> expected last subject seq / last seq / last msg id -> rollup permission ->
// max_msg_size -> header size -> discard-new limits -> assign seq+time -> apply -> ack.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { jsApiError, type ApiError } from '../../protocol/js-errors.ts';
import type { ClusterInfo, StorageType, StreamConfig } from '../../protocol/jetstream-api.ts';
import type { Refusal } from '../limits.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import { DedupeWindow } from './dedupe.ts';
import { checkExpectations, checkExpectedStream, readPublishHeaders, type ExpectationContext } from './expectations.ts';
import { checkDiscardNew } from './limits.ts';
import { applyOp, type ApplyResult, type RollupKind, type StreamMachine, type StreamOp } from './ops.ts';
import { rebuildDedupe } from './recover.ts';
import { Republisher } from './republish.ts';
import { compileSubjectTransform, type SubjectTransform } from '../../protocol/subject-transform.ts';
import { bufferView } from '../../protocol/buffer-view.ts';
import type { StreamStore, TimeNs } from '../store/types.ts';

/** Subject subscriptions made or removed per event-loop turn when a stream's subjects change. */
export const BIND_STEP = 200;
/** nats-server refuses header blocks above this (math.MaxUint16). */
export const MAX_HEADER_BYTES = 65535;
/** Age expiry removes at most this many messages per timer tick, then yields to I/O. */
export const MAX_EXPIRE_PER_TICK = 10_000;
const NS_PER_MS = 1_000_000n;

export interface StreamDeps {
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The server's JetStream domain, named in every PubAck as nats-server does (undefined = none). */
  readonly domain?: string | undefined;
  /**
   * The account's and the server's storage limits (streams/limits.ts): asked before a message of
   * `bytes` is stored; undefined = admitted.
   */
  readonly admit?: ((storage: StorageType, bytes: number) => Refusal | undefined) | undefined;
}

/** Hooks for the consumer layer. */
export interface StreamObserver {
  /** A message was stored (called on apply, before it is durable). */
  onAppend?(seq: number, subject: string): void;
  /**
   * Messages were removed by `op`: a delete (that one sequence), a purge, an expiry (everything
   * below a sequence), or an append or config change (rollups and limits).
   */
  onRemove?(op: StreamOp): void;
}

const EMPTY = new Uint8Array(0);

/**
 * The PubAcks waiting for one store batch: reply subjects and sequences, in publish order, the
 * first `n` entries live. Sent batches are reused, so the arrays keep their capacity: new arrays
 * per batch regrew by copying to about a thousand entries every batch in js-pub.
 */
interface AckBatch {
  /** The durability promise they wait for. */
  durable: Promise<void>;
  readonly replies: string[];
  readonly seqs: number[];
  n: number;
}
/** Reused ack batches per stream, and the largest one kept. */
const SPARE_ACK_BATCHES = 4;
const MAX_KEPT_ACKS = 65_536;

/** The leader's answer to a publish: what to apply, or why nothing is stored. */
export type AppendDecision =
  /** Store it: apply `op`, ack once durable. */
  | { readonly kind: 'append'; readonly op: StreamOp & { op: 'append' } }
  /** A Nats-Msg-Id seen inside the duplicate window: ack with the original's sequence. */
  | { readonly kind: 'duplicate'; readonly seq: number }
  /**
   * Refused (sealed, an expectation failed, a limit): answer with the error. `burn` is applied
   * first when the refusal still takes a sequence (an account over its storage limit: nats-server
   * stores the message, then removes it).
   */
  | { readonly kind: 'rejected'; readonly error: ApiError; readonly burn?: StreamOp & { op: 'append' } };

function rejected(error: ApiError): AppendDecision {
  return { kind: 'rejected', error };
}

export class Stream implements StreamMachine {
  readonly name: string;
  readonly store: StreamStore;
  readonly dedupe: DedupeWindow;
  readonly createdNs: TimeNs;
  /** The JetStream domain ('' = none), named in the PubAcks and the consumers' advisories. */
  readonly domain: string;
  config: StreamConfig;
  lastMsgId = '';
  /**
   * Interest retention: whether a stored message on `subject` would interest any consumer. Set by
   * the consumer layer; null means there are no consumers, so (like nats-server) the message only
   * consumes a sequence.
   */
  interest: ((subject: string) => boolean) | null = null;
  /**
   * A replicated stream's leader decides ahead of what it has applied: its proposals in flight
   * already took sequences. When >= 0 this is the last sequence proposed, used for the next
   * sequence and for Nats-Expected-Last-Sequence (nats-server's clseq); -1 = the store's own.
   */
  proposedLastSeq = -1;
  /**
   * A replicated stream's leader: the sequence of a Nats-Msg-Id proposed but not applied yet, so
   * a publisher's retry while the first attempt is in flight is a duplicate, not a second copy.
   */
  pendingMsgId: ((msgId: string) => number | undefined) | null = null;
  /**
   * A replica of a Raft-replicated stream (streams/replication): its consumers' subscriptions
   * must be cluster-wide (clients reach the leader from any server), and changes made on the
   * leader's own initiative go through the log (`change`).
   */
  replicated = false;
  /**
   * Set while a replicated stream's replica leads: proposes an op to the stream's log instead of
   * applying it here, resolving with its result once committed and applied here (every replica
   * applies it).
   */
  committer: ((op: StreamOp) => Promise<ApplyResult>) | null = null;
  /** A replicated stream's `cluster` block for StreamInfo and ConsumerInfo (null otherwise). */
  clusterInfo: (() => ClusterInfo) | null = null;
  private readonly observers: StreamObserver[] = [];
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private readonly admit: StreamDeps['admit'];
  /** The last of a run of mirrored copies the limits refused (0 = none), for one warning per run. */
  private refusedCopyLast = 0;
  private readonly logger: Logger;
  private readonly ackPrefix: string;
  /** ackPrefix's bytes at the start of a scratch buffer a PubAck is laid out in (see sendSeqAck). */
  private readonly ackScratch: Buffer;
  private readonly ackPrefixLen: number;
  /** The bound subjects; the same handler serves all of them. */
  private readonly subs = new Map<string, BusSubscription>();
  private readonly captureHandler = (subject: string, reply: string, hdr: Buffer | null, data: Buffer): void =>
    this.ingest(subject, reply, hdr, data);
  private ageTimer: TimerHandle | null = null;
  private dedupeTimer: TimerHandle | null = null;
  /** The acks waiting for the store's current batch (see AckBatch); null = none. */
  private acking: AckBatch | null = null;
  /** Sent batches kept for reuse: their arrays keep their capacity (see AckBatch). */
  private readonly spareAcks: AckBatch[] = [];
  private closed = false;
  /** The config's subject_transform: publishes are stored under the transformed subject. */
  private inputTransform: SubjectTransform | null = null;
  private republisher: Republisher | null = null;

  constructor(config: StreamConfig, store: StreamStore, createdNs: TimeNs, deps: StreamDeps) {
    this.name = config.name;
    this.config = config;
    this.store = store;
    this.createdNs = createdNs;
    this.bus = deps.bus;
    this.domain = deps.domain ?? '';
    this.clock = deps.clock;
    this.admit = deps.admit;
    this.logger = deps.logger.child({ stream: config.name });
    this.dedupe = new DedupeWindow(config.duplicate_window ?? 0);
    // nats-server's pubAck template, byte for byte: {"stream":"NAME", "seq":N}, or with a domain
    // {"stream":"NAME", "domain":"D", "seq":N}.
    const domain = deps.domain === undefined || deps.domain === '' ? '' : ` "domain":${JSON.stringify(deps.domain)},`;
    this.ackPrefix = `{"stream":${JSON.stringify(config.name)},${domain} "seq":`;
    const prefix = Buffer.from(this.ackPrefix, 'utf8');
    this.ackPrefixLen = prefix.length;
    // Room for the prefix, 16 digits (sequences stay below 2^53) and the closing brace.
    this.ackScratch = Buffer.allocUnsafe(prefix.length + 17);
    prefix.copy(this.ackScratch, 0);
    this.compileTransforms();
  }

  /** Validation refused transforms that do not compile, so a failure here means none. */
  private compileTransforms(): void {
    const st = this.config.subject_transform;
    const c = st === undefined ? null : compileSubjectTransform(st.src ?? '', st.dest);
    this.inputTransform = c !== null && c.ok ? c.transform : null;
    this.republisher = Republisher.of(this.name, this.config.republish);
  }

  /** After a restart: rebuild the dedupe window and last msg id from the stored messages. */
  recover(): void {
    this.lastMsgId = rebuildDedupe(this.store, this.dedupe, this.clock.epochNs(), this.config.duplicate_window ?? 0);
    this.scheduleDedupeExpiry();
    this.scheduleAgeExpiry();
  }

  addObserver(o: StreamObserver): () => void {
    this.observers.push(o);
    return () => {
      const i = this.observers.indexOf(o);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  // ---- capture -----------------------------------------------------------------------------

  /** Subscribes the stream's subjects (again, after a config change), all in this turn. */
  bindSubjects(): void {
    for (const _ of this.bindSteps());
  }

  /**
   * Brings the bound subjects to the config's in steps of at most BIND_STEP subscriptions (each
   * one a router subscribe, ~5-10 µs): a 10,000-subject stream would otherwise hold the event
   * loop for 50-100 ms. The caller waits a turn between steps (StreamManager). A subject in the
   * old and the new list stays bound throughout; removed ones are unbound first.
   */
  *bindSteps(): Generator<void, void, void> {
    const wanted = new Set(this.config.subjects ?? []);
    let n = 0;
    for (const [subject, sub] of [...this.subs]) {
      if (wanted.has(subject)) continue;
      sub.unsubscribe();
      this.subs.delete(subject);
      if (++n % BIND_STEP === 0) yield;
    }
    for (const subject of wanted) {
      if (this.closed) return;
      if (this.subs.has(subject)) continue;
      this.subs.set(subject, this.bus.subscribe(subject, this.captureHandler));
      if (++n % BIND_STEP === 0) yield;
    }
  }

  unbindSubjects(): void {
    for (const _ of this.unbindSteps());
  }

  /** Unbinds every subject, BIND_STEP at a time (see bindSteps). */
  *unbindSteps(): Generator<void, void, void> {
    let n = 0;
    for (const [subject, sub] of [...this.subs]) {
      sub.unsubscribe();
      this.subs.delete(subject);
      if (++n % BIND_STEP === 0) yield;
    }
  }

  /** The bus handler for the stream's subjects. Never throws. */
  ingest(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): void {
    if (this.closed) return;
    const respond = reply !== '' && this.config.no_ack !== true;
    let decided: AppendDecision;
    try {
      decided = this.decideAppend(subject, hdr, data);
      this.applyDecided(decided);
    } catch (err) {
      this.logger.error({ err: String(err), subject }, 'failed to store message');
      decided = rejected(jsApiError('StreamStoreFailed', { err: err instanceof Error ? err.message : String(err) }));
    }
    if (respond) this.respond(reply, decided);
  }

  /** Answers a publish: the PubAck of an applied append once it is durable, or the decision's error. */
  respond(reply: string, decided: AppendDecision): void {
    switch (decided.kind) {
      case 'append':
        this.ackWhenDurable(reply, decided.op.seq);
        break;
      case 'duplicate':
        this.sendAck(reply, this.ackPrefix + decided.seq + ',"duplicate": true}');
        break;
      case 'rejected':
        this.sendAck(reply, JSON.stringify({ error: decided.error, stream: this.name, seq: 0 }));
        break;
    }
  }

  /**
   * The PubAck of an append that is already safe without this store's commit: a replicated
   * stream's entry is committed in a majority of Raft logs (each persisted under the sync mode)
   * and would be applied again after a crash, so its ack need not wait for the store.
   */
  ackCommitted(reply: string, seq: number): void {
    this.sendSeqAck(reply, seq);
  }

  /** Whether publishes get PubAcks (a reply subject and no no_ack). */
  acks(reply: string): boolean {
    return reply !== '' && this.config.no_ack !== true;
  }

  /**
   * The decide step for a publish (see AppendDecision). Reads state, changes nothing. Messages
   * copied from a source (`sourced`) keep their subject: the stream's subject_transform applies
   * to publishes only, as in nats-server.
   */
  decideAppend(subject: string, hdr: Uint8Array | null, data: Uint8Array, sourced = false): AppendDecision {
    const cfg = this.config;
    // nats-server renames before anything else looks at the subject (expectations, limits).
    if (this.inputTransform !== null && !sourced) subject = this.inputTransform.match(subject) ?? subject;
    if (cfg.sealed) return rejected(jsApiError('StreamSealed'));
    const store = this.store;
    const nowNs = this.clock.epochNs();
    const hdrLen = hdr === null ? 0 : hdr.length;
    let msgId = '';
    let rollup: RollupKind = '';
    if (hdrLen > 0) {
      const h = readPublishHeaders(hdr!);
      const bad = checkExpectedStream(h, this.name);
      if (bad !== undefined) return rejected(bad);
      msgId = h.msgId;
      if (msgId !== '') {
        const dup = this.dedupe.lookup(msgId, nowNs) ?? this.pendingMsgId?.(msgId);
        if (dup !== undefined) return { kind: 'duplicate', seq: dup };
      }
      const stream = this;
      const ctx: ExpectationContext = {
        lastSeq: this.proposedLastSeq >= 0 ? this.proposedLastSeq : store.state().lastSeq,
        lastMsgId: this.lastMsgId,
        lastSeqOnSubject: (s) => stream.store.lastBySubject(s)?.seq ?? 0,
      };
      const failed = checkExpectations(h, subject, ctx);
      if (failed !== undefined) return rejected(failed);
      if (h.rollup !== '') {
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) {
          return rejected(jsApiError('StreamRollupFailed', { err: 'rollup not permitted' }));
        }
        if (h.rollup !== 'sub' && h.rollup !== 'all') {
          return rejected(jsApiError('StreamRollupFailed', { err: `rollup value invalid: ${JSON.stringify(h.rollup)}` }));
        }
        rollup = h.rollup;
      }
    }
    if (cfg.max_msg_size >= 0 && hdrLen + data.length > cfg.max_msg_size) {
      return rejected(jsApiError('StreamMessageExceedsMaximum'));
    }
    if (hdrLen > MAX_HEADER_BYTES) return rejected(jsApiError('StreamHeaderExceedsMaximum'));
    const size = store.msgSize(subject, hdr, data);
    const full = checkDiscardNew(cfg, store, subject, size);
    if (full !== undefined) return rejected(jsApiError('StreamStoreFailed', { err: full }));
    const refusal = this.admit?.(cfg.storage, size);
    const skip = refusal !== undefined || (cfg.retention === 'interest' && (this.interest === null || !this.interest(subject)));
    const op: StreamOp & { op: 'append' } = {
      op: 'append',
      seq: (this.proposedLastSeq >= 0 ? this.proposedLastSeq : store.state().lastSeq) + 1,
      timeNs: nowNs,
      subject,
      hdr: hdrLen > 0 ? hdr : null,
      data: data.length > 0 ? data : EMPTY,
      msgId,
      rollup,
      skip,
    };
    if (refusal !== undefined) return refusal.burnsSequence ? { kind: 'rejected', error: refusal.error, burn: op } : rejected(refusal.error);
    return { kind: 'append', op };
  }

  /**
   * Stores a message a source copied in (streams/sourcing): decided like a publish (dedupe,
   * limits) but without the input transform; the caller already dropped Nats-Expected-* headers.
   */
  ingestSourced(subject: string, hdr: Uint8Array | null, data: Uint8Array): AppendDecision {
    if (this.closed) return rejected(jsApiError('StreamNotFound'));
    const decided = this.decideAppend(subject, hdr, data, true);
    this.applyDecided(decided);
    return decided;
  }

  /** Applies what a decision stores: the append, or the sequence a refusal still takes (`burn`). */
  private applyDecided(decided: AppendDecision): void {
    if (decided.kind === 'append') this.apply(decided.op);
    else if (decided.kind === 'rejected' && decided.burn !== undefined) this.apply(decided.burn);
  }

  /**
   * Stores a mirrored message at its origin's sequence and time (a mirror's sequences are its
   * origin's; skipped sequences stay gaps). The caller (the mirror's only writer) passes only
   * sequences above the mirror's last one. False when the stream is closed. `record`: the
   * origin store's encoding of exactly this message, given only when this stream's store has the
   * same recordFormat, so the store can keep it instead of encoding the message again.
   */
  applyMirrored(seq: number, timeNs: TimeNs, subject: string, hdr: Uint8Array | null, data: Uint8Array, record?: Uint8Array): boolean {
    if (this.closed) return false;
    // Over the account's storage (or the server's), the copy keeps its sequence but not its
    // message: nats-server stores it and removes it again, and the mirror goes on.
    const refusal = this.admit?.(this.config.storage, this.store.msgSize(subject, hdr, data));
    if (refusal !== undefined) this.warnRefusedCopy(seq, refusal.error.description);
    const skip = refusal !== undefined || (this.config.retention === 'interest' && (this.interest === null || !this.interest(subject)));
    const h = hdr !== null && hdr.length > 0 ? hdr : null;
    this.apply({ op: 'append', seq, timeNs, subject, hdr: h, data: data.length > 0 ? data : EMPTY, msgId: '', rollup: '', skip, record });
    return true;
  }

  /** Logs the first copy of a run that the limits refused (not each one). */
  private warnRefusedCopy(seq: number, why: string): void {
    if (this.refusedCopyLast !== 0 && seq === this.refusedCopyLast + 1) {
      this.refusedCopyLast = seq;
      return;
    }
    this.refusedCopyLast = seq;
    this.logger.warn({ seq, err: why }, 'mirrored message not stored: JetStream limits');
  }

  // ---- applying ----------------------------------------------------------------------------

  /** Applies one op (the only path that changes the stream), then keeps timers and observers current. */
  apply(op: StreamOp): ApplyResult {
    // Republish needs the subject's previous sequence, read before the append replaces it.
    let dest: string | undefined;
    let prevOnSubject = 0;
    if (op.op === 'append' && !op.skip && this.republisher !== null) {
      dest = this.republisher.destination(op.subject);
      if (dest !== undefined) prevOnSubject = this.store.lastBySubject(op.subject)?.seq ?? 0;
    }
    const result = applyOp(this, op);
    if (dest !== undefined && op.op === 'append') {
      const m = this.republisher!.message(dest, op.seq, op.subject, op.timeNs, prevOnSubject, op.hdr, op.data);
      this.bus.publish(m.subject, '', m.hdr, m.data);
    }
    if (op.op === 'append') {
      if (op.msgId !== '') this.scheduleDedupeExpiry();
      this.scheduleAgeExpiry();
      if (!op.skip) for (const o of this.observers) o.onAppend?.(op.seq, op.subject);
    } else if (op.op === 'config') {
      this.compileTransforms();
      this.cancelTimers();
      this.scheduleAgeExpiry();
      this.scheduleDedupeExpiry();
    }
    if (result.removed > 0) for (const o of this.observers) o.onRemove?.(op);
    return result;
  }

  /**
   * A change the consumer layer makes (retention removing what consumers no longer need): applied
   * here, or proposed to the log on a replicated stream's leader. A replica that no longer leads
   * drops it: the new leader's consumers decide again.
   */
  change(op: StreamOp): void {
    if (this.committer !== null) this.committer(op).catch(() => undefined);
    else if (!this.replicated) this.apply(op);
  }

  /**
   * A change the API asked for (PURGE, MSG.DELETE): resolves with its result once durable here,
   * or, on a replicated stream's leader, once committed through the log and applied here.
   */
  async commit(op: StreamOp): Promise<ApplyResult> {
    if (this.committer !== null) return this.committer(op);
    if (this.replicated) throw new Error(`stream ${this.name} is not led here`);
    const result = this.apply(op);
    await this.durable();
    return result;
  }

  /** A replicated stream's replica started leading: it now decides max_age expiry. */
  resumeAgeExpiry(): void {
    this.scheduleAgeExpiry();
  }

  /** Resolves when every change applied so far is durable. */
  durable(): Promise<void> {
    return this.store.durable();
  }

  // ---- acks --------------------------------------------------------------------------------

  private sendAck(reply: string, json: string): void {
    this.bus.publish(reply, '', null, Buffer.from(json, 'utf8'));
  }

  /**
   * The PubAck of a stored message, `{"stream":"NAME", "seq":N}`, laid out in one reused buffer:
   * no string and no buffer per ack, only a cheap view (the bus copies what it delivers:
   * BusHandler's data is a view valid only during the call, as client PUBs' payloads are).
   */
  private sendSeqAck(reply: string, seq: number): void {
    const buf = this.ackScratch;
    let end = this.ackPrefixLen;
    for (let v = seq; v >= 10; v = Math.floor(v / 10)) end++;
    for (let v = seq, i = end; i >= this.ackPrefixLen; v = Math.floor(v / 10)) buf[i--] = 48 + (v % 10);
    end++;
    buf[end++] = 0x7d; // }
    this.bus.publish(reply, '', null, bufferView(buf, 0, end));
  }

  /**
   * Queues an ack until the store's current batch is durable. Every append of one event-loop turn
   * shares one LMDB transaction and so one promise: one continuation per batch, not per message.
   */
  private ackWhenDurable(reply: string, seq: number): void {
    const durable = this.store.durable();
    let batch = this.acking;
    if (batch === null || batch.durable !== durable) {
      const fresh = this.spareAcks.pop() ?? { durable, replies: [], seqs: [], n: 0 };
      fresh.durable = durable;
      this.acking = batch = fresh;
      durable.then(
        () => this.sendBatch(fresh, null),
        (err: unknown) => this.sendBatch(fresh, err),
      );
    }
    batch.replies[batch.n] = reply;
    batch.seqs[batch.n] = seq;
    batch.n++;
  }

  private sendBatch(batch: AckBatch, err: unknown): void {
    // The next ack starts a new batch even if durable() hands out this same (settled) promise again,
    // as the memory store always does.
    if (this.acking === batch) this.acking = null;
    const n = batch.n;
    const replies = batch.replies;
    const seqs = batch.seqs;
    try {
      this.sendAcks(replies, seqs, n, err);
    } finally {
      batch.n = 0;
      if (n <= MAX_KEPT_ACKS && this.spareAcks.length < SPARE_ACK_BATCHES) {
        replies.fill('', 0, n);
        this.spareAcks.push(batch);
      }
    }
  }

  private sendAcks(replies: string[], seqs: number[], n: number, err: unknown): void {
    if (err !== null) {
      this.logger.error({ err: String(err) }, 'store commit failed; publishes answered with an error');
      const e = JSON.stringify({
        error: jsApiError('StreamStoreFailed', { err: err instanceof Error ? err.message : String(err) }),
        stream: this.name,
        seq: 0,
      });
      for (let i = 0; i < n; i++) this.sendAck(replies[i]!, e);
      return;
    }
    for (let i = 0; i < n; i++) this.sendSeqAck(replies[i]!, seqs[i]!);
  }

  // ---- timers ------------------------------------------------------------------------------

  /**
   * Arms the max_age timer. A replicated stream's replicas do not expire on their own clocks:
   * the leader decides and proposes the expiry, so every replica removes the same messages at
   * the same position in the log (resumeAgeExpiry when a replica starts leading).
   */
  private scheduleAgeExpiry(delayOverrideMs?: number): void {
    if (this.closed || this.ageTimer !== null || this.config.max_age <= 0) return;
    if (this.replicated && this.committer === null) return;
    const st = this.store.state();
    if (st.messages === 0) return;
    let delayMs = delayOverrideMs;
    if (delayMs === undefined) {
      const dueNs = st.firstTimeNs + BigInt(this.config.max_age);
      const now = this.clock.epochNs();
      delayMs = dueNs <= now ? 0 : Number((dueNs - now + NS_PER_MS - 1n) / NS_PER_MS);
    }
    this.ageTimer = this.clock.setTimeout(() => {
      this.ageTimer = null;
      this.expireByAge();
    }, delayMs);
  }

  /**
   * Removes messages older than max_age. Reads only from the oldest message forward and stops at
   * the first young one, so the cost is the number of expired messages, never the stream size.
   */
  private expireByAge(): void {
    if (this.closed || this.config.max_age <= 0) return;
    try {
      const cutoff = this.clock.epochNs() - BigInt(this.config.max_age);
      const st = this.store.state();
      let upTo = st.lastSeq + 1;
      let expired = 0;
      let more = false;
      for (const m of this.store.iterate(st.firstSeq)) {
        if (m.timeNs > cutoff) {
          upTo = m.seq;
          break;
        }
        expired++;
        if (expired >= MAX_EXPIRE_PER_TICK) {
          upTo = m.seq + 1;
          more = true;
          break;
        }
      }
      if (expired > 0 && this.committer !== null) {
        // Look again once the expiry is applied (before that the same messages are still here).
        this.committer({ op: 'expire', upToSeq: upTo }).then(
          () => this.scheduleAgeExpiry(more ? 0 : undefined),
          () => undefined,
        );
        return;
      }
      // A replica that stopped leading leaves expiry to the new leader. (A timer that fired a
      // moment early finds nothing old enough: it is armed again below.)
      if (this.replicated && this.committer === null) return;
      if (expired > 0) this.apply({ op: 'expire', upToSeq: upTo });
      this.scheduleAgeExpiry(more ? 0 : undefined);
    } catch (err) {
      this.logger.error({ err: String(err) }, 'age expiry failed');
    }
  }

  private scheduleDedupeExpiry(): void {
    if (this.closed || this.dedupeTimer !== null || this.dedupe.size === 0) return;
    const windowMs = Math.max(1, Math.ceil((this.config.duplicate_window ?? 0) / 1e6));
    this.dedupeTimer = this.clock.setTimeout(() => {
      this.dedupeTimer = null;
      const oldest = this.dedupe.expire(this.clock.epochNs());
      if (oldest !== null) this.scheduleDedupeExpiry();
    }, windowMs);
  }

  private cancelTimers(): void {
    this.ageTimer?.cancel();
    this.ageTimer = null;
    this.dedupeTimer?.cancel();
    this.dedupeTimer = null;
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  /** Stops capture and timers and closes the store (its data stays). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unbindSubjects();
    this.cancelTimers();
    await this.store.close();
  }

  /** Stops everything and deletes the stream's data. */
  async drop(): Promise<void> {
    this.closed = true;
    this.unbindSubjects();
    this.cancelTimers();
    await this.store.drop();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
