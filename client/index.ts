// sluice/client: a NATS client for Node (TCP, TLS, WebSocket) and browsers (WebSocket).

export { connect, NatsConnection } from './connection.ts';
export type { PublishOptions, RequestOptions, Payload } from './connection.ts';
export { Subscription } from './subscription.ts';
export { PreparedPublish } from './prepared.ts';
export type { SubscriptionOptions } from './subscription.ts';
export { Msg } from './msg.ts';
export type { Status, StatusType } from './status.ts';
export type { Stats } from './protocol.ts';
export type { ServerInfo } from './handshake.ts';
export type { ConnectionOptions, TlsOptions } from './options.ts';
// The time source a connection takes (`clock` option); front ends such as the CLI use it too.
export { systemClock } from '../runtime/clock.ts';
export type { Clock, TimerHandle } from '../runtime/clock.ts';
export { StringCodec, JSONCodec, MsgpackCodec } from './codecs.ts';
export type { Codec } from './codecs.ts';
export {
  ErrorCode,
  NatsError,
  TimeoutError,
  NoRespondersError,
  PermissionsError,
  AuthorizationError,
  ConnectionClosedError,
  ProtocolError,
  ServerError,
  JetStreamApiError,
} from './errors.ts';
export type { PermissionOperation } from './errors.ts';
export { MsgHeaders, HeaderStatus } from '../protocol/headers.ts';
import { MsgHeaders } from '../protocol/headers.ts';

/** A new empty header set (optionally with a status code and description). */
export function headers(code = 0, description = ''): MsgHeaders {
  return code === 0 ? new MsgHeaders() : MsgHeaders.fromStatus(code, description);
}

// JetStream and KV (also importable on their own from client/jetstream and client/kv).
export {
  jetstream,
  jetstreamManager,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  PullConsumer,
  ConsumerMessages,
  OrderedConsumer,
  OrderedMessages,
  parseAckSubject,
} from './jetstream/index.ts';
export type {
  JetStreamOptions,
  JetStreamPublishOptions,
  DeliveryInfo,
  FetchOptions,
  ConsumeOptions,
  OrderedConsumerOptions,
  PubAck,
  StreamConfig,
  StreamInfo,
  ConsumerConfig,
  ConsumerInfo,
  DeliverPolicy,
  AckPolicy,
} from './jetstream/index.ts';
export { kv, Kv, KvWatcher } from './kv/index.ts';
export type { KvEntry, KvOptions, KvWatchOptions, KvOperation } from './kv/index.ts';
