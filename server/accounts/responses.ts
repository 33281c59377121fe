// Responses to requests that crossed into another account through a service import. The request
// reaches the exporting account with a reply subject of that account, `_R_.<prefix>.<id>`; a
// response published there is passed back to the requester's account on the original reply
// subject, then the mapping is forgotten (a singleton export's first response, a chunked export's
// empty message, or after the response threshold). One ResponseRoutes per exporting account,
// subscribed to its `_R_.<prefix>.>` and announced to the cluster: a responder on another server
// answers over the route to the server that made the mapping. nats-server's response service
// imports (accounts.go addRespServiceImport); docs/adr/0015-accounts.md.

import type { Clock } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { Router } from '../router/router.ts';
import type { Bridge } from './bridge.ts';
import type { ResponseType } from './config.ts';

/** nats-server's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD: a mapping unused this long is dropped. */
export const RESPONSE_THRESHOLD_MS = 2 * 60_000;
const REPLY_PREFIX = '_R_.';
const JS_ACK_PREFIX = '$JS.ACK.';

interface Pending {
  readonly to: Router;
  readonly reply: string;
  readonly type: ResponseType;
  /** Refreshed by every response of a stream or chunked export. */
  lastMs: number;
}

export class ResponseRoutes {
  /** `_R_.<random>.`: this account's replies on this server. */
  readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private readonly clock: Clock;
  private nextId = 1;
  private readonly unsubscribe: () => void;

  constructor(router: Router, bridge: Bridge, clock: Clock) {
    this.clock = clock;
    this.prefix = `${REPLY_PREFIX}${newToken(8)}.`;
    this.unsubscribe = bridge.subscribe(router, `${this.prefix}>`, (subject, reply, hdrLen, msg, shown) => this.respond(subject, shown, reply, hdrLen, msg));
  }

  get size(): number {
    return this.pending.size;
  }

  /** A reply subject in this account that leads back to `reply` in `to`'s account. */
  add(to: Router, reply: string, type: ResponseType): string {
    const subject = this.prefix + (this.nextId++).toString(36);
    this.pending.set(subject, { to, reply, type, lastMs: this.clock.nowMs() });
    return subject;
  }

  forget(subject: string): void {
    this.pending.delete(subject);
  }

  /** Drops mappings idle for longer than the response threshold (called periodically). */
  sweep(): void {
    const oldest = this.clock.nowMs() - RESPONSE_THRESHOLD_MS;
    for (const [subject, p] of this.pending) if (p.lastMs < oldest) this.pending.delete(subject);
  }

  close(): void {
    this.unsubscribe();
    this.pending.clear();
  }

  /**
   * A response goes back without a reply subject, except a JetStream ack subject: a message a
   * consumer in the exporting account delivers to a pull request that came through the import is
   * acknowledged there (the importer imports `$JS.ACK.>` too), as nats-server passes it.
   */
  private respond(subject: string, shown: string, reply: string, hdrLen: number, msg: Buffer): number {
    const p = this.pending.get(subject);
    if (p === undefined) return 0;
    // A singleton's first response ends it; a chunked one ends with an empty message.
    if (p.type === 'singleton' || (p.type === 'chunked' && msg.length === 0)) this.pending.delete(subject);
    else p.lastMs = this.clock.nowMs();
    // The requester sees the subject the responder showed (a consumer's stored subject), not _R_.
    const back = reply.startsWith(JS_ACK_PREFIX) ? reply : '';
    return shown === subject ? p.to.publish(p.reply, back, hdrLen, msg, -1) : p.to.publishAs(p.reply, shown, back, hdrLen, msg);
  }
}
