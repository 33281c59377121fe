// The meta group's replicated state: which replicated streams exist, with which config, and which
// servers hold their replicas (docs/adr/0010-replicated-jetstream.md). Changed only by applying
// committed meta ops, in log order, on every server, so every server knows every assignment.
// Ops are msgpack: plain data that every server decodes the same way.

import { Packr } from 'msgpackr';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';

export interface StreamGroupInfo {
  /** Raft group name, S-R<replicas><F|M>-<8 chars> as nats-server names them. */
  readonly name: string;
  /** Server names holding a replica; the group's voters. */
  readonly peers: readonly string[];
  /**
   * The voters the group was formed with, once the replica count changed (absent: `peers`). A
   * server outside them joins the group empty and learns its membership from the leader's log:
   * formed again with other voters, its log would contradict the leader's at the same positions.
   */
  readonly initial?: readonly string[];
}

/** The voters a replica bootstraps its group with, or none when it must join it empty. */
export function bootstrapPeers(group: StreamGroupInfo, self: string): readonly string[] {
  const initial = group.initial ?? group.peers;
  return initial.includes(self) ? initial : [];
}

export interface StreamAssignment {
  readonly config: StreamConfig;
  readonly group: StreamGroupInfo;
  /** Creation time, epoch ns as a decimal string. */
  readonly created: string;
  /** The CREATE request's reply subject: the stream's first leader answers it. */
  readonly reply: string;
}

export type MetaOp =
  | { readonly op: 'stream'; readonly assignment: StreamAssignment }
  /** A new config; with `peers` when the replica count changed (the servers holding it now). */
  | { readonly op: 'stream-update'; readonly config: StreamConfig; readonly reply: string; readonly peers?: readonly string[] }
  | { readonly op: 'stream-delete'; readonly name: string; readonly reply: string };

const packr = new Packr({ useRecords: false });

export function encodeMetaOp(op: MetaOp): Uint8Array {
  return packr.pack(op);
}

export function decodeMetaOp(data: Uint8Array): MetaOp | undefined {
  let v: unknown;
  try {
    v = packr.unpack(data);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as { op?: unknown };
  if (o.op === 'stream' || o.op === 'stream-update' || o.op === 'stream-delete') return v as MetaOp;
  return undefined;
}

/** What applying an op changed, for the servers that must act on it. */
export type MetaChange =
  | { readonly kind: 'stream-added'; readonly assignment: StreamAssignment }
  /** The config changed; the stream's leader takes it into the stream's own log (and answers `reply`). */
  | { readonly kind: 'stream-updated'; readonly assignment: StreamAssignment; readonly reply: string }
  | { readonly kind: 'stream-removed'; readonly assignment: StreamAssignment; readonly reply: string };

export class MetaState {
  private readonly streams = new Map<string, StreamAssignment>();

  stream(name: string): StreamAssignment | undefined {
    return this.streams.get(name);
  }

  allStreams(): StreamAssignment[] {
    return [...this.streams.values()].sort((a, b) => (a.config.name < b.config.name ? -1 : a.config.name > b.config.name ? 1 : 0));
  }

  /** Applies one committed op; returns what changed (null when the op changed nothing). */
  apply(op: MetaOp): MetaChange | null {
    switch (op.op) {
      case 'stream': {
        const name = op.assignment.config.name;
        // The leader checks before proposing, but two proposals for one name can both commit
        // (two leaders in a row): the first one wins everywhere, the same way.
        if (this.streams.has(name)) return null;
        this.streams.set(name, op.assignment);
        return { kind: 'stream-added', assignment: op.assignment };
      }
      case 'stream-update': {
        const a = this.streams.get(op.config.name);
        if (a === undefined) return null;
        const group = op.peers === undefined ? a.group : { ...a.group, peers: op.peers, initial: a.group.initial ?? a.group.peers };
        const updated: StreamAssignment = { ...a, config: op.config, group };
        this.streams.set(op.config.name, updated);
        return { kind: 'stream-updated', assignment: updated, reply: op.reply };
      }
      case 'stream-delete': {
        const a = this.streams.get(op.name);
        if (a === undefined) return null;
        this.streams.delete(op.name);
        return { kind: 'stream-removed', assignment: a, reply: op.reply };
      }
    }
  }
}

/**
 * The servers that hold a stream after its replica count changes to `replicas`: the same ones
 * plus the least loaded of `candidates` when it grows; without the last ones (the stream's
 * current leader, `leader`, kept if possible) when it shrinks. Undefined when too few servers.
 */
export function resizePeers(current: readonly string[], replicas: number, candidates: readonly string[], state: MetaState, leader: string): string[] | undefined {
  if (replicas >= current.length) {
    const more = placeReplicas(replicas - current.length, candidates.filter((c) => !current.includes(c)), state);
    return more === undefined ? undefined : [...current, ...more];
  }
  const keep = current.filter((p) => p === leader).concat(current.filter((p) => p !== leader));
  const kept = new Set(keep.slice(0, replicas));
  return current.filter((p) => kept.has(p));
}

/**
 * Picks `replicas` distinct servers for a new stream: the ones holding the fewest replicas
 * first, ties broken by name so every leader would choose alike. Undefined when there are too few.
 */
export function placeReplicas(replicas: number, candidates: readonly string[], state: MetaState): string[] | undefined {
  if (candidates.length < replicas) return undefined;
  const load = new Map<string, number>(candidates.map((c) => [c, 0]));
  for (const a of state.allStreams()) for (const p of a.group.peers) if (load.has(p)) load.set(p, load.get(p)! + 1);
  return [...candidates].sort((a, b) => load.get(a)! - load.get(b)! || (a < b ? -1 : a > b ? 1 : 0)).slice(0, replicas);
}

/** nats-server's group names: S-R3F-<8 random chars>; `token` supplies the randomness. */
export function streamGroupName(config: StreamConfig, token: string): string {
  return `S-R${config.num_replicas}${config.storage === 'memory' ? 'M' : 'F'}-${token.slice(0, 8)}`;
}
