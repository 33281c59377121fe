// The core acceptance behaviours through OUR client (sluice/client), written once and run against
// any server: sluice over TCP and WebSocket (client-core.test.ts), the Go nats-server
// (tests/e2e/client-vs-nats-server.e2e.ts). Call clientSuite() inside a describe() whose before()
// has started the server; `target()` is read when each test runs.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  headers,
  ErrorCode,
  JSONCodec,
  MsgpackCodec,
  NatsError,
  NoRespondersError,
  StringCodec,
  TimeoutError,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
} from '../../client/index.ts';
import { waitFor } from '../helpers/deadline.ts';

export interface SuiteTarget {
  /** Server URL for connect({ servers }). */
  url: string;
  /** The server's current subscription count (from monitoring /varz), when it has monitoring. */
  subscriptions?: () => Promise<number>;
}

/** /varz `subscriptions` of a server with an HTTP monitoring port. */
export async function varzSubscriptions(httpUrl: string): Promise<number> {
  const res = await fetch(`${httpUrl}/varz`);
  const v = (await res.json()) as { subscriptions: number };
  return v.subscriptions;
}

export function clientSuite(target: () => SuiteTarget, extra: ConnectionOptions = {}): void {
  const open: NatsConnection[] = [];
  const nc = async (opts: ConnectionOptions = {}): Promise<NatsConnection> => {
    const c = await connect({ servers: target().url, reconnect: false, ...extra, ...opts });
    open.push(c);
    return c;
  };
  after(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
  });

  test('10,000 messages arrive complete and in order', async () => {
    const pub = await nc();
    const sub = await nc();
    const s = sub.subscribe('seq.test', { max: 10_000 });
    await sub.flush();
    for (let i = 0; i < 10_000; i++) pub.publish('seq.test', String(i));
    await pub.flush();
    let expected = 0;
    for await (const m of s) {
      assert.equal(m.string(), String(expected));
      expected++;
    }
    assert.equal(expected, 10_000);
    assert.equal(s.getReceived(), 10_000);
    assert.equal(s.getProcessed(), 10_000);
    assert.equal(await s.closed, undefined);
  });

  test('wildcard match table', async () => {
    const c = await nc();
    const cases: [pattern: string, subject: string, matches: boolean][] = [
      ['a.*', 'a.b', true],
      ['a.*', 'a.b.c', false],
      ['a.*', 'a', false],
      ['a.>', 'a', false],
      ['a.>', 'a.b', true],
      ['a.>', 'a.b.c', true],
      ['>', 'a', true],
      ['>', 'a.b.c', true],
      ['a.*.c', 'a.b.c', true],
      ['a.*.c', 'a.b.d', false],
      ['*.b.*', 'a.b.c', true],
      ['*.b.*', 'a.x.c', false],
      ['a.b', 'a.b', true],
      ['a.b', 'a.b.c', false],
    ];
    for (const [i, [pattern, subject, matches]] of cases.entries()) {
      const prefix = `wc${i}`;
      const got: string[] = [];
      const s = c.subscribe(`${prefix}.${pattern}`, { callback: (m) => void got.push(m.subject) });
      c.publish(`${prefix}.${subject}`);
      await c.flush();
      s.unsubscribe();
      assert.deepEqual(got, matches ? [`${prefix}.${subject}`] : [], `${pattern} vs ${subject}`);
    }
  });

  test('a queue group of 3 gets each of 3,000 messages exactly once in total', async () => {
    const members = await Promise.all([nc(), nc(), nc()]);
    const seen = new Map<string, number>();
    const perMember = [0, 0, 0];
    members.forEach((m, i) =>
      m.subscribe('work.items', {
        queue: 'workers',
        callback: (msg) => {
          perMember[i]!++;
          seen.set(msg.string(), (seen.get(msg.string()) ?? 0) + 1);
        },
      }),
    );
    await Promise.all(members.map((m) => m.flush()));
    const pub = await nc();
    for (let i = 0; i < 3000; i++) pub.publish('work.items', String(i));
    await pub.flush();
    await waitFor(() => perMember.reduce((a, b) => a + b, 0) >= 3000, '3000 queue deliveries');
    await Promise.all(members.map((m) => m.flush()));
    assert.equal(seen.size, 3000);
    assert.equal([...seen.values()].every((n) => n === 1), true);
    assert.equal(perMember.reduce((a, b) => a + b, 0), 3000);
    assert.ok(perMember.every((n) => n > 0), `every member got some: ${perMember}`);
  });

  test('request/reply, sequential and concurrent, over one inbox subscription', async () => {
    const responder = await nc();
    responder.subscribe('svc.echo', { callback: (m: Msg) => void m.respond(`echo:${m.string()}`) });
    await responder.flush();
    const requester = await nc();
    const subsBefore = await target().subscriptions?.();
    for (let i = 0; i < 20; i++) {
      const r = await requester.request('svc.echo', `hi${i}`, { timeoutMs: 2000 });
      assert.equal(r.string(), `echo:hi${i}`);
    }
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => requester.request('svc.echo', `c${i}`, { timeout: 5000 })));
    answers.forEach((r, i) => assert.equal(r.string(), `echo:c${i}`));
    const subsAfter = await target().subscriptions?.();
    if (subsBefore !== undefined && subsAfter !== undefined) {
      assert.equal(subsAfter - subsBefore, 1, 'one shared inbox subscription for all requests');
    }
  });

  test('a request with no responder fails fast with a typed NoRespondersError', async () => {
    const c = await nc();
    const started = performance.now();
    await assert.rejects(c.request('nobody.home', 'x', { timeoutMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof NoRespondersError, String(err));
      assert.equal(err.code, ErrorCode.NoResponders);
      assert.equal(err.subject, 'nobody.home');
      return true;
    });
    assert.ok(performance.now() - started < 2000);
  });

  test('a request nobody answers times out with a typed TimeoutError', async () => {
    const c = await nc();
    c.subscribe('silent.svc', { callback: () => {} });
    await assert.rejects(c.request('silent.svc', 'x', { timeoutMs: 100 }), (err: unknown) => {
      assert.ok(err instanceof TimeoutError, String(err));
      assert.equal(err.code, ErrorCode.Timeout);
      return true;
    });
  });

  test('headers with multiple values round-trip; a request carries and returns headers', async () => {
    const c = await nc();
    const s = c.subscribe('hdr.test', { max: 1 });
    const h = headers();
    h.append('X-Multi', 'one');
    h.append('X-Multi', 'two');
    h.set('X-Single', 'value with spaces');
    c.publish('hdr.test', 'body', { headers: h });
    for await (const m of s) {
      assert.deepEqual(m.headers?.getAll('X-Multi'), ['one', 'two']);
      assert.equal(m.headers?.get('X-Single'), 'value with spaces');
      assert.equal(m.string(), 'body');
    }
    c.subscribe('hdr.svc', {
      callback: (m) => {
        const out = headers();
        out.set('X-Echo', m.headers?.get('X-In') ?? 'missing');
        m.respond('', { headers: out });
      },
    });
    const req = headers();
    req.set('X-In', 'ping');
    const r = await c.request('hdr.svc', undefined, { headers: req });
    assert.equal(r.headers?.get('X-Echo'), 'ping');
    assert.equal(r.data.length, 0);
    assert.equal(r.statusCode, 0);
  });

  test('auto-unsubscribe after N, and unsubscribe(max) on a live subscription', async () => {
    const c = await nc();
    const s = c.subscribe('auto.unsub', { max: 5 });
    await c.flush();
    for (let i = 0; i < 10; i++) c.publish('auto.unsub', String(i));
    await c.flush();
    const got: string[] = [];
    for await (const m of s) got.push(m.string());
    assert.deepEqual(got, ['0', '1', '2', '3', '4']);

    const later: string[] = [];
    const s2 = c.subscribe('auto.later', { callback: (m) => void later.push(m.string()) });
    c.publish('auto.later', 'a');
    await c.flush();
    s2.unsubscribe(3);
    for (let i = 0; i < 5; i++) c.publish('auto.later', `b${i}`);
    await c.flush();
    assert.deepEqual(later, ['a', 'b0', 'b1']);
    assert.equal(s2.isClosed(), true);
  });

  test('breaking out of an iterator unsubscribes', async () => {
    const c = await nc();
    const s = c.subscribe('iter.break');
    await c.flush();
    for (let i = 0; i < 5; i++) c.publish('iter.break', String(i));
    for await (const m of s) if (m.string() === '1') break;
    assert.equal(s.isClosed(), true);
    assert.equal(await s.closed, undefined);
  });

  test('a 1 MiB payload and a payload of bytes 0..255 arrive intact', async () => {
    const c = await nc();
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const all = new Uint8Array(256).map((_, i) => i);
    const s = c.subscribe('bin.test', { max: 3 });
    await c.flush();
    c.publish('bin.test', big);
    c.publish('bin.test', all);
    c.publish('bin.test');
    const got: Uint8Array[] = [];
    for await (const m of s) got.push(m.data);
    assert.deepEqual(Buffer.from(got[0]!), Buffer.from(big));
    assert.deepEqual(Buffer.from(got[1]!), Buffer.from(all));
    assert.equal(got[2]!.length, 0);
  });

  test('a publish over max_payload is refused with a typed error and the connection stays up', async () => {
    const c = await nc();
    const max = c.info!.max_payload;
    assert.throws(
      () => c.publish('limit.big', new Uint8Array(max + 1)),
      (e: unknown) => e instanceof NatsError && e.code === ErrorCode.MaxPayloadExceeded,
    );
    const s = c.subscribe('limit.ok', { max: 1 });
    c.publish('limit.ok', 'still fine');
    for await (const m of s) assert.equal(m.string(), 'still fine');
    assert.equal(c.isClosed(), false);
  });

  test('invalid subjects are refused locally with a typed error', async () => {
    const c = await nc();
    for (const bad of ['', 'a..b', 'a b', 'a.*', 'a.>']) {
      assert.throws(() => c.publish(bad, 'x'), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.InvalidSubject, bad);
    }
    for (const bad of ['', 'a..b', 'a.>.b']) {
      assert.throws(() => c.subscribe(bad), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.InvalidSubject, bad);
    }
  });

  test('drain delivers what was sent, then closes; flush is a barrier', async () => {
    const c = await nc();
    const got: string[] = [];
    c.subscribe('drain.test', { callback: (m) => void got.push(m.string()) });
    const it = c.subscribe('drain.iter');
    await c.flush();
    const pub = await nc();
    for (let i = 0; i < 100; i++) {
      pub.publish('drain.test', String(i));
      pub.publish('drain.iter', String(i));
    }
    await pub.flush();
    await waitFor(() => got.length === 100, '100 messages before drain');
    const consumed: string[] = [];
    const consumer = (async () => {
      for await (const m of it) consumed.push(m.string());
    })();
    await c.drain();
    await consumer;
    assert.equal(consumed.length, 100);
    assert.equal(c.isClosed(), true);
    assert.equal(await c.closed(), undefined);
    await assert.rejects(c.flush(), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.ConnectionClosed);
    assert.throws(() => c.publish('x', 'y'), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.ConnectionClosed);
  });

  test('subscription drain hands out everything already sent', async () => {
    const c = await nc();
    const s = c.subscribe('sdrain.test');
    await c.flush();
    for (let i = 0; i < 50; i++) c.publish('sdrain.test', String(i));
    await c.flush();
    const drained = s.drain();
    const got: string[] = [];
    for await (const m of s) got.push(m.string());
    await drained;
    assert.equal(got.length, 50);
    assert.equal(s.isClosed(), true);
  });

  test('codecs: string, JSON and msgpack round-trip', async () => {
    const c = await nc();
    const sc = StringCodec();
    const jc = JSONCodec<{ a: number; b: string[] }>();
    const mc = MsgpackCodec<{ n: number; bin: Uint8Array }>();
    const s = c.subscribe('codec.test', { max: 3 });
    c.publish('codec.test', sc.encode('héllo'));
    c.publish('codec.test', jc.encode({ a: 1, b: ['x'] }));
    c.publish('codec.test', mc.encode({ n: 42, bin: new Uint8Array([1, 2, 3]) }));
    const got: Msg[] = [];
    for await (const m of s) got.push(m);
    assert.equal(sc.decode(got[0]!.data), 'héllo');
    assert.deepEqual(jc.decode(got[1]!.data), { a: 1, b: ['x'] });
    assert.deepEqual(got[1]!.json(), { a: 1, b: ['x'] });
    const mp = mc.decode(got[2]!.data);
    assert.equal(mp.n, 42);
    assert.deepEqual([...mp.bin], [1, 2, 3]);
    assert.throws(() => jc.decode(sc.encode('{nope')), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.BadPayload);
  });

  test('noEcho: own publishes are not delivered to own subscriptions', async () => {
    const quiet = await nc({ noEcho: true });
    const other = await nc();
    const got: string[] = [];
    quiet.subscribe('echo.test', { callback: (m) => void got.push(m.string()) });
    await quiet.flush();
    quiet.publish('echo.test', 'mine');
    await quiet.flush();
    other.publish('echo.test', 'theirs');
    await other.flush();
    await waitFor(() => got.length >= 1, 'the other connection\'s message');
    await quiet.flush();
    assert.deepEqual(got, ['theirs']);
  });

  test('rtt, stats and info', async () => {
    const c = await nc({ name: 'suite-stats' });
    const rtt = await c.rtt();
    assert.ok(rtt >= 0 && rtt < 5000, `rtt ${rtt}`);
    const s = c.subscribe('stats.test', { max: 2 });
    c.publish('stats.test', 'abc');
    c.publish('stats.test', 'de');
    for await (const _ of s) void _;
    const st = c.stats();
    assert.equal(st.outMsgs, 2);
    assert.equal(st.outBytes, 5);
    assert.equal(st.inMsgs, 2);
    assert.equal(st.inBytes, 5);
    assert.equal(typeof c.info?.server_id, 'string');
    assert.notEqual(c.getServer(), '');
  });

  test('close fails pending requests with a typed error and ends iterators', async () => {
    const c = await nc();
    c.subscribe('hang.svc', { callback: () => {} });
    const it = c.subscribe('close.iter');
    await c.flush();
    const pending = c.request('hang.svc', 'x', { timeoutMs: 10_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const done = (async () => {
      let n = 0;
      for await (const _ of it) n++;
      return n;
    })();
    await c.close();
    const err = await pending;
    assert.ok(err instanceof NatsError && err.code === ErrorCode.ConnectionClosed, String(err));
    assert.equal(await done, 0);
    assert.equal(await c.closed(), undefined);
  });
}
