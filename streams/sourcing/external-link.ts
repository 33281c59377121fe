// A mirror or source whose origin lives behind another JetStream API prefix: another domain over a
// leaf node link (`external: { api: "$JS.edge1.API" }`, what a client's `domain: "edge1"` becomes).
// The origin is not in this process, so the link is built as nats-server builds every link: an
// ephemeral push consumer on the origin, created through `<api>.CONSUMER.CREATE.<origin>`, with
// AckNone, flow control and 1 s idle heartbeats, delivering to a subject of our own
// (`$JS.S.<rnd>` / `$JS.M.<rnd>`, or under `external.deliver`). The deliver subject is an internal
// subscription like any other, so its interest crosses the leaf link and the origin's server
// delivers to it.
//
// No duplicates, no gaps: each delivery's ack reply carries the origin sequence and the consumer's
// delivery sequence. A source takes exactly the next delivery sequence; a mirror the next origin
// sequence (or a later one when the delivery sequence is the next: the origin deleted the ones
// between). Anything else, a heartbeat whose Nats-Last-Consumer disagrees with what arrived, or 3 s
// without a message or heartbeat (the link or the origin's server went away), recreates the
// consumer at the origin sequence after the last one stored. Where that is after a restart is read
// from the target's own store (sourcing.ts), so the position can never disagree with the data.
// Design: docs/adr/0013-mirrors-and-sources.md, "Origins in another domain".

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { Logger } from '../../runtime/logger.ts';
import { findHeaderValue } from '../../protocol/headers.ts';
import { JsHeader, type ApiError, type ConsumerConfig } from '../../protocol/jetstream-api.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import type { SourceLink } from './source-link.ts';

/** nats-server's sourceHealthCheckInterval: the consumer's idle heartbeat and our check. */
export const HEARTBEAT_MS = 1000;
/** Silent for this long (no message, no heartbeat): the consumer is recreated. */
export const STALL_MS = 3 * HEARTBEAT_MS;
/** A create without an answer by then is given up and retried. */
const CREATE_TIMEOUT_MS = 5000;
/** nats-server's sourceConsumerRetryThreshold: consumers are not requested more often. */
const RETRY_MIN_MS = 2000;
/** nats-server's ack wait for the consumer (unused with AckNone, sent as it does). */
const ACK_WAIT_NS = 22 * 3600 * 1_000_000_000;
const CONTROL_PREFIX = 'NATS/1.0 100 ';

export interface ExternalDeps {
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** What a delivery's ack reply says (nats-server's v1 and v2 layouts). */
interface Delivery {
  consumer: string;
  dc: number;
  sseq: number;
  dseq: number;
  tsNs: bigint;
  pending: number;
}

/** `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>`, or the v2 form with domain and account hash first. */
export function parseDeliveryReply(reply: string): Delivery | undefined {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') return undefined;
  let i: number;
  if (t.length === 9) i = 3;
  else if (t.length >= 12) i = 5;
  else return undefined;
  const nums = [t[i + 1], t[i + 2], t[i + 3], t[i + 5]].map((x) => Number(x));
  if (!nums.every((n) => Number.isSafeInteger(n) && n >= 0) || !/^\d+$/.test(t[i + 4] ?? '')) return undefined;
  return { consumer: t[i]!, dc: nums[0]!, sseq: nums[1]!, dseq: nums[2]!, tsNs: BigInt(t[i + 4]!), pending: nums[3]! };
}

function isControl(hdr: Buffer | null, data: Buffer): boolean {
  return data.length === 0 && hdr !== null && hdr.length > CONTROL_PREFIX.length && hdr.toString('latin1', 0, CONTROL_PREFIX.length) === CONTROL_PREFIX;
}

export class ExternalLink {
  private readonly link: SourceLink;
  private readonly deps: ExternalDeps;
  private readonly logger: Logger;
  private readonly api: string;
  private readonly deliverPrefix: string;
  /** The current consumer's deliveries and create answer. */
  private deliverSub: BusSubscription | null = null;
  private replySub: BusSubscription | null = null;
  private deliverSubject = '';
  /** Which consumer request is current: deliveries to an earlier one's subject are ignored. */
  private attempt = 0;
  /** The current consumer's name ('' until its first delivery or its create's answer). */
  private cname = '';
  /** The last origin sequence stored (or skipped) and the last delivery sequence taken. */
  private sseq = 0;
  private dseq = 0;
  private lag = 0;
  /** Clock ms of the last message, heartbeat or answer from the origin; -1 = never. */
  private lastMs = -1;
  /** When the last create was sent (ms), and whether its answer is awaited. */
  private lastRequestMs = -Infinity;
  private creating = false;
  private createTimer: TimerHandle | null = null;
  private retryTimer: TimerHandle | null = null;
  private healthTimer: TimerHandle | null = null;
  private stopped = false;
  /** The origin's last error answer, for logs (not repeated). */
  private lastError = '';

  constructor(link: SourceLink, deps: ExternalDeps) {
    this.link = link;
    this.deps = deps;
    this.logger = deps.logger;
    const ext = link.config.external!;
    this.api = ext.api;
    this.deliverPrefix = ext.deliver ?? '';
    link.remote = { lag: () => this.lag, lastActiveMs: () => this.lastMs };
  }

  /** Starts (or restarts) following the origin after the link's position (link.nextSeq). */
  start(): void {
    this.stopped = false;
    this.sseq = Math.max(0, this.link.nextSeq - 1);
    this.healthTimer ??= this.deps.clock.setInterval(() => this.checkHealth(), HEARTBEAT_MS);
    this.setup();
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
    this.healthTimer?.cancel();
    this.healthTimer = null;
    this.retryTimer?.cancel();
    this.retryTimer = null;
    this.link.remote = null;
  }

  // ---- the consumer ------------------------------------------------------------------------

  /** Drops the current consumer's subscriptions: its deliveries are no longer taken. */
  private cancel(): void {
    this.deliverSub?.unsubscribe();
    this.replySub?.unsubscribe();
    this.deliverSub = null;
    this.replySub = null;
    this.createTimer?.cancel();
    this.createTimer = null;
    this.creating = false;
    if (this.cname !== '') {
      // Best effort: the origin would reap it once our interest is gone anyway.
      this.deps.bus.publish(`${this.api}.CONSUMER.DELETE.${this.link.originName}.${this.cname}`, '', null, Buffer.alloc(0));
    }
    this.cname = '';
  }

  /** Asks for a new consumer from the origin sequence after the last one stored. */
  private setup(): void {
    if (this.stopped) return;
    const now = this.deps.clock.nowMs();
    if (this.creating || now - this.lastRequestMs < RETRY_MIN_MS) {
      // A create in flight is answered or times out on its own: look again a retry interval on.
      this.scheduleRetry(this.creating ? RETRY_MIN_MS : Math.max(10, RETRY_MIN_MS - (now - this.lastRequestMs)));
      return;
    }
    this.cancel();
    this.lastRequestMs = now;
    const kind = this.link.kind === 'mirror' ? 'M' : 'S';
    const token = newToken(8);
    this.deliverSubject = (this.deliverPrefix !== '' ? `${this.deliverPrefix}.${kind}.${token}` : `$JS.${kind}.${token}`).replaceAll('..', '.');
    const reply = `${this.deliverSubject}.R`;
    const bus = this.deps.bus;
    const attempt = ++this.attempt;
    this.dseq = 0;
    // Subscribed before the create goes out: the consumer delivers at once, before its answer
    // (which comes after the first deliveries on the same link).
    this.deliverSub = bus.subscribe(this.deliverSubject, (subject, rep, hdr, data) => {
      if (attempt === this.attempt) this.onDelivery(subject, rep, hdr, data);
    });
    this.replySub = bus.subscribe(reply, (_s, _r, _h, data) => this.onCreated(data));
    const { subject, body } = this.createRequest();
    this.creating = true;
    this.createTimer = this.deps.clock.setTimeout(() => this.createFailed('no answer to the consumer create'), CREATE_TIMEOUT_MS);
    if (bus.publish(subject, reply, null, Buffer.from(JSON.stringify(body))) === 0) {
      // Nobody serves that API prefix now (the leaf link is down, the domain unknown).
      this.createFailed(`no responders for ${subject}`);
    }
  }

  private createRequest(): { subject: string; body: { stream_name: string; config: Partial<ConsumerConfig> & Record<string, unknown> } } {
    const cfg = this.link.config;
    const config: Partial<ConsumerConfig> & Record<string, unknown> = {
      deliver_subject: this.deliverSubject,
      deliver_policy: 'all',
      ack_policy: 'none',
      ack_wait: ACK_WAIT_NS,
      max_deliver: 1,
      idle_heartbeat: HEARTBEAT_MS * 1_000_000,
      flow_control: true,
      direct: true,
    };
    if (this.sseq > 0) {
      config.deliver_policy = 'by_start_sequence';
      config.opt_start_seq = this.sseq + 1;
    } else if (cfg.opt_start_seq !== undefined && cfg.opt_start_seq > 0) {
      config.deliver_policy = 'by_start_sequence';
      config.opt_start_seq = cfg.opt_start_seq;
    } else if (cfg.opt_start_time !== undefined) {
      config.deliver_policy = 'by_start_time';
      config.opt_start_time = cfg.opt_start_time;
    }
    const origin = this.link.originName;
    const filters = this.link.filters;
    let subject = `${this.api}.CONSUMER.CREATE.${origin}`;
    if (filters.length === 1) {
      // nats-server's form with the filter in the subject (2.9+), so the origin's account can
      // export exactly it.
      config.filter_subject = filters[0]!;
      config.name = `${this.link.kind === 'mirror' ? 'mirror' : 'src'}-${newToken(8)}`;
      subject = `${subject}.${config.name}.${filters[0]}`;
    } else if (filters.length > 1) {
      config.filter_subjects = filters;
    }
    return { subject, body: { stream_name: origin, config } };
  }

  private onCreated(data: Buffer): void {
    if (!this.creating) return;
    this.creating = false;
    this.createTimer?.cancel();
    this.createTimer = null;
    this.replySub?.unsubscribe();
    this.replySub = null;
    let answer: { error?: ApiError; name?: string; delivered?: { stream_seq?: number } };
    try {
      answer = JSON.parse(data.toString('utf8')) as typeof answer;
    } catch {
      this.createFailed('the consumer create answer is not JSON');
      return;
    }
    if (answer.error !== undefined || typeof answer.name !== 'string') {
      this.createFailed(answer.error?.description ?? 'the consumer create answer has no consumer');
      return;
    }
    this.cname = answer.name;
    this.lastMs = this.deps.clock.nowMs();
    if (this.lastError !== '') this.logger.info({ stream: this.link.target.name, origin: this.link.originName, api: this.api }, 'remote origin reachable again');
    this.lastError = '';
  }

  private createFailed(why: string): void {
    this.creating = false;
    this.createTimer?.cancel();
    this.createTimer = null;
    if (why !== this.lastError) {
      this.logger.warn({ stream: this.link.target.name, origin: this.link.originName, api: this.api, err: why }, 'cannot create the consumer on the remote origin; retrying');
      this.lastError = why;
    }
    this.cancel();
    this.scheduleRetry(RETRY_MIN_MS);
  }

  private scheduleRetry(delayMs: number): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.retryTimer = this.deps.clock.setTimeout(() => {
      this.retryTimer = null;
      this.setup();
    }, delayMs);
  }

  /** Once a second: silent for 3 s (heartbeats stopped) means the link or the origin went away. */
  private checkHealth(): void {
    if (this.stopped || this.creating || this.cname === '') return;
    if (this.deps.clock.nowMs() - this.lastMs > STALL_MS) this.setup();
  }

  // ---- deliveries --------------------------------------------------------------------------

  private onDelivery(subject: string, reply: string, hdr: Buffer | null, data: Buffer): void {
    if (this.stopped) return;
    if (isControl(hdr, data)) {
      this.lastMs = this.deps.clock.nowMs();
      this.onControl(reply, hdr!);
      return;
    }
    const d = parseDeliveryReply(reply);
    if (d === undefined || d.dc > 1) return;
    if (this.cname === '') this.cname = d.consumer;
    else if (d.consumer !== this.cname) return;
    this.lastMs = this.deps.clock.nowMs();
    if (this.link.kind === 'mirror') {
      if (d.sseq <= this.sseq) return;
      if (d.sseq !== this.sseq + 1 && d.dseq !== this.dseq + 1) {
        this.restart('a delivery is missing', d);
        return;
      }
    } else if (d.dseq !== this.dseq + 1) {
      if (d.dseq > this.dseq) this.restart('a delivery is missing', d);
      return;
    }
    this.dseq = d.dseq;
    this.sseq = d.sseq;
    this.lag = d.pending;
    this.link.beginRemoteStore();
    this.link.store(d.sseq, d.tsNs, subject, hdr, data);
    this.link.nextSeq = d.sseq + 1;
    this.link.lastActiveMs = this.lastMs;
  }

  private onControl(reply: string, hdr: Buffer): void {
    const bus = this.deps.bus;
    if (reply !== '') {
      // Flow control: answering releases the origin's window.
      bus.publish(reply, '', null, Buffer.alloc(0));
      return;
    }
    // Idle heartbeat: the consumer's last delivery must be the last one we took.
    const last = Number(findHeaderValue(hdr, JsHeader.LastConsumer) ?? '0');
    if (this.cname !== '' && last > 0 && last !== this.dseq) {
      this.restart(`the origin delivered ${last}, ${this.dseq} arrived`);
      return;
    }
    const stalled = findHeaderValue(hdr, JsHeader.ConsumerStalled);
    if (stalled !== undefined && stalled !== '') bus.publish(stalled, '', null, Buffer.alloc(0));
  }

  private restart(why: string, d?: Delivery): void {
    this.logger.debug({ stream: this.link.target.name, origin: this.link.originName, why, at: this.sseq, got: d?.sseq }, 'recreating the consumer on the remote origin');
    // Not more often than RETRY_MIN_MS: until then the current consumer's later deliveries are
    // refused by the same checks, so nothing is stored out of order.
    this.setup();
  }
}
