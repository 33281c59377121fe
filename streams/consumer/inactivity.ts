// Reaping consumers that nobody uses (nats-server deleteNotActive): ephemerals always (5 s by
// default), durables only with an inactive_threshold.
//
// - push: the countdown runs while nobody listens on the deliver subject; interest stops it and
//   ack activity restarts it;
// - pull: the countdown runs all the time and starts over with every request, delivery and ack;
//   when it ends, queued requests that still have a listener keep the consumer alive, and so do
//   delivered messages whose ack wait has not passed yet (the client may still be working).

import type { Clock, TimerHandle } from '../../runtime/clock.ts';

export interface InactivityHost {
  readonly clock: Clock;
  readonly isPush: boolean;
  /** Push: somebody listens on the deliver subject (re-read now). */
  hasInterest(): boolean;
  /** Pull: last request, delivery or ack, epoch ms. */
  lastActiveMs(): number;
  /** Pull: expire dead requests and count those left. */
  liveRequests(): number;
  /** Latest time (epoch ms) a delivered, unacknowledged message may still be acknowledged; 0 if none. */
  lastAckDeadlineMs(): number;
  /** The threshold passed: delete the consumer. */
  expired(): void;
}

export class InactivityReaper {
  private thresholdMs = 0;
  private timer: TimerHandle | null = null;
  private readonly host: InactivityHost;
  private readonly onTimer = (): void => this.check();

  constructor(host: InactivityHost) {
    this.host = host;
  }

  /** Starts (or, with 0, stops) watching; `idle` says whether the countdown should run now. */
  configure(thresholdMs: number, idle: boolean): void {
    this.thresholdMs = thresholdMs;
    this.stop();
    if (thresholdMs > 0 && idle) this.arm(thresholdMs);
  }

  /** Push: interest appeared (stop the countdown) or went away (start it). */
  interestChanged(active: boolean): void {
    if (active) this.stop();
    else if (this.thresholdMs > 0 && this.timer === null) this.arm(this.thresholdMs);
  }

  /** Ack activity: a running push countdown starts over (nats-server suppressDeletion). */
  touched(): void {
    if (this.host.isPush && this.timer !== null) this.arm(this.thresholdMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private arm(ms: number): void {
    this.timer?.cancel();
    this.timer = this.host.clock.setTimeout(this.onTimer, Math.max(1, ms));
  }

  private check(): void {
    this.timer = null;
    const h = this.host;
    if (this.thresholdMs <= 0) return;
    if (h.isPush) {
      if (!h.hasInterest()) h.expired();
      return;
    }
    const now = h.clock.nowMs();
    const idle = now - h.lastActiveMs();
    if (idle < this.thresholdMs) return this.arm(this.thresholdMs - idle);
    if (h.liveRequests() > 0) return this.arm(this.thresholdMs);
    const deadline = h.lastAckDeadlineMs();
    if (deadline > 0 && deadline + this.thresholdMs > now) return this.arm(deadline + this.thresholdMs - now);
    h.expired();
  }
}
