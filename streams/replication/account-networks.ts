// Several accounts' JetStreams replicating over one set of routes.
//
// Each account with JetStream runs its own replication: its own meta group and stream groups, in
// its own store directory, with its API and internal subjects in its own router (so routes carry
// them in that account). What they share is the server's one RaftNetwork, which has one receiver
// and one announced state per server. This splits it into a view per account:
// - Raft traffic: an account's group names travel as `<account> NUL <group>`, so two accounts'
//   groups of the same name (every account has a meta group) never meet; the global account's go
//   as they are, so a cluster without configured accounts sends exactly what it always sent.
// - Announced state: the global account's in the top-level fields (as before), every other
//   account's under `accounts.<name>`; a peer that announced a state without that account has no
//   JetStream for it (it is never placed there, nor made a meta member).
// Account names never hold NUL: config keys and account public keys are printable.

import type { Message } from '../../raft/types.ts';
import type { PeerState, RaftNetwork } from './network.ts';

/** The global account's name ($G): its groups and state keep the single-account wire form. */
const UNSCOPED_ACCOUNT = '$G';
const SCOPE_SEPARATOR = '\u0000';
const NO_JETSTREAM: PeerState = { jetstream: false, metaMember: false };

type Handler = (group: string, from: string, messages: readonly Message[]) => void;

export class AccountRaftNetworks {
  private readonly base: RaftNetwork;
  private readonly handlers = new Map<string, Handler>();
  private readonly states = new Map<string, PeerState>();

  constructor(base: RaftNetwork) {
    this.base = base;
    base.onMessages((group, from, messages) => {
      const sep = group.indexOf(SCOPE_SEPARATOR);
      const account = sep < 0 ? UNSCOPED_ACCOUNT : group.slice(0, sep);
      this.handlers.get(account)?.(sep < 0 ? group : group.slice(sep + 1), from, messages);
    });
  }

  /** The network as `account`'s replication sees it. */
  for(account: string): RaftNetwork {
    const base = this.base;
    const scoped = account !== UNSCOPED_ACCOUNT;
    const prefix = scoped ? account + SCOPE_SEPARATOR : '';
    return {
      self: base.self,
      send: scoped ? (group, to, messages) => base.send(prefix + group, to, messages) : (group, to, messages) => base.send(group, to, messages),
      onMessages: (handler) => {
        this.handlers.set(account, handler);
      },
      connected: () => base.connected(),
      onPeerChange: (handler) => base.onPeerChange(handler),
      setLocalState: (state) => {
        this.states.set(account, state);
        base.setLocalState(this.announced());
      },
      peerState: (name) => {
        const s = base.peerState(name);
        if (s === undefined || !scoped) return s;
        return s.accounts?.[account] ?? NO_JETSTREAM;
      },
      configuredRoutesConnected: () => base.configuredRoutesConnected(),
    };
  }

  /** This server's state for every account, in the wire form described above. */
  private announced(): PeerState {
    const top = this.states.get(UNSCOPED_ACCOUNT) ?? NO_JETSTREAM;
    const accounts: Record<string, PeerState> = {};
    let any = false;
    for (const [name, s] of this.states) {
      if (name === UNSCOPED_ACCOUNT) continue;
      accounts[name] = { jetstream: s.jetstream, metaMember: s.metaMember };
      any = true;
    }
    return any ? { jetstream: top.jetstream, metaMember: top.metaMember, accounts } : top;
  }
}
