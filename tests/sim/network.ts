// The simulated network: faults are data. Each message gets a fate from the seeded Rng when it
// is sent — dropped, delayed (random latency, occasionally very late, which reorders it past
// newer traffic), or duplicated — and directed links can be blocked to model partitions,
// including asymmetric ones (A hears B but B does not hear A). A blocked link is checked both
// when a message is sent and when it would be delivered.

import type { Rng } from '../../runtime/rng.ts';
import type { NodeId } from '../../raft/types.ts';

export interface NetworkFaults {
  /** Probability a message is lost. */
  dropRate: number;
  /** Probability a message is delivered twice. */
  duplicateRate: number;
  /** Latency is uniform in [1, maxDelayMs]. */
  maxDelayMs: number;
  /** Probability a message is additionally delayed by up to longDelayMs (reordering). */
  longDelayRate: number;
  longDelayMs: number;
}

export const CALM_NETWORK: NetworkFaults = { dropRate: 0, duplicateRate: 0, maxDelayMs: 3, longDelayRate: 0, longDelayMs: 0 };

export class SimNetwork {
  faults: NetworkFaults;
  private readonly blocked = new Set<number>();
  /** Counters for the run summary. */
  sent = 0;
  dropped = 0;
  duplicated = 0;

  constructor(
    private readonly rng: Rng,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  private static key(from: NodeId, to: NodeId): number {
    return from * 4096 + to;
  }

  block(from: NodeId, to: NodeId): void {
    this.blocked.add(SimNetwork.key(from, to));
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked.has(SimNetwork.key(from, to));
  }

  healAll(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  /** Delivery delays (ms) for one message: empty if it is lost, two if it is duplicated. */
  fate(from: NodeId, to: NodeId): number[] {
    this.sent++;
    const f = this.faults;
    if (this.isBlocked(from, to) || (f.dropRate > 0 && this.rng.next() < f.dropRate)) {
      this.dropped++;
      return [];
    }
    const copies = f.duplicateRate > 0 && this.rng.next() < f.duplicateRate ? 2 : 1;
    if (copies === 2) this.duplicated++;
    const out: number[] = [];
    for (let i = 0; i < copies; i++) {
      let d = 1 + this.rng.int(f.maxDelayMs);
      if (f.longDelayRate > 0 && this.rng.next() < f.longDelayRate) d += this.rng.int(f.longDelayMs);
      out.push(d);
    }
    return out;
  }
}
