// Recently committed message records of one LMDB stream, kept in memory so consumers reading
// what was just written (a consumer keeping up, or one draining a backlog written minutes ago)
// do not pay an LMDB point read per message: measured ~0.8 µs each inside the server, 15 % of a
// js-consume run. nats-server serves the same reads from its message block cache.
//
// Records are copied into large slabs indexed by sequence (no object per record, so the garbage
// collector sees a few big buffers rather than one object per message), and a read copies the
// record out. Because nothing outside ever points into a slab, an evicted slab's memory is reused
// for the next one: fresh memory costs a page fault per 4 KiB, which measured ~100 ns per
// cached message when every slab was newly allocated.
// Every cache of one environment draws on one CacheBudget; past it, the oldest slab of the
// environment goes first. A slab nobody touched for a while is dropped too, so memory that
// served a burst is given back.
//
// The cache is only an accelerator: "not cached" always means "ask LMDB". A removed message is
// simply forgotten here; LmdbView's overlay hides it until LMDB no longer has it.

const MIN_SLAB_BYTES = 64 * 1024;
const MAX_SLAB_BYTES = 1024 * 1024;
/** Records above this size are not cached (one would take a slab of its own). */
const MAX_CACHED_RECORD_BYTES = 64 * 1024;
/** A gap of more missing sequences than this starts a new slab rather than filling the index. */
const MAX_GAP = 1024;
/** Idle slabs are dropped after this many budget ticks without a read or write. */
export const IDLE_TICKS = 3;
/**
 * Default budget. Every cached byte is memory touched once more on the publish path; on this
 * project's benchmark VM a fresh page costs ~15 µs to fault in, so the first fill of 64 MiB cost
 * js-pub ~7 %; 16 MiB keeps that near 2 % and still serves consumers that trail the stream by up
 * to ~100k small messages.
 */
export const DEFAULT_READ_CACHE_BYTES = 16 * 1024 * 1024;

/**
 * A fresh Buffer holding src[start, start + len). Goes through a plain Uint8Array view: measured
 * faster than Buffer#copy for record-sized copies, and it ignores a `length` lmdb-js overrides on
 * its shared read buffer.
 */
export function copyOut(src: Uint8Array, start: number, len: number): Buffer {
  const out = Buffer.allocUnsafe(len);
  out.set(new Uint8Array(src.buffer, src.byteOffset + start, len));
  return out;
}

/** Spare slab memory kept for reuse (per budget, outside it; dropped on every tick). */
const MAX_SPARES = 4;

/** A slab's memory: record bytes and the end offset of each sequence's record. */
interface SlabMemory {
  readonly buf: Buffer;
  ends: Int32Array;
}

class Slab {
  readonly buf: Buffer;
  used = 0;
  /** Sequence of entry 0. */
  readonly firstSeq: number;
  /**
   * ends[i]: end offset of the record of seq firstSeq + i; it starts where entry i - 1 ends
   * (|ends[i - 1]|, or 0). Negative or empty: not cached (a gap, or removed).
   */
  ends: Int32Array;
  count = 0;
  live = 0;
  lastTick: number;
  dropped = false;

  constructor(
    readonly owner: RecordCache,
    firstSeq: number,
    mem: SlabMemory,
    tick: number,
  ) {
    this.buf = mem.buf;
    this.ends = mem.ends;
    this.firstSeq = firstSeq;
    this.lastTick = tick;
  }

  get nextSeq(): number {
    return this.firstSeq + this.count;
  }

  push(end: number): void {
    if (this.count === this.ends.length) {
      const grown = new Int32Array(this.ends.length * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.count++] = end;
  }

  start(i: number): number {
    return i === 0 ? 0 : Math.abs(this.ends[i - 1]!);
  }
}

/** The memory all caches of one environment share, and the order slabs are given back in. */
export class CacheBudget {
  private used = 0;
  /** Every live slab, oldest first. */
  private readonly slabs: Slab[] = [];
  private head = 0;
  private readonly spares: SlabMemory[] = [];
  tick = 0;

  constructor(readonly maxBytes: number) {}

  /** Memory for a slab of `bytes`: reused from an evicted slab when one of that size is spare. */
  take(bytes: number): SlabMemory {
    for (let i = 0; i < this.spares.length; i++) {
      if (this.spares[i]!.buf.length === bytes) return this.spares.splice(i, 1)[0]!;
    }
    return { buf: Buffer.allocUnsafeSlow(bytes), ends: new Int32Array(1024) };
  }

  get usedBytes(): number {
    return this.used;
  }

  /** Room for a new slab of `bytes`, evicting the oldest slabs; false when it can never fit. */
  reserve(bytes: number): boolean {
    if (bytes > this.maxBytes) return false;
    while (this.used + bytes > this.maxBytes && this.head < this.slabs.length) {
      const oldest = this.slabs[this.head++]!;
      if (!oldest.dropped) oldest.owner.evict(oldest);
    }
    this.compact();
    return true;
  }

  added(slab: Slab): void {
    this.used += slab.buf.length;
    this.slabs.push(slab);
  }

  released(slab: Slab): void {
    this.used -= slab.buf.length;
    if (this.spares.length === MAX_SPARES) this.spares.shift();
    this.spares.push({ buf: slab.buf, ends: slab.ends });
  }

  /** Called periodically: slabs idle for IDLE_TICKS ticks are dropped, and the spare memory. */
  advance(): void {
    this.tick++;
    // Spares serve the evict-then-allocate cycle of a busy stream; held longer they are waste.
    this.spares.length = 0;
    const cutoff = this.tick - IDLE_TICKS;
    for (let i = this.head; i < this.slabs.length; i++) {
      const s = this.slabs[i]!;
      if (!s.dropped && s.lastTick <= cutoff) s.owner.evict(s);
    }
    this.compact();
  }

  private compact(): void {
    // Drop dropped slabs from the front, and rebuild once the list is mostly dead.
    while (this.head < this.slabs.length && this.slabs[this.head]!.dropped) this.head++;
    if (this.head > 64 && this.head * 2 > this.slabs.length) {
      this.slabs.splice(0, this.head);
      this.head = 0;
    }
    if (this.slabs.length > 256) {
      let live = 0;
      for (let i = this.head; i < this.slabs.length; i++) if (!this.slabs[i]!.dropped) live++;
      if (live * 2 < this.slabs.length - this.head) {
        const kept = this.slabs.slice(this.head).filter((s) => !s.dropped);
        this.slabs.length = 0;
        this.slabs.push(...kept);
        this.head = 0;
      }
    }
  }
}

export class RecordCache {
  /** This stream's slabs, ascending by sequence. */
  private slabs: Slab[] = [];
  /** The slab the last read found (reads mostly walk forward through one slab). */
  private hint: Slab | null = null;
  private nextSlabBytes = MIN_SLAB_BYTES;
  private disposed = false;

  constructor(private readonly budget: CacheBudget) {}

  /** Caches the committed record of `seq`; sequences arrive ascending. */
  add(seq: number, rec: Uint8Array): void {
    const n = rec.length;
    if (n > MAX_CACHED_RECORD_BYTES || this.disposed) return;
    let slab = this.slabs.length === 0 ? null : this.slabs[this.slabs.length - 1]!;
    if (slab !== null && seq < slab.nextSeq) return; // not ascending: leave it to LMDB
    if (slab !== null && (seq - slab.nextSeq > MAX_GAP || slab.used + n > slab.buf.length)) slab = null;
    if (slab === null) {
      slab = this.newSlab(seq, n);
      if (slab === null) return;
    }
    while (slab.nextSeq < seq) slab.push(-slab.used);
    const at = slab.used;
    slab.buf.set(rec, at);
    slab.used = at + n;
    slab.push(at + n);
    slab.live++;
    slab.lastTick = this.budget.tick;
  }

  /** A copy of the cached record of `seq`, or undefined when it is not cached. */
  get(seq: number): Buffer | undefined {
    const slab = this.find(seq);
    if (slab === null) return undefined;
    const i = seq - slab.firstSeq;
    const end = slab.ends[i]!;
    const start = slab.start(i);
    if (end <= start) return undefined;
    slab.lastTick = this.budget.tick;
    return copyOut(slab.buf, start, end - start);
  }

  /** Forgets `seq` (removed from the stream). */
  remove(seq: number): void {
    const slab = this.find(seq);
    if (slab === null) return;
    const i = seq - slab.firstSeq;
    const end = slab.ends[i]!;
    if (end <= slab.start(i)) return;
    slab.ends[i] = -end;
    // An emptied slab goes at once, except the one being filled (a stream keeping one message
    // would otherwise allocate a slab per commit).
    if (--slab.live === 0 && slab !== this.slabs[this.slabs.length - 1]) this.evict(slab);
  }

  clear(): void {
    for (const s of this.slabs) this.release(s);
    this.slabs = [];
    this.hint = null;
    this.nextSlabBytes = MIN_SLAB_BYTES;
  }

  /** The store closed: give the memory back and cache nothing more (late commits still land). */
  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  get slabCount(): number {
    return this.slabs.length;
  }

  /** Drops one slab (called by the budget, or when its last record went). */
  evict(slab: Slab): void {
    if (slab.dropped) return;
    const k = this.slabs.indexOf(slab);
    if (k >= 0) this.slabs.splice(k, 1);
    this.release(slab);
  }

  private release(slab: Slab): void {
    if (slab.dropped) return;
    slab.dropped = true;
    this.budget.released(slab);
    if (this.hint === slab) this.hint = null;
  }

  private newSlab(seq: number, recBytes: number): Slab | null {
    // Slabs start small (a stream with a few messages takes 64 KiB) and double up to 1 MiB, but
    // stay under a quarter of the budget so a small budget still holds several.
    const bytes = Math.max(Math.min(this.nextSlabBytes, this.budget.maxBytes >>> 2), recBytes);
    if (!this.budget.reserve(bytes)) return null;
    this.nextSlabBytes = Math.min(this.nextSlabBytes * 2, MAX_SLAB_BYTES);
    const slab = new Slab(this, seq, this.budget.take(bytes), this.budget.tick);
    this.slabs.push(slab);
    this.budget.added(slab);
    return slab;
  }

  private find(seq: number): Slab | null {
    const h = this.hint;
    if (h !== null && seq >= h.firstSeq && seq < h.nextSeq) return h;
    const slabs = this.slabs;
    let lo = 0;
    let hi = slabs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = slabs[mid]!;
      if (seq < s.firstSeq) hi = mid - 1;
      else if (seq >= s.nextSeq) lo = mid + 1;
      else {
        this.hint = s;
        return s;
      }
    }
    return null;
  }
}
