// The INFO object a client receives on accept (docs/protocol.md, INFO). Fields that
// nats-server omits when empty/false are left out here too.

import { ADVERTISED_SERVER_VERSION, PROTOCOL_VERSION } from '../protocol/version.ts';
import type { ServerOptions } from './options-types.ts';

export interface ServerIdentity {
  readonly serverId: string;
  readonly serverName: string;
}

/** What a listener announces about itself. */
export interface ListenerInfo {
  readonly host: string;
  readonly port: number;
  readonly tlsRequired: boolean;
  /** TLS offered but not required (allow_non_tls). */
  readonly tlsAvailable?: boolean;
  /** Client certificates are required and verified. */
  readonly tlsVerify: boolean;
}

export interface InfoContext {
  readonly identity: ServerIdentity;
  readonly options: ServerOptions;
  readonly boundPort: number;
  readonly jetstream: boolean;
  /** Clients must authenticate. Absent = false. */
  readonly authRequired?: boolean;
  /** The client (TCP) listener's TLS policy. Absent = plain. */
  readonly tcp?: ListenerInfo;
  /** The WebSocket listener, when there is one. */
  readonly ws?: ListenerInfo;
  /** host:port of the WebSocket listeners clients may use (INFO `ws_connect_urls`). */
  readonly wsConnectUrls?: readonly string[];
  /** When clustered: the cluster's name and every server's client URLs (INFO `connect_urls`). */
  readonly cluster?: ClusterInfo;
  /** In lame-duck mode: INFO says `ldm: true` so clients know to move (server/lame-duck.ts). */
  readonly ldm?: boolean;
}

export interface ClusterInfo {
  readonly name: string;
  /** host:port of every server in the cluster (this one included) for TCP clients. */
  connectUrls(): readonly string[];
  /** The same for WebSocket clients. */
  wsConnectUrls(): readonly string[];
}

/** Per-connection parts of INFO. */
export interface ClientInfoExtras {
  /** Which listener the client came through: WebSocket clients see that listener's host/port/TLS. */
  readonly transport: 'tcp' | 'ws';
  /** The nkey nonce ('' = none). */
  readonly nonce: string;
}

export function buildClientInfo(
  ctx: InfoContext,
  clientId: number,
  clientIp: string,
  extras: ClientInfoExtras = { transport: 'tcp', nonce: '' },
): Record<string, unknown> {
  const listener = extras.transport === 'ws' ? ctx.ws : ctx.tcp;
  const info: Record<string, unknown> = {
    server_id: ctx.identity.serverId,
    server_name: ctx.identity.serverName,
    version: ADVERTISED_SERVER_VERSION,
    proto: PROTOCOL_VERSION,
    go: `node${process.versions.node}`,
    host: listener?.host ?? ctx.options.host,
    port: listener?.port ?? ctx.boundPort,
    headers: true,
  };
  // Omitted when false, as nats-server does (omitempty).
  if (ctx.authRequired === true) info.auth_required = true;
  if (listener?.tlsRequired === true) info.tls_required = true;
  if (listener?.tlsAvailable === true) info.tls_available = true;
  if (listener?.tlsVerify === true) info.tls_verify = true;
  info.max_payload = ctx.options.maxPayloadBytes;
  if (ctx.jetstream) info.jetstream = true;
  info.client_id = clientId;
  if (clientIp) info.client_ip = clientIp;
  if (extras.nonce !== '') info.nonce = extras.nonce;
  if (ctx.cluster !== undefined) {
    info.cluster = ctx.cluster.name;
    // Clients add these to their server list and fail over to them; WebSocket clients are given
    // WebSocket URLs, as nats-server does.
    const urls = extras.transport === 'ws' ? ctx.cluster.wsConnectUrls() : ctx.cluster.connectUrls();
    if (urls.length > 0) info.connect_urls = [...urls];
  }
  // nats-server names its JetStream domain to clients (after cluster, before the URL lists).
  if (ctx.options.jetstreamDomain !== undefined && ctx.options.jetstreamDomain !== '') info.domain = ctx.options.jetstreamDomain;
  if (ctx.ldm === true) info.ldm = true;
  // WebSocket clients would take these as their own server pool (nats-server sends them other
  // servers' WebSocket URLs as connect_urls); a single server has none to offer them.
  if (extras.transport === 'tcp' && ctx.wsConnectUrls !== undefined && ctx.wsConnectUrls.length > 0) {
    info.ws_connect_urls = [...ctx.wsConnectUrls];
  }
  return info;
}
