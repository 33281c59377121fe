// Latency percentiles without keeping every sample: a log-bucketed histogram (each bucket 2 %
// wider than the one before, from 100 ns up to ~20 minutes), so recording is one Math.log and an
// increment, and a percentile is read to within 2 %.

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const MIN_NS = 100;
const BUCKETS = Math.ceil(Math.log(1.2e12 / MIN_NS) / LOG_GROWTH) + 1;

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  maxNs = 0;

  record(ns: number): void {
    const i = ns <= MIN_NS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ns / MIN_NS) / LOG_GROWTH));
    this.counts[i]!++;
    this.count++;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.maxNs = Math.max(this.maxNs, other.maxNs);
  }

  /** The latency at or below which `p` percent of the samples fall (upper bucket bound); NaN when empty. */
  percentileNs(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxNs, MIN_NS * GROWTH ** i);
    }
    return this.maxNs;
  }
}
