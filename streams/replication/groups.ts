// Every Raft group on this server, and the one place raft traffic from the routes is handed to
// the group it belongs to. Traffic for a group this server does not (yet) have is dropped: the
// leader retries, and by then the group may exist here (a stream assignment applied late).

import type { RootDatabase } from 'lmdb';
import type { Applier } from '../../raft/driver.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { Rng } from '../../runtime/rng.ts';
import { RaftGroup } from './group.ts';
import type { Durability } from './lmdb-raft-storage.ts';
import type { RaftNetwork } from './network.ts';

export interface RaftGroupsDeps {
  readonly network: RaftNetwork;
  readonly root: RootDatabase;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly logger: Logger;
  readonly durability: Durability;
  readonly tickMs?: number;
}

export class RaftGroups {
  private readonly deps: RaftGroupsDeps;
  private readonly groups = new Map<string, RaftGroup>();
  private closed = false;

  constructor(deps: RaftGroupsDeps) {
    this.deps = deps;
    deps.network.onMessages((group, from, messages) => this.groups.get(group)?.receive(from, messages));
    deps.network.onPeerChange((name, connected) => {
      if (connected) for (const g of this.groups.values()) g.peerConnected(name);
    });
  }

  get self(): string {
    return this.deps.network.self;
  }

  get(name: string): RaftGroup | undefined {
    return this.groups.get(name);
  }

  all(): IterableIterator<RaftGroup> {
    return this.groups.values();
  }

  /** Starts the group `name` here (bootstrapping it with `members` when its log is new). */
  async start(name: string, members: readonly string[], applier: Applier, applied = 0): Promise<RaftGroup> {
    if (this.closed) throw new Error('raft groups are closed');
    const existing = this.groups.get(name);
    if (existing !== undefined) return existing;
    const group = await RaftGroup.start({
      name,
      bootstrapMembers: members,
      network: this.deps.network,
      root: this.deps.root,
      clock: this.deps.clock,
      rng: this.deps.rng,
      logger: this.deps.logger,
      applier,
      applied,
      durability: this.deps.durability,
      ...(this.deps.tickMs !== undefined ? { tickMs: this.deps.tickMs } : {}),
    });
    this.groups.set(name, group);
    return group;
  }

  async stop(name: string, drop = false): Promise<void> {
    const g = this.groups.get(name);
    if (g === undefined) return;
    this.groups.delete(name);
    await (drop ? g.drop() : g.stop());
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.groups.values()];
    this.groups.clear();
    await Promise.all(all.map((g) => g.stop()));
  }
}
