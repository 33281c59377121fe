// Rule-by-rule specification of RaftNode (Raft paper sections in the test names).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../runtime/rng.ts';
import { RaftNode } from './raft.ts';
import { MemoryStorage } from './storage.ts';
import { TestCluster, storageWithLog } from './testing.ts';
import { ConfChangeKind, EntryKind, MessageType, Role, makeMessage, type Message, type NodeId } from './types.ts';

const RAW = { preVote: false, checkQuorum: false }; // the paper's Raft, without the extensions
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function nodeOver(id: NodeId, storage: MemoryStorage, opts: Partial<ConstructorParameters<typeof RaftNode>[0]> = {}): RaftNode {
  return new RaftNode({ id, storage, rng: seededRng(id), electionTick: 10, ...RAW, ...opts });
}

function drain(r: RaftNode): Message[] {
  const msgs: Message[] = [];
  while (r.hasReady()) {
    const rd = r.ready();
    msgs.push(...rd.messages);
    r.advance(rd);
  }
  return msgs;
}

test('election (§5.2): a campaigning node with a majority of votes becomes leader, others follow', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], RAW);
  c.elect(1);
  assert.deepEqual(c.leaders(), [1]);
  assert.equal(c.node(1).term, 2);
  for (const id of [2, 3]) {
    assert.equal(c.node(id).role, Role.Follower);
    assert.equal(c.node(id).leader, 1);
    assert.equal(c.node(id).term, 2);
  }
  // The new leader's no-op commits and everything is applied everywhere.
  for (const id of [1, 2, 3]) assert.equal(c.node(id).committed, 4);
});

test('election by timeout: randomized timeouts elect exactly one leader', () => {
  const c = TestCluster.bootstrapped([1, 2, 3, 4, 5]);
  for (let i = 0; i < 40 && c.leaders().length === 0; i++) c.tickAll();
  assert.equal(c.leaders().length, 1);
  const term = c.node(c.leaders()[0]).term;
  for (const id of [1, 2, 3, 4, 5]) assert.equal(c.node(id).term, term);
});

test('election timeout is randomized in [electionTick, 2*electionTick) from the injected rng', () => {
  const s = storageWithLog([1, 2, 3], []);
  const firedAt = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const r = new RaftNode({ id: 1, storage: s, rng: seededRng(seed), electionTick: 10, ...RAW });
    let t = 0;
    while (r.role === Role.Follower) {
      r.tick();
      t++;
    }
    firedAt.add(t);
    assert.ok(t >= 10 && t < 20, `fired at ${t}`);
  }
  assert.ok(firedAt.size > 3, 'timeouts should vary');
});

test('vote rejection (§5.4.1): a voter refuses candidates whose log is less up-to-date', () => {
  const voter = nodeOver(1, storageWithLog([1, 2, 3], [1, 1, 2]));
  const ask = (from: NodeId, term: number, lastIndex: number, lastTerm: number): boolean => {
    voter.step(makeMessage({ type: MessageType.Vote, from, to: 1, term, index: lastIndex, logTerm: lastTerm }));
    const resp = drain(voter).find((m) => m.type === MessageType.VoteResponse);
    assert.ok(resp);
    return !resp.reject;
  };
  assert.equal(ask(2, 5, 2, 1), false, 'lower last term');
  assert.equal(ask(2, 6, 9, 1), false, 'longer but lower last term');
  assert.equal(ask(2, 7, 2, 2), false, 'same last term, shorter');
  assert.equal(ask(2, 8, 3, 2), true, 'same last term, same length');
  assert.equal(voter.vote, 2);
  assert.equal(ask(3, 8, 3, 2), false, 'already voted in term 8');
  assert.equal(ask(3, 9, 1, 3), true, 'higher last term wins even if shorter');
});

test('vote is persisted before the response is sent (Ready carries hard state and message together)', () => {
  const voter = nodeOver(1, storageWithLog([1, 2, 3], [1]));
  drain(voter);
  voter.step(makeMessage({ type: MessageType.Vote, from: 2, to: 1, term: 3, index: 1, logTerm: 1 }));
  const rd = voter.ready();
  assert.deepEqual(rd.hardState, { term: 3, vote: 2, commit: 0 });
  assert.equal(rd.messages[0].type, MessageType.VoteResponse);
  voter.advance(rd);
});

test('log replication: conflicting follower suffix is truncated and replaced (§5.3)', () => {
  // Leader 1 at term 3 has [1,1,3,3]; follower 2 has a divergent uncommitted tail [1,1,2,2,2].
  const c = new TestCluster(RAW);
  c.addMember(1, storageWithLog([1, 2, 3], [1, 1, 3, 3], { term: 3 }));
  c.addMember(2, storageWithLog([1, 2, 3], [1, 1, 2, 2, 2], { term: 2 }));
  c.addMember(3, storageWithLog([1, 2, 3], [1, 1], { term: 1 }));
  c.elect(1);
  assert.deepEqual(c.leaders(), [1]);
  const term = c.node(1).term;
  assert.deepEqual(c.terms(2), [1, 1, 3, 3, term]);
  assert.deepEqual(c.terms(3), [1, 1, 3, 3, term]);
  assert.equal(c.member(2).storage.lastIndex(), 5);
  assert.equal(c.member(2).storage.term(3), 3, 'the truncation reached storage');
});

test('fast back-off: the follower rejection hint skips a whole divergent term in one round trip', () => {
  // Follower log: terms [1, 2,2,2,2,2,2] (7 entries); leader: [1, 3,3,3,3,3,3,3,3].
  const leaderLog = [1, 3, 3, 3, 3, 3, 3, 3, 3];
  const c = new TestCluster(RAW);
  c.addMember(1, storageWithLog([1, 2, 3], leaderLog, { term: 3 }));
  c.addMember(2, storageWithLog([1, 2, 3], [1, 2, 2, 2, 2, 2, 2], { term: 2 }));
  c.addMember(3, storageWithLog([1, 2, 3], leaderLog, { term: 3 }));
  c.elect(1);
  const rejects = c.sent.filter((m) => m.type === MessageType.AppendResponse && m.from === 2 && m.reject);
  assert.ok(rejects.length <= 2, `expected at most 2 rejections, got ${rejects.length}`);
  assert.deepEqual(c.terms(2), c.terms(1));
});

test('commit rule (§5.4.2, Figure 8): a previous-term entry is committed only through a current-term entry', () => {
  for (const mutated of [false, true]) {
    const opts = { ...RAW, maxSizePerMsgBytes: 1, unsafeTestMutations: mutated ? { commitByCountingAnyTerm: true } : {} };
    const c = TestCluster.bootstrapped([1, 2, 3, 4, 5], opts);
    c.elect(1); // term 2; bootstrap entries 1..5 and the no-op at 6 committed everywhere
    assert.equal(c.node(1).committed, 6);

    // (a) S1 replicates X (index 7, term 2) to S2 only, then crashes.
    for (const id of [3, 4, 5]) c.cutLink(1, id);
    c.propose(1, 'X');
    assert.equal(c.node(2).termAt(7), 2);
    c.crash(1);
    c.heal();

    // (b) S5 wins term 3 with S3 and S4 (S2 refuses: its log is longer); its no-op (index 7,
    //     term 3) stays local; S5 crashes.
    for (const id of [1, 2]) c.cutLink(5, id);
    c.node(5).campaign();
    c.deliverUntil(() => c.node(5).role === Role.Leader);
    assert.equal(c.node(5).term, 3);
    c.isolate(5);
    c.deliverAll();
    c.crash(5);
    c.heal();

    // (c) S1 restarts and wins term 4 (S2, S3); it replicates index 7 (term 2) to S3 but not
    //     its term-4 no-op. Index 7 is now on S1, S2, S3 — a majority — yet from term 2.
    c.restart(1);
    c.cutLink(1, 4);
    c.cutLink(1, 5);
    // S3 may receive the term-4 no-op only while it cannot accept it (it lacks index 7 and
    // rejects, which makes S1 back off and send index 7 alone).
    c.filter = (m) => !(m.type === MessageType.Append && m.to === 3 && m.entries.some((e) => e.term === 4) && c.node(3).lastIndex() >= 7);
    c.elect(1); // term 3: S3 and S4 already voted for S5, so this round fails
    if (c.node(1).role !== Role.Leader) c.elect(1); // term 4: S2 and S3 grant
    assert.equal(c.node(1).role, Role.Leader);
    assert.equal(c.node(1).term, 4);
    c.tick(1); // heartbeats: S3 acks through the probe path
    c.deliverAll();
    assert.equal(c.node(3).termAt(7), 2);
    assert.equal(c.node(3).lastIndex(), 7);
    if (!mutated) {
      assert.equal(c.node(1).committed, 6, 'index 7 (term 2) must not be committed by counting replicas');
    } else {
      assert.ok(c.node(1).committed >= 7, 'the mutation commits by counting (shows the hook works)');
    }

    // (d) S1 crashes; S5 restarts and wins term 5 with S3 and S4 (its last term 3 beats 2).
    c.crash(1);
    c.heal();
    c.restart(5);
    c.cutLink(5, 2); // S2 has the term-4 no-op and would refuse anyway
    for (let round = 0; round < 2 && c.node(5).role !== Role.Leader; round++) {
      // term 4 fails (S3 already voted for S1 in term 4); term 5 succeeds
      c.node(5).campaign();
      c.processAll();
      c.deliverUntil(() => c.node(5).role === Role.Leader, 200);
    }
    assert.equal(c.node(5).role, Role.Leader);
    assert.equal(c.node(5).term, 5);
    assert.equal(c.node(5).termAt(7), 3);
    const s1Applied7 = c.member(1).applied.find((e) => e.index === 7);
    if (!mutated) {
      // Safe: index 7 was never committed, so S5 may overwrite it.
      c.heal();
      c.tickAll(2);
      assert.equal(c.node(3).termAt(7), 3, 'S5 overwrote the uncommitted term-2 entry');
      assert.equal(s1Applied7, undefined);
    } else {
      // Leader completeness is broken: S1 applied (7, term 2), the new leader holds term 3 there.
      assert.equal(s1Applied7?.term, 2);
    }
  }
});

test('commit rule: once a current-term entry commits, earlier entries commit with it (Figure 8 e)', () => {
  const c = new TestCluster(RAW);
  c.addMember(1, storageWithLog([1, 2, 3], [1, 2], { term: 2 }));
  c.addMember(2, storageWithLog([1, 2, 3], [1, 2], { term: 2 }));
  c.addMember(3, storageWithLog([1, 2, 3], [1], { term: 2 }));
  c.elect(1);
  assert.equal(c.node(1).term, 3);
  assert.equal(c.node(1).committed, 3);
  assert.deepEqual(c.terms(3), [1, 2, 3]);
});

test('snapshot install: a follower behind the compacted log receives the snapshot, then the rest', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], RAW);
  c.elect(1);
  c.crash(3);
  for (let i = 0; i < 10; i++) c.propose(1, `v${i}`);
  const leader = c.member(1);
  const applied = c.node(1).applied;
  leader.storage.createSnapshot(applied, c.node(1).confStateAt(applied), enc('image'));
  leader.storage.compact(applied);
  c.propose(1, 'after');
  c.restart(3);
  c.tickAll(3);
  const snapMsgs = c.sent.filter((m) => m.type === MessageType.Snapshot && m.to === 3);
  assert.equal(snapMsgs.length, 1);
  const s3 = c.member(3).storage;
  assert.equal(s3.snapshot().metadata.index, applied);
  assert.deepEqual(s3.snapshot().metadata.confState.voters, [1, 2, 3]);
  assert.deepEqual(new TextDecoder().decode(s3.snapshot().data), 'image');
  assert.equal(c.node(3).lastIndex(), c.node(1).lastIndex());
  assert.equal(c.node(3).committed, c.node(1).committed);
  assert.deepEqual(c.appliedTexts(3), ['after']);
});

test('lost storage: a follower that comes back empty is found by the next heartbeat and sent the log again', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], RAW);
  c.elect(1);
  for (let i = 0; i < 5; i++) c.propose(1, `v${i}`);
  c.tickAll(2);
  assert.equal(c.node(3).committed, c.node(1).committed);
  // Node 3's disk is replaced: same id, empty storage, and nothing new is proposed afterwards.
  c.crash(3);
  c.member(3).storage = new MemoryStorage();
  c.member(3).applied = [];
  c.restart(3);
  c.tickAll(3);
  assert.equal(c.node(3).lastIndex(), c.node(1).lastIndex(), 'the whole log was sent again');
  assert.equal(c.node(3).committed, c.node(1).committed);
  assert.deepEqual(c.appliedTexts(3), ['v0', 'v1', 'v2', 'v3', 'v4']);
  assert.equal(c.node(1).progress(3)?.match, c.node(1).lastIndex());
});

test('snapshot: a stale snapshot (at or below commit) is ignored and acknowledged with the commit index', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], RAW);
  c.elect(1);
  const f = c.node(2);
  f.step(
    makeMessage({
      type: MessageType.Snapshot,
      from: 1,
      to: 2,
      term: f.term,
      snapshot: { metadata: { index: 2, term: 1, confState: { voters: [1, 2, 3] } }, data: enc('old') },
    }),
  );
  const rd = f.ready();
  assert.equal(rd.snapshot, null);
  const resp = rd.messages.find((m) => m.type === MessageType.AppendResponse);
  assert.equal(resp?.index, f.committed);
  f.advance(rd);
});

test('pre-vote: a partitioned node rejoining does not disrupt a healthy leader', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], { preVote: true, checkQuorum: true });
  c.elect(1);
  const term = c.node(1).term;
  c.isolate(3);
  for (let i = 0; i < 100; i++) c.tickAll();
  assert.equal(c.node(3).term, term, 'pre-votes never bump the term');
  assert.notEqual(c.node(3).role, Role.Leader);
  c.heal();
  for (let i = 0; i < 30; i++) c.tickAll();
  assert.deepEqual(c.leaders(), [1]);
  assert.equal(c.node(1).term, term);
  assert.equal(c.node(3).leader, 1);
});

test('without pre-vote, the same rejoin forces a new election (the disruption pre-vote prevents)', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], RAW);
  c.elect(1);
  const term = c.node(1).term;
  c.isolate(3);
  for (let i = 0; i < 100; i++) c.tickAll();
  assert.ok(c.node(3).term > term);
  c.heal();
  for (let i = 0; i < 60; i++) c.tickAll();
  assert.ok(c.node(c.leaders()[0]).term > term);
});

test('check-quorum: a leader that cannot hear a majority steps down within an election timeout', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], { preVote: true, checkQuorum: true });
  c.elect(1);
  c.isolate(1);
  for (let i = 0; i < 10; i++) {
    c.node(1).tick();
    c.processAll();
  }
  c.deliverAll();
  // The first check-quorum round happens after electionTick ticks; a second one at most after 2×.
  for (let i = 0; i < 10 && c.node(1).role === Role.Leader; i++) {
    c.node(1).tick();
    c.processAll();
  }
  assert.equal(c.node(1).role, Role.Follower);
});

test('check-quorum lease: followers ignore vote requests while they hear from a leader', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], { preVote: false, checkQuorum: true });
  c.elect(1);
  const f = c.node(2);
  f.step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: f.term + 5, index: 100, logTerm: 100 }));
  assert.equal(drain(f).length, 0);
  assert.equal(f.leader, 1);
  // ...unless the request comes from a leadership transfer.
  f.step(makeMessage({ type: MessageType.Vote, from: 3, to: 2, term: f.term + 5, index: 100, logTerm: 100, transfer: true }));
  const resp = drain(f).find((m) => m.type === MessageType.VoteResponse);
  assert.equal(resp?.reject, false);
});

test('read-index: the leader answers after a heartbeat quorum, with its commit index', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.propose(1, 'a');
  const ctx = enc('read-1');
  assert.equal(c.node(1).readIndex(ctx), true);
  c.processAll();
  assert.equal(c.member(1).readStates.length, 0, 'not before a quorum confirmed leadership');
  c.deliverAll();
  assert.equal(c.member(1).readStates.length, 1);
  assert.deepEqual(c.member(1).readStates[0], { index: c.node(1).committed, context: ctx });
});

test('read-index: a follower request is forwarded and answered; a partitioned leader cannot answer', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.node(3).readIndex(enc('f'));
  c.processAll();
  c.deliverAll();
  assert.equal(c.member(3).readStates.length, 1);
  assert.equal(c.member(3).readStates[0].index, c.node(1).committed);

  c.isolate(1);
  c.node(1).readIndex(enc('stale?'));
  c.processAll();
  c.deliverAll();
  c.tick(1, 3);
  c.deliverAll();
  assert.equal(c.member(1).readStates.length, 0);
});

test('read-index: a new leader defers reads until it commits an entry of its own term', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], RAW);
  c.elect(1);
  c.cutLink(2, 1);
  c.cutLink(2, 3);
  // Node 2 becomes leader of a minority partition: it can never commit in its term.
  c.node(2).campaign();
  c.processAll();
  c.deliverAll();
  c.heal();
  c.isolate(2);
  // Force node 2 into leadership by a fake quorum of votes.
  const r2 = c.node(2);
  for (const from of [1, 3]) r2.step(makeMessage({ type: MessageType.VoteResponse, from, to: 2, term: r2.term }));
  c.processAll();
  assert.equal(r2.role, Role.Leader);
  r2.readIndex(enc('r'));
  c.processAll();
  c.deliverAll();
  assert.equal(c.member(2).readStates.length, 0, 'no read before a current-term commit');
});

test('leadership transfer: the target catches up, gets TimeoutNow and wins the next term', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.crash(3);
  c.propose(1, 'x');
  c.propose(1, 'y');
  c.restart(3);
  const term = c.node(1).term;
  c.node(1).transferLeadership(3);
  c.processAll();
  // Proposals are refused while the transfer is in flight.
  assert.deepEqual(c.node(1).propose(enc('z')), { kind: 'dropped', reason: 'transferring' });
  c.deliverAll();
  assert.deepEqual(c.leaders(), [3]);
  assert.equal(c.node(3).term, term + 1);
  assert.ok(c.sent.some((m) => m.type === MessageType.TimeoutNow && m.to === 3));
  assert.deepEqual(c.appliedTexts(3), ['x', 'y']);
});

test('leadership transfer: a request at a follower is forwarded to the leader', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.node(2).transferLeadership(2);
  c.processAll();
  c.deliverAll();
  assert.deepEqual(c.leaders(), [2]);
});

test('leadership transfer: aborted after an election timeout if the target never catches up', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.isolate(3);
  c.node(1).transferLeadership(3);
  assert.equal(c.node(1).transferee, 3);
  for (let i = 0; i < 10; i++) c.tickAll();
  assert.equal(c.node(1).transferee, 0);
  assert.equal(c.node(1).propose(enc('ok')).kind, 'appended');
});

test('membership: add a server; it learns the log (incl. the initial membership) and counts in the quorum', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.propose(1, 'before');
  c.addMember(4); // empty storage, no bootstrap: not a voter until told
  assert.equal(c.node(4).voters.length, 0);
  const out = c.node(1).proposeConfChange({ kind: ConfChangeKind.AddNode, nodeId: 4 });
  assert.equal(out.kind, 'appended');
  c.processAll();
  c.deliverAll();
  c.tickAll(3);
  for (const id of [1, 2, 3, 4]) assert.deepEqual(c.node(id).voters, [1, 2, 3, 4]);
  assert.deepEqual(c.appliedTexts(4), ['before']);
  // With 4 voters a quorum is 3: two nodes down stop commits.
  c.crash(3);
  c.crash(4);
  const before = c.node(1).committed;
  c.propose(1, 'stuck');
  assert.equal(c.node(1).committed, before);
  c.restart(4);
  c.tickAll(3);
  assert.ok(c.node(1).committed > before);
});

test('membership: only one conf change may be pending at a time', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.isolate(1); // nothing commits
  assert.equal(c.node(1).proposeConfChange({ kind: ConfChangeKind.AddNode, nodeId: 4 }).kind, 'appended');
  assert.deepEqual(c.node(1).proposeConfChange({ kind: ConfChangeKind.AddNode, nodeId: 5 }), { kind: 'dropped', reason: 'conf-change-pending' });
  c.heal();
  c.tickAll(2);
  assert.deepEqual(c.node(1).voters, [1, 2, 3, 4]);
  assert.equal(c.node(1).proposeConfChange({ kind: ConfChangeKind.RemoveNode, nodeId: 4 }).kind, 'appended');
});

test('membership: removing a follower shrinks the quorum', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.node(1).proposeConfChange({ kind: ConfChangeKind.RemoveNode, nodeId: 3 });
  c.processAll();
  c.deliverAll();
  c.tickAll(2);
  assert.deepEqual(c.node(1).voters, [1, 2]);
  assert.deepEqual(c.node(2).voters, [1, 2]);
  c.crash(3);
  c.propose(1, 'two-of-two');
  assert.deepEqual(c.appliedTexts(2), ['two-of-two']);
});

test('membership: a leader that removes itself steps down and hands over leadership', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.node(1).proposeConfChange({ kind: ConfChangeKind.RemoveNode, nodeId: 1 });
  c.processAll();
  c.deliverAll();
  assert.notEqual(c.node(1).role, Role.Leader);
  for (let i = 0; i < 30 && c.leaders().length === 0; i++) c.tickAll();
  const [leader] = c.leaders();
  assert.ok(leader === 2 || leader === 3);
  assert.deepEqual(c.node(leader).voters, [2, 3]);
  // The removed node never campaigns again.
  for (let i = 0; i < 50; i++) c.tickAll();
  assert.notEqual(c.node(1).role, Role.Candidate);
  assert.deepEqual(c.leaders(), [leader]);
});

test('restart: a node recovers term, vote, log and membership from storage', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  c.elect(1);
  c.propose(1, 'a');
  c.node(1).proposeConfChange({ kind: ConfChangeKind.RemoveNode, nodeId: 3 });
  c.processAll();
  c.deliverAll();
  c.tickAll(2);
  const term = c.node(2).term;
  c.crash(2);
  const r = c.restart(2);
  assert.equal(r.term, term);
  assert.deepEqual(r.voters, [1, 2]);
  assert.equal(r.role, Role.Follower);
  assert.ok(c.appliedTexts(2).includes('a'));
});

test('proposals: followers forward to the leader; without a leader they are dropped', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  assert.deepEqual(c.node(2).propose(enc('early')), { kind: 'dropped', reason: 'no-leader' });
  c.elect(1);
  assert.deepEqual(c.propose(2, 'via-follower'), { kind: 'forwarded', to: 1 });
  assert.deepEqual(c.appliedTexts(1), ['via-follower']);
  const out = c.node(1).propose([enc('b1'), enc('b2'), enc('b3')]);
  assert.equal(out.kind, 'appended');
  if (out.kind === 'appended') assert.equal(out.lastIndex - out.firstIndex, 2);
});

test('flow control: at most maxInflightMsgs appends are in flight to a follower', () => {
  const c = TestCluster.bootstrapped([1, 2, 3], { maxInflightMsgs: 2, maxSizePerMsgBytes: 1 });
  c.elect(1);
  c.filter = () => false; // nothing is delivered: the leader must stop after the window fills
  const before = c.sent.length;
  for (let i = 0; i < 10; i++) {
    c.node(1).propose(enc(`p${i}`));
    c.processAll();
  }
  const appendsTo2 = c.sent.slice(before).filter((m) => m.type === MessageType.Append && m.to === 2 && m.entries.length > 0);
  assert.equal(appendsTo2.length, 2);
  c.queue = [];
  c.heal();
  c.tickAll(3); // the heartbeat response reopens the flow; lost appends are re-sent
  assert.equal(c.node(2).committed, c.node(1).committed);
  assert.equal(c.appliedTexts(2).length, 10);
});

test('entries of kind ConfChange are handed to the application too (in order)', () => {
  const c = TestCluster.bootstrapped([1, 2, 3]);
  const kinds = c.member(2).applied.map((e) => e.kind);
  assert.deepEqual(kinds, [EntryKind.ConfChange, EntryKind.ConfChange, EntryKind.ConfChange]);
});
