// Routing: subject trie + match cache -> fan-out to plain subscribers and one member of each
// queue group. Knows nothing about sockets; delivery goes through MessageTarget.

import { SubjectTrie } from '../../protocol/subject-trie.ts';
import { isValidSubject } from '../../protocol/subject.ts';
import type { Rng } from '../../runtime/rng.ts';
import { MatchCache, splitMatches, type MatchResult, type QueueGroup } from './match-cache.ts';
import { LinkKind, type MessageTarget, type RouteTarget, type Subscription } from './subscription.ts';

/**
 * What one fan-out found besides its delivery count, for the publisher that asked: a congested
 * target it delivered to (the last one), so the publisher can pause until that target drains.
 * The publisher owns the report and reuses it, so the message path allocates nothing for it;
 * the router resets it at the start of every publish that is given one.
 */
export class FanOutReport {
  congested: MessageTarget | undefined = undefined;
}

/**
 * Subjects that are published to about once: request reply inboxes (PubAcks, API responses,
 * replies) and JetStream ack subjects (one per delivered message). Caching them would only churn
 * the cache and evict the hot subjects (measured ~10 % CPU per JetStream publish, and the
 * difference between 0.6x and 0.95x of nats-server on js-consume). They are still matched
 * exactly, just not remembered.
 */
function isSingleUseSubject(subject: string): boolean {
  const c = subject.charCodeAt(0);
  // _R_: the reply subjects of requests that crossed a service import (server/accounts/responses.ts).
  if (c === 0x5f /* _ */) return subject.startsWith('_INBOX.') || subject.startsWith('_R_.');
  if (c === 0x24 /* $ */) return subject.startsWith('$JS.ACK.');
  return false;
}

const NO_QUEUES: readonly QueueGroup[] = [];
const NO_NAMES: readonly string[] = [];

/** Stands for "a route" when deliverFromRoute is not told which one (passesOn needs only the kind). */
const ANY_ROUTE: RouteTarget = {
  kind: LinkKind.Route,
  id: 0,
  congested: false,
  holdProducer: () => {},
  deliverMsg: () => {},
  subscriptionExpired: () => {},
  forward: () => {},
};

/** Records that `route` was picked for queue group `name` (the map is made on the first pick). */
function pickedFor(picked: Map<RouteTarget, string[]> | null, route: RouteTarget, name: string): Map<RouteTarget, string[]> {
  const map = picked ?? new Map<RouteTarget, string[]>();
  const names = map.get(route);
  if (names === undefined) map.set(route, [name]);
  else names.push(name);
  return map;
}

function groupNamed(groups: readonly QueueGroup[], name: string): QueueGroup | undefined {
  for (let i = 0; i < groups.length; i++) if (groups[i]!.name === name) return groups[i];
  return undefined;
}

/** The account of connections given no other; routes name the account on the wire. */
export { GLOBAL_ACCOUNT } from '../accounts/config.ts';
import { GLOBAL_ACCOUNT } from '../accounts/config.ts';
import { ORIGIN_ONLY_TARGET_ID } from '../accounts/bridge.ts';

/** Told when this server's own interest in a subject (and queue) is added or removed. */
export interface LocalInterestListener {
  localInterest(account: string, sub: Subscription, added: boolean): void;
}

/**
 * Interest the cluster announces as this server's own: its local subscriptions and those of the
 * leaf nodes that dialled it (to its peers a hub's edges look like its clients).
 */
export function isClusterInterest(sub: Subscription): boolean {
  return sub.route === null || sub.route.kind === LinkKind.LeafAccepted;
}

/**
 * Whether a message that arrived over `source` goes on to `target` (docs/leafnodes.md): never back
 * where it came from; from a route only to edges attached here (one hop in the mesh); from an edge
 * to routes and other leaf links; from this server's hub only to leaf links, not into the cluster.
 */
export function passesOn(source: RouteTarget, target: RouteTarget): boolean {
  if (target === source) return false;
  if (target.kind === LinkKind.Route) return source.kind === LinkKind.LeafAccepted;
  return source.kind !== LinkKind.Route || target.kind === LinkKind.LeafAccepted;
}

export class Router {
  /** The account whose subject space this router is; routes key interest by it. */
  readonly account: string;
  private readonly trie = new SubjectTrie<Subscription>();
  private readonly cache = new MatchCache();
  private readonly rng: Rng;
  /** The cluster, when there is one: it propagates this server's interest to the peers. */
  interestListener: LocalInterestListener | null = null;
  /** The leaf nodes, when there are any: told of every subscription, remote ones included. */
  leafInterestListener: LocalInterestListener | null = null;
  /** Messages handed to targets since start (for monitoring). */
  deliveredMsgs = 0;
  deliveredBytes = 0;
  /**
   * While a message routed by one subject but shown with another (publishAs, a routed JetStream
   * delivery) is being delivered: the routing subject, else ''. Targets only see the shown one;
   * the account bridges need both (an import of a consumer's deliver or reply subject).
   */
  routedBy = '';
  /** Subscriptions added and removed since start (/subsz's num_inserts, num_removes). */
  inserts = 0;
  removes = 0;

  constructor(rng: Rng, account = GLOBAL_ACCOUNT) {
    this.rng = rng;
    this.account = account;
  }

  get subscriptionCount(): number {
    return this.trie.size;
  }

  subscribe(sub: Subscription): void {
    this.trie.insert(sub.subject, sub);
    this.inserts++;
    if (isClusterInterest(sub)) this.interestListener?.localInterest(this.account, sub, true);
    this.leafInterestListener?.localInterest(this.account, sub, true);
  }

  unsubscribe(sub: Subscription): void {
    if (sub.closed) return;
    sub.closed = true;
    this.trie.remove(sub.subject, sub);
    this.removes++;
    if (isClusterInterest(sub)) this.interestListener?.localInterest(this.account, sub, false);
    this.leafInterestListener?.localInterest(this.account, sub, false);
  }

  /** Every subscription of this server's own (for a new route's full interest set). */
  *localSubscriptions(): Iterable<Subscription> {
    for (const sub of this.trie.values()) if (sub.route === null && !sub.closed) yield sub;
  }

  /** Every live subscription, remote ones included (a new leaf link's full interest set). */
  *allSubscriptions(): Iterable<Subscription> {
    for (const sub of this.trie.values()) if (!sub.closed) yield sub;
  }

  /**
   * The match cache as /subsz shows it: its entries and how many subscriptions (or peers) their
   * subjects fan out to. Walks the cache, so it is for monitoring requests, not the publish path.
   */
  matchCacheStats(): { entries: number; maxFanout: number; avgFanout: number } {
    let max = 0;
    let sum = 0;
    let n = 0;
    for (const r of this.cache.results()) {
      const fanout = r.plain.length + r.queues.length + r.routes.length;
      if (fanout > max) max = fanout;
      sum += fanout;
      n++;
    }
    return { entries: n, maxFanout: max, avgFanout: n === 0 ? 0 : sum / n };
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

  /** A single-use subject's match, not remembered (see isSingleUseSubject); no subject bytes. */
  private matchOnce(subject: string): MatchResult {
    const publishable = isValidSubject(subject);
    return splitMatches(publishable ? this.trie.match(subject) : [], null, publishable);
  }

  /**
   * Delivers a published message to every plain subscriber and one member of each queue group,
   * here or, once per peer, on the servers of the cluster that have interest.
   * `noEchoId` is the publisher's connection id when it asked for echo:false, else -1.
   * Returns how many subscriptions (or peers) received it, or -1 when the subject is not
   * publishable; a congested receiver is written into `report` when one is given.
   */
  publish(subject: string, reply: string, hdrLen: number, msg: Buffer, noEchoId: number, report: FanOutReport | null = null): number {
    if (report !== null) report.congested = undefined;
    if (isSingleUseSubject(subject)) return this.publishOnce(subject, reply, hdrLen, msg, noEchoId, report);
    const result = this.match(subject);
    if (!result.publishable) return -1;
    if (result.remote) return this.fanOutClustered(result, subject, '', reply, hdrLen, msg, noEchoId, report);
    return this.fanOut(result.plain, result.queues, result.subjectBytes, subject, reply, hdrLen, msg, noEchoId, report);
  }

  /**
   * A single-use subject: matched without the cache (no lookup, no entry) and, in the usual case
   * of no queue group and no peer among the matches, delivered straight from the trie's answer
   * without building a MatchResult or the subject's bytes (targets encode the string themselves).
   */
  private publishOnce(subject: string, reply: string, hdrLen: number, msg: Buffer, noEchoId: number, report: FanOutReport | null): number {
    if (!isValidSubject(subject)) return -1;
    const matches = this.trie.match(subject);
    for (let i = 0; i < matches.length; i++) {
      const m = matches[i]!;
      if (m.queue !== '' || m.route !== null) {
        const result = splitMatches(matches, null, true);
        if (result.remote) return this.fanOutClustered(result, subject, '', reply, hdrLen, msg, noEchoId, report);
        return this.fanOut(result.plain, result.queues, null, subject, reply, hdrLen, msg, noEchoId, report);
      }
    }
    return this.fanOut(matches, NO_QUEUES, null, subject, reply, hdrLen, msg, noEchoId, report);
  }

  /**
   * Routes by `deliverSubject` while the MSG line carries `subject` (nats-server's `pa.deliver`):
   * how JetStream hands a stored message to a consumer's inbox with the message's own subject.
   * The deliver subject is cached even when it is an inbox: a pull request's inbox receives a
   * whole batch.
   */
  publishAs(deliverSubject: string, subject: string, reply: string, hdrLen: number, msg: Buffer): number {
    const result = this.match(deliverSubject);
    if (!result.publishable) return -1;
    const outer = this.routedBy;
    this.routedBy = deliverSubject;
    try {
      if (result.remote) return this.fanOutClustered(result, deliverSubject, subject, reply, hdrLen, msg, -1, null);
      return this.fanOut(result.plain, result.queues, null, subject, reply, hdrLen, msg, -1, null);
    } finally {
      this.routedBy = outer;
    }
  }

  /**
   * A message that came from a peer: delivered to this server's plain subscribers and to one
   * local member of each queue group the peer picked us for. Never forwarded to another route:
   * the mesh is full, so the publisher's server already sent it to every peer with interest (one
   * hop); edges attached here get it (see deliverFromLink).
   */
  deliverFromRoute(subject: string, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): number {
    return this.deliverFromLink(null, subject, deliverAs, reply, queues, hdrLen, msg);
  }

  /**
   * A message that came over a route or a leaf connection (`source`; null = some route): local
   * plain subscribers, the links it passes on to (passesOn) with interest, and for each queue group
   * the sender picked us for, a local member, or else one link with members it may pass on to.
   */
  deliverFromLink(
    source: RouteTarget | null,
    subject: string,
    deliverAs: string,
    reply: string,
    queues: readonly string[],
    hdrLen: number,
    msg: Buffer,
  ): number {
    if (deliverAs === '') return this.deliverLinked(source, subject, deliverAs, reply, queues, hdrLen, msg);
    const outer = this.routedBy;
    this.routedBy = subject;
    try {
      return this.deliverLinked(source, subject, deliverAs, reply, queues, hdrLen, msg);
    } finally {
      this.routedBy = outer;
    }
  }

  private deliverLinked(
    source: RouteTarget | null,
    subject: string,
    deliverAs: string,
    reply: string,
    queues: readonly string[],
    hdrLen: number,
    msg: Buffer,
  ): number {
    // PubAcks and replies crossing the cluster are single-use too: matched, not remembered.
    const result = isSingleUseSubject(subject) ? this.matchOnce(subject) : this.match(subject);
    if (!result.publishable) return -1;
    const shown = deliverAs === '' ? subject : deliverAs;
    const subjectBytes = deliverAs === '' ? result.subjectBytes : null;
    const from = source ?? ANY_ROUTE;
    // A routed message skips the imports (as if their bridge had published it with echo off): the
    // server it was published on ran them already (server/accounts/bridge.ts).
    const skip = from.kind === LinkKind.Route ? ORIGIN_ONLY_TARGET_ID : -1;
    let delivered = this.fanOut(result.plain, NO_QUEUES, subjectBytes, shown, reply, hdrLen, msg, skip, null);
    let picked: Map<RouteTarget, string[]> | null = null;
    for (let q = 0; q < queues.length; q++) {
      const group = groupNamed(result.queues, queues[q]!);
      if (group === undefined) continue;
      const sub = this.pickMember(group.members, skip);
      if (sub !== undefined) {
        this.deliver(sub, subjectBytes, shown, reply, hdrLen, msg);
        delivered++;
        continue;
      }
      const remote = this.pickRemote(group.remotes, from);
      if (remote !== undefined) picked = pickedFor(picked, remote.route!, group.name);
    }
    return delivered + this.forwardToLinks(result, subject, deliverAs, reply, hdrLen, msg, picked, from, null);
  }

  private fanOut(
    plain: readonly Subscription[],
    queues: readonly QueueGroup[],
    subjectBytes: Buffer | null,
    subject: string,
    reply: string,
    hdrLen: number,
    msg: Buffer,
    noEchoId: number,
    report: FanOutReport | null,
  ): number {
    let delivered = 0;
    for (let i = 0; i < plain.length; i++) {
      const sub = plain[i]!;
      if (sub.closed || sub.target.id === noEchoId) continue;
      if (this.deliver(sub, subjectBytes, subject, reply, hdrLen, msg) && report !== null) report.congested = sub.target;
      delivered++;
    }
    for (let g = 0; g < queues.length; g++) {
      const sub = this.pickMember(queues[g]!.members, noEchoId);
      if (sub === undefined) continue;
      if (this.deliver(sub, subjectBytes, subject, reply, hdrLen, msg) && report !== null) report.congested = sub.target;
      delivered++;
    }
    return delivered;
  }

  /**
   * The fan-out when other servers have interest: local plain subscribers, each queue group to a
   * local member when it has one (local members are preferred, as nats-server does) or else to
   * one peer picked by its member count, and each interested peer sent the message once, with
   * the names of the groups it was picked for.
   */
  private fanOutClustered(
    result: MatchResult,
    subject: string,
    deliverAs: string,
    reply: string,
    hdrLen: number,
    msg: Buffer,
    noEchoId: number,
    report: FanOutReport | null,
  ): number {
    const shown = deliverAs === '' ? subject : deliverAs;
    const subjectBytes = deliverAs === '' ? result.subjectBytes : null;
    let delivered = this.fanOut(result.plain, NO_QUEUES, subjectBytes, shown, reply, hdrLen, msg, noEchoId, report);
    let picked: Map<RouteTarget, string[]> | null = null;
    const queues = result.queues;
    for (let g = 0; g < queues.length; g++) {
      const group = queues[g]!;
      const sub = this.pickMember(group.members, noEchoId);
      if (sub !== undefined) {
        if (this.deliver(sub, subjectBytes, shown, reply, hdrLen, msg) && report !== null) report.congested = sub.target;
        delivered++;
        continue;
      }
      const remote = this.pickRemote(group.remotes, null);
      if (remote !== undefined) picked = pickedFor(picked, remote.route!, group.name);
    }
    return delivered + this.forwardToLinks(result, subject, deliverAs, reply, hdrLen, msg, picked, null, report);
  }

  /**
   * Sends the message once to each link with plain interest (for a message that arrived over
   * `from`, only those it passes on to) and to each link picked for queue groups, with the names
   * of its groups. Returns how many links got it.
   */
  private forwardToLinks(
    result: MatchResult,
    subject: string,
    deliverAs: string,
    reply: string,
    hdrLen: number,
    msg: Buffer,
    picked: Map<RouteTarget, string[]> | null,
    from: RouteTarget | null,
    report: FanOutReport | null,
  ): number {
    let sent = 0;
    const routes = result.routes;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      let names = NO_NAMES;
      if (picked !== null) {
        names = picked.get(route) ?? NO_NAMES;
        picked.delete(route);
      }
      if (names === NO_NAMES && from !== null && !passesOn(from, route)) continue;
      if (this.forward(route, subject, result.subjectBytes, deliverAs, reply, names, hdrLen, msg) && report !== null) report.congested = route;
      sent++;
    }
    if (picked !== null) {
      for (const [route, names] of picked) {
        if (this.forward(route, subject, result.subjectBytes, deliverAs, reply, names, hdrLen, msg) && report !== null) report.congested = route;
        sent++;
      }
    }
    return sent;
  }

  /** The first live subscription of `targetId` matching `subject` (for no-responders replies). */
  findSubscriptionOf(targetId: number, subject: string): Subscription | undefined {
    const { plain, queues } = this.match(subject);
    for (const sub of plain) if (!sub.closed && sub.target.id === targetId) return sub;
    for (const group of queues) for (const sub of group.members) if (!sub.closed && sub.target.id === targetId) return sub;
    return undefined;
  }

  private pickMember(members: readonly Subscription[], noEchoId: number): Subscription | undefined {
    const n = members.length;
    if (n === 0) return undefined;
    const start = n === 1 ? 0 : this.rng.int(n);
    for (let k = 0; k < n; k++) {
      const sub = members[(start + k) % n]!;
      if (!sub.closed && sub.target.id !== noEchoId) return sub;
    }
    return undefined;
  }

  /**
   * A peer for a queue group, chosen with probability proportional to its member count; for a
   * message that arrived over `from`, only among the links it may pass on to.
   */
  private pickRemote(remotes: readonly Subscription[], from: RouteTarget | null): Subscription | undefined {
    let total = 0;
    for (let i = 0; i < remotes.length; i++) {
      const r = remotes[i]!;
      if (!r.closed && (from === null || passesOn(from, r.route!))) total += r.weight;
    }
    if (total === 0) return undefined;
    let at = this.rng.int(total);
    for (let i = 0; i < remotes.length; i++) {
      const r = remotes[i]!;
      if (r.closed || (from !== null && !passesOn(from, r.route!))) continue;
      if (at < r.weight) return r;
      at -= r.weight;
    }
    return undefined;
  }

  /** `subjectBytes`: the routing subject as UTF-8 when the match result has it (cached subjects). */
  private forward(
    route: RouteTarget,
    subject: string,
    subjectBytes: Buffer | null,
    deliverAs: string,
    reply: string,
    queues: readonly string[],
    hdrLen: number,
    msg: Buffer,
  ): boolean {
    this.deliveredMsgs++;
    this.deliveredBytes += msg.length;
    route.forward(this.account, subject, subjectBytes, deliverAs, reply, queues, hdrLen, msg);
    return route.congested;
  }

  /** Hands one message to `sub`'s target; returns whether that target is now congested. */
  private deliver(sub: Subscription, subjectBytes: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): boolean {
    this.deliveredMsgs++;
    this.deliveredBytes += msg.length;
    sub.delivered++;
    const target = sub.target;
    target.deliverMsg(sub, subjectBytes, subject, reply, hdrLen, msg);
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.unsubscribe(sub);
      target.subscriptionExpired(sub);
    }
    return target.congested;
  }
}
