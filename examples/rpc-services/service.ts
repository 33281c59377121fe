// One instance of the pricing service: answers `rpc.pricing.quote` requests as a member of the
// `pricing` queue group, so every request goes to exactly one running instance. Each instance
// has its own connection, as separate processes would.

import { connect, JSONCodec, type Msg, type NatsConnection } from '../../client/index.ts';

export const QUOTE_SUBJECT = 'rpc.pricing.quote';
export const QUEUE_GROUP = 'pricing';

export interface QuoteRequest {
  sku: string;
}

export interface QuoteReply {
  sku: string;
  priceCents: number;
  /** The instance that answered: shows the load balancing. */
  servedBy: string;
}

export interface ErrorReply {
  error: string;
  servedBy: string;
}

export interface ServiceOptions {
  /** Name of this instance, returned in every reply. */
  instance: string;
  /**
   * Fault injection for the demo: leave every Nth request unanswered (a stalled instance, a
   * crash mid-request). 0 = answer everything.
   */
  dropEvery?: number;
}

export interface ServiceInstance {
  readonly instance: string;
  /** Requests answered so far. */
  handled(): number;
  /** Requests deliberately left unanswered (dropEvery). */
  dropped(): number;
  /** Answer what already arrived, leave the queue group, close the connection. */
  stop(): Promise<void>;
}

const quotes = JSONCodec<QuoteRequest>();
const replies = JSONCodec<QuoteReply | ErrorReply>();

/** A made-up but stable price: the same SKU costs the same on every instance. */
export function priceOf(sku: string): number {
  let h = 0;
  for (let i = 0; i < sku.length; i++) h = (h * 31 + sku.charCodeAt(i)) >>> 0;
  return 100 + (h % 9900);
}

export async function startService(url: string, opts: ServiceOptions): Promise<ServiceInstance> {
  const nc: NatsConnection = await connect({ servers: url, name: `pricing-${opts.instance}` });
  const dropEvery = opts.dropEvery ?? 0;
  let received = 0;
  let handled = 0;
  let dropped = 0;

  const answer = (msg: Msg): void => {
    received++;
    if (dropEvery > 0 && received % dropEvery === 0) {
      dropped++;
      return;
    }
    let req: QuoteRequest;
    try {
      req = quotes.decode(msg.data);
    } catch {
      msg.respond(replies.encode({ error: 'request is not JSON', servedBy: opts.instance }));
      return;
    }
    if (typeof req !== 'object' || req === null || typeof req.sku !== 'string' || req.sku === '') {
      msg.respond(replies.encode({ error: 'sku is required', servedBy: opts.instance }));
      return;
    }
    handled++;
    msg.respond(replies.encode({ sku: req.sku, priceCents: priceOf(req.sku), servedBy: opts.instance }));
  };

  nc.subscribe(QUOTE_SUBJECT, { queue: QUEUE_GROUP, callback: answer });
  // The subscription is registered at the server once flush() returns: no request is missed.
  await nc.flush();
  return {
    instance: opts.instance,
    handled: () => handled,
    dropped: () => dropped,
    stop: () => nc.drain(),
  };
}
