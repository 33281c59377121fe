// The `tls {}` and `websocket {}` blocks of a config file (nats-server syntax and JSON alike),
// mapped onto sluice's tls / wsPort / websocket options. Keys nats-server has and sluice does not
// (cipher_suites, pinned_certs, jwt_cookie, a websocket-specific authorization, ...) are one
// warning each.

import type { ClusterOptions, TlsOptions, WebSocketOptions } from '../options-types.ts';
import { completeTlsOptions, defaultWebSocketOptions } from '../options.ts';
import type { RawLookup } from './auth-config.ts';
import { defaultClusterOptions } from '../cluster/options.ts';
import { asBool, asDurationMs, asHostPort, asInt, asMap, asPort, asString, Bad, POSITIVE_DURATION_EXPECTED, type Collector, type Conv } from './convert.ts';

const asStringList: Conv<string[]> = (v) => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  return new Bad('a list of strings');
};

/** A `tls { cert_file, key_file, ca_file, verify, timeout, handshake_first }` block. */
export function mapTlsBlock(c: Collector, key: string, v: unknown, raw: RawLookup): TlsOptions {
  const block = asMap(c, key, v);
  const t: Partial<TlsOptions> = {};
  for (const [sub, sv] of Object.entries(block)) {
    const path = `${key}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'cert_file':
      case 'certfile':
        t.certFile = c.convert(asString, path, sv, block);
        break;
      case 'key_file':
      case 'keyfile':
        t.keyFile = c.convert(asString, path, sv, block);
        break;
      case 'ca_file':
      case 'cafile':
        t.caFile = c.convert(asString, path, sv, block);
        break;
      case 'verify':
        t.verify = c.convert(asBool, path, sv, block);
        break;
      case 'timeout': {
        const ms = c.convert(asDurationMs, path, sv, block, raw(block, sub));
        if (ms <= 0) c.fail(path, POSITIVE_DURATION_EXPECTED, sv, block);
        t.timeoutMs = ms;
        break;
      }
      case 'handshake_first':
      case 'first':
      case 'handshakefirst':
        if (typeof sv === 'boolean') t.handshakeFirst = sv;
        else {
          // nats-server's duration form also accepts plain clients after that delay; sluice
          // only has the strict form.
          t.handshakeFirst = true;
          c.warn(`${JSON.stringify(path)}: a fallback delay is not supported; TLS is required first`, path, block);
        }
        break;
      default:
        c.unsupported(path, block);
    }
  }
  if (t.certFile === undefined || t.keyFile === undefined) {
    c.fail(key, 'a block with cert_file and key_file', v);
  }
  return completeTlsOptions({ ...t, certFile: t.certFile, keyFile: t.keyFile });
}

/** A `websocket { port, host, no_tls, tls, compression, allowed_origins, ... }` block. */
export function mapWebSocketBlock(c: Collector, key: string, v: unknown, raw: RawLookup): void {
  const block = asMap(c, key, v);
  const ws: WebSocketOptions = defaultWebSocketOptions();
  let port: number | undefined;
  for (const [sub, sv] of Object.entries(block)) {
    const path = `${key}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'port':
        port = c.convert(asPort, path, sv, block);
        break;
      case 'host':
      case 'net':
        ws.host = c.convert(asString, path, sv, block);
        break;
      case 'listen': {
        const hp = c.convert(asHostPort, path, sv, block);
        if (hp.host !== undefined) ws.host = hp.host;
        port = hp.port;
        break;
      }
      case 'advertise':
        ws.advertise = c.convert(asString, path, sv, block);
        break;
      case 'no_tls':
      case 'notls':
        ws.noTls = c.convert(asBool, path, sv, block);
        break;
      case 'tls':
        ws.tls = mapTlsBlock(c, path, sv, raw);
        break;
      case 'compression':
        ws.compression = c.convert(asBool, path, sv, block);
        break;
      case 'allowed_origins':
      case 'allowed_origin':
      case 'allowedorigins':
        ws.allowedOrigins = c.convert(asStringList, path, sv, block);
        break;
      case 'same_origin':
      case 'sameorigin':
        ws.sameOrigin = c.convert(asBool, path, sv, block);
        break;
      case 'handshaketimeoutms':
        // sluice's JSON spelling, in milliseconds (resolved options round-trip through JSON).
        ws.handshakeTimeoutMs = c.convert(asPort, path, sv, block);
        break;
      case 'handshake_timeout':
      case 'handshaketimeout':
        ws.handshakeTimeoutMs = c.convert(asDurationMs, path, sv, block, raw(block, sub));
        break;
      default:
        c.unsupported(path, block);
    }
  }
  // Without a port the settings are kept (a --ws-port flag may supply it) but nothing listens.
  if (port !== undefined) c.set('wsPort', port, `${key}.port`, port, block);
  c.set('websocket', ws, key, v, block);
}

/**
 * A `cluster { name, listen | host + port, routes: [...] }` block (nats-server's keys). Route
 * authorization, TLS, pooling and compression are not supported yet: warned about and ignored.
 */
export function mapClusterBlock(c: Collector, key: string, v: unknown, raw: RawLookup): void {
  const block = asMap(c, key, v);
  const cluster: Partial<ClusterOptions> = {};
  for (const [sub, sv] of Object.entries(block)) {
    const path = `${key}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'name':
        cluster.name = c.convert(asString, path, sv, block);
        break;
      case 'port':
        cluster.port = c.convert(asPort, path, sv, block);
        break;
      case 'host':
      case 'net':
        cluster.host = c.convert(asString, path, sv, block);
        break;
      case 'listen': {
        const hp = c.convert(asHostPort, path, sv, block);
        if (hp.host !== undefined) cluster.host = hp.host;
        cluster.port = hp.port;
        break;
      }
      case 'routes':
        cluster.routes = c.convert(asStringList, path, sv, block);
        break;
      case 'advertise':
      case 'cluster_advertise':
        cluster.advertise = c.convert(asString, path, sv, block);
        break;
      case 'pingintervalms':
        // sluice's JSON spelling (resolved options round-trip through JSON).
        cluster.pingIntervalMs = c.convert(asInt, path, sv, block);
        break;
      case 'ping_interval':
        cluster.pingIntervalMs = c.convert(asDurationMs, path, sv, block, raw(block, sub));
        break;
      default:
        c.unsupported(path, block);
    }
  }
  c.set('cluster', { ...defaultClusterOptions(), ...cluster }, key, v, block);
}
