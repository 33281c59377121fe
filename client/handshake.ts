// The server's INFO as the client reads it, and the CONNECT the client answers with.

import { ErrorCode, NatsError } from './errors.ts';
import { nkeySigner } from './nkeys.ts';
import type { ResolvedOptions, ServerUrl } from './options.ts';
import { CLIENT_LANG, CLIENT_VERSION } from './version.ts';

export interface ServerInfo {
  server_id: string;
  server_name?: string;
  version: string;
  proto?: number;
  go?: string;
  host?: string;
  port?: number;
  headers?: boolean;
  max_payload: number;
  jetstream?: boolean;
  client_id?: number;
  client_ip?: string;
  auth_required?: boolean;
  tls_required?: boolean;
  tls_available?: boolean;
  nonce?: string;
  connect_urls?: string[];
  ws_connect_urls?: string[];
  ldm?: boolean;
  cluster?: string;
  domain?: string;
  [key: string]: unknown;
}

export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  tls_required: boolean;
  name?: string;
  lang: string;
  version: string;
  protocol: number;
  headers: boolean;
  no_responders: boolean;
  echo?: boolean;
  auth_token?: string;
  user?: string;
  pass?: string;
  nkey?: string;
  sig?: string;
}

export async function buildConnect(opts: ResolvedOptions, info: ServerInfo, url: ServerUrl, encrypted: boolean): Promise<ConnectOptions> {
  const headers = info.headers === true;
  const c: ConnectOptions = {
    verbose: opts.verbose,
    pedantic: opts.pedantic,
    tls_required: encrypted,
    lang: CLIENT_LANG,
    version: CLIENT_VERSION,
    protocol: 1,
    headers,
    no_responders: headers,
  };
  if (opts.name !== '') c.name = opts.name;
  if (opts.noEcho) {
    if ((info.proto ?? 0) < 1) throw new NatsError(ErrorCode.InvalidOption, 'noEcho needs a server with proto >= 1');
    c.echo = false;
  }
  // Credentials in the URL win over options (as in nats.go/nats.js).
  if (url.user !== '' && url.pass !== '') {
    c.user = url.user;
    c.pass = url.pass;
  } else if (url.user !== '') {
    c.auth_token = url.user;
  } else if (opts.token !== undefined) {
    c.auth_token = opts.token;
  } else if (opts.user !== undefined) {
    c.user = opts.user;
    c.pass = opts.pass ?? '';
  }
  if (opts.nkeySeed !== undefined) {
    const signer = await nkeySigner(opts.nkeySeed);
    c.nkey = signer.publicKey;
    if (info.nonce !== undefined) c.sig = await signer.sign(new TextEncoder().encode(info.nonce));
  }
  return c;
}
