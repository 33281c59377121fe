import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../raft/types.ts';
import type { PeerState, RaftNetwork } from './network.ts';
import { AccountRaftNetworks } from './account-networks.ts';

/** A server's base network whose traffic and announcements the test reads and drives. */
function fakeBase(): { net: RaftNetwork; sent: { group: string; to: string }[]; announced: PeerState[]; deliver(group: string): void; peers: Map<string, PeerState> } {
  const sent: { group: string; to: string }[] = [];
  const announced: PeerState[] = [];
  const peers = new Map<string, PeerState>();
  let handler: ((group: string, from: string, messages: readonly Message[]) => void) | undefined;
  const net: RaftNetwork = {
    self: 's1',
    send: (group, to) => sent.push({ group, to }),
    onMessages: (h) => {
      handler = h;
    },
    connected: () => [...peers.keys()],
    onPeerChange: () => undefined,
    setLocalState: (s) => announced.push(s),
    peerState: (name) => peers.get(name),
    configuredRoutesConnected: () => true,
  };
  return { net, sent, announced, peers, deliver: (group) => handler?.(group, 's2', []) };
}

test('the global account keeps the unscoped wire form; other accounts are scoped by name', () => {
  const base = fakeBase();
  const nets = new AccountRaftNetworks(base.net);
  const g = nets.for('$G');
  const a = nets.for('A');
  const got: string[] = [];
  g.onMessages((group) => got.push(`$G:${group}`));
  a.onMessages((group) => got.push(`A:${group}`));
  g.send('_meta_', 's2', []);
  a.send('_meta_', 's2', []);
  assert.deepEqual(base.sent, [
    { group: '_meta_', to: 's2' },
    { group: 'A\u0000_meta_', to: 's2' },
  ]);
  base.deliver('_meta_');
  base.deliver('A\u0000_meta_');
  base.deliver('B\u0000_meta_'); // an account this server has no JetStream for: dropped
  assert.deepEqual(got, ['$G:_meta_', 'A:_meta_']);
});

test('each account announces and reads its own state', () => {
  const base = fakeBase();
  const nets = new AccountRaftNetworks(base.net);
  const a = nets.for('A');
  const b = nets.for('B');
  a.setLocalState({ jetstream: true, metaMember: false });
  b.setLocalState({ jetstream: true, metaMember: true });
  assert.deepEqual(base.announced.at(-1), {
    jetstream: false,
    metaMember: false,
    accounts: { A: { jetstream: true, metaMember: false }, B: { jetstream: true, metaMember: true } },
  });
  base.peers.set('s2', { jetstream: false, metaMember: false, accounts: { A: { jetstream: true, metaMember: true } } });
  base.peers.set('s3', { jetstream: true, metaMember: true });
  assert.deepEqual(a.peerState('s2'), { jetstream: true, metaMember: true });
  assert.deepEqual(b.peerState('s2'), { jetstream: false, metaMember: false }, 'no JetStream for B there');
  assert.deepEqual(b.peerState('s3'), { jetstream: false, metaMember: false });
  assert.equal(a.peerState('s4'), undefined, 'a peer that announced nothing yet');
  assert.deepEqual(nets.for('$G').peerState('s3'), { jetstream: true, metaMember: true });
});

test('with only the global account the announced state is exactly its own', () => {
  const base = fakeBase();
  const g = new AccountRaftNetworks(base.net).for('$G');
  g.setLocalState({ jetstream: true, metaMember: true });
  assert.deepEqual(base.announced, [{ jetstream: true, metaMember: true }]);
});
