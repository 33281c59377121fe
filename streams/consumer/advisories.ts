// Consumer advisories, as nats-server publishes them (server/jetstream_events.go): JSON events on
// $JS.EVENT.ADVISORY.CONSUMER.<KIND>.<stream>.<consumer>. Like nats-server, an advisory is only
// built when somebody listens on its subject.

import type { Clock } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { MessageBus } from '../bus.ts';
import { formatTimeNs } from '../time.ts';

const PREFIX = '$JS.EVENT.ADVISORY.CONSUMER';
const TYPE_PREFIX = 'io.nats.jetstream.advisory.v1.';

export class Advisories {
  private readonly bus: MessageBus;
  private readonly clock: Clock;
  private readonly stream: string;
  private readonly consumer: string;
  private readonly domain: string;

  constructor(bus: MessageBus, clock: Clock, stream: string, consumer: string, domain = '') {
    this.bus = bus;
    this.clock = clock;
    this.stream = stream;
    this.consumer = consumer;
    this.domain = domain;
  }

  private send(kind: string, type: string, fields: Record<string, unknown>): void {
    const subject = `${PREFIX}.${kind}.${this.stream}.${this.consumer}`;
    if (!this.bus.hasInterest(subject)) return;
    const event = {
      type: TYPE_PREFIX + type,
      id: newToken(22),
      timestamp: formatTimeNs(this.clock.epochNs()),
      stream: this.stream,
      consumer: this.consumer,
      ...fields,
      // nats-server names the JetStream domain when there is one (omitempty).
      ...(this.domain !== '' ? { domain: this.domain } : {}),
    };
    this.bus.publish(subject, '', null, Buffer.from(JSON.stringify(event), 'utf8'));
  }

  /** A message reached max_deliver and will not be redelivered. */
  maxDeliveries(streamSeq: number, deliveries: number): void {
    this.send('MAX_DELIVERIES', 'max_deliver', { stream_seq: streamSeq, deliveries });
  }

  nak(consumerSeq: number, streamSeq: number, deliveries: number): void {
    this.send('MSG_NAKED', 'nak', { consumer_seq: consumerSeq, stream_seq: streamSeq, deliveries });
  }

  terminated(consumerSeq: number, streamSeq: number, deliveries: number, reason: string): void {
    const fields: Record<string, unknown> = { consumer_seq: consumerSeq, stream_seq: streamSeq, deliveries };
    if (reason !== '') fields.reason = reason;
    this.send('MSG_TERMINATED', 'terminated', fields);
  }

  created(): void {
    this.send('CREATED', 'consumer_action', { action: 'create' });
  }

  deleted(): void {
    this.send('DELETED', 'consumer_action', { action: 'delete' });
  }
}
