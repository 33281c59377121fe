// Raft throughput: an in-process 3-node cluster over a zero-delay simulated transport, with
// proposals batched. Every Ready is processed per the contract (persist into MemoryStorage,
// send, apply, advance) on all three nodes; logs are snapshotted and compacted as they grow.
// Prints committed entries per second (bar: >= 200,000/s) and appends a result line to
// benchmarks/results/raft.ndjson.
//
//   node --import tsx benchmarks/raft/bench.ts [--seconds 3] [--batch 1024] [--payload 64]

import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRng } from '../../runtime/rng.ts';
import { RaftNode } from '../../raft/raft.ts';
import { MemoryStorage, bootstrap } from '../../raft/storage.ts';
import { EntryKind, Role, type Message, type NodeId } from '../../raft/types.ts';

interface Args {
  seconds: number;
  batch: number;
  payload: number;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { seconds: 3, batch: 1024, payload: 64 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`bad value for ${argv[i]}`);
    if (argv[i] === '--seconds') a.seconds = v;
    else if (argv[i] === '--batch') a.batch = Math.floor(v);
    else if (argv[i] === '--payload') a.payload = Math.floor(v);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return a;
}

class Member {
  readonly storage = new MemoryStorage();
  readonly raft: RaftNode;
  appliedNormal = 0;
  appliedIndex = 0;

  constructor(
    readonly id: NodeId,
    ids: NodeId[],
  ) {
    void bootstrap(this.storage, ids);
    this.raft = new RaftNode({ id, storage: this.storage, rng: seededRng(id), electionTick: 10, heartbeatTick: 1 });
  }
}

/** Zero-delay transport: a FIFO of messages delivered synchronously by `pump()`. */
class Cluster {
  readonly members = new Map<NodeId, Member>();
  private queue: Message[] = [];

  constructor(ids: NodeId[]) {
    for (const id of ids) this.members.set(id, new Member(id, ids));
  }

  private processReady(m: Member): boolean {
    const r = m.raft;
    if (!r.hasReady()) return false;
    const rd = r.ready();
    m.storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
    for (const msg of rd.messages) this.queue.push(msg);
    if (rd.snapshot !== null) m.appliedIndex = rd.snapshot.metadata.index;
    const ce = rd.committedEntries;
    for (let i = 0; i < ce.length; i++) if (ce[i].kind === EntryKind.Normal && ce[i].data.length > 0) m.appliedNormal++;
    if (ce.length > 0) m.appliedIndex = ce[ce.length - 1].index;
    r.advance(rd);
    return true;
  }

  /** Runs until no node has anything to do. */
  pump(): void {
    for (;;) {
      let busy = false;
      for (const m of this.members.values()) while (this.processReady(m)) busy = true;
      if (this.queue.length > 0) {
        const q = this.queue;
        this.queue = [];
        for (const msg of q) this.members.get(msg.to)!.raft.step(msg);
        busy = true;
      }
      if (!busy) return;
    }
  }

  /** Snapshots and compacts every log that grew past `keep` entries (bounded memory). */
  compact(keep: number): void {
    for (const m of this.members.values()) {
      const applied = m.appliedIndex;
      if (applied - m.storage.firstIndex() < 2 * keep) continue;
      const at = applied - keep;
      if (at > m.storage.snapshot().metadata.index) m.storage.createSnapshot(at, m.raft.confStateAt(at), new Uint8Array(8));
      m.storage.compact(at);
    }
  }

  leader(): Member {
    for (const m of this.members.values()) if (m.raft.role === Role.Leader) return m;
    throw new Error('no leader');
  }
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const c = new Cluster([1, 2, 3]);
  c.members.get(1)!.raft.campaign();
  c.pump();
  const leader = c.leader();

  // Distinct payload buffers, reused round-robin (entries are immutable once proposed).
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 4096; i++) pool.push(new Uint8Array(args.payload).fill(i & 0xff));
  const batch: Uint8Array[] = new Array(args.batch);
  let cursor = 0;

  const run = (ms: number): { entries: number; elapsedMs: number } => {
    const startApplied = leader.appliedNormal;
    const t0 = performance.now();
    let rounds = 0;
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < batch.length; i++) {
        batch[i] = pool[cursor];
        cursor = (cursor + 1) & 4095;
      }
      const out = leader.raft.propose(batch);
      if (out.kind !== 'appended') throw new Error(`proposal ${out.kind}`);
      c.pump();
      if (++rounds % 64 === 0) {
        for (const m of c.members.values()) m.raft.tick();
        c.pump();
        c.compact(16_384);
      }
    }
    return { entries: leader.appliedNormal - startApplied, elapsedMs: performance.now() - t0 };
  };

  run(500); // warm-up
  const { entries, elapsedMs } = run(args.seconds * 1000);
  const entriesPerSec = Math.round((entries / elapsedMs) * 1000);
  for (const m of c.members.values()) {
    if (m.appliedIndex !== leader.appliedIndex) throw new Error(`node ${m.id} applied ${m.appliedIndex}, leader ${leader.appliedIndex}`);
  }
  console.log(
    `raft 3-node in-process, zero-delay transport, batch ${args.batch} × ${args.payload} B: ` +
      `${entries} entries committed in ${(elapsedMs / 1000).toFixed(2)} s = ${entriesPerSec.toLocaleString('en-US')} entries/s ` +
      `(bar 200,000/s: ${entriesPerSec >= 200_000 ? 'met' : 'NOT met'})`,
  );

  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', 'raft.ndjson');
  mkdirSync(dirname(out), { recursive: true });
  const line = {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    entriesPerSec,
    nodes: 3,
    batch: args.batch,
    payloadBytes: args.payload,
    seconds: Math.round(elapsedMs) / 1000,
  };
  appendFileSync(out, JSON.stringify(line) + '\n');
}

main();
