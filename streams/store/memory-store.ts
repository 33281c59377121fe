// Memory storage: a Map by sequence (insertion order is sequence order, since sequences only grow)
// and, per subject, the sorted list of its sequences. Nothing is durable; durable() resolves at once.
// Queries, purges and state reports are BaseStore's (base-store.ts); this file holds the primitives.

import { memStoreMsgSize, subjectByteLength } from './codec.ts';
import { BaseStore, type SubjectSummary } from './base-store.ts';
import { subjectMatches } from './filter.ts';
import { FrozenMessages } from './frozen.ts';
import { StorageKind, type FrozenStore, type StoredMsg, type TimeNs } from './types.ts';

/** One subject's sequences, ascending; entries before `head` are dead (cheap front removal). */
class SubjectSeqs implements SubjectSummary {
  seqs: number[] = [];
  head = 0;
  constructor(readonly subject: string) {}

  get count(): number {
    return this.seqs.length - this.head;
  }

  get last(): number {
    return this.seqs[this.seqs.length - 1]!;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Index in s.seqs of the first sequence >= seq (s.seqs.length when none). */
function lowerBound(s: SubjectSeqs, seq: number): number {
  let lo = s.head;
  let hi = s.seqs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.seqs[mid]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function removeSeq(s: SubjectSeqs, seq: number): void {
  const seqs = s.seqs;
  if (seqs[s.head] === seq) {
    s.head++;
    // Compact once the dead prefix dominates, so memory tracks live messages.
    if (s.head >= 32 && s.head * 2 >= seqs.length) {
      s.seqs = seqs.slice(s.head);
      s.head = 0;
    }
  } else if (seqs[seqs.length - 1] === seq) {
    seqs.pop();
  } else {
    const i = lowerBound(s, seq);
    if (seqs[i] === seq) seqs.splice(i, 1);
  }
}

function copyBytes(src: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(src.length);
  b.set(src, 0);
  return b;
}

export class MemoryStore extends BaseStore<SubjectSeqs> {
  readonly storage = StorageKind.Memory;
  /** Messages are kept as objects, not encoded. */
  readonly recordFormat = null;
  private readonly msgs = new Map<number, StoredMsg>();

  constructor(name: string) {
    super(name, new Map());
  }

  protected write(seq: number, subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs: TimeNs): number {
    // Copies: the caller's bytes may be views of a reused read buffer. Separate small copies
    // (pooled by Buffer.allocUnsafe) measured cheaper than one copy plus two subarray views.
    const hlen = hdr === null ? 0 : hdr.length;
    const msg: StoredMsg = {
      seq,
      subject,
      timeNs,
      hdr: hlen > 0 ? copyBytes(hdr!) : null,
      data: copyBytes(data),
    };
    this.msgs.set(seq, msg);
    let s = this.subjects.get(subject);
    if (s === undefined) {
      s = new SubjectSeqs(subject);
      this.subjects.set(subject, s);
      this.matchCache.invalidate();
    }
    s.seqs.push(seq);
    return memStoreMsgSize(subjectByteLength(subject), hlen, data.length);
  }

  get(seq: number): StoredMsg | undefined {
    this.checkOpen();
    return this.msgs.get(seq);
  }

  protected nextMsg(from: number): StoredMsg | undefined {
    for (let seq = from; seq <= this.lastSeq; seq++) {
      const m = this.msgs.get(seq);
      if (m !== undefined) return m;
    }
    return undefined;
  }

  protected nextSeqOf(s: SubjectSeqs, from: number): number | undefined {
    const i = lowerBound(s, from);
    return i < s.seqs.length ? s.seqs[i] : undefined;
  }

  protected scanMatching(from: number, filter: string): StoredMsg | undefined {
    for (let seq = from; seq <= this.lastSeq; seq++) {
      const m = this.msgs.get(seq);
      if (m !== undefined && subjectMatches(filter, m.subject)) return m;
    }
    return undefined;
  }

  protected countFrom(from: number): number {
    let below = 0;
    for (const seq of this.msgs.keys()) {
      if (seq >= from) break;
      below++;
    }
    return this.messages - below;
  }

  protected subjectCountFrom(s: SubjectSeqs, from: number): number {
    return s.seqs.length - lowerBound(s, from);
  }

  protected newestSeq(): number {
    for (let seq = this.lastSeq; seq >= this.firstSeq; seq--) if (this.msgs.has(seq)) return seq;
    return 0;
  }

  /** Map order is sequence order, so the oldest live message is the first entry. */
  protected oldestSeq(): number | undefined {
    const oldest = this.msgs.keys().next();
    return oldest.done === true ? undefined : oldest.value;
  }

  protected timeOf(seq: number): TimeNs {
    return this.msgs.get(seq)?.timeNs ?? 0n;
  }

  protected removeLive(seq: number, erase: boolean): boolean {
    const m = this.msgs.get(seq);
    if (m === undefined) return false;
    this.remove(m, erase);
    return true;
  }

  protected removeFound(m: StoredMsg): void {
    this.remove(m, false);
  }

  protected removeBelow(upToSeq: number): number {
    let purged = 0;
    // Insertion order is ascending sequence order, so this visits only what it removes.
    for (const m of this.msgs.values()) {
      if (m.seq >= upToSeq) break;
      this.remove(m, false);
      purged++;
    }
    return purged;
  }

  protected removeAll(): void {
    this.msgs.clear();
  }

  private remove(m: StoredMsg, erase: boolean): void {
    this.msgs.delete(m.seq);
    this.messages--;
    this.bytes -= memStoreMsgSize(subjectByteLength(m.subject), m.hdr?.length ?? 0, m.data.length);
    const s = this.subjects.get(m.subject)!;
    removeSeq(s, m.seq);
    if (s.count === 0) {
      this.subjects.delete(m.subject);
      this.matchCache.invalidate();
    }
    if (erase) {
      m.hdr?.fill(0);
      m.data.fill(0);
    }
  }

  msgSize(subject: string, hdr: Uint8Array | null, data: Uint8Array): number {
    return memStoreMsgSize(subjectByteLength(subject), hdr?.length ?? 0, data.length);
  }

  durable(): Promise<void> {
    return RESOLVED;
  }

  /** The current message objects (never changed in place, except zeroed by an erasing delete). */
  freeze(): FrozenStore {
    return new FrozenMessages(this.state(), [...this.msgs.values()]);
  }

  close(): Promise<void> {
    this.closed = true;
    return RESOLVED;
  }

  drop(): Promise<void> {
    this.clearAll(this.lastSeq + 1);
    this.closed = true;
    return RESOLVED;
  }
}
