// The client's bulk paths against an in-process broker: prepare()/publishPrepared() (one message
// encoded once, sent as many copies with one buffer copy) and dataCallback subscriptions (a view
// of each payload, no Msg).

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, ErrorCode, NatsError, type NatsConnection } from '../../client/index.ts';
import type { RunningServer } from '../../server/index.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitFor } from '../helpers/deadline.ts';

let server: RunningServer;
let pub: NatsConnection;
let sub: NatsConnection;

before(async () => {
  server = await startTestServer({ maxPayloadBytes: 1024 });
  pub = await connect({ servers: server.clientUrl });
  sub = await connect({ servers: server.clientUrl });
});
after(async () => {
  await pub.close();
  await sub.close();
  await server.close();
});

describe('prepare and publishPrepared', () => {
  test('every copy arrives, in order, with payload bytes changed in place between sends', async () => {
    const got: string[] = [];
    sub.subscribe('bulk.a', { callback: (m) => got.push(m.string()) });
    await sub.flush();
    const p = pub.prepare('bulk.a', 'x0', { count: 3 });
    assert.equal(p.count, 3);
    assert.equal(p.messageBytes, 2);
    pub.publishPrepared(p);
    for (let i = 0; i < 3; i++) p.payload(i)[1] = '5'.charCodeAt(0) + i;
    pub.publishPrepared(p);
    pub.publishPrepared(p, 2);
    pub.publishPrepared(p, 0);
    await pub.flush();
    await waitFor(() => got.length === 8, 'eight messages');
    assert.deepEqual(got, ['x0', 'x0', 'x0', 'x5', 'x6', 'x7', 'x5', 'x6']);
    assert.throws(() => pub.publishPrepared(p, 4), (e: unknown) => e instanceof NatsError && e.code === ErrorCode.InvalidOption);
    const stats = pub.stats();
    assert.ok(stats.outMsgs >= 8);
  });

  test('headers and reply subjects are encoded into the frames', async () => {
    const seen: { reply: string; h: string }[] = [];
    sub.subscribe('bulk.h', { callback: (m) => seen.push({ reply: m.reply, h: m.headers?.get('K') ?? '' }) });
    await sub.flush();
    const h = headers();
    h.set('K', 'v');
    pub.publishPrepared(pub.prepare('bulk.h', 'body', { count: 2, headers: h, reply: 'back' }));
    await pub.flush();
    await waitFor(() => seen.length === 2, 'two messages');
    assert.deepEqual(seen, [
      { reply: 'back', h: 'v' },
      { reply: 'back', h: 'v' },
    ]);
  });

  test('checked when prepared: subject, max_payload, count', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof NatsError);
        return e.code;
      }
      return 'none';
    };
    assert.equal(code(() => pub.prepare('bad subject', 'x')), ErrorCode.InvalidSubject);
    assert.equal(code(() => pub.prepare('bulk.big', new Uint8Array(2048))), ErrorCode.MaxPayloadExceeded);
    assert.equal(code(() => pub.prepare('bulk.x', 'x', { count: 0 })), ErrorCode.InvalidOption);
    assert.throws(() => pub.prepare('bulk.x', 'x', { count: 2 }).payload(2), RangeError);
  });
});

describe('dataCallback subscriptions', () => {
  test('get payload views (headers skipped), the subject and the reply; max ends them', async () => {
    const got: string[] = [];
    const s = sub.subscribe('bulk.d.*', { max: 3, dataCallback: (data, subject, reply) => got.push(`${subject}=${Buffer.from(data).toString()}${reply}`) });
    await sub.flush();
    const h = headers();
    h.set('A', 'b');
    pub.publish('bulk.d.1', 'one', { reply: '<-r' });
    pub.publish('bulk.d.2', 'two', { headers: h });
    pub.publish('bulk.d.3', '');
    pub.publish('bulk.d.4', 'four');
    await pub.flush();
    assert.equal(await s.closed, undefined);
    assert.deepEqual(got, ['bulk.d.1=one<-r', 'bulk.d.2=two', 'bulk.d.3=']);
    assert.equal(s.getReceived(), 3);
  });

  test('cannot be combined with a callback, nor iterated', () => {
    assert.throws(() => sub.subscribe('bulk.z', { callback: () => undefined, dataCallback: () => undefined }), TypeError);
    const s = sub.subscribe('bulk.z', { dataCallback: () => undefined });
    assert.throws(() => s[Symbol.asyncIterator](), TypeError);
    s.unsubscribe();
  });
});
