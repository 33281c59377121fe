// Test support for raft unit tests (not exported from index.ts): a synchronous in-memory cluster
// in the style of etcd-io/raft's `network` helper. Messages are queued and delivered in FIFO
// order when asked; links can be cut, messages filtered, nodes crashed (keeping only what their
// Ready batches persisted) and restarted. Pure: no timers, no node:* modules.

import { seededRng } from '../runtime/rng.ts';
import { RaftNode, type RaftOptions } from './raft.ts';
import { MemoryStorage, bootstrap } from './storage.ts';
import { EMPTY_BYTES, EntryKind, Role, type Entry, type Message, type NodeId, type ReadState, type Ready } from './types.ts';

export type NodeOptions = Omit<RaftOptions, 'id' | 'storage' | 'rng'> & { seed?: number };

export interface TestMember {
  raft: RaftNode | null;
  /** Replaceable: a test can give a member a new, empty disk. */
  storage: MemoryStorage;
  /** Entries applied, in order (the state machine of the tests). */
  applied: Entry[];
  readStates: ReadState[];
}

export class TestCluster {
  readonly members = new Map<NodeId, TestMember>();
  /** Messages sent and not yet delivered, FIFO. */
  queue: Message[] = [];
  /** Every message ever sent, for assertions. */
  readonly sent: Message[] = [];
  private readonly cut = new Set<string>();
  /** Return false to drop a message (in addition to cut links). */
  filter: ((m: Message) => boolean) | null = null;
  private seedCounter = 1;

  constructor(private readonly nodeOptions: NodeOptions = {}) {}

  /** A cluster whose members `ids` are bootstrapped with each other as voters. */
  static bootstrapped(ids: readonly NodeId[], opts: NodeOptions = {}): TestCluster {
    const c = new TestCluster(opts);
    for (const id of ids) {
      const storage = new MemoryStorage();
      void bootstrap(storage, ids);
      c.addMember(id, storage);
    }
    c.processAll();
    return c;
  }

  /** Adds a member over `storage` (empty for a server joining later). */
  addMember(id: NodeId, storage: MemoryStorage = new MemoryStorage(), opts: NodeOptions = {}): RaftNode {
    const m: TestMember = { raft: null, storage, applied: [], readStates: [] };
    this.members.set(id, m);
    return this.start(id, opts);
  }

  private start(id: NodeId, opts: NodeOptions = {}): RaftNode {
    const m = this.member(id);
    const o = { ...this.nodeOptions, ...opts };
    m.raft = new RaftNode({ electionTick: 10, heartbeatTick: 1, ...o, id, storage: m.storage, rng: seededRng(o.seed ?? this.seedCounter++ * 7919) });
    // The state machine restarts from the snapshot; raft re-delivers committed entries after it.
    m.applied = m.applied.filter((e) => e.index <= m.storage.snapshot().metadata.index);
    return m.raft;
  }

  member(id: NodeId): TestMember {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  node(id: NodeId): RaftNode {
    const r = this.member(id).raft;
    if (r === null) throw new Error(`member ${id} is down`);
    return r;
  }

  /** Discards the node object: everything not saved to its storage is lost. */
  crash(id: NodeId): void {
    this.member(id).raft = null;
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  restart(id: NodeId, opts: NodeOptions = {}): RaftNode {
    const r = this.start(id, opts);
    this.processAll();
    return r;
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  /** Cuts every link of `id`. */
  isolate(id: NodeId): void {
    for (const other of this.members.keys()) if (other !== id) this.cutLink(id, other);
  }

  heal(): void {
    this.cut.clear();
    this.filter = null;
  }

  /** Processes one Ready of `id` per the contract: persist, queue messages, apply, advance. */
  processReady(id: NodeId): Ready | null {
    const m = this.member(id);
    const r = m.raft;
    if (r === null || !r.hasReady()) return null;
    const rd = r.ready();
    m.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    for (const msg of rd.messages) {
      this.sent.push(msg);
      this.queue.push(msg);
    }
    if (rd.snapshot !== null) {
      // Tests' state machine image: the applied entries are not in the snapshot; keep a marker.
      m.applied = [{ index: rd.snapshot.metadata.index, term: rd.snapshot.metadata.term, kind: EntryKind.Normal, data: EMPTY_BYTES }];
    }
    for (const e of rd.committedEntries) m.applied.push(e);
    for (const rs of rd.readStates) m.readStates.push(rs);
    r.advance(rd);
    return rd;
  }

  /** Processes every pending Ready of every live node (repeatedly, until none is left). */
  processAll(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const id of this.members.keys()) while (this.processReady(id) !== null) progress = true;
    }
  }

  private deliverable(m: Message): boolean {
    if (this.cut.has(`${m.from}>${m.to}`)) return false;
    if (this.filter !== null && !this.filter(m)) return false;
    const target = this.members.get(m.to);
    return target !== undefined && target.raft !== null;
  }

  /** Delivers the oldest queued message (or drops it). Returns false when the queue is empty. */
  deliverOne(): boolean {
    this.processAll();
    const m = this.queue.shift();
    if (m === undefined) return false;
    if (this.deliverable(m)) {
      this.node(m.to).step(m);
      this.processReady(m.to);
    }
    return true;
  }

  /** Delivers until no message is left (bounded, to catch livelocks in tests). */
  deliverAll(maxMessages = 100_000): void {
    for (let i = 0; i < maxMessages; i++) if (!this.deliverOne()) return;
    throw new Error('deliverAll: message storm');
  }

  /** Delivers messages until `pred` holds (or the queue empties). */
  deliverUntil(pred: () => boolean, maxMessages = 100_000): boolean {
    for (let i = 0; i < maxMessages; i++) {
      if (pred()) return true;
      if (!this.deliverOne()) return pred();
    }
    return pred();
  }

  /** Ticks `id` n times, processing its Ready after each tick (messages stay queued). */
  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).tick();
      this.processAll();
    }
  }

  /** Ticks every live node once, then delivers everything. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const [, m] of this.members) m.raft?.tick();
      this.processAll();
      this.deliverAll();
    }
  }

  /** Makes `id` campaign and delivers until the election settles. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.processAll();
    this.deliverAll();
  }

  leaders(): NodeId[] {
    const out: NodeId[] = [];
    for (const [id, m] of this.members) if (m.raft !== null && m.raft.role === Role.Leader) out.push(id);
    return out;
  }

  /** Proposes `text` at `id` and delivers everything. */
  propose(id: NodeId, text: string): ReturnType<RaftNode['propose']> {
    const out = this.node(id).propose(new TextEncoder().encode(text));
    this.processAll();
    this.deliverAll();
    return out;
  }

  /** Terms of the entries [lo, lastIndex] of `id`'s log. */
  terms(id: NodeId, lo = 1): number[] {
    const r = this.node(id);
    const out: number[] = [];
    for (let i = lo; i <= r.lastIndex(); i++) out.push(r.termAt(i));
    return out;
  }

  /** Texts of the applied Normal entries of `id`. */
  appliedTexts(id: NodeId): string[] {
    const dec = new TextDecoder();
    return this.member(id)
      .applied.filter((e) => e.kind === EntryKind.Normal && e.data.length > 0)
      .map((e) => dec.decode(e.data));
  }
}

/** A storage holding a log with the given terms at indexes 1..n and membership `voters`. */
export function storageWithLog(voters: readonly NodeId[], terms: readonly number[], hard?: { term?: number; vote?: NodeId; commit?: number }): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot({ metadata: { index: 0, term: 0, confState: { voters: [...voters] } }, data: EMPTY_BYTES });
  s.append(terms.map((term, i) => ({ term, index: i + 1, kind: EntryKind.Normal, data: new Uint8Array([i + 1]) })));
  const lastTerm = terms.length > 0 ? terms[terms.length - 1] : 0;
  s.save({ hardState: { term: hard?.term ?? lastTerm, vote: hard?.vote ?? 0, commit: hard?.commit ?? 0 }, entries: [], snapshot: null });
  return s;
}
