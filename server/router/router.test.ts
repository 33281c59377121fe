import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../runtime/rng.ts';
import { FanOutReport, Router } from './router.ts';
import { LinkKind, Subscription, type MessageTarget, type RouteTarget, type StalledProducer } from './subscription.ts';

class Recorder implements MessageTarget {
  congested = false;
  readonly held: StalledProducer[] = [];
  readonly got: string[] = [];
  readonly expired: Subscription[] = [];
  constructor(readonly id: number) {}
  deliverMsg(sub: Subscription, _sb: Buffer | null, subject: string, reply: string, hdrLen: number, msg: Buffer): void {
    this.got.push(`${sub.sid}:${subject}:${reply}:${hdrLen}:${msg.toString()}`);
  }
  subscriptionExpired(sub: Subscription): void {
    this.expired.push(sub);
  }
  holdProducer(producer: StalledProducer): void {
    this.held.push(producer);
  }
}

test('plain subscribers each get a copy; queue groups get exactly one', () => {
  const router = new Router(seededRng(1));
  const a = new Recorder(1);
  const b = new Recorder(2);
  const q1 = new Recorder(3);
  const q2 = new Recorder(4);
  router.subscribe(new Subscription(a, 'x.*', '', '1'));
  router.subscribe(new Subscription(b, 'x.>', '', '1'));
  router.subscribe(new Subscription(q1, 'x.y', 'g', '1'));
  router.subscribe(new Subscription(q2, 'x.y', 'g', '1'));
  for (let i = 0; i < 100; i++) assert.equal(router.publish('x.y', '', 0, Buffer.from('m'), -1), 3);
  assert.equal(a.got.length, 100);
  assert.equal(b.got.length, 100);
  assert.equal(q1.got.length + q2.got.length, 100);
  assert.ok(q1.got.length > 0 && q2.got.length > 0);
});

test('echo suppression skips only the publisher, also inside queue groups', () => {
  const router = new Router(seededRng(2));
  const self = new Recorder(7);
  const other = new Recorder(8);
  router.subscribe(new Subscription(self, 'e', '', '1'));
  router.subscribe(new Subscription(self, 'e', 'g', '2'));
  router.subscribe(new Subscription(other, 'e', 'g', '1'));
  for (let i = 0; i < 20; i++) router.publish('e', '', 0, Buffer.from('m'), 7);
  assert.equal(self.got.length, 0);
  assert.equal(other.got.length, 20);
});

test('max deliveries removes the subscription and tells the target', () => {
  const router = new Router(seededRng(3));
  const t = new Recorder(1);
  const sub = new Subscription(t, 'm', '', '9');
  sub.max = 2;
  router.subscribe(sub);
  for (let i = 0; i < 5; i++) router.publish('m', 'r', 0, Buffer.from(String(i)), -1);
  assert.deepEqual(t.got, ['9:m:r:0:0', '9:m:r:0:1']);
  assert.deepEqual(t.expired, [sub]);
  assert.equal(router.subscriptionCount, 0);
});

test('malformed subjects are refused, wildcard tokens route literally, the cache follows (un)subscribes', () => {
  const router = new Router(seededRng(4));
  const t = new Recorder(1);
  assert.equal(router.publish('a..b', '', 0, Buffer.alloc(0), -1), -1);
  assert.equal(router.publish('a.', '', 0, Buffer.alloc(0), -1), -1);
  // Like nats-server: `*` and `>` in a published subject are literal tokens (nats.js publishes
  // consumer-create requests whose subject ends in a filter such as `$KV.b.>`).
  const literal = new Recorder(2);
  router.subscribe(new Subscription(literal, 'c.create.>', '', '1'));
  assert.equal(router.publish('c.create.$KV.b.>', '', 0, Buffer.alloc(0), -1), 1);
  assert.deepEqual(literal.got, ['1:c.create.$KV.b.>::0:']);
  assert.equal(router.publish('a.b', '', 0, Buffer.alloc(0), -1), 0);
  const sub = new Subscription(t, 'a.b', '', '1');
  router.subscribe(sub);
  assert.equal(router.publish('a.b', '', 0, Buffer.alloc(0), -1), 1);
  router.unsubscribe(sub);
  assert.equal(router.publish('a.b', '', 0, Buffer.alloc(0), -1), 0);
});

test('findSubscriptionOf finds the publisher own reply subscription', () => {
  const router = new Router(seededRng(5));
  const me = new Recorder(1);
  const other = new Recorder(2);
  router.subscribe(new Subscription(other, '_INBOX.>', '', '1'));
  const mine = new Subscription(me, '_INBOX.abc.*', '', '4');
  router.subscribe(mine);
  assert.equal(router.findSubscriptionOf(1, '_INBOX.abc.1'), mine);
  assert.equal(router.findSubscriptionOf(3, '_INBOX.abc.1'), undefined);
});

test('publishAs routes by the deliver subject but writes the original subject', () => {
  const router = new Router(seededRng(6));
  const inbox = new Recorder(1);
  const other = new Recorder(2);
  router.subscribe(new Subscription(inbox, '_INBOX.x.*', '', '3'));
  router.subscribe(new Subscription(other, 'orders.>', '', '1'));
  assert.equal(router.publishAs('_INBOX.x.1', 'orders.new', '$JS.ACK.a', 0, Buffer.from('m')), 1);
  assert.deepEqual(inbox.got, ['3:orders.new:$JS.ACK.a:0:m']);
  assert.deepEqual(other.got, []);
});

test('single-use reply subjects are matched but not cached; deliver subjects are', () => {
  const router = new Router(seededRng(7));
  const t = new Recorder(1);
  router.subscribe(new Subscription(t, '>', '', '1'));
  for (let i = 0; i < 100; i++) router.publish(`_INBOX.r.${i}`, '', 0, Buffer.from('x'), -1);
  for (let i = 0; i < 100; i++) router.publish(`$JS.ACK.S.C.1.${i}.${i}.0.0`, '', 0, Buffer.from('x'), -1);
  assert.equal(t.got.length, 200);
  assert.equal((router as unknown as { cache: { size: number } }).cache.size, 0);
  router.publishAs('_INBOX.pull.1', 'orders.x', '', 0, Buffer.from('x'));
  router.publish('orders.x', '', 0, Buffer.from('x'), -1);
  assert.equal((router as unknown as { cache: { size: number } }).cache.size, 2);
});

test('a publish reports a congested receiver in the caller\'s report, and resets it on the next publish', () => {
  const router = new Router(seededRng(1));
  const calm = new Recorder(1);
  const busy = new Recorder(2);
  busy.congested = true;
  router.subscribe(new Subscription(calm, 'a', '', '1'));
  router.subscribe(new Subscription(busy, 'b.*', 'g', '1'));
  const report = new FanOutReport();
  assert.equal(router.publish('b.x', '', 0, Buffer.from('m'), -1, report), 1);
  assert.equal(report.congested, busy);
  assert.equal(router.publish('a', '', 0, Buffer.from('m'), -1, report), 1);
  assert.equal(report.congested, undefined);
  // Single-use subjects take their own path through the router and report the same way.
  router.subscribe(new Subscription(busy, '_INBOX.r1', '', '2'));
  assert.equal(router.publish('_INBOX.r1', '', 0, Buffer.from('m'), -1, report), 1);
  assert.equal(report.congested, busy);
});

/** A peer as the router sees it: records what it was asked to forward. */
class FakeRoute implements RouteTarget {
  readonly congested = false;
  readonly forwarded: string[] = [];
  constructor(
    readonly id: number,
    readonly kind: LinkKind = LinkKind.Route,
  ) {}
  forward(account: string, subject: string, _sb: Buffer | null, deliverAs: string, reply: string, queues: readonly string[], _hdrLen: number, msg: Buffer): void {
    this.forwarded.push(`${account}:${subject}:${deliverAs}:${reply}:[${queues.join(',')}]:${msg.toString()}`);
  }
  deliverMsg(): void {
    throw new Error('a route is never delivered to directly');
  }
  subscriptionExpired(): void {}
  holdProducer(): void {}
}

const remote = (route: FakeRoute, subject: string, queue = '', weight = 1): Subscription =>
  new Subscription(route, subject, queue, `${subject} ${queue}`, route, weight);

test('a peer gets one copy however many of its subscriptions match, with the queue groups it was picked for', () => {
  const router = new Router(seededRng(7));
  const local = new Recorder(1);
  const peer = new FakeRoute(-1);
  router.subscribe(new Subscription(local, 'a.*', '', '1'));
  router.subscribe(remote(peer, 'a.*'));
  router.subscribe(remote(peer, 'a.>'));
  router.subscribe(remote(peer, 'a.b', 'workers', 3));
  assert.equal(router.publish('a.b', 'r', 0, Buffer.from('m'), -1), 2);
  assert.deepEqual(local.got, ['1:a.b:r:0:m']);
  assert.deepEqual(peer.forwarded, ['$G:a.b::r:[workers]:m']);
});

test('queue groups prefer local members; without one, peers are picked by weight', () => {
  const router = new Router(seededRng(3));
  const heavy = new FakeRoute(-1);
  const light = new FakeRoute(-2);
  router.subscribe(remote(heavy, 'job', 'q', 9));
  router.subscribe(remote(light, 'job', 'q', 1));
  for (let i = 0; i < 1000; i++) router.publish('job', '', 0, Buffer.from('m'), -1);
  assert.equal(heavy.forwarded.length + light.forwarded.length, 1000, 'each message to exactly one peer');
  assert.ok(heavy.forwarded.length > 800 && light.forwarded.length > 40, `weights honoured: ${heavy.forwarded.length}/${light.forwarded.length}`);
  const member = new Recorder(5);
  router.subscribe(new Subscription(member, 'job', 'q', '1'));
  heavy.forwarded.length = 0;
  light.forwarded.length = 0;
  for (let i = 0; i < 100; i++) router.publish('job', '', 0, Buffer.from('m'), -1);
  assert.equal(member.got.length, 100, 'the local member takes them all');
  assert.equal(heavy.forwarded.length + light.forwarded.length, 0);
});

test('messages from a peer reach local subscribers and the named groups only, never another peer', () => {
  const router = new Router(seededRng(1));
  const plain = new Recorder(1);
  const q1 = new Recorder(2);
  const q2 = new Recorder(3);
  const other = new Recorder(4);
  const peer = new FakeRoute(-1);
  router.subscribe(new Subscription(plain, 'x.>', '', '1'));
  router.subscribe(new Subscription(q1, 'x.y', 'g', '1'));
  router.subscribe(new Subscription(q2, 'x.y', 'g', '1'));
  router.subscribe(new Subscription(other, 'x.y', 'h', '1'));
  router.subscribe(remote(peer, 'x.>'));
  assert.equal(router.deliverFromRoute('x.y', '', 'r', ['g'], 0, Buffer.from('m')), 2);
  assert.deepEqual(plain.got, ['1:x.y:r:0:m']);
  assert.equal(q1.got.length + q2.got.length, 1);
  assert.deepEqual(other.got, [], 'group h was not picked by the sender');
  assert.deepEqual(peer.forwarded, [], 'one hop');
  // A JetStream-style delivery routed by one subject and shown with another.
  assert.equal(router.deliverFromRoute('x.z', 'orders.1', '', [], 0, Buffer.from('n')), 1);
  assert.deepEqual(plain.got.at(-1), '1:orders.1::0:n');
});

test('interest changes of local subscriptions are reported; a peer\'s are not', () => {
  const router = new Router(seededRng(1));
  const seen: string[] = [];
  router.interestListener = { localInterest: (account, sub, added) => void seen.push(`${added ? '+' : '-'}${account}:${sub.subject}:${sub.queue}`) };
  const s = new Subscription(new Recorder(1), 'a', 'q', '1');
  router.subscribe(s);
  router.subscribe(remote(new FakeRoute(-1), 'b'));
  router.unsubscribe(s);
  assert.deepEqual(seen, ['+$G:a:q', '-$G:a:q']);
});

test('leaf links: an edge\'s message reaches the routes and the other edges, a route\'s only the edges, a hub\'s never the cluster', () => {
  const router = new Router(seededRng(2));
  const peer = new FakeRoute(-1);
  const edgeA = new FakeRoute(-2, LinkKind.LeafAccepted);
  const edgeB = new FakeRoute(-3, LinkKind.LeafAccepted);
  const hub = new FakeRoute(-4, LinkKind.LeafDialled);
  for (const link of [peer, edgeA, edgeB, hub]) router.subscribe(remote(link, 'm'));
  const all = [peer, edgeA, edgeB, hub];
  const took = (): number[] => all.map((l) => l.forwarded.splice(0).length);
  router.deliverFromLink(edgeA, 'm', '', '', [], 0, Buffer.from('x'));
  assert.deepEqual(took(), [1, 0, 1, 1], 'from an edge: routes and the other leaf links, not back');
  router.deliverFromLink(peer, 'm', '', '', [], 0, Buffer.from('x'));
  assert.deepEqual(took(), [0, 1, 1, 0], 'from a route: only the edges attached here');
  router.deliverFromLink(hub, 'm', '', '', [], 0, Buffer.from('x'));
  assert.deepEqual(took(), [0, 1, 1, 0], 'from the hub: edges, never into the cluster');
  router.publish('m', '', 0, Buffer.from('x'), -1);
  assert.deepEqual(took(), [1, 1, 1, 1], 'a local publish goes everywhere there is interest');
});

test('leaf links: a queue group named by an edge goes to a local member, else to another link with members', () => {
  const router = new Router(seededRng(4));
  const edgeA = new FakeRoute(-2, LinkKind.LeafAccepted);
  const edgeB = new FakeRoute(-3, LinkKind.LeafAccepted);
  router.subscribe(remote(edgeA, 'job', 'q', 5));
  router.subscribe(remote(edgeB, 'job', 'q', 1));
  for (let i = 0; i < 20; i++) router.deliverFromLink(edgeA, 'job', '', '', ['q'], 0, Buffer.from('x'));
  assert.equal(edgeA.forwarded.length, 0, 'never back to the sender');
  assert.equal(edgeB.forwarded.length, 20);
  assert.match(edgeB.forwarded[0]!, /\[q\]/);
  const member = new Recorder(9);
  router.subscribe(new Subscription(member, 'job', 'q', '1'));
  router.deliverFromLink(edgeA, 'job', '', '', ['q'], 0, Buffer.from('x'));
  assert.equal(member.got.length, 1, 'local members first');
  assert.equal(router.deliverFromLink(edgeA, 'job', '', '', [], 0, Buffer.from('x')), 0, 'no group named: queue members are not the sender\'s choice');
});

test('interest of edges that dialled this server is announced to the cluster; a hub\'s is not', () => {
  const router = new Router(seededRng(1));
  const seen: string[] = [];
  const leafSeen: string[] = [];
  router.interestListener = { localInterest: (_a, sub, added) => void seen.push(`${added ? '+' : '-'}${sub.subject}`) };
  router.leafInterestListener = { localInterest: (_a, sub, added) => void leafSeen.push(`${added ? '+' : '-'}${sub.subject}`) };
  router.subscribe(remote(new FakeRoute(-2, LinkKind.LeafAccepted), 'edge'));
  router.subscribe(remote(new FakeRoute(-3, LinkKind.LeafDialled), 'hub'));
  router.subscribe(remote(new FakeRoute(-1), 'peer'));
  assert.deepEqual(seen, ['+edge']);
  assert.deepEqual(leafSeen, ['+edge', '+hub', '+peer'], 'leaf links judge every subscription themselves');
});
