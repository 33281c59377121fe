// Reconnect through a real process kill: the sluice server runs as a child process
// (`node --import tsx cli/main.ts server`), a client publishes steadily, the server is SIGKILLed and
// restarted on the same port. The client must reconnect, restore its subscriptions (with their
// remaining max counts) exactly once, and deliver what it buffered while disconnected.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, ErrorCode, NatsError, type NatsConnection, type Status } from '../../client/index.ts';
import { systemClock } from '../../runtime/clock.ts';
import { waitFor, within } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';
import { varzSubscriptions } from './client-suite.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Child {
  proc: ChildProcess;
  exited: Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startServerProcess(port: number, httpPort: number): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'server', '--host', '127.0.0.1', '--port', String(port), '--http-port', String(httpPort), '--log-level', 'warn'],
    { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let dead = false;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => ((dead = true), resolve())));
  await waitFor(
    async () => {
      if (dead) throw new Error(`sluice server exited: ${stderr}`);
      return (await canConnect(port)) && (await canConnect(httpPort));
    },
    'sluice server process to listen',
    15_000,
  );
  return { proc, exited };
}

async function kill(child: Child | undefined): Promise<void> {
  if (child === undefined || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGKILL');
  await child.exited;
}

/** Resolves with the first status event of `type` (the iterator must be opened beforehand). */
async function nextStatus(it: AsyncIterator<Status>, type: Status['type'], timeoutMs = 10_000): Promise<Status> {
  return within(
    (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) throw new Error(`status ended before ${type}`);
        if (r.value.type === type) return r.value;
      }
    })(),
    timeoutMs,
    `status ${type}`,
  );
}

describe('reconnect after the server process is killed', () => {
  let port: number;
  let httpPort: number;
  let child: Child | undefined;
  const conns: NatsConnection[] = [];
  const reconnectOpts = {
    maxReconnectAttempts: -1,
    reconnectTimeWaitMs: 20,
    maxReconnectTimeWaitMs: 200,
    reconnectJitterMs: 10,
  };

  before(async () => {
    port = await freePort();
    httpPort = await freePort();
    child = await startServerProcess(port, httpPort);
  });
  after(async () => {
    await Promise.allSettled(conns.map((c) => c.close()));
    await kill(child);
  });

  test('SIGKILL under steady publishing: reconnect, resume, deliver the buffer, no duplicate subscriptions', async () => {
    const url = `nats://127.0.0.1:${port}`;
    const a = await connect({ servers: url, name: 'publisher', ...reconnectOpts });
    const b = await connect({ servers: url, name: 'observer', ...reconnectOpts });
    conns.push(a, b);
    const aStatus = a.status();
    const bStatus = b.status();

    const seenA: number[] = [];
    const seenB: number[] = [];
    a.subscribe('steady.>', { callback: (m) => void seenA.push(Number(m.string())) });
    b.subscribe('steady.>', { callback: (m) => void seenB.push(Number(m.string())) });
    const counted: string[] = [];
    const countedSub = a.subscribe('counted', { max: 10, callback: (m) => void counted.push(m.string()) });
    await a.flush();
    await b.flush();
    for (let i = 0; i < 3; i++) a.publish('counted', `c${i}`);
    await a.flush();
    assert.equal(counted.length, 3);
    const subsBefore = await varzSubscriptions(`http://127.0.0.1:${httpPort}`);
    assert.equal(subsBefore, 3);

    // Publish one message every 2 ms, noting which ones were published while disconnected.
    let seq = 0;
    const buffered: number[] = [];
    const ticker = systemClock.setInterval(() => {
      const n = seq++;
      const disconnected = a.getServer() === '';
      a.publish('steady.n', String(n));
      if (disconnected) buffered.push(n);
    }, 2);
    try {
      await waitFor(() => seenB.length >= 50, '50 messages before the kill');
      await kill(child);
      child = undefined;
      await nextStatus(aStatus, 'disconnect');
      await nextStatus(bStatus, 'disconnect');
      await waitFor(() => buffered.length >= 20, '20 messages published while disconnected');
      // Messages published while the server is down must not be dropped by the client.
      for (let i = 0; i < 3; i++) a.publish('counted', `d${i}`);
      child = await startServerProcess(port, httpPort);
      await nextStatus(aStatus, 'reconnect');
      await nextStatus(bStatus, 'reconnect');
      const resumedAt = seq;
      await waitFor(() => seq >= resumedAt + 50, '50 messages after reconnect');
    } finally {
      ticker.cancel();
    }
    const last = seq - 1;
    await a.flush();
    await b.flush();
    await waitFor(() => seenA.includes(last) && seenB.includes(last), 'the last message at both subscribers');
    await a.flush();
    await b.flush();

    // Buffered messages went out after the subscriptions were restored: A got every one, in order.
    const inA = new Set(seenA);
    assert.deepEqual(buffered.filter((n) => !inA.has(n)), [], 'every buffered message reached A');
    const positions = buffered.map((n) => seenA.indexOf(n));
    assert.deepEqual(positions, [...positions].sort((x, y) => x - y), 'buffered messages in order');
    // No duplicates anywhere (a doubled SUB would deliver twice).
    assert.equal(new Set(seenA).size, seenA.length, 'no duplicate deliveries at A');
    assert.equal(new Set(seenB).size, seenB.length, 'no duplicate deliveries at B');
    // The max-limited subscription resumed with its remaining count: 3 before, 3 buffered, then 4.
    for (let i = 0; i < 10; i++) a.publish('counted', `e${i}`);
    await a.flush();
    assert.deepEqual(counted, ['c0', 'c1', 'c2', 'd0', 'd1', 'd2', 'e0', 'e1', 'e2', 'e3']);
    assert.equal(countedSub.isClosed(), true);
    // On the new server process: A's and B's steady.> only (counted is done), once each.
    assert.equal(await varzSubscriptions(`http://127.0.0.1:${httpPort}`), 2);
    assert.equal(a.stats().reconnects, 1);
    await aStatus.return?.();
    await bStatus.return?.();
  });

  test('pending requests fail with DISCONNECTED, or are retried with retryRequestsOnReconnect', async () => {
    const url = `nats://127.0.0.1:${port}`;
    const failing = await connect({ servers: url, ...reconnectOpts });
    const retrying = await connect({ servers: url, retryRequestsOnReconnect: true, ...reconnectOpts });
    conns.push(failing, retrying);
    // The responder lives on the retrying connection: after a reconnect its SUB is restored before
    // the retried request goes out, so the retry deterministically finds it.
    let answering = false;
    retrying.subscribe('slow.svc', { callback: (m) => void (answering && m.respond(`ok:${m.string()}`)) });
    await retrying.flush();
    const fStatus = failing.status();
    const tStatus = retrying.status();
    const p1 = failing.request('slow.svc', 'one', { timeoutMs: 20_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const p2 = retrying.request('slow.svc', 'two', { timeoutMs: 20_000 });
    await failing.flush();
    await retrying.flush();
    await kill(child);
    child = undefined;
    const err = await p1;
    assert.ok(err instanceof NatsError && err.code === ErrorCode.Disconnected, String(err));
    answering = true;
    child = await startServerProcess(port, httpPort);
    await nextStatus(fStatus, 'reconnect');
    await nextStatus(tStatus, 'reconnect');
    assert.equal((await p2).string(), 'ok:two');
    await fStatus.return?.();
    await tStatus.return?.();
  });
});
