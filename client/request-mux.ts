// Request/reply over ONE wildcard inbox subscription per connection (`<prefix>.<nuid>.*`): each
// request publishes with reply `<prefix>.<nuid>.<token>` and waits for the message carrying its
// token. A 503 status with no payload means no responders. Created on the first request.

import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { newToken } from '../runtime/ids.ts';
import { ConnectionClosedError, ErrorCode, NatsError, NoRespondersError, TimeoutError, type PermissionsError } from './errors.ts';
import type { Msg } from './msg.ts';
import type { Subscription } from './subscription.ts';

export interface MuxHost {
  clock: Clock;
  subscribe(subject: string, callback: (m: Msg) => void): Subscription;
  publish(subject: string, payload: Uint8Array, reply: string, headers: Uint8Array | null): void;
}

class PendingRequest {
  timer: TimerHandle | undefined = undefined;
  constructor(
    readonly token: string,
    readonly subject: string,
    readonly payload: Uint8Array,
    readonly headers: Uint8Array | null,
    readonly resolve: (m: Msg) => void,
    readonly reject: (e: Error) => void,
  ) {}
}

const NO_RESPONDERS = 503;

export class RequestMux {
  private readonly host: MuxHost;
  private readonly inboxPrefix: string;
  private sub: Subscription | undefined = undefined;
  private prefix = '';
  private counter = 0;
  private readonly pending = new Map<string, PendingRequest>();
  private idle: (() => void) | undefined = undefined;

  constructor(host: MuxHost, inboxPrefix: string) {
    this.host = host;
    this.inboxPrefix = inboxPrefix;
  }

  get subscription(): Subscription | undefined {
    return this.sub;
  }

  get size(): number {
    return this.pending.size;
  }

  request(subject: string, payload: Uint8Array, headers: Uint8Array | null, timeoutMs: number): Promise<Msg> {
    if (this.sub === undefined) {
      this.prefix = `${this.inboxPrefix}.${newToken()}.`;
      this.sub = this.host.subscribe(`${this.prefix}*`, (m) => this.response(m));
    }
    const token = (this.counter++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const r = new PendingRequest(token, subject, payload, headers, resolve, reject);
      try {
        this.host.publish(subject, payload, this.prefix + token, headers);
      } catch (e) {
        reject(e as Error);
        return;
      }
      this.pending.set(token, r);
      r.timer = this.host.clock.setTimeout(() => this.settle(token, new TimeoutError('request')), timeoutMs);
    });
  }

  private response(m: Msg): void {
    const token = m.subject.slice(this.prefix.length);
    const r = this.pending.get(token);
    if (r === undefined) return;
    if (m.data.length === 0 && m.statusCode === NO_RESPONDERS) this.settle(token, new NoRespondersError(r.subject));
    else this.settle(token, m);
  }

  private settle(token: string, outcome: Msg | Error): void {
    const r = this.pending.get(token);
    if (r === undefined) return;
    this.pending.delete(token);
    r.timer?.cancel();
    if (outcome instanceof Error) r.reject(outcome);
    else r.resolve(outcome);
    if (this.pending.size === 0 && this.idle !== undefined) {
      const idle = this.idle;
      this.idle = undefined;
      idle();
    }
  }

  /** The connection was lost: fail pending requests, or keep them to resend after reconnect. */
  disconnected(retry: boolean): void {
    if (retry) return;
    for (const token of [...this.pending.keys()]) {
      this.settle(token, new NatsError(ErrorCode.Disconnected, 'connection lost while the request was pending'));
    }
  }

  /** Reconnected: resend the pending requests (retry mode), in the order they were made. */
  reconnected(): void {
    for (const r of this.pending.values()) {
      try {
        this.host.publish(r.subject, r.payload, this.prefix + r.token, r.headers);
      } catch (e) {
        this.settle(r.token, e as Error);
      }
    }
  }

  publishDenied(err: PermissionsError): void {
    for (const r of [...this.pending.values()]) if (r.subject === err.subject) this.settle(r.token, err);
  }

  closed(): void {
    for (const token of [...this.pending.keys()]) this.settle(token, new ConnectionClosedError());
  }

  /** Resolves when no request is pending, then drains the inbox subscription. */
  async drain(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((r) => (this.idle = r));
    await this.sub?.drain();
  }
}
