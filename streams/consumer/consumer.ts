// One consumer of a stream (nats-server server/consumer.go, single server): picks the next message
// (redeliveries first, then the last-per-subject skip list, then new matching messages), delivers
// it to a pull request or the deliver subject with its ack reply subject, takes acks, schedules
// redeliveries on ack_wait/backoff/NAK, stops at max_deliver and max_ack_pending, keeps
// num_pending exact, and reaps itself after inactive_threshold.
//
// Delivery runs in a loop scheduled as a microtask whenever there may be something to do (a new
// message, a pull request, an ack that freed room, a redelivery), so a burst of publishes or acks
// in one socket chunk causes one pass. A pass delivers at most MAX_PER_RUN messages and continues
// on the next turn, so a large backlog never holds the event loop.
//
// State changes are reported to the host, which persists durable consumers (persistence.ts)
// and applies interest/workqueue retention; ack replies go out once the change is durable.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { ConsumerConfig, ConsumerInfo } from '../../protocol/jetstream-api.ts';
import { AckKind, ackArgument, ackPrefix, ackReply, ackSubscription, classifyAck, nakDelayNs, parseAckSubject, type AckTokens } from './ack.ts';
import { Advisories } from './advisories.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import { consumerConfigJson, filtersOf, isPush } from './config.ts';
import { Cursor, Stop } from './cursor.ts';
import { InactivityReaper } from './inactivity.ts';
import { selectStart } from './store-reads.ts';
import { AckState, type AckTiming, type StateSnapshot } from './ack-state.ts';
import type { PersistedConsumer, StateWriter } from './persistence.ts';
import { PullChannel, STATUS_PUSH_BASED, type WaitingRequest } from './pull.ts';
import { PushChannel, fcSubscription } from './push.ts';
import type { StreamOp } from '../stream/ops.ts';
import type { Stream, StreamObserver } from '../stream/stream.ts';
import { formatTimeNs } from '../time.ts';

const NS_PER_MS = 1_000_000;
/** Deliveries per pass before yielding to I/O. */
export const MAX_PER_RUN = 1024;
/** After a restart, restored pending messages are checked this soon (or after ack_wait if shorter). */
const RESTORED_CHECK_MS = 1000;
const EMPTY = new Uint8Array(0);

export interface ConsumerHost {
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Stream sequences this consumer stopped needing (acked, terminated, delivered with ack none). */
  released(c: Consumer, seqs: readonly number[]): void;
  /** Inactive for longer than its inactive_threshold: delete it. */
  inactive(c: Consumer): void;
}

export interface ConsumerInit {
  readonly stream: Stream;
  readonly name: string;
  readonly config: ConsumerConfig;
  readonly createdNs: bigint;
  /** Restored state (durables after a restart); otherwise the deliver policy picks the start. */
  readonly state?: StateSnapshot;
}

export class Consumer implements PersistedConsumer {
  readonly stream: Stream;
  readonly name: string;
  readonly createdNs: bigint;
  config: ConsumerConfig;
  readonly state: AckState;
  /** Set by the registry for consumers whose state is kept in LMDB; null keeps it in memory. */
  persistence: StateWriter | null = null;
  private readonly host: ConsumerHost;
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly advisories: Advisories;
  private readonly pull: PullChannel | null;
  private readonly push: PushChannel | null;
  private readonly ackPrefix: string;
  private readonly tokens: AckTokens = { dc: 0, sseq: 0, dseq: 0 };
  /** Scratch for the stream sequences one ack released (reused: acks come one at a time). */
  private readonly released: number[] = [];
  private readonly cursor: Cursor;
  private timing: AckTiming = { ackWaitMs: 0, backoffMs: [], maxDeliver: -1 };
  private maxAckPending = 0;
  private headersOnly = false;
  private lastActiveMs: number;
  private subs: BusSubscription[] = [];
  private unobserve: (() => void) | null = null;
  private ackTimer: TimerHandle | null = null;
  private ackTimerDueMs = 0;
  private readonly reaper: InactivityReaper;
  private continuation: TimerHandle | null = null;
  private runScheduled = false;
  private removalCheckQueued = false;
  private closed = false;
  private readonly runBound = (): void => this.run();
  private readonly onAckTimer = (): void => this.checkAckWait();
  private readonly observer: StreamObserver = {
    onAppend: (seq, subject) => this.onAppend(seq, subject),
    onRemove: (op) => this.onRemove(op),
  };

  constructor(init: ConsumerInit, host: ConsumerHost) {
    this.stream = init.stream;
    this.name = init.name;
    this.createdNs = init.createdNs;
    this.config = init.config;
    this.host = host;
    this.bus = host.bus;
    this.clock = host.clock;
    this.logger = host.logger;
    this.state = new AckState(init.config.ack_policy);
    this.advisories = new Advisories(host.bus, host.clock, init.stream.name, init.name, init.stream.domain);
    this.ackPrefix = ackPrefix(init.stream.name, init.name);
    this.cursor = new Cursor(init.stream, this.state, {
      maxDeliveries: (seq, dc) => this.advisories.maxDeliveries(seq, dc),
      changed: () => this.changed(),
    });
    this.lastActiveMs = host.clock.nowMs();
    const bus = host.bus;
    const self = this;
    const lastSequences = (): [number, number] => [self.state.dseq - 1, self.state.sseq - 1];
    const kick = (): void => self.kick();
    if (isPush(init.config)) {
      this.pull = null;
      this.push = new PushChannel(init.stream.name, init.name, init.config.deliver_subject!, init.config.flow_control === true, nsToMs(init.config.idle_heartbeat), {
        bus,
        clock: host.clock,
        lastSequences,
        kick,
        interestChanged: (active) => {
          self.reaper.interestChanged(active);
          if (active) self.kick();
        },
      });
    } else {
      this.push = null;
      this.pull = new PullChannel(pullLimits(init.config), {
        bus,
        clock: host.clock,
        available: () => self.numPending() + self.state.redeliveriesQueued,
        lastSequences,
        kick,
      });
    }
    this.reaper = new InactivityReaper({
      clock: host.clock,
      isPush: this.push !== null,
      hasInterest: () => self.push!.checkInterest(),
      lastActiveMs: () => Math.max(self.lastActiveMs, self.pull!.queue.lastActivityMs),
      liveRequests: () => {
        self.pull!.sweep(true);
        return self.pull!.queue.length;
      },
      lastAckDeadlineMs: () => {
        let latest = 0;
        for (const [seq, p] of self.state.pending) latest = Math.max(latest, p.tsMs + self.state.deadlineMs(seq, self.timing));
        return latest;
      },
      expired: () => {
        if (!self.closed) host.inactive(self);
      },
    });
    this.applyConfig(init.config);
    if (init.state !== undefined) {
      this.state.restore(init.state);
      if (this.state.pending.size > 0) {
        const now = this.clock.nowMs();
        this.ensureAckTimer(now + Math.min(RESTORED_CHECK_MS, this.timing.ackWaitMs || RESTORED_CHECK_MS), now);
      }
    } else {
      const pos = selectStart(this.stream.store, init.config, this.stream.config, this.cursor.filters);
      this.state.start(pos.sseq);
      this.cursor.skip = pos.skip;
    }
  }

  /** Subscribes (acks, pull requests, flow control), starts observing the stream and delivering. */
  start(): void {
    const s = this.stream.name;
    const n = this.name;
    // A replicated stream's consumers run on its leader; clients reach them from any server.
    const wide = this.stream.replicated;
    if (this.config.ack_policy !== 'none') {
      this.subs.push(this.bus.subscribe(ackSubscription(s, n), (subject, reply, _h, data) => this.onAck(subject, reply, data), '', wide));
    }
    // Subscribed for push consumers too, to tell clients that pull on them what they got wrong.
    this.subs.push(this.bus.subscribe(`$JS.API.CONSUMER.MSG.NEXT.${s}.${n}`, (_s, reply, _h, data) => this.onPullRequest(reply, data), '', wide));
    if (this.push !== null && this.push.fc !== null) {
      const push = this.push;
      this.subs.push(this.bus.subscribe(fcSubscription(s, n), (subject) => push.flowControlReply(subject), '', wide));
    }
    this.unobserve = this.stream.addObserver(this.observer);
    if (this.push !== null) this.push.start();
    this.reaper.configure(nsToMs(this.config.inactive_threshold), this.push === null || !this.push.active);
    this.kick();
  }

  get streamName(): string {
    return this.stream.name;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isDurable(): boolean {
    return this.config.durable_name !== undefined;
  }

  pendingCount(): number {
    return this.state.pending.size;
  }

  snapshot(): StateSnapshot {
    return this.state.snapshot();
  }

  /** The filter subjects (empty: every subject of the stream). */
  get filterSubjects(): readonly string[] {
    return this.cursor.filters;
  }

  /** Derived settings of a (new or updated) config. */
  private applyConfig(cfg: ConsumerConfig): void {
    this.config = cfg;
    this.cursor.setFilters(filtersOf(cfg));
    this.timing = {
      ackWaitMs: nsToMs(cfg.ack_wait),
      backoffMs: (cfg.backoff ?? []).map(nsToMs),
      maxDeliver: cfg.max_deliver ?? -1,
    };
    this.maxAckPending = cfg.ack_policy === 'none' ? 0 : (cfg.max_ack_pending ?? 0);
    this.headersOnly = cfg.headers_only === true;
    this.pull?.setLimits(pullLimits(cfg));
  }

  /** An allowed update (config.ts checkConsumerUpdate passed): takes effect at once. */
  updateConfig(cfg: ConsumerConfig): void {
    const old = this.config;
    this.applyConfig(cfg);
    if (this.push !== null && cfg.deliver_subject !== old.deliver_subject) {
      // nats-server forceExpirePending: everything pending goes to the new subscriber again.
      for (const seq of this.state.pending.keys()) this.state.queueRedelivery(seq);
      this.push.setDeliverSubject(cfg.deliver_subject!);
    }
    if ((old.inactive_threshold ?? 0) !== (cfg.inactive_threshold ?? 0)) {
      this.reaper.configure(nsToMs(cfg.inactive_threshold), this.push === null || !this.push.active);
    }
    this.kick();
  }

  /** Does `subject` pass the consumer's filters? */
  matches(subject: string): boolean {
    return this.cursor.matches(subject);
  }

  /** Interest retention: does this consumer still need the message at `seq` on `subject`? */
  needsAck(seq: number, subject: string): boolean {
    return this.matches(subject) && this.state.needsAck(seq);
  }

  // ---- stream events ---------------------------------------------------------------------------

  private onAppend(seq: number, subject: string): void {
    if (this.closed || !this.cursor.appended(seq, subject)) return;
    if (this.pull === null || this.pull.queue.length > 0) this.kick();
  }

  private onRemove(op: StreamOp): void {
    if (this.closed) return;
    if (this.cursor.removed(op)) this.changed();
    // Removals from the front (expiry, purge below a sequence, limits) show in the stream's first
    // sequence: checked once per task however many messages went.
    if (this.removalCheckQueued) return;
    this.removalCheckQueued = true;
    queueMicrotask(() => {
      this.removalCheckQueued = false;
      if (this.closed || this.stream.isClosed) return;
      if (this.state.streamFirstMoved(this.stream.store.state().firstSeq)) this.changed();
    });
  }

  /** num_pending: matching messages not yet delivered. Exact; recounted only after removals. */
  numPending(): number {
    return this.cursor.numPending();
  }

  /** The delivery/ack state changed: persist it (the writer coalesces and rate limits). */
  private changed(): void {
    this.persistence?.markDirty();
  }

  kick(): void {
    if (this.runScheduled || this.closed) return;
    this.runScheduled = true;
    // Coalesces every trigger of this task into one pass (see the header comment).
    queueMicrotask(this.runBound);
  }

  private run(): void {
    this.runScheduled = false;
    this.continuation = null;
    if (this.closed) return;
    const st = this.state;
    const pull = this.pull;
    const push = this.push;
    const now = this.clock.nowMs();
    // Ack none on interest/workqueue retention: delivery is what releases a message.
    const releaseOnDelivery = this.config.ack_policy === 'none' && this.stream.config.retention !== 'limits';
    let released: number[] | null = null;
    let delivered = 0;
    const cursor = this.cursor;
    pull?.beginPass();
    let stop: Stop = Stop.Eof;
    for (let budget = MAX_PER_RUN; ; budget--) {
      if (budget === 0) {
        stop = Stop.Budget;
        break;
      }
      if (push !== null ? !push.ready() : pull!.queue.length === 0) {
        stop = Stop.NoTarget;
        break;
      }
      if (!cursor.peek(this.maxAckPending, this.timing)) {
        stop = cursor.stop;
        break;
      }
      const msg = cursor.msg!;
      const dc = cursor.dc;
      const pendingAfter = dc === 1 ? Math.max(0, this.numPending() - 1) : this.numPending();
      const reply = ackReply(this.ackPrefix, dc, msg.seq, st.dseq, msg.timeNs, pendingAfter);
      let hdr = msg.hdr;
      let data = msg.data;
      if (this.headersOnly) {
        hdr = headersOnlyBlock(hdr, data.length);
        data = EMPTY;
      }
      const size = msg.subject.length + reply.length + (hdr === null ? 0 : hdr.length) + data.length;
      let wr: WaitingRequest | undefined;
      let to: string;
      if (push !== null) {
        to = push.deliverSubject;
      } else {
        wr = pull!.target(size, now);
        if (wr === undefined) {
          cursor.release();
          stop = Stop.NoTarget;
          break;
        }
        to = wr.reply;
      }
      cursor.commit();
      st.recordDelivery(msg.seq, dc, now);
      this.bus.publishAs(to, msg.subject, reply, hdr, data);
      delivered++;
      if (releaseOnDelivery) (released ??= []).push(msg.seq);
      else if (this.config.ack_policy !== 'none') this.ensureAckTimer(now + st.deadlineMs(msg.seq, this.timing), now);
      if (push !== null) push.delivered(size, now);
      else pull!.delivered(wr!, now);
    }
    if (delivered > 0) {
      this.lastActiveMs = now;
      this.changed();
      if (released !== null) this.host.released(this, released);
    }
    if (stop === Stop.Budget) this.continuation = this.clock.setImmediate(this.runBound);
    else if (pull !== null) pull.sweep(stop !== Stop.MaxAckPending);
  }

  // ---- pull requests and acks ------------------------------------------------------------------

  private onPullRequest(reply: string, data: Uint8Array): void {
    if (reply === '' || this.closed) return;
    if (this.pull === null) {
      this.bus.publish(reply, '', STATUS_PUSH_BASED, EMPTY);
      return;
    }
    this.lastActiveMs = this.clock.nowMs();
    this.pull.request(reply, data);
  }

  private onAck(subject: string, reply: string, data: Uint8Array): void {
    if (this.closed) return;
    const t = this.tokens;
    if (!parseAckSubject(subject, this.ackPrefix.length, t)) return;
    const st = this.state;
    const now = this.clock.nowMs();
    this.lastActiveMs = now;
    this.reaper.touched();
    const kind = classifyAck(data);
    const wasFull = this.maxAckPending > 0 && st.pending.size >= this.maxAckPending;
    // Only interest and workqueue retention need to know which messages were released.
    const released = this.stream.config.retention === 'limits' ? null : this.released;
    let freed = 0;
    switch (kind) {
      case AckKind.Ack:
      case AckKind.Next:
        freed = st.ack(t.sseq, t.dseq, now, released);
        break;
      case AckKind.Term:
        freed = st.ack(t.sseq, t.dseq, now, released);
        this.advisories.terminated(t.dseq, t.sseq, t.dc, ackArgument(data, 5));
        break;
      case AckKind.Nak: {
        let delayNs = nakDelayNs(data);
        if (delayNs === null) {
          this.logger.warn({ stream: this.stream.name, consumer: this.name, body: ackArgument(data, 4) }, 'bad NAK delay value');
          delayNs = undefined;
        }
        const delayMs = delayNs === undefined ? undefined : nsToMs(delayNs);
        if (st.nak(t.sseq, t.dseq, delayMs, now, this.timing)) {
          this.advisories.nak(t.dseq, t.sseq, t.dc);
          if (delayMs === undefined) this.kick();
          else this.ensureAckTimer(now + delayMs, now);
        }
        break;
      }
      case AckKind.Progress:
        st.progress(t.sseq, now);
        break;
      default:
        break;
    }
    if (kind !== AckKind.Unknown) this.changed();
    if (freed > 0) {
      if (released !== null && released.length > 0) {
        this.host.released(this, released);
        released.length = 0;
      }
      if (wasFull) this.kick();
    }
    if (kind === AckKind.Next) {
      // The rest of the body is a pull request answered to this ack's reply.
      if (reply !== '') this.onPullRequest(reply, Buffer.from(ackArgument(data, 4), 'utf8'));
      return;
    }
    if (reply !== '') {
      // An ack this state ignored (a message it never delivered: a replicated consumer's new
      // leader restored a state older than the delivery) is not confirmed; the message will be
      // delivered again, and confirming the ack would say it will not.
      if ((kind === AckKind.Ack || kind === AckKind.Term) && !st.wasDelivered(t.sseq)) return;
      const durable = this.persistence === null ? Promise.resolve() : this.persistence.persisted();
      durable.then(() => this.bus.publish(reply, '', null, EMPTY), () => undefined);
    }
  }

  // ---- timers ----------------------------------------------------------------------------------

  private ensureAckTimer(dueMs: number, now: number): void {
    if (this.ackTimer !== null && this.ackTimerDueMs <= dueMs) return;
    this.ackTimer?.cancel();
    this.ackTimerDueMs = dueMs;
    // +1 ms like nats-server's ackWaitDelay: deadlines falling together are handled in one check.
    this.ackTimer = this.clock.setTimeout(this.onAckTimer, Math.max(1, dueMs - now + 1));
  }

  /** nats-server checkPending: redeliver what waited past its deadline; advise max deliveries. */
  private checkAckWait(): void {
    this.ackTimer = null;
    if (this.closed) return;
    const now = this.clock.nowMs();
    const r = this.state.checkExpired(now, this.timing);
    for (const e of r.exceeded) this.advisories.maxDeliveries(e.sseq, e.dc);
    if (r.expired.length > 0 || r.exceeded.length > 0) {
      this.changed();
      this.kick();
    }
    if (r.nextMs >= 0) this.ensureAckTimer(now + r.nextMs, now);
  }

  // ---- info and lifecycle ----------------------------------------------------------------------

  info(nowNs: bigint): ConsumerInfo {
    const st = this.state;
    if (this.pull !== null) this.pull.sweep(false);
    const delivered: ConsumerInfo['delivered'] = { consumer_seq: st.dseq - 1, stream_seq: st.deliveredSseq };
    if (st.lastDeliveredMs > 0) delivered.last_active = formatTimeNs(BigInt(st.lastDeliveredMs) * 1_000_000n);
    const ackFloor: ConsumerInfo['ack_floor'] = { consumer_seq: st.adflr, stream_seq: st.asflr };
    if (st.lastAckMs > 0) ackFloor.last_active = formatTimeNs(BigInt(st.lastAckMs) * 1_000_000n);
    const info: ConsumerInfo = {
      stream_name: this.stream.name,
      name: this.name,
      created: formatTimeNs(this.createdNs),
      config: consumerConfigJson(this.config),
      delivered,
      ack_floor: ackFloor,
      num_ack_pending: st.pending.size,
      // max_deliver 1 never redelivers; nats-server reports 0 rather than the capped messages.
      num_redelivered: this.timing.maxDeliver === 1 ? 0 : st.rdc.size,
      num_waiting: this.pull?.queue.length ?? 0,
      num_pending: this.numPending(),
      ts: formatTimeNs(nowNs),
    };
    if (this.stream.clusterInfo !== null) info.cluster = this.stream.clusterInfo();
    if (this.push !== null && this.push.checkInterest()) info.push_bound = true;
    return info;
  }

  /** Stops everything. `deleted`: tell waiting pull requests (409) and advise the deletion. */
  close(deleted: boolean): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    this.unobserve?.();
    this.unobserve = null;
    for (const t of [this.ackTimer, this.continuation]) t?.cancel();
    this.ackTimer = this.continuation = null;
    this.reaper.stop();
    this.pull?.close(deleted);
    this.push?.close();
    if (deleted) this.advisories.deleted();
  }

  advertiseCreated(): void {
    this.advisories.created();
  }
}

function nsToMs(ns: number | undefined): number {
  return ns === undefined || ns <= 0 ? 0 : Math.max(1, Math.round(ns / NS_PER_MS));
}

function pullLimits(cfg: ConsumerConfig): { maxWaiting: number; maxBatch: number; maxExpiresNs: number; maxBytes: number } {
  return { maxWaiting: cfg.max_waiting ?? 0, maxBatch: cfg.max_batch ?? 0, maxExpiresNs: cfg.max_expires ?? 0, maxBytes: cfg.max_bytes ?? 0 };
}

const MSG_SIZE_HDR = 'Nats-Msg-Size: ';

/** headers_only: the message's own headers plus Nats-Msg-Size, and no payload. */
function headersOnlyBlock(hdr: Uint8Array | null, size: number): Buffer {
  const tail = `${MSG_SIZE_HDR}${size}\r\n\r\n`;
  if (hdr === null || hdr.length < 4) return Buffer.from(`NATS/1.0\r\n${tail}`, 'latin1');
  // Replace the block's final blank line with our header and a new one.
  const head = hdr.subarray(0, hdr.length - 2);
  const out = Buffer.allocUnsafe(head.length + tail.length);
  out.set(head, 0);
  out.write(tail, head.length, 'latin1');
  return out;
}
