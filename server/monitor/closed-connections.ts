// The last N closed client connections with why they closed, for /connz?state=closed. Bounded
// (nats-server keeps 10,000 by default): the oldest record is overwritten, so memory does not
// grow with the number of connections a server has ever had.

import type { ConnSnapshot } from './conn-info.ts';

/** nats-server's default for how many closed connections /connz remembers. */
export const DEFAULT_CLOSED_CONNECTIONS = 10_000;

export class ClosedConnections {
  private readonly ring: (ConnSnapshot | undefined)[];
  /** Where the next record goes. */
  private next = 0;
  private count = 0;
  /** Every close since start by reason, also those the ring no longer holds (/metrics). */
  readonly byReason = new Map<string, number>();

  constructor(readonly capacity = DEFAULT_CLOSED_CONNECTIONS) {
    this.ring = new Array<ConnSnapshot | undefined>(Math.max(0, capacity));
  }

  add(conn: ConnSnapshot): void {
    const reason = conn.reason ?? '';
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.capacity === 0) return;
    this.ring[this.next] = conn;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Oldest first. */
  list(): ConnSnapshot[] {
    const out: ConnSnapshot[] = [];
    const start = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.ring[(start + i) % this.capacity]!);
    return out;
  }
}
