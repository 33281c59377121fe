import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../runtime/clock.ts';
import { seededRng } from '../../runtime/rng.ts';
import { Router } from '../router/router.ts';
import { Subscription, type MessageTarget } from '../router/subscription.ts';
import { SystemEvents, type StatsSource } from './system-events.ts';

const SERVER = { name: 'n1', host: '127.0.0.1', id: 'NID', cluster: '', domain: '', version: '2.10.0', jetstream: () => false };

function counter(): { stats: StatsSource; built: () => number } {
  let built = 0;
  const stats: StatsSource = {
    startMs: 0,
    connections: () => {
      built++;
      return 3;
    },
    totalConnections: () => 3,
    activeAccounts: () => 1,
    subscriptions: () => 0,
    sent: () => ({ msgs: 0, bytes: 0 }),
    received: () => ({ msgs: 0, bytes: 0 }),
    slowConsumers: () => 0,
    activeServers: () => 1,
    routes: () => [],
    jetstream: () => undefined,
    accountTraffic: () => undefined,
  };
  return { stats, built: () => built };
}

class Collector implements MessageTarget {
  readonly id = 7;
  readonly congested = false;
  readonly got: { subject: string; body: { statsz: { connections: number } } }[] = [];
  deliverMsg(_s: Subscription, _b: Buffer | null, subject: string, _r: string, _h: number, msg: Buffer): void {
    this.got.push({ subject, body: JSON.parse(msg.toString()) });
  }
  holdProducer(): void {}
  subscriptionExpired(): void {}
}

test('STATSZ beats back off from 250 ms to 30 s and are built only while someone listens', () => {
  const clock = new ManualClock();
  const router = new Router(seededRng(1), '$SYS');
  const { stats, built } = counter();
  const events = new SystemEvents(router, SERVER, stats, clock);
  events.start();
  // No listener: a minute of beats, nothing built.
  clock.advance(60_000);
  assert.equal(built(), 0);
  const c = new Collector();
  const sub = new Subscription(c, '$SYS.SERVER.NID.STATSZ', '', '1');
  router.subscribe(sub);
  // By now the interval has reached its 30 s maximum.
  clock.advance(29_999);
  const before = c.got.length;
  clock.advance(30_000);
  assert.equal(c.got.length - before, 1);
  assert.equal(c.got.at(-1)!.subject, '$SYS.SERVER.NID.STATSZ');
  assert.equal(c.got.at(-1)!.body.statsz.connections, 3);
  router.unsubscribe(sub);
  const builtThen = built();
  clock.advance(120_000);
  assert.equal(built(), builtThen);
  events.close();
});

test('the first beats come 250 ms, 750 ms, 1.75 s after start', () => {
  const clock = new ManualClock();
  const router = new Router(seededRng(1), '$SYS');
  const c = new Collector();
  router.subscribe(new Subscription(c, '$SYS.SERVER.*.STATSZ', '', '1'));
  const events = new SystemEvents(router, SERVER, counter().stats, clock);
  events.start();
  const times: number[] = [];
  for (let t = 0; t < 2000; t += 50) {
    const n = c.got.length;
    clock.advance(50);
    if (c.got.length > n) times.push(t + 50);
  }
  assert.deepEqual(times, [250, 750, 1750]);
  events.close();
  clock.advance(60_000);
  assert.equal(c.got.length, 3);
});
