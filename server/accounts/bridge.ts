// The server's own subscriptions that carry messages between accounts (imports, their responses)
// or answer for an account (JetStream not enabled). Each is a Subscription in one account's router
// whose target is a Bridge: delivering to it runs the subscription's action, which publishes into
// another account's router. docs/adr/0015-accounts.md.

import type { Router } from '../router/router.ts';
import { Subscription, type MessageTarget, type StalledProducer } from '../router/subscription.ts';

/**
 * The target id of the bridge whose subscriptions act only on messages that entered the cluster at
 * this server (a client's publish, a leaf link's, an internal one). A message forwarded by a route
 * skips them: the server it was published on ran the same import (every server of a cluster has
 * the same accounts), so running it again would deliver twice. The router skips them by treating
 * a routed message as published by this id with echo off (Router.deliverFromLink).
 */
export const ORIGIN_ONLY_TARGET_ID = -888_888;
/** The target id of the bridge whose subscriptions act on routed messages too (responses). */
export const ANY_ORIGIN_TARGET_ID = -888_889;
/**
 * An import passing a message into an account whose import passes it on (and so on) stops after
 * this many hops: the configuration refuses cycles, this bounds what it missed.
 */
const MAX_HOPS = 8;

/**
 * What a bridge subscription does with a message; returns how many receivers it reached.
 * `subject` is what the message is routed by; `shown` the subject its MSG lines show, which differs
 * for a JetStream delivery (routed by an inbox or deliver subject, showing the stored subject):
 * passed on with the router's publishAs so the receiver sees the same.
 */
export type BridgeAction = (subject: string, reply: string, hdrLen: number, msg: Buffer, shown: string) => number;

class BridgeSubscription extends Subscription {
  readonly action: BridgeAction;
  /** The router it is in: its `routedBy` names the routing subject of a delivery shown otherwise. */
  readonly router: Router;
  constructor(target: MessageTarget, router: Router, subject: string, sid: string, action: BridgeAction) {
    super(target, subject, '', sid);
    this.router = router;
    this.action = action;
  }
}

/** Publishes in `router`, showing `shown` when it differs from the routing subject. */
export function publishShown(router: Router, subject: string, shown: string, reply: string, hdrLen: number, msg: Buffer): number {
  return shown === subject ? router.publish(subject, reply, hdrLen, msg, -1) : router.publishAs(subject, shown, reply, hdrLen, msg);
}

/**
 * Requests (publishes with a reply) that a bridge passed on but that reached nobody on the other
 * side. The publishing connection resets the count before it publishes a request and subtracts it
 * from the router's delivery count after: a request that only reached imports leading nowhere
 * gets its no-responders status, as in nats-server.
 */
export class BridgeMisses {
  count = 0;
}

export class Bridge implements MessageTarget {
  readonly id: number;
  readonly congested = false;
  private readonly misses: BridgeMisses;
  private readonly onError: (err: unknown, subject: string) => void;
  private nextSid = 1;
  private hops = 0;

  constructor(id: number, misses: BridgeMisses, onError: (err: unknown, subject: string) => void) {
    this.id = id;
    this.misses = misses;
    this.onError = onError;
  }

  /** Subscribes `action` to `subject` in `router`; returns the way to undo it. */
  subscribe(router: Router, subject: string, action: BridgeAction): () => void {
    const sub = new BridgeSubscription(this, router, subject, `bridge${this.nextSid++}`, action);
    router.subscribe(sub);
    return () => router.unsubscribe(sub);
  }

  deliverMsg(sub: Subscription, _subjectBytes: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    if (this.hops >= MAX_HOPS) return;
    this.hops++;
    try {
      const b = sub as BridgeSubscription;
      const routedBy = b.router.routedBy;
      const reached = b.action(routedBy === '' ? subject : routedBy, reply, hdrLen, msg, subject);
      if (reached <= 0 && reply !== '') this.misses.count++;
    } catch (err) {
      this.onError(err, subject);
    } finally {
      this.hops--;
    }
  }

  /** Bridges run synchronously and are never congested. */
  holdProducer(producer: StalledProducer): void {
    producer.unstall();
  }

  subscriptionExpired(): void {}
}
