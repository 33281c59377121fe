// The ports file: `<dir>/<name>_<pid>.ports`, a JSON object listing the URLs the server is bound
// to, in nats-server's format ({"nats":[...],"monitoring":[...],"cluster":[...],"websocket":[...]},
// empty lists left out). Test harnesses and orchestration scripts that start a server on port 0
// read it to learn where to connect. Written at start, removed at close.
//
// Synchronous on purpose: it is written once at start-up and removed during shutdown, when a
// process may be about to exit and an async write could be lost.

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PortsFileUrls {
  nats?: readonly string[];
  monitoring?: readonly string[];
  websocket?: readonly string[];
  cluster?: readonly string[];
  leafnodes?: readonly string[];
}

/** `<name>_<pid>.ports`, with path separators and other unsafe characters in `name` replaced. */
export function portsFileName(name: string, pid: number): string {
  const safe = (name || 'sluice').replace(/[^A-Za-z0-9._-]/g, '_');
  return `${safe}_${pid}.ports`;
}

/** Writes the ports file (creating `dir` if needed) and returns its path. Throws on I/O errors. */
export function writePortsFile(dir: string, name: string, pid: number, urls: PortsFileUrls): string {
  const doc: Record<string, string[]> = {};
  // Fixed key order, empties omitted: the same shape as nats-server's `omitempty` fields.
  for (const key of ['nats', 'monitoring', 'cluster', 'leafnodes', 'websocket'] as const) {
    const list = urls[key];
    if (list && list.length > 0) doc[key] = [...list];
  }
  mkdirSync(dir, { recursive: true });
  const path = join(dir, portsFileName(name, pid));
  // Write then rename, so a reader polling for the file never sees half of it.
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc));
  renameSync(tmp, path);
  return path;
}

/** Removes a ports file; a file that is already gone is not an error. */
export function removePortsFile(path: string): void {
  rmSync(path, { force: true });
}
