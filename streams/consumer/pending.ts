// The pending map of a consumer: delivered, not yet acknowledged messages by stream sequence.

export interface PendingEntry {
  /** Consumer sequence of the first delivery (what ack floors are made of). */
  readonly dseq: number;
  /** When the current delivery attempt started, epoch ms; the ack wait counts from here. */
  tsMs: number;
}

/**
 * The pending map plus its sequences in ascending order. First deliveries happen in ascending
 * stream order and a redelivery updates its entry in place, so additions are (almost always)
 * appends. Deleting leaves the sequence in `order`; `firstSeq()` skips such leftovers once each. A
 * plain Map is not enough: V8 keeps deleted slots until it rehashes, so finding the first live
 * entry after many deletions at the front costs O(deleted) per lookup.
 */
export class PendingSet {
  private readonly map = new Map<number, PendingEntry>();
  private order: number[] = [];
  private head = 0;

  get size(): number {
    return this.map.size;
  }

  get(seq: number): PendingEntry | undefined {
    return this.map.get(seq);
  }

  has(seq: number): boolean {
    return this.map.has(seq);
  }

  add(seq: number, e: PendingEntry): void {
    this.map.set(seq, e);
    const n = this.order.length;
    if (n === this.head || this.order[n - 1]! < seq) {
      this.order.push(seq);
      return;
    }
    // Out of order (not produced by deliveries; kept correct anyway): sorted insert.
    let lo = this.head;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    this.order.splice(lo, 0, seq);
  }

  delete(seq: number): boolean {
    if (!this.map.delete(seq)) return false;
    if (this.map.size === 0) {
      this.order = [];
      this.head = 0;
    }
    return true;
  }

  /** Lowest pending stream sequence, or 0. */
  firstSeq(): number {
    const order = this.order;
    while (this.head < order.length) {
      const seq = order[this.head]!;
      if (this.map.has(seq)) {
        if (this.head > 1024 && this.head * 2 > order.length) {
          this.order = order.slice(this.head);
          this.head = 0;
        }
        return seq;
      }
      this.head++;
    }
    return 0;
  }

  /** Live entries in ascending stream sequence. */
  *entries(): IterableIterator<[number, PendingEntry]> {
    const order = this.order;
    for (let i = this.head; i < order.length; i++) {
      const seq = order[i]!;
      const e = this.map.get(seq);
      if (e !== undefined) yield [seq, e];
    }
  }

  /** Like entries(), without a generator (snapshots run once per ack batch). */
  forEach(fn: (seq: number, e: PendingEntry) => void): void {
    const order = this.order;
    const map = this.map;
    for (let i = this.head; i < order.length; i++) {
      const seq = order[i]!;
      const e = map.get(seq);
      if (e !== undefined) fn(seq, e);
    }
  }

  [Symbol.iterator](): IterableIterator<[number, PendingEntry]> {
    return this.entries();
  }

  *keys(): IterableIterator<number> {
    for (const [seq] of this.entries()) yield seq;
  }

  clear(): void {
    this.map.clear();
    this.order = [];
    this.head = 0;
  }
}

