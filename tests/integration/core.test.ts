// Core messaging through the official NATS client (@nats-io/transport-node) over real sockets.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, errors, type NatsConnection, type Msg } from '@nats-io/transport-node';
import { startTestServer } from '../helpers/server.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { RunningServer } from '../../server/index.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

describe('core messaging with the official client', () => {
  let server: RunningServer;
  let logger: MemoryLogger;
  const open: NatsConnection[] = [];
  const nc = async (opts: Record<string, unknown> = {}): Promise<NatsConnection> => {
    const c = await connect({ servers: server.clientUrl, ...opts });
    open.push(c);
    return c;
  };

  before(async () => {
    logger = new MemoryLogger();
    server = await startTestServer({ maxPayloadBytes: 1024 * 1024 + 1024 }, logger);
  });
  after(async () => {
    await Promise.allSettled(open.map((c) => c.close()));
    await server.close();
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
      const s = c.subscribe(`${prefix}.${pattern}`, { callback: (_e, m) => void got.push(m.subject) });
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
        callback: (_e, msg) => {
          perMember[i]!++;
          seen.set(msg.string(), (seen.get(msg.string()) ?? 0) + 1);
        },
      }),
    );
    await Promise.all(members.map((m) => m.flush()));
    const pub = await nc();
    for (let i = 0; i < 3000; i++) pub.publish('work.items', String(i));
    await pub.flush();
    await waitFor(() => seen.size === 3000 && perMember.reduce((a, b) => a + b, 0) === 3000, '3000 queue deliveries');
    await Promise.all(members.map((m) => m.flush()));
    assert.equal([...seen.values()].every((n) => n === 1), true);
    assert.equal(perMember.reduce((a, b) => a + b, 0), 3000);
    assert.ok(perMember.every((n) => n > 0), `every member got some: ${perMember}`);
  });

  test('request/reply', async () => {
    const responder = await nc();
    responder.subscribe('svc.echo', { callback: (_e, m: Msg) => void m.respond(`echo:${m.string()}`) });
    await responder.flush();
    const requester = await nc();
    for (let i = 0; i < 20; i++) {
      const r = await requester.request('svc.echo', `hi${i}`, { timeout: 2000 });
      assert.equal(r.string(), `echo:hi${i}`);
    }
  });

  test('a request with no responder fails fast with no-responders', async () => {
    const c = await nc();
    const started = Date.now();
    await assert.rejects(c.request('nobody.home', 'x', { timeout: 5000 }), (err: unknown) => {
      assert.ok(err instanceof errors.RequestError, String(err));
      assert.equal((err as InstanceType<typeof errors.RequestError>).isNoResponders(), true);
      return true;
    });
    assert.ok(Date.now() - started < 2000);
  });

  test('headers with multiple values round-trip', async () => {
    const c = await nc();
    const s = c.subscribe('hdr.test', { max: 1 });
    const h = headers();
    h.append('X-Multi', 'one');
    h.append('X-Multi', 'two');
    h.set('X-Single', 'value with spaces');
    c.publish('hdr.test', 'body', { headers: h });
    for await (const m of s) {
      assert.deepEqual(m.headers?.values('X-Multi'), ['one', 'two']);
      assert.equal(m.headers?.get('X-Single'), 'value with spaces');
      assert.equal(m.string(), 'body');
    }
  });

  test('auto-unsubscribe after N', async () => {
    const c = await nc();
    const s = c.subscribe('auto.unsub', { max: 5 });
    await c.flush();
    for (let i = 0; i < 10; i++) c.publish('auto.unsub', String(i));
    await c.flush();
    const got: string[] = [];
    for await (const m of s) got.push(m.string());
    assert.deepEqual(got, ['0', '1', '2', '3', '4']);
    // The server removed it too: nothing is left of that subscription there.
    const raw = await RawClient.connect(server.ports.client);
    try {
      raw.send('CONNECT {"verbose":false}\r\nPUB auto.unsub 1\r\nx\r\nPING\r\n');
      await raw.waitFor('PONG');
    } finally {
      raw.destroy();
    }
  });

  test('a 1 MiB payload and a payload of bytes 0..255 arrive intact', async () => {
    const c = await nc();
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const all = new Uint8Array(256).map((_, i) => i);
    const s = c.subscribe('bin.test', { max: 2 });
    await c.flush();
    c.publish('bin.test', big);
    c.publish('bin.test', all);
    const got: Uint8Array[] = [];
    for await (const m of s) got.push(m.data);
    assert.deepEqual(Buffer.from(got[0]!), Buffer.from(big));
    assert.deepEqual(Buffer.from(got[1]!), Buffer.from(all));
  });

  test('drain and flush', async () => {
    const c = await nc();
    const got: string[] = [];
    c.subscribe('drain.test', { callback: (_e, m) => void got.push(m.string()) });
    await c.flush();
    const pub = await nc();
    for (let i = 0; i < 100; i++) pub.publish('drain.test', String(i));
    await pub.flush();
    await waitFor(() => got.length === 100, '100 messages before drain');
    await c.drain();
    assert.equal(c.isClosed(), true);
  });
});

describe('protocol errors and limits', () => {
  let server: RunningServer;
  let logger: MemoryLogger;
  before(async () => {
    logger = new MemoryLogger();
    server = await startTestServer({ maxPayloadBytes: 1024 }, logger);
  });
  after(async () => {
    await server.close();
  });

  test('a publish over max_payload is refused while other clients keep working', async () => {
    const bystander = await connect({ servers: server.clientUrl });
    const offender = await connect({ servers: server.clientUrl });
    try {
      const s = bystander.subscribe('limit.ok', { max: 1 });
      await bystander.flush();
      const closed = offender.closed();
      assert.throws(() => offender.publish('limit.big', new Uint8Array(2048)));
      // The official client checks max_payload itself; a raw peer shows the server's answer.
      const raw = await RawClient.connect(server.ports.client);
      raw.send('CONNECT {"verbose":false}\r\nPUB limit.big 2048\r\n');
      await raw.waitFor("-ERR 'Maximum Payload Violation'\r\n");
      await raw.waitClosed();
      bystander.publish('limit.ok', 'still fine');
      for await (const m of s) assert.equal(m.string(), 'still fine');
      assert.equal(offender.isClosed(), false);
      void closed;
    } finally {
      await bystander.close();
      await offender.close();
    }
  });

  test('a raw socket sending garbage gets -ERR and is closed; others are unaffected', async () => {
    const bystander = await connect({ servers: server.clientUrl });
    try {
      const raw = await RawClient.connect(server.ports.client);
      await raw.waitFor('INFO ');
      const before = logger.entries.length;
      raw.send('HELLO WORLD\r\nmore garbage that must not be logged again\r\n\x00\x01\x02');
      await raw.waitFor("-ERR 'Unknown Protocol Operation'\r\n");
      await raw.waitClosed();
      const errorsLogged = logger.entries.slice(before).filter((e) => e.msg === 'client protocol error');
      assert.equal(errorsLogged.length, 1);
      const r = await bystander.request('nobody', '', { timeout: 1000 }).catch((e: unknown) => e);
      assert.ok(r instanceof errors.RequestError);
      assert.equal(bystander.isClosed(), false);
    } finally {
      await bystander.close();
    }
  });

  test('verbose: true gets +OK', async () => {
    const raw = await RawClient.connect(server.ports.client);
    try {
      raw.send('CONNECT {"verbose":true,"pedantic":false}\r\n');
      await raw.waitFor('+OK\r\n');
      raw.clear();
      raw.send('SUB v.test 1\r\nPUB v.test 2\r\nhi\r\n');
      await raw.waitFor('MSG v.test 1 2\r\nhi\r\n');
      assert.equal(raw.text.split('+OK').length - 1, 2);
    } finally {
      raw.destroy();
    }
  });

  test('control line over the limit is refused', async () => {
    const raw = await RawClient.connect(server.ports.client);
    raw.send(`SUB ${'a'.repeat(5000)}`);
    await raw.waitFor("-ERR 'maximum control line exceeded'\r\n");
    await raw.waitClosed();
  });

  test('invalid subjects: SUB gets -ERR and stays open; pedantic PUB gets -ERR', async () => {
    const raw = await RawClient.connect(server.ports.client);
    try {
      raw.send('CONNECT {"verbose":false,"pedantic":true}\r\nSUB a..b 1\r\nPUB a.* 1\r\nx\r\nPING\r\n');
      await raw.waitFor('PONG\r\n');
      assert.match(raw.text, /-ERR 'Invalid Subject'\r\n/);
      assert.match(raw.text, /-ERR 'Invalid Publish Subject'\r\n/);
      assert.equal(raw.closed, false);
    } finally {
      raw.destroy();
    }
  });

  test('no_responders without headers is refused', async () => {
    const raw = await RawClient.connect(server.ports.client);
    raw.send('CONNECT {"verbose":false,"no_responders":true}\r\n');
    await raw.waitFor("-ERR 'no responders requires headers support'\r\n");
    await raw.waitClosed();
  });
});
