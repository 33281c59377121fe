// The fault-injecting TCP proxy against a real target server on loopback: ordered full-duplex
// forwarding, backpressure, FIN passing, cut/drop/delay/heal, resets that must not crash anything,
// and a close() after which a process can exit. The seed is printed; SLUICE_SEED=<n> replays a run.

import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { seededRng } from '../../runtime/rng.ts';
import { waitFor, within } from './deadline.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const seed = Number(process.env.SLUICE_SEED ?? Math.floor(Date.now() % 1_000_000));
const rng = seededRng(seed);

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/** One end of a TCP connection, seen by a test: what it received, whether it saw FIN / close. */
class Peer {
  private chunks: Buffer[] = [];
  length = 0;
  ended = false;
  closed = false;
  error: NodeJS.ErrnoException | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.length += d.length;
    });
    socket.on('end', () => (this.ended = true));
    socket.on('error', (err) => (this.error = err));
    socket.on('close', () => (this.closed = true));
  }

  get bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  get text(): string {
    return this.bytes.toString('latin1');
  }

  async waitText(text: string, what = JSON.stringify(text)): Promise<void> {
    await waitFor(() => this.text.includes(text) || (this.closed && this.fail(`closed before ${what}`)), what);
  }

  async waitClosed(what = 'socket to close'): Promise<void> {
    await waitFor(() => this.closed, what);
  }

  private fail(msg: string): never {
    throw new Error(`${msg}; got ${JSON.stringify(this.text.slice(-200))}`);
  }
}

interface Target {
  readonly port: number;
  /** Server side of each accepted connection, in order. */
  readonly conns: Peer[];
  close(): Promise<void>;
}

/** A real TCP server on a free port; echoes what it gets unless echo is false. */
async function startTarget(t: TestContext, echo = true): Promise<Target> {
  const conns: Peer[] = [];
  const server = net.createServer({ allowHalfOpen: !echo }, (socket) => {
    conns.push(new Peer(socket));
    if (echo) socket.pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const target: Target = {
    port,
    conns,
    close: () =>
      new Promise<void>((r) => {
        for (const c of conns) c.socket.destroy();
        server.close(() => r());
      }),
  };
  t.after(() => target.close());
  return target;
}

async function startProxy(t: TestContext, port: number): Promise<TcpProxy> {
  const proxy = await startTcpProxy({ port });
  t.after(() => within(proxy.close(), 10_000, 'proxy.close() in cleanup'));
  return proxy;
}

/** Connects a client; destroyed when the test ends. Rejects if the connection fails before 'connect'. */
function dial(t: TestContext, port: number): Promise<Peer> {
  const socket = net.connect(port, '127.0.0.1');
  const peer = new Peer(socket);
  t.after(() => socket.destroy());
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(peer));
    socket.once('error', reject);
  });
}

/** Dials and waits for the connection to end, whether it gets as far as 'connect' or not. */
async function dialExpectingClose(t: TestContext, port: number): Promise<Peer> {
  const socket = net.connect(port, '127.0.0.1');
  const peer = new Peer(socket);
  t.after(() => socket.destroy());
  await peer.waitClosed('a connection through the cut proxy to be closed');
  return peer;
}

/** Writes data in random-sized chunks (1 byte .. 64 KiB). */
function writeInRandomChunks(socket: net.Socket, data: Buffer): void {
  for (let at = 0; at < data.length; ) {
    const n = Math.min(data.length - at, 1 + rng.int(rng.next() < 0.3 ? 64 : 65536));
    socket.write(data.subarray(at, at + n));
    at += n;
  }
}

const MB = 1 << 20;

describe(`tcp proxy (seed ${seed})`, () => {
  test('passes 1 MB each way at once, in random chunk sizes, in order', async (t) => {
    const target = await startTarget(t, false);
    const proxy = await startProxy(t, target.port);
    const client = await dial(t, proxy.port);
    await waitFor(() => target.conns[0], 'the target to accept the proxied connection');
    const server = target.conns[0]!;
    const up = randomBytes(MB);
    const down = randomBytes(MB);
    writeInRandomChunks(client.socket, up);
    writeInRandomChunks(server.socket, down);
    await waitFor(() => server.length >= MB && client.length >= MB, 'both directions to arrive', 20_000);
    assert.ok(server.bytes.equals(up), 'client -> target bytes differ');
    assert.ok(client.bytes.equals(down), 'target -> client bytes differ');
    assert.deepEqual(proxy.forwarded, { up: MB, down: MB });
    assert.deepEqual(proxy.dropped, { up: 0, down: 0 });
    assert.equal(proxy.connections, 1);
    assert.equal(proxy.url('nats-route'), `nats-route://127.0.0.1:${proxy.port}`);

    // And through an echo server: what comes back is what went out.
    const echo = await startTarget(t);
    const echoProxy = await startProxy(t, echo.port);
    const c2 = await dial(t, echoProxy.port);
    const data = randomBytes(MB);
    writeInRandomChunks(c2.socket, data);
    await waitFor(() => c2.length >= MB, 'the echo', 20_000);
    assert.ok(c2.bytes.equals(data), 'echoed bytes differ');
  });

  test('passes a FIN each way; a half-closed connection still carries the other direction', async (t) => {
    const target = await startTarget(t, false);
    const proxy = await startProxy(t, target.port);
    const client = await dial(t, proxy.port);
    await waitFor(() => target.conns[0], 'the target to accept');
    const server = target.conns[0]!;
    client.socket.end('last words');
    await waitFor(() => server.ended, 'the target to see the FIN');
    assert.equal(server.text, 'last words');
    server.socket.write('still here');
    await client.waitText('still here');
    server.socket.end();
    await client.waitClosed();
    await server.waitClosed();
    await waitFor(() => proxy.connections === 0, 'the pair to be gone');
  });

  test('pauses the reading side while the writing side is full (backpressure)', async (t) => {
    // Sized above everything the kernel can buffer on the way (two sockets' send and receive
    // buffers), so the target can only finish while the reader is paused if the proxy soaks it up.
    const maxOf = (f: string) => {
      try {
        return Number(readFileSync(f, 'utf8').trim().split(/\s+/)[2]);
      } catch {
        return 8 * MB;
      }
    };
    const kernel = 2 * (maxOf('/proc/sys/net/ipv4/tcp_rmem') + maxOf('/proc/sys/net/ipv4/tcp_wmem'));
    const total = Math.max(64 * MB, 2 * kernel);
    const target = await startTarget(t, false);
    const proxy = await startProxy(t, target.port);
    const client = await dial(t, proxy.port);
    client.socket.pause();
    await waitFor(() => target.conns[0], 'the target to accept');
    const server = target.conns[0]!;

    // The target streams `total` bytes, honouring its own backpressure.
    const block = randomBytes(64 * 1024);
    const sent = createHash('sha256');
    let written = 0;
    let done = false;
    const pump = () => {
      while (written < total) {
        const chunk = block.subarray(0, Math.min(block.length, total - written));
        written += chunk.length;
        sent.update(chunk);
        if (!server.socket.write(chunk)) return void server.socket.once('drain', pump);
      }
      server.socket.end(() => (done = true));
    };
    pump();

    // Paused reader: the flow stalls. Poll until the proxy has stopped forwarding for a while.
    let last = -1;
    let same = 0;
    await waitFor(
      () => {
        const now = proxy.forwarded.down;
        same = now === last ? same + 1 : 0;
        last = now;
        return same >= 20;
      },
      'the proxied flow to stall while the client is paused',
      30_000,
    );
    assert.ok(!done, 'the target finished writing although the client reads nothing');
    assert.ok(proxy.forwarded.down < total, `the proxy took all ${total} bytes from the target`);

    // Reader resumes: everything arrives, in order.
    const got = createHash('sha256');
    let received = client.length;
    assert.equal(received, 0);
    client.socket.removeAllListeners('data');
    client.socket.on('data', (d: Buffer) => {
      got.update(d);
      received += d.length;
    });
    client.socket.resume();
    await waitFor(() => client.ended, 'the whole stream to arrive', 60_000);
    assert.equal(received, total);
    assert.equal(got.digest('hex'), sent.digest('hex'));
    assert.equal(proxy.forwarded.down, total);
  });

  test('cut() closes both sides and refuses new connections until heal()', async (t) => {
    const target = await startTarget(t);
    const proxy = await startProxy(t, target.port);
    const a = await dial(t, proxy.port);
    const b = await dial(t, proxy.port);
    a.socket.write('ping-a');
    b.socket.write('ping-b');
    await a.waitText('ping-a');
    await b.waitText('ping-b');
    assert.equal(proxy.connections, 2);

    proxy.cut();
    await a.waitClosed('client a to see the cut');
    await b.waitClosed('client b to see the cut');
    await waitFor(() => target.conns.every((c) => c.closed), 'the target side to see the cut');
    await waitFor(() => proxy.connections === 0, 'the pairs to be gone');

    // While cut: accepted, then reset at once; the target is never dialed.
    for (let i = 0; i < 3; i++) {
      const refused = await dialExpectingClose(t, proxy.port);
      assert.equal(refused.length, 0);
    }
    assert.equal(target.conns.length, 2, 'the proxy dialed the target while cut');
    assert.equal(proxy.connections, 0);

    proxy.heal();
    const c = await dial(t, proxy.port);
    c.socket.write('after heal');
    await c.waitText('after heal');
    assert.equal(target.conns.length, 3);
    assert.equal(proxy.connections, 1);
  });

  test("drop('up') loses client->target bytes while target->client still flows; heal() resumes on the same connection", async (t) => {
    const target = await startTarget(t);
    const proxy = await startProxy(t, target.port);
    const client = await dial(t, proxy.port);
    client.socket.write('one;');
    await client.waitText('one;');
    const server = target.conns[0]!;

    proxy.drop('up');
    client.socket.write('lost;');
    await waitFor(() => proxy.dropped.up === 'lost;'.length, 'the proxy to drop the bytes');
    server.socket.write('down-ok;');
    await client.waitText('down-ok;', 'target -> client bytes while up is dropped');

    proxy.heal();
    client.socket.write('two;');
    await client.waitText('two;');
    // Ordered per direction: had 'lost;' been held rather than dropped it would precede 'two;'.
    assert.equal(server.text, 'one;two;');
    assert.equal(client.text, 'one;down-ok;two;');
    assert.equal(target.conns.length, 1);
    assert.equal(proxy.connections, 1);
    assert.ok(!client.closed && !server.closed);
    assert.deepEqual(proxy.dropped, { up: 5, down: 0 });

    // The other way round: the target's bytes vanish (including its echo), the client's arrive.
    proxy.drop('down');
    client.socket.write('three;');
    await server.waitText('three;');
    server.socket.write('gone;');
    await waitFor(() => proxy.dropped.down === 'three;gone;'.length, 'the echo and the target bytes to be dropped');
    proxy.heal();
    client.socket.write('four;');
    await client.waitText('four;');
    assert.equal(client.text, 'one;down-ok;two;four;');
    assert.equal(server.text, 'one;two;three;four;');
  });

  test("drop('both'): new connections are accepted and black-holed too, until heal()", async (t) => {
    const target = await startTarget(t);
    const proxy = await startProxy(t, target.port);
    proxy.drop('both');
    const client = await dial(t, proxy.port);
    await waitFor(() => target.conns[0], 'the proxy to dial the target while dropping');
    const server = target.conns[0]!;
    client.socket.write('void;');
    server.socket.write('void!');
    await waitFor(() => proxy.dropped.up === 5 && proxy.dropped.down === 5, 'both directions to be dropped');
    // A FIN sent while dropping is held, not lost (it passes whether it reaches the proxy before
    // or after heal()); the echo target then closes, and its FIN comes back.
    client.socket.end();
    proxy.heal();
    await waitFor(() => server.ended, 'the FIN to reach the target after heal()');
    await server.waitClosed();
    assert.equal(server.text, '');
    assert.equal(client.text, '');
    await client.waitClosed();
    await waitFor(() => proxy.connections === 0, 'the pair to be gone');
  });

  test('delay(ms) holds data at least ms each way and keeps the order', async (t) => {
    const target = await startTarget(t);
    const proxy = await startProxy(t, target.port);
    const client = await dial(t, proxy.port);
    client.socket.write('warm;');
    await client.waitText('warm;');

    const ms = 150;
    proxy.delay(ms);
    const start = performance.now();
    client.socket.write('ping;');
    await client.waitText('ping;');
    const elapsed = performance.now() - start;
    // Held once on the way in and once on the way back; only a lower bound, with slack.
    assert.ok(elapsed >= 2 * ms - 20, `round trip took ${elapsed.toFixed(1)} ms with ${ms} ms delay each way`);

    // Many chunks while delayed, then delay(0) mid-stream: nothing overtakes what is still held.
    const data = randomBytes(256 * 1024);
    writeInRandomChunks(client.socket, data.subarray(0, 128 * 1024));
    proxy.delay(0);
    writeInRandomChunks(client.socket, data.subarray(128 * 1024));
    const expect = Buffer.concat([Buffer.from('warm;ping;'), data]);
    await waitFor(() => client.length >= expect.length, 'the delayed stream', 20_000);
    assert.ok(client.bytes.equals(expect), 'bytes reordered or corrupted under delay');
    assert.ok(target.conns[0]!.bytes.equals(expect));
  });

  test('a target that refuses: the client connection is closed', async (t) => {
    const gone = await startTarget(t);
    await gone.close(); // nothing listens on that port any more
    const proxy = await startProxy(t, gone.port);
    const client = await dialExpectingClose(t, proxy.port);
    assert.equal(client.length, 0);
    await waitFor(() => proxy.connections === 0, 'the pair to be gone');
  });

  test('a reset on either side takes the pair down without crashing anything', async (t) => {
    const target = await startTarget(t, false);
    const proxy = await startProxy(t, target.port);
    const big = randomBytes(4 * MB);

    // Client resets mid-stream while both sides are writing.
    const c1 = await dial(t, proxy.port);
    await waitFor(() => target.conns[0], 'the target to accept');
    const s1 = target.conns[0]!;
    s1.socket.write(big);
    c1.socket.write(big);
    await waitFor(() => c1.length > 0, 'some bytes to arrive');
    c1.socket.resetAndDestroy();
    await s1.waitClosed('the target side to go after the client reset');
    await waitFor(() => proxy.connections === 0, 'the pair to be gone');

    // Target resets mid-stream.
    const c2 = await dial(t, proxy.port);
    await waitFor(() => target.conns[1], 'the target to accept');
    const s2 = target.conns[1]!;
    s2.socket.write(big);
    c2.socket.write(big);
    await waitFor(() => s2.length > 0 && c2.length > 0, 'bytes both ways');
    s2.socket.resetAndDestroy();
    await c2.waitClosed('the client side to go after the target reset');
    await waitFor(() => proxy.connections === 0, 'the pair to be gone');

    // Still serving.
    const c3 = await dial(t, proxy.port);
    await waitFor(() => target.conns[2], 'the target to accept');
    target.conns[2]!.socket.write('alive');
    await c3.waitText('alive');
  });

  test('close() closes the listener and every connection, whatever state they are in', async (t) => {
    const target = await startTarget(t);
    const proxy = await startProxy(t, target.port);
    const plain = await dial(t, proxy.port);
    plain.socket.write('x');
    await plain.waitText('x');
    proxy.delay(60_000);
    plain.socket.write('held for a minute');
    const delayed = await dial(t, proxy.port);
    proxy.drop('both');
    const dropped = await dial(t, proxy.port);
    dropped.socket.write('into the void');
    await waitFor(() => proxy.connections === 3 && target.conns.length === 3, 'three pairs');

    await within(proxy.close(), 5000, 'proxy.close()');
    assert.equal(proxy.connections, 0);
    for (const c of [plain, delayed, dropped]) await c.waitClosed('a client to see the close');
    await waitFor(() => target.conns.every((c) => c.closed), 'the target side to see the close');
    await within(proxy.close(), 5000, 'a second proxy.close()');
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      const s = net.connect(proxy.port, '127.0.0.1');
      s.once('error', resolve);
      s.once('connect', () => {
        s.destroy();
        resolve(Object.assign(new Error('connected'), { code: 'CONNECTED' }));
      });
    });
    assert.equal(err.code, 'ECONNREFUSED');
  });

  test('after close() a process exits on its own, even with data and a FIN still delayed', async () => {
    const proxyModule = resolve(import.meta.dirname, 'tcp-proxy.ts');
    const script = `
      import net from 'node:net';
      import { startTcpProxy } from ${JSON.stringify(proxyModule)};
      const target = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
      await new Promise((r) => target.listen(0, '127.0.0.1', r));
      const proxy = await startTcpProxy({ port: target.address().port });
      const connect = () => new Promise((r) => { const c = net.connect(proxy.port, '127.0.0.1', () => r(c)); c.on('error', () => {}); });
      const a = await connect();
      a.write('hi');
      await new Promise((r) => a.once('data', r));
      proxy.delay(60_000);
      a.write('held');
      // Only the proxy makes timers here: wait (without one) until it holds the bytes.
      while (!process.getActiveResourcesInfo().includes('Timeout')) await new Promise((r) => setImmediate(r));
      const b = await connect();
      b.end();
      await proxy.close();
      await new Promise((r) => target.close(r));
      console.log('closed');
      // No process.exit(): anything left open would keep this process alive.
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: resolve(import.meta.dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const code = await within(exited, 20_000, `the child process to exit by itself; output: ${out}`);
      assert.equal(code, 0, out);
      assert.match(out, /closed/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
