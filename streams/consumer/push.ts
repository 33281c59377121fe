// Push delivery (ADR-9): flow control accounting and the flow-control request.
//
// nats-server's scheme, kept as is: a window of unacknowledged-by-flow-control bytes starts at
// 1/16 of 32 MiB. Once more than half the window is outstanding the server sends
// `NATS/1.0 100 FlowControl Request` to the deliver subject with reply `$JS.FC.<stream>.<consumer>.<rnd>`,
// and stops delivering while more than the whole window is outstanding. The client publishes an
// empty message to that reply; the window then doubles (up to 32 MiB) and the bytes covered by
// that request are released. Idle heartbeats carry `Nats-Consumer-Stalled: <reply>` while a
// request is unanswered, so a client that lost it can answer again.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import { encodeStatusBlock } from '../../protocol/headers.ts';
import type { MessageBus } from '../bus.ts';
import { statusIdleHeartbeat } from './pull.ts';

/** nats-server JsFlowControlMaxPending. */
export const FC_MAX_PENDING_BYTES = 32 * 1024 * 1024;

export const STATUS_FLOW_CONTROL = encodeStatusBlock(100, 'FlowControl Request');

/** `$JS.FC.<stream>.<consumer>.*`: the subscription for flow-control replies. */
export function fcSubscription(stream: string, consumer: string): string {
  return `$JS.FC.${stream}.${consumer}.*`;
}

export class FlowControl {
  private readonly limit: number;
  /** Current window. */
  private maxpb: number;
  /** Bytes delivered and not yet released by a flow-control reply. */
  private pbytes = 0;
  /** Bytes the outstanding request will release. */
  private fcsz = 0;
  /** Reply subject of the outstanding request ('' when none). */
  fcid = '';
  private readonly prefix: string;

  constructor(stream: string, consumer: string, limit = FC_MAX_PENDING_BYTES) {
    this.limit = limit;
    this.maxpb = Math.max(1, Math.floor(limit / 16));
    this.prefix = `$JS.FC.${stream}.${consumer}.`;
  }

  /** Delivery must pause: more than the window is outstanding. */
  get blocked(): boolean {
    return this.pbytes > this.maxpb;
  }

  /**
   * Accounts a delivery of `size` bytes. True when a flow-control request should be sent now
   * (nats-server needFlowControl).
   */
  delivered(size: number): boolean {
    this.pbytes += size;
    if (this.fcid === '' && this.pbytes > this.maxpb / 2) return true;
    if (this.fcid !== '' && this.pbytes - this.fcsz >= this.maxpb) this.fcsz += size;
    return false;
  }

  /** Starts a request; returns its reply subject. */
  request(): string {
    this.fcid = this.prefix + newToken(4);
    this.fcsz = this.pbytes;
    return this.fcid;
  }

  /** A reply arrived on `subject`. True when it answered the outstanding request. */
  replied(subject: string): boolean {
    if (subject !== this.fcid) return false;
    if (this.maxpb < this.limit) this.maxpb = Math.min(this.limit, this.maxpb * 2);
    this.pbytes = Math.max(0, this.pbytes - this.fcsz);
    this.fcid = '';
    this.fcsz = 0;
    return true;
  }

  /** Forget everything outstanding (deliver subject changed, interest came back). */
  reset(): void {
    this.pbytes = 0;
    this.fcsz = 0;
    this.fcid = '';
  }
}

// ---- the push side of a consumer ---------------------------------------------------------------

/**
 * How often a push consumer without interest on its deliver subject looks again. The bus has no
 * interest notifications; the look is a cached router match, so polling is cheap.
 */
export const INTEREST_POLL_MS = 50;

export interface PushHost {
  readonly bus: MessageBus;
  readonly clock: Clock;
  /** [last consumer seq, last stream seq] for idle heartbeats. */
  lastSequences(): [number, number];
  kick(): void;
  /** The deliver subject gained or lost interest (push_bound, inactive threshold). */
  interestChanged(active: boolean): void;
}

const EMPTY = new Uint8Array(0);

/** Delivery to a deliver subject: interest tracking, flow control and idle heartbeats. */
export class PushChannel {
  deliverSubject: string;
  /** Somebody listens on the deliver subject (ConsumerInfo.push_bound). */
  active = false;
  readonly fc: FlowControl | null;
  private readonly hbMs: number;
  private readonly host: PushHost;
  private lastSendMs = 0;
  private hbTimer: TimerHandle | null = null;
  private pollTimer: TimerHandle | null = null;
  private closed = false;

  constructor(stream: string, consumer: string, deliverSubject: string, flowControl: boolean, hbMs: number, host: PushHost) {
    this.deliverSubject = deliverSubject;
    this.fc = flowControl ? new FlowControl(stream, consumer) : null;
    this.hbMs = hbMs;
    this.host = host;
  }

  start(): void {
    this.lastSendMs = this.host.clock.nowMs();
    this.checkInterest();
    if (this.hbMs > 0) this.armHeartbeat(this.hbMs);
  }

  /** Can deliver now: somebody listens and flow control allows it. */
  ready(): boolean {
    return this.checkInterest() && (this.fc === null || !this.fc.blocked);
  }

  /** Re-reads interest; reports transitions and polls while there is none. */
  checkInterest(): boolean {
    const now = this.host.bus.hasInterest(this.deliverSubject);
    if (now !== this.active) {
      this.active = now;
      if (now) this.fc?.reset();
      this.host.interestChanged(now);
    }
    if (!now && this.pollTimer === null && !this.closed) {
      this.pollTimer = this.host.clock.setTimeout(() => {
        this.pollTimer = null;
        if (this.checkInterest()) this.host.kick();
      }, INTEREST_POLL_MS);
    }
    return now;
  }

  /** After a delivery of `size` bytes: flow-control accounting (may send a request). */
  delivered(size: number, nowMs: number): void {
    this.lastSendMs = nowMs;
    const fc = this.fc;
    if (fc !== null && fc.delivered(size)) {
      this.host.bus.publish(this.deliverSubject, fc.request(), STATUS_FLOW_CONTROL, EMPTY);
    }
  }

  /** A flow-control reply arrived on `subject`. */
  flowControlReply(subject: string): void {
    if (this.fc !== null && this.fc.replied(subject)) this.host.kick();
  }

  setDeliverSubject(subject: string): void {
    this.deliverSubject = subject;
    this.fc?.reset();
    this.checkInterest();
  }

  private armHeartbeat(delayMs: number): void {
    this.hbTimer = this.host.clock.setTimeout(() => this.heartbeat(), Math.max(1, delayMs));
  }

  /** Idle heartbeat: only when nothing was sent for a whole interval, and somebody listens. */
  private heartbeat(): void {
    this.hbTimer = null;
    if (this.closed) return;
    const now = this.host.clock.nowMs();
    const idle = now - this.lastSendMs;
    if (idle < this.hbMs) return this.armHeartbeat(this.hbMs - idle);
    if (this.checkInterest()) {
      const [d, s] = this.host.lastSequences();
      this.host.bus.publish(this.deliverSubject, '', statusIdleHeartbeat(d, s, this.fc?.fcid ?? ''), EMPTY);
      this.lastSendMs = now;
    }
    this.armHeartbeat(this.hbMs);
  }

  close(): void {
    this.closed = true;
    this.hbTimer?.cancel();
    this.hbTimer = null;
    this.pollTimer?.cancel();
    this.pollTimer = null;
  }
}
