// JetStream for sluice/client: `jetstream(nc)` publishes with PubAck and hands out consumers;
// `jetstreamManager(nc)` (jsm) manages streams and consumers.

import type { PubAck } from '../../protocol/jetstream-api.ts';
import { MsgHeaders } from '../../protocol/headers.ts';
import type { NatsConnection, Payload } from '../connection.ts';
import { NoRespondersError } from '../errors.ts';
import { checkApiResponse, JetStreamManager, JsApi, type JetStreamOptions } from './api.ts';
import { OrderedConsumer, type OrderedConsumerOptions } from './ordered.ts';
import { PullConsumer } from './pull.ts';

export { JetStreamManager, JsApi, checkApiResponse } from './api.ts';
export type { JetStreamOptions } from './api.ts';
export { JsMsg, parseAckSubject } from './jsmsg.ts';
export type { DeliveryInfo } from './jsmsg.ts';
export { PullConsumer, ConsumerMessages } from './pull.ts';
export type { FetchOptions, ConsumeOptions } from './pull.ts';
export { OrderedConsumer, OrderedMessages } from './ordered.ts';
export type { OrderedConsumerOptions } from './ordered.ts';
export type {
  PubAck,
  StreamConfig,
  StreamInfo,
  ConsumerConfig,
  ConsumerInfo,
  DeliverPolicy,
  AckPolicy,
} from '../../protocol/jetstream-api.ts';

export interface JetStreamPublishOptions {
  /** Nats-Msg-Id: de-duplication within the stream's duplicate window. */
  msgID?: string;
  expect?: {
    streamName?: string;
    lastMsgID?: string;
    lastSequence?: number;
    /** Last sequence stored on this subject (0 = none yet). */
    lastSubjectSequence?: number;
  };
  headers?: MsgHeaders;
  timeoutMs?: number;
}

export class JetStreamClient {
  readonly nc: NatsConnection;
  readonly api: JsApi;
  private readonly opts: JetStreamOptions;

  constructor(nc: NatsConnection, opts: JetStreamOptions = {}) {
    this.nc = nc;
    this.opts = opts;
    this.api = new JsApi(nc, opts);
  }

  /** Publish into a stream and wait for its PubAck (errors: JetStreamApiError, NoRespondersError). */
  async publish(subject: string, data?: Payload, opts: JetStreamPublishOptions = {}): Promise<PubAck> {
    let h = opts.headers;
    const set = (name: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      h ??= new MsgHeaders();
      h.set(name, String(value));
    };
    set('Nats-Msg-Id', opts.msgID);
    set('Nats-Expected-Stream', opts.expect?.streamName);
    set('Nats-Expected-Last-Msg-Id', opts.expect?.lastMsgID);
    set('Nats-Expected-Last-Sequence', opts.expect?.lastSequence);
    set('Nats-Expected-Last-Subject-Sequence', opts.expect?.lastSubjectSequence);
    const r = await this.nc.request(subject, data, { headers: h, timeoutMs: opts.timeoutMs ?? this.api.timeoutMs });
    if (r.data.length === 0 && r.statusCode === 503) throw new NoRespondersError(subject);
    return checkApiResponse(r.json<PubAck & { error?: never }>());
  }

  readonly consumers = {
    /** A named (durable or ephemeral) pull consumer; checks that it exists. */
    get: async (stream: string, name: string): Promise<PullConsumer> => {
      const c = new PullConsumer(this.nc, this.api, stream, name);
      await c.info();
      return c;
    },
    /** An ordered consumer on `stream` (created lazily when consumed). */
    ordered: (stream: string, opts: OrderedConsumerOptions = {}): OrderedConsumer => new OrderedConsumer(this.nc, this.api, stream, opts),
  };

  jetstreamManager(): JetStreamManager {
    return new JetStreamManager(this.nc, this.opts);
  }
}

export function jetstream(nc: NatsConnection, opts: JetStreamOptions = {}): JetStreamClient {
  return new JetStreamClient(nc, opts);
}

export function jetstreamManager(nc: NatsConnection, opts: JetStreamOptions = {}): JetStreamManager {
  return new JetStreamManager(nc, opts);
}
