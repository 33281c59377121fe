// Deterministic simulation of a replicated stream (ADR 0010): the production decide and apply
// code (streams/stream/stream.ts, applyOp on a MemoryStore) on every replica, raft/'s RaftNode
// for the log, and the production leader rules (streams/replication/leader-book.ts: decide ahead
// of apply, in-flight Nats-Msg-Ids are duplicates answered once applied, ack once applied), led
// as replicated-stream.ts leads: only after applying the whole log. One seed decides the cluster size,
// the network's faults, partitions, crashes and restarts, and the clients' publishes and retries.
//
// Checked at the end, after healing every fault and letting the cluster settle:
//  - every acknowledged publish is on every replica, at the sequence its ack named, with its data;
//  - all replicas hold the same messages (no divergence, no sequence used twice);
//  - a message id retried by its client is stored once (dedupe across retries and leaders).
// A failing seed replays exactly: the run is a pure function of its options.

import { seededRng, type Rng } from '../../runtime/rng.ts';
import { ManualClock } from '../../runtime/clock.ts';
import { silentLogger } from '../../runtime/logger.ts';
import { RaftNode } from '../../raft/raft.ts';
import { MemoryStorage, bootstrap } from '../../raft/storage.ts';
import { EntryKind, Role, type Message, type NodeId } from '../../raft/types.ts';
import { normalizeStreamConfig } from '../../streams/stream/config.ts';
import { Stream } from '../../streams/stream/stream.ts';
import { MemoryStore } from '../../streams/store/memory-store.ts';
import { LeaderBook } from '../../streams/replication/leader-book.ts';
import { decodeStreamOp, encodeStreamOp } from '../../streams/replication/op-codec.ts';
import type { MessageBus } from '../../streams/bus.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork } from './network.ts';

/**
 * Deliberately broken leader rules, so a test can show the checker catches each (never set
 * otherwise): acking a retry of an in-flight publish before its proposal applies, leading before
 * the whole log is applied, acking a publish when it is proposed instead of when it is applied.
 */
export type StreamSimMutation = 'ackInFlightDuplicate' | 'leadBeforeApplied' | 'ackOnPropose';

export interface StreamSimOptions {
  readonly seed: number;
  readonly mutation?: StreamSimMutation;
  /** Fault-phase events; default 600. */
  readonly steps?: number;
  readonly trace?: (line: string) => void;
}

export interface StreamSimResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violation: string | null;
  readonly config: string;
  readonly acked: number;
  readonly stored: number;
}

type Event = { kind: 'tick'; node: NodeId } | { kind: 'deliver'; msg: Message } | { kind: 'action' };

interface Replica {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  raft: RaftNode | null;
  /** Store and applied index survive a crash together (one LMDB transaction in production). */
  stream: Stream;
  applied: number;
  /** The leader's proposals in flight, by simulated publish id. */
  readonly book: LeaderBook<number>;
}

interface Publish {
  readonly id: number;
  readonly msgId: string;
  readonly data: string;
  ackedSeq: number;
}

const TICK_MS = 10;
const NO_BUS: MessageBus = {
  subscribe: () => ({ unsubscribe: () => undefined }),
  publish: () => 0,
  hasInterest: () => false,
  publishAs: () => 0,
};

export class StreamSimulation {
  private readonly rng: Rng;
  private readonly net: SimNetwork;
  private readonly queue = new EventQueue<Event>();
  private readonly nodes = new Map<NodeId, Replica>();
  private readonly clock = new ManualClock();
  private readonly publishes: Publish[] = [];
  private readonly steps: number;
  private readonly trace: ((line: string) => void) | null;
  private readonly config: string;
  private now = 0;
  private step = 0;

  constructor(private readonly opts: StreamSimOptions) {
    this.rng = seededRng(opts.seed);
    this.steps = opts.steps ?? 600;
    this.trace = opts.trace ?? null;
    const rng = this.rng;
    const size = rng.next() < 0.5 ? 3 : 5;
    const faults = {
      dropRate: [0, 0.02, 0.1][rng.int(3)]!,
      duplicateRate: [0, 0.02][rng.int(2)]!,
      maxDelayMs: [2, 10, 25][rng.int(3)]!,
      longDelayRate: [0, 0.02][rng.int(2)]!,
      longDelayMs: 200,
    };
    this.net = new SimNetwork(rng, faults);
    this.config = `nodes=${size} drop=${faults.dropRate} dup=${faults.duplicateRate} delay<=${faults.maxDelayMs}ms`;
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    for (const id of ids) {
      const storage = new MemoryStorage();
      void bootstrap(storage, ids);
      this.nodes.set(id, { id, storage, raft: null, stream: this.newStream(), applied: 0, book: new LeaderBook<number>() });
      this.start(id);
      this.queue.push(1 + rng.int(TICK_MS), { kind: 'tick', node: id });
    }
    this.queue.push(1, { kind: 'action' });
  }

  run(): StreamSimResult {
    let violation: string | null = null;
    try {
      while (this.step < this.steps) this.runStep();
      // Settle: heal, restart everyone, and let the cluster finish replicating.
      this.net.healAll();
      this.net.faults = { dropRate: 0, duplicateRate: 0, maxDelayMs: 3, longDelayRate: 0, longDelayMs: 0 };
      for (const n of this.nodes.values()) if (n.raft === null) this.start(n.id);
      const deadline = this.now + 3000;
      while (this.now < deadline && !this.settled()) this.runStep(false);
      if (!this.settled()) throw new Error(`not settled 3 s after healing: ${this.describe()}`);
      this.check();
    } catch (err) {
      violation = err instanceof Error ? err.message : String(err);
    }
    const any = [...this.nodes.values()][0]!;
    return {
      seed: this.opts.seed,
      ok: violation === null,
      violation,
      config: this.config,
      acked: this.publishes.filter((p) => p.ackedSeq > 0).length,
      stored: any.stream.store.state().messages,
    };
  }

  private newStream(): Stream {
    const r = normalizeStreamConfig({ name: 'SIM', subjects: ['sim.>'], duplicate_window: 3_600_000_000_000 });
    if (!r.ok) throw new Error(r.error.description);
    return new Stream(r.config, new MemoryStore('SIM'), 0n, { bus: NO_BUS, clock: this.clock, logger: silentLogger });
  }

  private log(line: string): void {
    this.trace?.(`[${this.now}ms #${this.step}] ${line}`);
  }

  private runStep(actions = true): void {
    const next = this.queue.pop();
    if (next === undefined) throw new Error('event queue ran dry');
    if (next.atMs > this.now) this.clock.advance(next.atMs - this.now);
    this.now = next.atMs;
    this.step++;
    const ev = next.event;
    if (ev.kind === 'tick') {
      const n = this.nodes.get(ev.node)!;
      if (n.raft !== null) {
        n.raft.tick();
        this.process(n);
      }
      this.queue.push(this.now + TICK_MS, ev);
    } else if (ev.kind === 'deliver') {
      const n = this.nodes.get(ev.msg.to);
      if (n?.raft != null && !this.net.isBlocked(ev.msg.from, ev.msg.to)) {
        n.raft.step(ev.msg);
        this.process(n);
      }
    } else {
      if (actions) this.act();
      this.queue.push(this.now + 1 + this.rng.int(8), ev);
    }
  }

  private start(id: NodeId): void {
    const n = this.nodes.get(id)!;
    n.raft = new RaftNode({ id, storage: n.storage, rng: seededRng(this.rng.int(0x7fffffff)), electionTick: 10, heartbeatTick: 1, applied: n.applied });
    n.book.stop();
    this.process(n);
  }

  private crash(n: Replica): void {
    this.log(`crash ${n.id}`);
    n.raft = null;
    n.book.stop();
  }

  /** The Ready loop of RaftDriver, synchronously: persist, send, apply, advance. */
  private process(n: Replica): void {
    while (n.raft !== null && n.raft.hasReady()) {
      const r = n.raft;
      const rd = r.ready();
      n.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
      for (const m of rd.messages) for (const d of this.net.fate(m.from, m.to)) this.queue.push(this.now + d, { kind: 'deliver', msg: m });
      if (rd.softState !== null && rd.softState.role !== Role.Leader) this.stopLeading(n);
      for (const e of rd.committedEntries) {
        if (e.index <= n.applied) continue;
        n.applied = e.index;
        if (e.kind !== EntryKind.Normal || e.data.length === 0) continue;
        const op = decodeStreamOp(e.data);
        n.stream.apply(op);
        if (op.op === 'append') {
          const answers = n.book.applied(op);
          if (answers.appended !== undefined) this.ack(answers.appended, answers.seq, n.id);
          for (const id of answers.duplicates) this.ack(id, answers.seq, n.id);
        }
      }
      r.advance(rd);
      // Lead once everything in the log is applied (replicated-stream.ts maybeLead).
      const caughtUp = n.applied >= r.lastIndex() || this.opts.mutation === 'leadBeforeApplied';
      if (r.role === Role.Leader && !n.book.leading && caughtUp) this.startLeading(n);
    }
  }

  private ack(pubId: number, seq: number, by: NodeId): void {
    const p = this.publishes[pubId]!;
    if (p.ackedSeq === 0) p.ackedSeq = seq;
    else if (p.ackedSeq !== seq) throw new Error(`publish ${pubId} acked with seq ${p.ackedSeq} and ${seq}`);
    this.log(`ack publish ${pubId} seq ${seq} by ${by}`);
  }

  private startLeading(n: Replica): void {
    n.book.start(n.stream);
    this.log(`${n.id} leads at last seq ${n.stream.proposedLastSeq}`);
  }

  private stopLeading(n: Replica): void {
    n.book.stop();
  }

  private act(): void {
    const rng = this.rng;
    const roll = rng.next();
    const nodes = [...this.nodes.values()];
    if (roll < 0.6) {
      // A client publishes, or retries an unacknowledged publish with the same msg id.
      const unacked = this.publishes.filter((p) => p.ackedSeq === 0 && p.msgId !== '');
      const p =
        unacked.length > 0 && rng.next() < 0.3
          ? unacked[rng.int(unacked.length)]!
          : this.newPublish(rng.next() < 0.7);
      const target = nodes[rng.int(nodes.length)]!;
      this.publishTo(target, p);
    } else if (roll < 0.66) {
      const n = nodes[rng.int(nodes.length)]!;
      if (n.raft !== null) this.crash(n);
    } else if (roll < 0.76) {
      const down = nodes.filter((n) => n.raft === null);
      if (down.length > 0) this.start(down[rng.int(down.length)]!.id);
    } else if (roll < 0.8) {
      // Isolate one node (both directions) for a while.
      const n = nodes[rng.int(nodes.length)]!;
      for (const o of nodes) if (o !== n) {
        this.net.block(n.id, o.id);
        this.net.block(o.id, n.id);
      }
      this.log(`isolate ${n.id}`);
    } else if (roll < 0.86) {
      this.net.healAll();
    }
  }

  private newPublish(withId: boolean): Publish {
    const id = this.publishes.length;
    const p: Publish = { id, msgId: withId ? `m${id}` : '', data: `d${id}`, ackedSeq: 0 };
    this.publishes.push(p);
    return p;
  }

  /** What a server does with a publish that reaches it (only the leader captures). */
  private publishTo(n: Replica, p: Publish): void {
    if (n.raft === null || !n.book.leading) return;
    const hdr = p.msgId === '' ? null : Buffer.from(`NATS/1.0\r\nNats-Msg-Id: ${p.msgId}\r\n\r\n`, 'latin1');
    const d = n.book.decide(n.stream, 'sim.x', hdr, Buffer.from(p.data), p.id);
    if (d.kind === 'waiting') {
      // The book answers the retry when its proposal applies; the broken rule acks it at once.
      if (this.opts.mutation === 'ackInFlightDuplicate') this.ack(p.id, d.seq, n.id);
      return;
    }
    if (d.kind === 'answer') {
      if (d.decided.kind === 'duplicate') this.ack(p.id, d.decided.seq, n.id);
      return;
    }
    if (n.raft.propose(encodeStreamOp(d.op)).kind !== 'appended') return;
    if (this.opts.mutation === 'ackOnPropose') {
      n.book.proposed(d.op, null);
      this.ack(p.id, d.op.seq, n.id);
    } else {
      n.book.proposed(d.op, p.id);
    }
    this.process(n);
  }

  private settled(): boolean {
    const up = [...this.nodes.values()];
    if (up.some((n) => n.raft === null)) return false;
    const leader = up.find((n) => n.raft!.role === Role.Leader && n.book.leading);
    if (leader === undefined) return false;
    const last = leader.raft!.lastIndex();
    return leader.raft!.committed === last && up.every((n) => n.applied === last);
  }

  private check(): void {
    const nodes = [...this.nodes.values()];
    const dump = (n: Replica): string => {
      const out: string[] = [];
      for (const m of n.stream.store.iterate(1)) out.push(`${m.seq}:${Buffer.from(m.data).toString()}`);
      return out.join(',');
    };
    const first = dump(nodes[0]!);
    for (const n of nodes.slice(1)) {
      const d = dump(n);
      if (d !== first) throw new Error(`replicas differ: node ${nodes[0]!.id} [${first.slice(0, 200)}] vs node ${n.id} [${d.slice(0, 200)}]`);
    }
    const store = nodes[0]!.stream.store;
    for (const p of this.publishes) {
      if (p.ackedSeq === 0) continue;
      const m = store.get(p.ackedSeq);
      if (m === undefined || Buffer.from(m.data).toString() !== p.data) {
        throw new Error(`acknowledged publish ${p.id} (seq ${p.ackedSeq}) is not stored as acked: ${m === undefined ? 'missing' : Buffer.from(m.data).toString()}`);
      }
    }
    const seen = new Set<string>();
    for (const m of store.iterate(1)) {
      const d = Buffer.from(m.data).toString();
      const p = this.publishes[Number(d.slice(1))]!;
      if (p.msgId === '') continue;
      if (seen.has(p.msgId)) throw new Error(`msg id ${p.msgId} stored twice`);
      seen.add(p.msgId);
    }
  }

  private describe(): string {
    return [...this.nodes.values()]
      .map((n) => `${n.id}:${n.raft === null ? 'down' : `${n.raft.role} t${n.raft.term} c${n.raft.committed} last${n.raft.lastIndex()}`} applied${n.applied}${n.book.leading ? ' leading' : ''}`)
      .join(' ');
  }
}

export function runStreamSim(opts: StreamSimOptions): StreamSimResult {
  return new StreamSimulation(opts).run();
}
