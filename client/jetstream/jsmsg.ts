// A message delivered by a JetStream consumer: the core Msg plus its delivery metadata (parsed from
// the `$JS.ACK...` reply subject) and the acknowledgement calls.

import type { MsgHeaders } from '../../protocol/headers.ts';
import type { NatsConnection } from '../connection.ts';
import { ErrorCode, NatsError } from '../errors.ts';
import type { Msg } from '../msg.ts';

export interface DeliveryInfo {
  /** '' when the server runs without a domain. */
  domain: string;
  accountHash: string;
  stream: string;
  consumer: string;
  /** 1 on first delivery. */
  deliveryCount: number;
  streamSequence: number;
  deliverySequence: number;
  /** Nanoseconds since the epoch when the message was stored. */
  timestampNanos: number;
  /** Messages left for the consumer after this one. */
  pending: number;
  redelivered: boolean;
}

/** Parse `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<cseq>.<ts>.<pending>` (v1, 9 tokens) or the v2 form. */
export function parseAckSubject(reply: string): DeliveryInfo {
  const t = reply.split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK') throw new NatsError(ErrorCode.Protocol, `not a JetStream ack subject: '${reply}'`);
  let i: number;
  let domain = '';
  let accountHash = '';
  if (t.length === 9) {
    i = 2;
  } else if (t.length >= 11) {
    domain = t[2] === '_' ? '' : t[2]!;
    accountHash = t[3]!;
    i = 4;
  } else {
    throw new NatsError(ErrorCode.Protocol, `malformed JetStream ack subject: '${reply}'`);
  }
  const deliveryCount = Number(t[i + 2]);
  return {
    domain,
    accountHash,
    stream: t[i]!,
    consumer: t[i + 1]!,
    deliveryCount,
    streamSequence: Number(t[i + 3]),
    deliverySequence: Number(t[i + 4]),
    timestampNanos: Number(t[i + 5]),
    pending: Number(t[i + 6]),
    redelivered: deliveryCount > 1,
  };
}

const ACK = new TextEncoder().encode('+ACK');
const NAK = new TextEncoder().encode('-NAK');
const WPI = new TextEncoder().encode('+WPI');
const TERM = new TextEncoder().encode('+TERM');

export class JsMsg {
  readonly msg: Msg;
  private readonly nc: NatsConnection;
  private parsed: DeliveryInfo | undefined = undefined;
  private done = false;

  constructor(msg: Msg, nc: NatsConnection) {
    this.msg = msg;
    this.nc = nc;
  }

  get subject(): string {
    return this.msg.subject;
  }
  get data(): Uint8Array {
    return this.msg.data;
  }
  get headers(): MsgHeaders | undefined {
    return this.msg.headers;
  }
  get reply(): string {
    return this.msg.reply;
  }
  get info(): DeliveryInfo {
    this.parsed ??= parseAckSubject(this.msg.reply);
    return this.parsed;
  }
  get seq(): number {
    return this.info.streamSequence;
  }
  get redelivered(): boolean {
    return this.info.redelivered;
  }
  string(): string {
    return this.msg.string();
  }
  json<T = unknown>(): T {
    return this.msg.json<T>();
  }

  /** True once ack/nak/term was sent (only the first of them is sent). */
  get isAcked(): boolean {
    return this.done;
  }

  private send(body: Uint8Array, terminal: boolean): void {
    if (this.done || this.msg.reply === '') return;
    if (terminal) this.done = true;
    this.nc.publish(this.msg.reply, body);
  }

  ack(): void {
    this.send(ACK, true);
  }

  /** Redeliver, now or after delayMs. */
  nak(delayMs?: number): void {
    if (delayMs === undefined) this.send(NAK, true);
    else this.send(new TextEncoder().encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs * 1e6) })}`), true);
  }

  /** Still working on it: restarts the ack wait. */
  working(): void {
    this.send(WPI, false);
  }

  /** Never redeliver. */
  term(reason?: string): void {
    this.send(reason === undefined ? TERM : new TextEncoder().encode(`+TERM ${reason}`), true);
  }

  /** Ack and wait until the server has processed it. */
  async ackAck(timeoutMs = 5000): Promise<boolean> {
    if (this.done || this.msg.reply === '') return false;
    this.done = true;
    await this.nc.request(this.msg.reply, ACK, { timeoutMs });
    return true;
  }
}
