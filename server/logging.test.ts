import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createJsonLogger } from './logging.ts';
import { StreamSink, type SinkStream } from './log-sink.ts';

function capture(): { lines: Record<string, unknown>[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}

test('JSON lines with level names, fields, child bindings and run-time level changes', () => {
  const out = capture();
  const log = createJsonLogger('info', out);
  log.info({ port: 4222 }, 'listening');
  log.debug({}, 'hidden');
  assert.equal(log.isLevelEnabled('debug'), false);
  log.setLevel('debug');
  assert.equal(log.level, 'debug');
  assert.equal(log.isLevelEnabled('debug'), true);
  assert.equal(log.isLevelEnabled('silent'), false);
  log.child({ cid: 7 }).debug({ n: 1 }, 'shown');
  log.setLevel('silent');
  log.error({}, 'dropped');
  assert.equal(out.lines.length, 2);
  assert.equal(out.lines[0]!.level, 'info');
  assert.equal(out.lines[0]!.msg, 'listening');
  assert.equal(out.lines[0]!.port, 4222);
  assert.equal(typeof out.lines[0]!.time, 'string');
  assert.deepEqual([out.lines[1]!.level, out.lines[1]!.cid, out.lines[1]!.n], ['debug', 7, 1]);
});

test('logging to a closed stdout pipe (EPIPE) does not crash the process', { timeout: 30_000 }, async () => {
  const logging = fileURLToPath(new URL('./logging.ts', import.meta.url));
  const script = `
    import { createJsonLogger } from ${JSON.stringify(logging)};
    const log = createJsonLogger('info');
    let i = 0;
    // Keep writing across several turns so the write after the reader is gone surely happens.
    const again = () => {
      for (let j = 0; j < 2000; j++) log.info({ i: i++ }, 'spam spam spam spam spam spam spam spam');
      if (i < 40000) setImmediate(again); else process.stderr.write('survived\\n');
    };
    again();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  // Close our end as soon as the first output arrives: the child's next writes hit EPIPE.
  await once(child.stdout, 'data');
  child.stdout.destroy();
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, stderr);
  assert.match(stderr, /survived/);
});

test('a line has level, time, pid, hostname, bindings, fields and msg, in that order', () => {
  const raw: string[] = [];
  const log = createJsonLogger('info', { write: (s) => void raw.push(s) });
  log.child({ component: 'jetstream' }).info({ port: 1 }, 'hello');
  assert.equal(raw.length, 1);
  assert.ok(raw[0]!.endsWith('}\n'));
  assert.deepEqual(Object.keys(JSON.parse(raw[0]!) as object), ['level', 'time', 'pid', 'hostname', 'component', 'port', 'msg']);
});

test('errors, bigints and cycles in fields are written, not thrown', () => {
  const out = capture();
  const log = createJsonLogger('info', out);
  const cyclic: Record<string, unknown> = { name: 'a' };
  cyclic.self = cyclic;
  log.error({ err: new TypeError('boom'), seq: 12n, cyclic }, 'failed');
  const line = out.lines[0]!;
  assert.deepEqual((line.err as Record<string, unknown>).type, 'TypeError');
  assert.equal((line.err as Record<string, unknown>).message, 'boom');
  assert.equal(line.seq, 12);
  assert.equal((line.cyclic as Record<string, unknown>).self, '[Circular]');
});

/** A stream that queues everything written until drained by hand. */
class FakeStream implements SinkStream {
  writableLength = 0;
  readonly written: string[] = [];
  private readonly listeners: { error: ((e: Error) => void)[]; drain: (() => void)[] } = { error: [], drain: [] };
  write(chunk: string): boolean {
    this.written.push(chunk);
    this.writableLength += chunk.length;
    return false;
  }
  on(event: 'error' | 'drain', listener: (e: Error) => void): this {
    (this.listeners[event] as ((e: Error) => void)[]).push(listener);
    return this;
  }
  drain(): void {
    this.writableLength = 0;
    for (const l of this.listeners.drain) (l as () => void)();
  }
  fail(err: Error): void {
    for (const l of this.listeners.error) l(err);
  }
}

test('a destination that falls behind: lines past the pending limit are dropped, counted and reported once it drains', () => {
  const stream = new FakeStream();
  const sink = new StreamSink(stream, 100);
  const log = createJsonLogger('info', sink);
  for (let i = 0; i < 10; i++) log.info({ i }, 'x');
  // Each line is ~80 bytes: the first fits under 100 pending bytes, the rest are dropped.
  assert.equal(stream.written.length, 1);
  assert.equal(sink.dropped, 9);
  stream.drain();
  assert.equal(stream.written.length, 2);
  const report = JSON.parse(stream.written[1]!) as Record<string, unknown>;
  assert.deepEqual([report.level, report.dropped, report.total_dropped], ['warn', 9, 9]);
  stream.drain();
  log.info({}, 'after');
  assert.deepEqual(stream.written.length, 3, 'no second report without new drops');
});

test('a destination that failed (EPIPE) is never written to again', () => {
  const stream = new FakeStream();
  const sink = new StreamSink(stream);
  const log = createJsonLogger('info', sink);
  log.info({}, 'one');
  stream.fail(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
  log.info({}, 'two');
  log.info({}, 'three');
  stream.drain();
  assert.equal(stream.written.length, 1);
  assert.equal(sink.dropped, 2);
});

test('a destination that throws on write (a full disk) is marked broken, the caller never sees it', () => {
  const sink = new StreamSink({
    writableLength: 0,
    write: () => {
      throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    },
    on: () => undefined,
  });
  const log = createJsonLogger('info', sink);
  log.info({}, 'one');
  log.info({}, 'two');
  assert.equal(sink.broken, true);
  assert.equal(sink.dropped, 2);
});

test('logging to a stdout pipe nobody reads never blocks the process', { timeout: 30_000 }, async () => {
  const logging = fileURLToPath(new URL('./logging.ts', import.meta.url));
  // 20 MB of log lines into a 64 KiB pipe that is never read: the writes must not block, the
  // process must keep running its event loop and exit when done.
  const script = `
    import { createJsonLogger } from ${JSON.stringify(logging)};
    const log = createJsonLogger('info');
    const filler = 'x'.repeat(1000);
    let turns = 0;
    const again = () => {
      for (let j = 0; j < 1000; j++) log.info({ filler }, 'flood');
      if (++turns < 20) setImmediate(again); else { process.stderr.write('done\\n'); process.exit(0); }
    };
    again();
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pause();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.match(stderr, /done/);
  } finally {
    child.kill('SIGKILL');
    child.stdout.destroy();
  }
});
