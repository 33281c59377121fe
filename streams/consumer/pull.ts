// Pull requests ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, ADR-13): decoding the request
// body, the queue of waiting requests (nats-server waitQueue: FIFO, a request that still wants
// messages goes to the back after each delivery, at most max_waiting), and the status messages
// sent to a request's reply subject.
//
// The statuses, exactly as nats-server writes them (clients read the descriptions, and nats.js
// settles its outstanding-pull accounting from the Nats-Pending-* headers):
//   404 No Messages                                   no_wait and nothing (more) to deliver
//   408 Request Timeout + pending headers             expires reached
//   408 Requests Pending                              no_wait while others already cover pending
//   409 Message Size Exceeds MaxBytes + pending       next message bigger than what is left
//   409 Batch Completed + pending                     batch done with max_bytes left
//   409 Exceeded MaxWaiting / MaxRequestBatch of N / MaxRequestExpires of D / MaxRequestMaxBytes of N
//   409 Consumer is push based | 409 Consumer Deleted
//   400 Bad Request - <reason>
//   100 Idle Heartbeat + Nats-Last-Consumer / Nats-Last-Stream

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { encodeStatusBlock } from '../../protocol/headers.ts';
import { JsHeader } from '../../protocol/jetstream-api.ts';
import type { MessageBus } from '../bus.ts';
import { formatGoDuration } from '../time.ts';

const NS_PER_MS = 1_000_000;

/** A request on the waiting queue. Times are epoch ms from the consumer's clock. */
export interface WaitingRequest {
  readonly reply: string;
  /** Messages still wanted. */
  n: number;
  /** Messages delivered to it. */
  d: number;
  /** Bytes still allowed (0 = no max_bytes). */
  b: number;
  /** 0 = waits until satisfied or interest is gone. */
  readonly expiresMs: number;
  readonly noWait: boolean;
  readonly hbMs: number;
  /** Next idle heartbeat due (0 = no heartbeats). */
  hbDueMs: number;
  /** The delivery pass in which the reply subject was last seen to have interest. */
  interestPass: number;
}

export interface PullRequestFields {
  batch: number;
  maxBytes: number;
  expiresNs: number;
  noWait: boolean;
  heartbeatNs: number;
}

/** nats-server nextReqFromMsg: empty = 1 message; a bare integer = that batch; or the JSON form. */
export function decodePullRequest(body: Uint8Array): PullRequestFields | { error: string } {
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').trim();
  const out: PullRequestFields = { batch: 1, maxBytes: 0, expiresNs: 0, noWait: false, heartbeatNs: 0 };
  if (text === '') return out;
  if (text.startsWith('{')) {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      return { error: (e as Error).message };
    }
    if (v === null || typeof v !== 'object') return { error: 'json: cannot unmarshal into Go value of type JSApiConsumerGetNextRequest' };
    const int = (k: string): number | string => {
      const x = v[k];
      if (x === undefined || x === null) return 0;
      if (typeof x !== 'number' || !Number.isInteger(x)) return `json: cannot unmarshal ${typeof x} into Go struct field JSApiConsumerGetNextRequest.${k}`;
      return x;
    };
    for (const k of ['batch', 'max_bytes', 'expires', 'idle_heartbeat'] as const) {
      const x = int(k);
      if (typeof x === 'string') return { error: x };
    }
    out.batch = v.batch as number ?? 0;
    out.maxBytes = (v.max_bytes as number) ?? 0;
    out.expiresNs = (v.expires as number) ?? 0;
    out.heartbeatNs = (v.idle_heartbeat as number) ?? 0;
    out.noWait = v.no_wait === true;
    if (out.heartbeatNs > 0 && out.heartbeatNs * 2 > out.expiresNs) return { error: 'heartbeat value too large' };
    return out;
  }
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isSafeInteger(n)) out.batch = n;
  return out;
}

/** Builds the waiting request for a decoded pull request received at `nowMs`. */
export function newWaitingRequest(reply: string, f: PullRequestFields, nowMs: number): WaitingRequest {
  const hbMs = f.heartbeatNs > 0 ? Math.max(1, Math.round(f.heartbeatNs / NS_PER_MS)) : 0;
  return {
    reply,
    // A batch below 1 still gets one message, as in nats-server (pop decrements before checking).
    n: Math.max(1, f.batch),
    d: 0,
    b: Math.max(0, f.maxBytes),
    expiresMs: f.expiresNs > 0 ? nowMs + Math.max(1, Math.round(f.expiresNs / NS_PER_MS)) : 0,
    noWait: f.noWait,
    hbMs,
    hbDueMs: hbMs > 0 ? nowMs + hbMs : 0,
    interestPass: -1,
  };
}

/** FIFO of waiting requests with nats-server's round-robin pop. Bounded by max_waiting. */
export class WaitQueue {
  private items: WaitingRequest[] = [];
  /** Last time a request arrived or was served (inactive-threshold bookkeeping). */
  lastActivityMs = 0;
  readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  get length(): number {
    return this.items.length;
  }

  isFull(): boolean {
    return this.items.length >= this.max;
  }

  add(wr: WaitingRequest, nowMs: number): boolean {
    if (this.isFull()) return false;
    this.items.push(wr);
    this.lastActivityMs = nowMs;
    return true;
  }

  peek(): WaitingRequest | undefined {
    return this.items[0];
  }

  /** Removes the head (expired, no interest, or too small for the next message). */
  removeHead(): void {
    this.items.shift();
  }

  /**
   * Takes one delivery for the head: it moves to the back when it wants more and others wait,
   * and leaves the queue when satisfied.
   */
  popForDelivery(): WaitingRequest {
    const wr = this.items[0]!;
    wr.d++;
    wr.n--;
    if (wr.n <= 0) this.items.shift();
    else if (this.items.length > 1) this.items.push(this.items.shift()!);
    return wr;
  }

  /** Every request, for expiry and heartbeat sweeps. `keep` false removes it. */
  sweep(keep: (wr: WaitingRequest) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.items.length; r++) {
      const wr = this.items[r]!;
      if (keep(wr)) this.items[w++] = wr;
    }
    this.items.length = w;
  }

  /** Sum of the messages still wanted (nats-server's batch pending). */
  wanted(): number {
    let n = 0;
    for (const wr of this.items) n += wr.n;
    return n;
  }

  drain(): WaitingRequest[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}

// ---- status messages ----------------------------------------------------------------------------

export const STATUS_NO_MESSAGES = encodeStatusBlock(404, 'No Messages');
export const STATUS_REQUESTS_PENDING = encodeStatusBlock(408, 'Requests Pending');
export const STATUS_PUSH_BASED = encodeStatusBlock(409, 'Consumer is push based');
export const STATUS_CONSUMER_DELETED = encodeStatusBlock(409, 'Consumer Deleted');
export const STATUS_MAX_WAITING = encodeStatusBlock(409, 'Exceeded MaxWaiting');

function withPending(code: number, description: string, n: number, b: number): Buffer {
  return encodeStatusBlock(code, description, [
    [JsHeader.PendingMessages, String(n)],
    [JsHeader.PendingBytes, String(b)],
  ]);
}

export function statusRequestTimeout(n: number, b: number): Buffer {
  return withPending(408, 'Request Timeout', n, b);
}

export function statusMaxBytes(n: number, b: number): Buffer {
  return withPending(409, 'Message Size Exceeds MaxBytes', n, b);
}

export function statusBatchCompleted(b: number): Buffer {
  return withPending(409, 'Batch Completed', 0, b);
}

export function statusBadRequest(reason: string): Buffer {
  return encodeStatusBlock(400, `Bad Request - ${reason.replace(/[\r\n]/g, ' ')}`);
}

export function statusExceeded(what: string): Buffer {
  return encodeStatusBlock(409, `Exceeded ${what}`);
}

/**
 * `100 Idle Heartbeat` for pull requests and push consumers. `stalled` is the flow-control reply
 * a push consumer is waiting for (Nats-Consumer-Stalled), if any.
 */
export function statusIdleHeartbeat(lastDseq: number, lastSseq: number, stalled: string): Buffer {
  const extra: [string, string][] = [
    [JsHeader.LastConsumer, String(lastDseq)],
    [JsHeader.LastStream, String(lastSseq)],
  ];
  if (stalled !== '') extra.push([JsHeader.ConsumerStalled, stalled]);
  return encodeStatusBlock(100, 'Idle Heartbeat', extra);
}

// ---- the pull side of a consumer ---------------------------------------------------------------

/** What a pull channel needs from its consumer. */
export interface PullHost {
  readonly bus: MessageBus;
  readonly clock: Clock;
  /** Messages available now (num_pending plus queued redeliveries). */
  available(): number;
  /** [last consumer seq, last stream seq] for idle heartbeats. */
  lastSequences(): [number, number];
  /** Something to deliver to: run the delivery loop. */
  kick(): void;
}

export interface PullLimits {
  readonly maxWaiting: number;
  readonly maxBatch: number;
  readonly maxExpiresNs: number;
  readonly maxBytes: number;
}

const EMPTY = new Uint8Array(0);

/**
 * The waiting requests of one pull consumer and everything that happens to them: admission
 * (nats-server processNextMsgRequest), choosing the request a message goes to (nextWaiting),
 * expiry, no-wait completion and heartbeats (processWaiting), all on one timer.
 */
export class PullChannel {
  readonly queue: WaitQueue;
  private limits: PullLimits;
  private readonly host: PullHost;
  private timer: TimerHandle | null = null;
  private timerDueMs = 0;
  /** Counts delivery passes (see target()). */
  private pass = 0;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerDueMs = 0;
    this.sweep(true);
  };

  constructor(limits: PullLimits, host: PullHost) {
    this.limits = limits;
    this.host = host;
    this.queue = new WaitQueue(limits.maxWaiting);
  }

  setLimits(limits: PullLimits): void {
    this.limits = limits;
  }

  private send(reply: string, status: Uint8Array): void {
    this.host.bus.publish(reply, '', status, EMPTY);
  }

  /** A MSG.NEXT request (or the tail of a +NXT ack) answered to `reply`. */
  request(reply: string, body: Uint8Array): void {
    const now = this.host.clock.nowMs();
    const f = decodePullRequest(body);
    if ('error' in f) return this.send(reply, statusBadRequest(f.error));
    const lim = this.limits;
    if (lim.maxBatch > 0 && f.batch > lim.maxBatch) return this.send(reply, statusExceeded(`MaxRequestBatch of ${lim.maxBatch}`));
    if (f.expiresNs > 0 && lim.maxExpiresNs > 0 && f.expiresNs > lim.maxExpiresNs) {
      return this.send(reply, statusExceeded(`MaxRequestExpires of ${formatGoDuration(lim.maxExpiresNs)}`));
    }
    if (f.maxBytes > 0 && lim.maxBytes > 0 && f.maxBytes > lim.maxBytes) {
      return this.send(reply, statusExceeded(`MaxRequestMaxBytes of ${lim.maxBytes}`));
    }
    if (this.queue.isFull()) this.sweep(false);
    if (f.noWait) {
      const available = this.host.available();
      if (available === 0 && f.expiresNs === 0) {
        this.queue.lastActivityMs = now;
        return this.send(reply, STATUS_NO_MESSAGES);
      }
      if (available > 0) {
        this.sweep(false);
        if (available < this.queue.wanted()) {
          this.queue.lastActivityMs = now;
          return this.send(reply, STATUS_REQUESTS_PENDING);
        }
      }
    }
    const wr = newWaitingRequest(reply, f, now);
    if (!this.queue.add(wr, now)) {
      // With heartbeats the client recovers by itself; a 409 would make it re-pull in a hot loop.
      if (wr.hbMs === 0) this.send(reply, STATUS_MAX_WAITING);
      return;
    }
    this.host.kick();
  }

  /** A delivery pass starts: interest seen before may have changed. */
  beginPass(): void {
    this.pass++;
  }

  /**
   * The request the next message (of `size` bytes, nats-server's accounting) goes to, with its
   * count and byte budget taken; undefined when none can take it. Call beginPass() first in each
   * delivery pass. Expired requests, requests whose
   * byte budget is too small and requests nobody listens for anymore are dropped on the way.
   */
  target(size: number, now: number): WaitingRequest | undefined {
    const bus = this.host.bus;
    for (let wr = this.queue.peek(); wr !== undefined; wr = this.queue.peek()) {
      if (wr.expiresMs > 0 && now >= wr.expiresMs) {
        this.send(wr.reply, statusRequestTimeout(wr.n, wr.b));
        this.queue.removeHead();
        continue;
      }
      if (wr.b > 0) {
        if (size > wr.b) {
          this.send(wr.reply, statusMaxBytes(wr.n, wr.b));
          this.queue.removeHead();
          continue;
        }
        wr.b -= size;
        // Exactly used up: this message is the last one.
        if (wr.b === 0) wr.n = 1;
      }
      // Interest cannot change during one synchronous delivery pass: look once per pass.
      if (wr.interestPass !== this.pass) {
        if (!bus.hasInterest(wr.reply)) {
          this.queue.removeHead();
          continue;
        }
        wr.interestPass = this.pass;
      }
      this.queue.lastActivityMs = now;
      return this.queue.popForDelivery();
    }
    return undefined;
  }

  /** After a message went to `wr`: batch-completed status, next heartbeat. */
  delivered(wr: WaitingRequest, now: number): void {
    if (wr.n <= 0) {
      if (wr.b > 0) this.send(wr.reply, statusBatchCompleted(wr.b));
    } else if (wr.hbMs > 0) {
      wr.hbDueMs = now + wr.hbMs;
    }
  }

  /**
   * nats-server processWaiting: expires requests (408), completes no-wait requests at the end of
   * the available messages (`eos`, 404), drops those without interest, sends due heartbeats, and
   * arms the timer for the next of these.
   */
  sweep(eos: boolean): void {
    const now = this.host.clock.nowMs();
    const bus = this.host.bus;
    let next = 0;
    this.queue.sweep((wr) => {
      const expired = wr.expiresMs > 0 && now >= wr.expiresMs;
      if ((eos && wr.noWait) || expired) {
        if (expired) {
          this.send(wr.reply, statusRequestTimeout(wr.n, wr.b));
          return false;
        }
        if (wr.expiresMs === 0 || wr.d > 0) {
          this.send(wr.reply, STATUS_NO_MESSAGES);
          return false;
        }
      }
      if (!bus.hasInterest(wr.reply)) return false;
      if (wr.hbDueMs > 0) {
        if (now >= wr.hbDueMs) {
          const [d, s] = this.host.lastSequences();
          this.send(wr.reply, statusIdleHeartbeat(d, s, ''));
          wr.hbDueMs = now + wr.hbMs;
        }
        if (next === 0 || wr.hbDueMs < next) next = wr.hbDueMs;
      }
      if (wr.expiresMs > 0 && (next === 0 || wr.expiresMs < next)) next = wr.expiresMs;
      return true;
    });
    this.arm(next, now);
  }

  private arm(dueMs: number, now: number): void {
    if (dueMs === 0) return;
    if (this.timer !== null && this.timerDueMs <= dueMs) return;
    this.timer?.cancel();
    this.timerDueMs = dueMs;
    this.timer = this.host.clock.setTimeout(this.onTimer, Math.max(1, dueMs - now));
  }

  /** Consumer deleted (409 Consumer Deleted to every waiting request) or stopped (silently). */
  close(deleted: boolean): void {
    this.timer?.cancel();
    this.timer = null;
    for (const wr of this.queue.drain()) if (deleted) this.send(wr.reply, STATUS_CONSUMER_DELETED);
  }
}
