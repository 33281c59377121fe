// How replication reaches the other servers without importing server/: the cluster hands the
// JetStream layer a RaftNetwork (implemented by server/cluster over the routes), as it hands it
// a MessageBus for local messaging. Servers are named by their server_name, which is unique in a
// cluster and stable across restarts (the server id is not).

import type { Message } from '../../raft/types.ts';

/** What a server tells its peers about its part in replication. */
export interface PeerState {
  /** JetStream is enabled there (it can hold replicas and be a meta group member). */
  readonly jetstream: boolean;
  /** It has a meta group log (bootstrapped or joined): it is, or is becoming, a member. */
  readonly metaMember: boolean;
  /**
   * Accounts other than the global one, each replicating on its own (account-networks.ts): their
   * states by account name. Only in what a server announces; an account's view never has it.
   */
  readonly accounts?: Readonly<Record<string, PeerState>>;
}

export interface RaftNetwork {
  /** This server's name. */
  readonly self: string;
  /** Best-effort delivery of `messages` of `group` to the server named `to` (dropped when unreachable). */
  send(group: string, to: string, messages: readonly Message[]): void;
  /** The receiver of every group's traffic on this server (one per server; replaces any earlier one). */
  onMessages(handler: (group: string, from: string, messages: readonly Message[]) => void): void;
  /** Names of the servers this one currently has a route to. */
  connected(): readonly string[];
  /** Called with the server's name whenever a route to it opens or closes, or its state changes. */
  onPeerChange(handler: (name: string, connected: boolean) => void): void;
  /** Announces this server's state to every peer (now and on every new route). */
  setLocalState(state: PeerState): void;
  /** A connected peer's last announced state; undefined until it has announced one. */
  peerState(name: string): PeerState | undefined;
  /** True once a route is open to every server this one was configured to dial. */
  configuredRoutesConnected(): boolean;
}
