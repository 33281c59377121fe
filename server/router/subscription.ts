// A subscription: one SUB of one connection (or of an internal handler such as $JS.API).

/** A publisher paused while a congested target catches up (see ClientConnection.stallOn). */
export interface StalledProducer {
  /** Resumes reading from the producer; idempotent. */
  unstall(): void;
}

/** The producers a congested target holds paused; all released at once when it drains or closes. */
export class StalledProducers {
  private list: StalledProducer[] = [];

  hold(producer: StalledProducer): void {
    this.list.push(producer);
  }

  releaseAll(): void {
    if (this.list.length === 0) return;
    const producers = this.list;
    this.list = [];
    for (const p of producers) p.unstall();
  }
}

/** Whoever receives the messages of a subscription: a client connection or an internal handler. */
export interface MessageTarget {
  /** Connection id; compared with the publisher's id to honour echo:false. */
  readonly id: number;
  /**
   * True while the target's queued outbound bytes are past the stall threshold: publishers that
   * deliver to it pause briefly so it can catch up (see ClientConnection).
   */
  readonly congested: boolean;
  /**
   * Keeps `producer` paused until this target drains (or closes), then calls its unstall(). Only
   * asked of a target that reported itself congested.
   */
  holdProducer(producer: StalledProducer): void;
  /**
   * Delivers one message matched by `sub`. The Buffers are views valid only during the call.
   * `msg` holds `hdrLen` header bytes followed by the payload. `subjectBytes` is `subject` as
   * bytes when the router has them (cached subjects), else null.
   */
  deliverMsg(sub: Subscription, subjectBytes: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): void;
  /** Called by the router when `sub` reached its UNSUB max and was removed from the router. */
  subscriptionExpired(sub: Subscription): void;
}

/**
 * What kind of link a RouteTarget is: a cluster route, or a leaf connection that another server
 * dialled to this one (this server is its hub), or one this server dialled (to its hub). The kind
 * decides where interest and messages learnt over the link may go next (docs/leafnodes.md).
 */
export const LinkKind = { Route: 0, LeafAccepted: 1, LeafDialled: 2 } as const;
export type LinkKind = (typeof LinkKind)[keyof typeof LinkKind];

/** A link to another server (route or leaf): where messages for that server's interest go. */
export interface RouteTarget extends MessageTarget {
  readonly kind: LinkKind;
  /**
   * Sends one message to the peer, once, whatever number of its subscriptions match. `queues` names
   * the queue groups the peer was picked for (it delivers to one of its members of each).
   * `deliverAs` is the subject MSG lines show when it differs from the routing subject ('' = same).
   */
  forward(account: string, subject: string, subjectBytes: Buffer | null, deliverAs: string, reply: string, queues: readonly string[], hdrLen: number, msg: Buffer): void;
}

export class Subscription {
  readonly target: MessageTarget;
  readonly subject: string;
  /** Queue group name, '' for a plain subscription. */
  readonly queue: string;
  readonly sid: string;
  /** The sid as wire bytes, computed once so MSG lines are copied, never formatted. */
  readonly sidBytes: Buffer;
  /** Auto-unsubscribe after this many deliveries in total; -1 = unlimited. */
  max: number;
  delivered: number;
  closed: boolean;
  /** Interest of another server (learned over `route`), or null for this server's own. */
  readonly route: RouteTarget | null;
  /** Queue interest of another server: how many members it has (weights the pick between peers). */
  weight: number;

  constructor(target: MessageTarget, subject: string, queue: string, sid: string, route: RouteTarget | null = null, weight = 1) {
    this.target = target;
    this.route = route;
    this.weight = weight;
    this.subject = subject;
    this.queue = queue;
    this.sid = sid;
    this.sidBytes = Buffer.from(sid, 'latin1');
    this.max = -1;
    this.delivered = 0;
    this.closed = false;
  }
}
