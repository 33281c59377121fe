// The `leafnodes {}` block of a config file (nats-server's keys; JSON spells the same keys, and
// sluice's own camelCase spellings round-trip): a listener for edges (port | listen, authorization)
// and the hubs this server dials (remotes). Keys nats-server has and sluice does not (advertise,
// compression, min_version, ...) are one warning each.

import type { LeafNodeOptions, LeafRemoteOptions, LeafRemoteTlsOptions } from '../options-types.ts';
import { defaultLeafNodeOptions, defaultLeafRemote, LEAF_URL_EXPECTED, parseLeafUrl } from '../leafnode/options.ts';
import type { RawLookup } from './auth-config.ts';
import { asBool, asDurationMs, asHostPort, asInt, asMap, asPort, asString, Bad, POSITIVE_DURATION_EXPECTED, type Collector, type Conv } from './convert.ts';
import type { ConfMap } from './nats-conf.ts';

const asStringList: Conv<string[]> = (v) => {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  return new Bad('a list of strings');
};

export function mapLeafNodesBlock(c: Collector, key: string, v: unknown, raw: RawLookup): void {
  const block = asMap(c, key, v);
  const leaf: LeafNodeOptions = defaultLeafNodeOptions();
  for (const [sub, sv] of Object.entries(block)) {
    const path = `${key}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'port':
        leaf.port = c.convert(asPort, path, sv, block);
        break;
      case 'host':
      case 'net':
        leaf.host = c.convert(asString, path, sv, block);
        break;
      case 'listen': {
        const hp = c.convert(asHostPort, path, sv, block);
        if (hp.host !== undefined) leaf.host = hp.host;
        leaf.port = hp.port;
        break;
      }
      case 'authorization':
        mapAuthorizationBlock(c, path, sv, leaf);
        break;
      case 'user':
        leaf.user = c.convert(asString, path, sv, block);
        break;
      case 'pass':
        leaf.pass = c.convert(asString, path, sv, block);
        break;
      case 'remotes':
        if (!Array.isArray(sv)) c.fail(path, 'a list of remotes [ { url: "nats-leaf://hub:7422" } ]', sv, block);
        leaf.remotes = (sv as unknown[]).map((r, i) => mapRemote(c, `${path}[${i}]`, r, raw));
        break;
      case 'reconnect':
      case 'reconnect_delay':
      case 'reconnect_interval': {
        const ms = c.convert(asDurationMs, path, sv, block, raw(block, sub));
        if (ms <= 0) c.fail(path, POSITIVE_DURATION_EXPECTED, sv, block);
        leaf.reconnectMs = ms;
        break;
      }
      case 'reconnectms':
        leaf.reconnectMs = c.convert(asInt, path, sv, block);
        break;
      default:
        c.unsupported(path, block);
    }
  }
  c.set('leafnodes', leaf, key, v, block);
}

function mapAuthorizationBlock(c: Collector, path: string, v: unknown, leaf: LeafNodeOptions): void {
  const block = asMap(c, path, v);
  for (const [sub, sv] of Object.entries(block)) {
    const p = `${path}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'user':
      case 'username':
        leaf.user = c.convert(asString, p, sv, block);
        break;
      case 'pass':
      case 'password':
        leaf.pass = c.convert(asString, p, sv, block);
        break;
      case 'account':
        leaf.account = c.convert(asString, p, sv, block);
        break;
      default:
        c.unsupported(p, block);
    }
  }
}

function mapRemote(c: Collector, path: string, v: unknown, raw: RawLookup): LeafRemoteOptions {
  const block = asMap(c, path, v);
  const r = defaultLeafRemote([]);
  for (const [sub, sv] of Object.entries(block)) {
    const p = `${path}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'url':
      case 'urls':
        r.urls = c.convert(asStringList, p, sv, block);
        for (const u of r.urls) if (parseLeafUrl(u) === undefined) c.fail(p, LEAF_URL_EXPECTED, u, block);
        break;
      case 'credentials':
        r.credentials = c.convert(asString, p, sv, block);
        break;
      case 'account':
      case 'local':
        r.account = c.convert(asString, p, sv, block);
        break;
      case 'tls':
        r.tls = mapRemoteTls(c, p, sv, raw);
        break;
      case 'deny_imports':
      case 'denyimports':
        r.denyImports = c.convert(asStringList, p, sv, block);
        break;
      case 'deny_exports':
      case 'denyexports':
        r.denyExports = c.convert(asStringList, p, sv, block);
        break;
      default:
        c.unsupported(p, block);
    }
  }
  if (r.urls.length === 0) c.fail(`${path}.url`, LEAF_URL_EXPECTED, undefined, block);
  return r;
}

function mapRemoteTls(c: Collector, path: string, v: unknown, _raw: RawLookup): LeafRemoteTlsOptions {
  const block: ConfMap = asMap(c, path, v);
  const t: LeafRemoteTlsOptions = { caFile: undefined, certFile: undefined, keyFile: undefined, verify: true };
  for (const [sub, sv] of Object.entries(block)) {
    const p = `${path}.${sub}`;
    switch (sub.toLowerCase()) {
      case 'ca_file':
      case 'cafile':
        t.caFile = c.convert(asString, p, sv, block);
        break;
      case 'cert_file':
      case 'certfile':
        t.certFile = c.convert(asString, p, sv, block);
        break;
      case 'key_file':
      case 'keyfile':
        t.keyFile = c.convert(asString, p, sv, block);
        break;
      case 'verify':
        t.verify = c.convert(asBool, p, sv, block);
        break;
      case 'insecure':
        // nats-server's insecure skips the hub certificate check.
        t.verify = !c.convert(asBool, p, sv, block);
        break;
      default:
        c.unsupported(p, block);
    }
  }
  return t;
}
