// The meta group: one Raft group (`_meta_`) over every JetStream server of the cluster, whose log
// will hold the stream and consumer assignments (docs/adr/0010-replicated-jetstream.md). This
// module forms it and keeps its membership up to date:
//
// - A server that already has a meta log resumes it (never bootstraps over existing state).
// - Otherwise it waits until it has a route to every server it was configured to dial. If then
//   no connected server is a member yet, the JetStream server with the smallest name among
//   itself and its peers bootstraps the group with all of them as voters; every other server
//   starts empty and learns the group from the leader's log. A seed (no routes) that starts
//   alone bootstraps alone; the others join it.
// - The leader adds every connected JetStream server that is not yet a voter, one at a time
//   (single-server membership changes, ADR 0002). Removing a dead server stays explicit.
//
// Servers announce whether they run JetStream and hold a meta log in their route gossip
// (RaftNetwork.setLocalState), which is what the rules above read.

import type { Applier } from '../../raft/driver.ts';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { RaftGroup } from './group.ts';
import type { RaftGroups } from './groups.ts';
import type { RaftNetwork } from './network.ts';

export const META_GROUP = '_meta_';
/** How often the leader looks for servers to add (also done on every peer change). */
const GROW_CHECK_MS = 1000;

export interface MetaGroupDeps {
  readonly groups: RaftGroups;
  readonly network: RaftNetwork;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The replicated state machine (assignments). */
  readonly applier: Applier;
  /** True when this server already holds a meta log (it resumes instead of bootstrapping). */
  readonly hasLog: boolean;
}

export class MetaGroup {
  private readonly deps: MetaGroupDeps;
  private readonly logger: Logger;
  private group: RaftGroup | null = null;
  private starting: Promise<void> | null = null;
  private timer: TimerHandle | undefined;
  private closed = false;

  constructor(deps: MetaGroupDeps) {
    this.deps = deps;
    this.logger = deps.logger.child({ group: META_GROUP });
  }

  /** Resumes or forms the group; returns at once (formation may wait for peers). */
  start(): void {
    const net = this.deps.network;
    net.setLocalState({ jetstream: true, metaMember: this.deps.hasLog });
    net.onPeerChange(() => this.onPeers());
    this.timer = this.deps.clock.setInterval(() => this.onPeers(), GROW_CHECK_MS);
    if (this.deps.hasLog) this.begin([]);
    else this.onPeers();
  }

  get raft(): RaftGroup | null {
    return this.group;
  }

  /** The meta leader's server name; '' while there is none (API calls needing it get 10008). */
  get leader(): string {
    return this.group?.leader ?? '';
  }

  get isLeader(): boolean {
    return this.group?.isLeader === true;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    if (this.starting !== null) await this.starting.catch(() => undefined);
  }

  private onPeers(): void {
    if (this.closed) return;
    if (this.group === null) {
      if (this.starting === null) this.tryForm();
      return;
    }
    if (this.group.isLeader) this.grow(this.group);
  }

  private tryForm(): void {
    const net = this.deps.network;
    if (!net.configuredRoutesConnected()) return;
    const peers = net.connected();
    const states = peers.map((p) => ({ name: p, state: net.peerState(p) }));
    // A peer whose state has not arrived yet may be a member: wait for it.
    if (states.some((s) => s.state === undefined)) return;
    if (states.some((s) => s.state!.metaMember)) {
      this.logger.info({ peers }, 'joining the JetStream meta group');
      this.begin([]);
      return;
    }
    const candidates = [net.self, ...states.filter((s) => s.state!.jetstream).map((s) => s.name)].sort();
    if (candidates[0] !== net.self) return; // the smallest name forms it; we join once it has
    this.logger.info({ members: candidates }, 'forming the JetStream meta group');
    this.begin(candidates);
  }

  private begin(members: readonly string[]): void {
    this.starting = this.deps.groups
      .start(META_GROUP, members, this.deps.applier)
      .then((g) => {
        this.group = g;
        this.deps.network.setLocalState({ jetstream: true, metaMember: true });
      })
      .catch((err: unknown) => {
        this.logger.error({ err: String(err) }, 'could not start the meta group');
        this.starting = null;
      });
  }

  /** Leader: add the first connected JetStream server that is not a voter yet. */
  private grow(group: RaftGroup): void {
    const net = this.deps.network;
    const voters = new Set(group.members);
    for (const name of net.connected()) {
      if (voters.has(name) || net.peerState(name)?.jetstream !== true) continue;
      const outcome = group.addMember(name);
      if (outcome.kind === 'appended') this.logger.info({ server: name }, 'adding a server to the meta group');
      return; // one change at a time; the next check adds the next
    }
  }
}

