// The server pool: the configured URLs plus those discovered from INFO connect_urls, the order
// they are tried in, and the backoff between attempts at the same server.
//
// Selection rotates: the server taken is moved to the back, so after losing a connection the
// other servers are tried first. Backoff is per server: after `attempts` consecutive failures the
// next try waits min(base * 2^(attempts-1), max) + jitter from the last attempt; a server that
// worked (attempts = 0) is tried at once. A server that failed maxReconnectAttempts times in a row
// leaves the pool.

import type { Rng } from '../runtime/rng.ts';
import { parseServerUrl, type Scheme, type ServerUrl } from './options.ts';

export interface ServerEntry {
  readonly url: ServerUrl;
  /** Discovered from connect_urls (removed again when the cluster stops listing it). */
  readonly implicit: boolean;
  /** Failed attempts since it last worked. */
  attempts: number;
  /** Time of the last attempt, -Infinity when never tried. */
  lastAttemptMs: number;
  didConnect: boolean;
}

export interface BackoffPolicy {
  reconnectTimeWaitMs: number;
  maxReconnectTimeWaitMs: number;
  reconnectJitterMs: number;
  reconnectJitterTlsMs: number;
}

export class ServerPool {
  private entries: ServerEntry[] = [];

  constructor(urls: readonly string[], randomize: boolean, rng: Rng) {
    for (const raw of urls) this.add(parseServerUrl(raw), false);
    if (randomize && this.entries.length > 1) {
      // Fisher-Yates with the injected rng.
      for (let i = this.entries.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [this.entries[i], this.entries[j]] = [this.entries[j]!, this.entries[i]!];
      }
    }
  }

  get size(): number {
    return this.entries.length;
  }

  list(): readonly ServerEntry[] {
    return this.entries;
  }

  /** The next server to try (moved to the back of the pool), or undefined when the pool is empty. */
  next(): ServerEntry | undefined {
    const e = this.entries.shift();
    if (e !== undefined) this.entries.push(e);
    return e;
  }

  remove(entry: ServerEntry): void {
    const i = this.entries.indexOf(entry);
    if (i >= 0) this.entries.splice(i, 1);
  }

  /** Milliseconds to wait before trying `entry` at `nowMs`. */
  waitMs(entry: ServerEntry, nowMs: number, policy: BackoffPolicy, rng: Rng): number {
    if (entry.attempts === 0) return 0;
    const exp = Math.min(entry.attempts - 1, 30);
    const base = Math.min(policy.reconnectTimeWaitMs * 2 ** exp, policy.maxReconnectTimeWaitMs);
    const tls = entry.url.scheme === 'tls' || entry.url.scheme === 'wss';
    const jitterMax = tls ? policy.reconnectJitterTlsMs : policy.reconnectJitterMs;
    const jitter = jitterMax > 0 ? rng.int(jitterMax) : 0;
    return Math.max(0, entry.lastAttemptMs + base + jitter - nowMs);
  }

  /**
   * Merge INFO connect_urls (`host:port`, or full URLs) into the pool, using `scheme` for bare
   * addresses. Discovered servers the cluster no longer lists are dropped, except `current`.
   */
  update(connectUrls: readonly string[], scheme: Scheme, current: ServerEntry | undefined): { added: string[]; deleted: string[] } {
    const listed = new Set<string>();
    const added: string[] = [];
    for (const raw of connectUrls) {
      let url: ServerUrl;
      try {
        url = parseServerUrl(raw, scheme);
      } catch {
        continue;
      }
      listed.add(url.key);
      if (this.find(url.key) === undefined && !this.sameAsCurrent(url, current)) {
        this.add(url, true);
        added.push(url.key);
      }
    }
    const deleted: string[] = [];
    this.entries = this.entries.filter((e) => {
      if (!e.implicit || e === current || listed.has(e.url.key)) return true;
      deleted.push(e.url.key);
      return false;
    });
    return { added, deleted };
  }

  private sameAsCurrent(url: ServerUrl, current: ServerEntry | undefined): boolean {
    if (current === undefined) return false;
    const c = current.url;
    return c.port === url.port && (c.host === url.host || (isLoopback(c.host) && isLoopback(url.host)));
  }

  private find(key: string): ServerEntry | undefined {
    return this.entries.find((e) => e.url.key === key);
  }

  private add(url: ServerUrl, implicit: boolean): void {
    if (this.find(url.key) !== undefined) return;
    this.entries.push({ url, implicit, attempts: 0, lastAttemptMs: -Infinity, didConnect: false });
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
