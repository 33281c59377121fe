// The INFO object a client receives on accept (spec/client-protocol.md §3). Fields that
// nats-server omits when empty/false are left out here too.

import { ADVERTISED_SERVER_VERSION, PROTOCOL_VERSION } from '../protocol/version.ts';
import type { ServerOptions } from './options-types.ts';

export interface ServerIdentity {
  readonly serverId: string;
  readonly serverName: string;
}

export interface InfoContext {
  readonly identity: ServerIdentity;
  readonly options: ServerOptions;
  readonly boundPort: number;
  readonly jetstream: boolean;
}

export function buildClientInfo(ctx: InfoContext, clientId: number, clientIp: string): Record<string, unknown> {
  const info: Record<string, unknown> = {
    server_id: ctx.identity.serverId,
    server_name: ctx.identity.serverName,
    version: ADVERTISED_SERVER_VERSION,
    proto: PROTOCOL_VERSION,
    go: `node${process.versions.node}`,
    host: ctx.options.host,
    port: ctx.boundPort,
    headers: true,
    max_payload: ctx.options.maxPayloadBytes,
  };
  if (ctx.jetstream) info.jetstream = true;
  info.client_id = clientId;
  if (clientIp) info.client_ip = clientIp;
  return info;
}
