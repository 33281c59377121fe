// How streams/ talks to the message router without importing server/: the server hands the
// JetStream layer a MessageBus. Internal subscriptions count as interest like any client's, so a
// message captured by a stream is never answered with no-responders.

/**
 * Receives one message. `hdr` is the raw NATS/1.0 header block or null; `hdr` and `data` are views
 * valid only during the call (copy to keep).
 */
export type BusHandler = (subject: string, reply: string, hdr: Buffer | null, data: Buffer) => void;

export interface BusSubscription {
  unsubscribe(): void;
}

export interface MessageBus {
  /**
   * Subscribes an internal handler to `subject` (wildcards allowed), optionally as a queue member.
   * Internal interest stays on this server unless `clusterWide`: then the other servers of a
   * cluster route matching messages here too (a replicated stream's leader, the meta leader).
   */
  subscribe(subject: string, handler: BusHandler, queue?: string, clusterWide?: boolean): BusSubscription;
  /** Publishes as the server itself (echo rules do not apply). Returns the number of receivers. */
  publish(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): number;
  /** True when at least one subscription (client or internal) matches `subject`. */
  hasInterest(subject: string): boolean;
  /**
   * Routes a message by `deliverSubject` (plain subscribers and one member of each queue group)
   * while the MSG line carries `subject`: how a consumer hands a stored message to a pull
   * request's inbox or a push consumer's deliver subject with the message's own subject
   * (nats-server's `pa.deliver`). The official clients tell data from status messages by exactly
   * this (a message whose subject is the inbox itself is a status). Returns the number of
   * receivers, or -1 when `deliverSubject` is not publishable.
   */
  publishAs(deliverSubject: string, subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): number;
}
