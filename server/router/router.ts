// Routing: subject trie + match cache -> fan-out to plain subscribers and one member of each
// queue group. Knows nothing about sockets; delivery goes through MessageTarget.

import { SubjectTrie } from '../../protocol/subject-trie.ts';
import { isValidSubject } from '../../protocol/subject.ts';
import type { Rng } from '../../runtime/rng.ts';
import { MatchCache, splitMatches, type MatchResult } from './match-cache.ts';
import type { MessageTarget, Subscription } from './subscription.ts';

/**
 * Subjects that are published to about once: request reply inboxes (PubAcks, API responses,
 * replies) and JetStream ack subjects (one per delivered message). Caching them would only churn
 * the cache and evict the hot subjects (measured ~10 % CPU per JetStream publish, and the
 * difference between 0.6x and 0.95x of nats-server on js-consume). They are still matched
 * exactly, just not remembered.
 */
function isSingleUseSubject(subject: string): boolean {
  const c = subject.charCodeAt(0);
  if (c === 0x5f /* _ */) return subject.startsWith('_INBOX.');
  if (c === 0x24 /* $ */) return subject.startsWith('$JS.ACK.');
  return false;
}

const NO_QUEUES: readonly (readonly Subscription[])[] = [];

export class Router {
  private readonly trie = new SubjectTrie<Subscription>();
  private readonly cache = new MatchCache();
  private readonly rng: Rng;
  /** Messages handed to targets since start (for monitoring). */
  deliveredMsgs = 0;
  deliveredBytes = 0;
  /** A congested target that the last publish() delivered to, or undefined. */
  lastCongested: MessageTarget | undefined = undefined;

  constructor(rng: Rng) {
    this.rng = rng;
  }

  get subscriptionCount(): number {
    return this.trie.size;
  }

  subscribe(sub: Subscription): void {
    this.trie.insert(sub.subject, sub);
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.trie.remove(sub.subject, sub);
  }

  /**
   * Subscriptions matching `subject`. A subject with wildcard tokens is routed with the tokens
   * taken literally, as nats-server does for non-pedantic clients: the official clients publish
   * to `$JS.API.CONSUMER.CREATE.<stream>.<consumer>.<filter>` with filters such as `$KV.b.>`.
   */
  match(subject: string): MatchResult {
    let result = this.cache.get(subject, this.trie.generation);
    if (result === undefined) {
      const publishable = isValidSubject(subject);
      const matches = publishable ? this.trie.match(subject) : [];
      result = splitMatches(matches, Buffer.from(subject, 'utf8'), publishable);
      this.cache.set(subject, result);
    }
    return result;
  }

  /**
   * Delivers a published message to every plain subscriber and one member of each queue group.
   * `noEchoId` is the publisher's connection id when it asked for echo:false, else -1.
   * Returns how many subscriptions received it, or -1 when the subject is not publishable.
   */
  publish(subject: string, reply: string, hdrLen: number, msg: Buffer, noEchoId: number): number {
    this.lastCongested = undefined;
    if (isSingleUseSubject(subject)) return this.publishOnce(subject, reply, hdrLen, msg, noEchoId);
    const result = this.match(subject);
    if (!result.publishable) return -1;
    return this.fanOut(result.plain, result.queues, result.subjectBytes, subject, reply, hdrLen, msg, noEchoId);
  }

  /**
   * A single-use subject: matched without the cache (no lookup, no entry) and, in the usual case
   * of no queue group among the matches, delivered straight from the trie's answer without
   * building a MatchResult or the subject's bytes (targets encode the string themselves).
   */
  private publishOnce(subject: string, reply: string, hdrLen: number, msg: Buffer, noEchoId: number): number {
    if (!isValidSubject(subject)) return -1;
    const matches = this.trie.match(subject);
    for (let i = 0; i < matches.length; i++) {
      if (matches[i]!.queue !== '') {
        const { plain, queues } = splitMatches(matches, null, true);
        return this.fanOut(plain, queues, null, subject, reply, hdrLen, msg, noEchoId);
      }
    }
    return this.fanOut(matches, NO_QUEUES, null, subject, reply, hdrLen, msg, noEchoId);
  }

  /**
   * Routes by `deliverSubject` while the MSG line carries `subject` (nats-server's `pa.deliver`):
   * how JetStream hands a stored message to a consumer's inbox with the message's own subject.
   * The deliver subject is cached even when it is an inbox: a pull request's inbox receives a
   * whole batch.
   */
  publishAs(deliverSubject: string, subject: string, reply: string, hdrLen: number, msg: Buffer): number {
    const result = this.match(deliverSubject);
    this.lastCongested = undefined;
    if (!result.publishable) return -1;
    return this.fanOut(result.plain, result.queues, null, subject, reply, hdrLen, msg, -1);
  }

  private fanOut(
    plain: readonly Subscription[],
    queues: readonly (readonly Subscription[])[],
    subjectBytes: Buffer | null,
    subject: string,
    reply: string,
    hdrLen: number,
    msg: Buffer,
    noEchoId: number,
  ): number {
    let delivered = 0;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i]!;
      if (sub.closed || sub.target.id === noEchoId) continue;
      this.deliver(sub, subjectBytes, subject, reply, hdrLen, msg);
      delivered++;
    }
    for (let g = 0; g < queues.length; g++) {
      const sub = this.pickMember(queues[g]!, noEchoId);
      if (sub === undefined) continue;
      this.deliver(sub, subjectBytes, subject, reply, hdrLen, msg);
      delivered++;
    }
    return delivered;
  }

  /** The first live subscription of `targetId` matching `subject` (for no-responders replies). */
  findSubscriptionOf(targetId: number, subject: string): Subscription | undefined {
    const { plain, queues } = this.match(subject);
    for (const sub of plain) if (!sub.closed && sub.target.id === targetId) return sub;
    for (const group of queues) for (const sub of group) if (!sub.closed && sub.target.id === targetId) return sub;
    return undefined;
  }

  private pickMember(members: readonly Subscription[], noEchoId: number): Subscription | undefined {
    const n = members.length;
    const start = n === 1 ? 0 : this.rng.int(n);
    for (let k = 0; k < n; k++) {
      const sub = members[(start + k) % n]!;
      if (!sub.closed && sub.target.id !== noEchoId) return sub;
    }
    return undefined;
  }

  private deliver(sub: Subscription, subjectBytes: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    this.deliveredMsgs++;
    this.deliveredBytes += msg.length;
    sub.delivered++;
    const target = sub.target;
    target.deliverMsg(sub, subjectBytes, subject, reply, hdrLen, msg);
    if (target.congested) this.lastCongested = target;
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.unsubscribe(sub);
      sub.target.subscriptionExpired(sub);
    }
  }
}
