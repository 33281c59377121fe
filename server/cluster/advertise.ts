// The address other servers dial to reach a listener of this one (routes, leaf nodes).

import os from 'node:os';

/** The host other servers should dial: the listen address, or this machine's address for "any". */
export function advertiseHost(host: string): string {
  if (host !== '' && host !== '0.0.0.0' && host !== '::') return host.includes(':') ? `[${host}]` : host;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
