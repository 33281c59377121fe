// The server's own pseudo-connection: internal handlers (the JetStream API, stream capture,
// consumers' ack subjects) subscribe through it and it publishes on the server's behalf.

import type { BusHandler, BusSubscription, MessageBus } from '../streams/bus.ts';
import { isTransient } from '../protocol/transient-payload.ts';
import type { Router } from './router/router.ts';
import { Subscription, type MessageTarget, type StalledProducer } from './router/subscription.ts';

export class HandlerSubscription extends Subscription {
  readonly handler: BusHandler;
  /** Announced to the cluster's other servers (see MessageBus.subscribe). */
  readonly clusterWide: boolean;
  constructor(target: MessageTarget, subject: string, queue: string, sid: string, handler: BusHandler, clusterWide: boolean) {
    super(target, subject, queue, sid);
    this.handler = handler;
    this.clusterWide = clusterWide;
  }
}

/** Header block and payload as the one buffer the router delivers. */
function joinMessage(hdr: Uint8Array | null, data: Uint8Array): Buffer {
  if (hdr === null || hdr.length === 0) {
    // Stored messages already come as Buffers (views of their record): no second view per delivery.
    return data instanceof Buffer ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  const msg = Buffer.allocUnsafe(hdr.length + data.length);
  msg.set(hdr, 0);
  msg.set(data, hdr.length);
  return msg;
}

export class InternalClient implements MessageTarget, MessageBus {
  readonly id: number;
  readonly congested = false;
  private readonly router: Router;
  private readonly onHandlerError: (err: unknown, subject: string) => void;
  private nextSid = 1;

  constructor(id: number, router: Router, onHandlerError: (err: unknown, subject: string) => void) {
    this.id = id;
    this.router = router;
    this.onHandlerError = onHandlerError;
  }

  subscribe(subject: string, handler: BusHandler, queue = '', clusterWide = false): BusSubscription {
    const sub = new HandlerSubscription(this, subject, queue, String(this.nextSid++), handler, clusterWide);
    this.router.subscribe(sub);
    return { unsubscribe: () => this.router.unsubscribe(sub) };
  }

  publish(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): number {
    const hdrLen = hdr === null ? 0 : hdr.length;
    return this.router.publish(subject, reply, hdrLen, joinMessage(hdr, data), -1);
  }

  publishAs(deliverSubject: string, subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): number {
    const hdrLen = hdr === null ? 0 : hdr.length;
    return this.router.publishAs(deliverSubject, subject, reply, hdrLen, joinMessage(hdr, data));
  }

  /** Internal handlers run synchronously and are never congested: nothing to wait for. */
  holdProducer(producer: StalledProducer): void {
    producer.unstall();
  }

  hasInterest(subject: string): boolean {
    const m = this.router.match(subject);
    return m.plain.length > 0 || m.queues.length > 0 || m.routes.length > 0;
  }

  deliverMsg(sub: Subscription, _subjectBytes: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    // A client's small payload arrives in a buffer the parser reuses for the next one: internal
    // handlers get bytes of their own (a view of a socket chunk, as before, would not be reused).
    if (isTransient(msg)) msg = Buffer.from(msg);
    const hdr = hdrLen > 0 ? msg.subarray(0, hdrLen) : null;
    try {
      (sub as HandlerSubscription).handler(subject, reply, hdr, hdrLen > 0 ? msg.subarray(hdrLen) : msg);
    } catch (err) {
      // A bug in one internal handler must not take the publisher's connection (or the process) down.
      this.onHandlerError(err, subject);
    }
  }

  subscriptionExpired(): void {
    // Internal subscriptions never set a max.
  }
}
