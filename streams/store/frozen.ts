// Frozen views of a store (StreamStore.freeze): what a stream's leader serves a replica that has
// to copy the stream instead of replaying a log that was trimmed (streams/replication/catchup.ts).

import type { FrozenStore, StoreState, StoredMsg } from './types.ts';

/** Bytes a message counts for a catch-up batch (close enough to what goes on the wire). */
export function catchupBytes(m: StoredMsg): number {
  return m.subject.length + (m.hdr?.length ?? 0) + m.data.length + 32;
}

/** A memory store's messages at one moment, ascending by seq. */
export class FrozenMessages implements FrozenStore {
  constructor(
    readonly state: StoreState,
    private readonly msgs: readonly StoredMsg[],
  ) {}

  seqs(from: number, to: number, limit: number): number[] {
    const out: number[] = [];
    for (let i = this.indexOf(from); i < this.msgs.length && out.length < limit; i++) {
      const seq = this.msgs[i]!.seq;
      if (seq > to) break;
      out.push(seq);
    }
    return out;
  }

  messages(from: number, maxBytes: number): StoredMsg[] {
    const out: StoredMsg[] = [];
    let bytes = 0;
    for (let i = this.indexOf(from); i < this.msgs.length && (out.length === 0 || bytes < maxBytes); i++) {
      const m = this.msgs[i]!;
      out.push(m);
      bytes += catchupBytes(m);
    }
    return out;
  }

  release(): void {}

  /** The position of the first message with seq >= from (binary search). */
  private indexOf(from: number): number {
    let lo = 0;
    let hi = this.msgs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.msgs[mid]!.seq < from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The LMDB reads a frozen LMDB store needs (lmdb-store.ts hands in its databases). */
export interface FrozenLmdbSource {
  readonly state: StoreState;
  /** A read transaction on the environment: it keeps seeing what was committed when it began. */
  readonly txn: { done(): void };
  keys(from: number, to: number, limit: number): Iterable<number>;
  records(from: number): Iterable<StoredMsg>;
}

/** An LMDB store inside one read transaction (everything was committed when it began). */
export class FrozenLmdb implements FrozenStore {
  private released = false;

  constructor(private readonly src: FrozenLmdbSource) {}

  get state(): StoreState {
    return this.src.state;
  }

  seqs(from: number, to: number, limit: number): number[] {
    const out: number[] = [];
    if (to < from || this.released) return out;
    for (const seq of this.src.keys(Math.max(from, this.state.firstSeq), to, limit)) out.push(seq);
    return out;
  }

  messages(from: number, maxBytes: number): StoredMsg[] {
    const out: StoredMsg[] = [];
    if (this.released) return out;
    let bytes = 0;
    for (const m of this.src.records(Math.max(from, this.state.firstSeq))) {
      out.push(m);
      bytes += catchupBytes(m);
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.src.txn.done();
  }
}
