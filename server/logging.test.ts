import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createPinoLogger } from './logging.ts';

function capture(): { lines: Record<string, unknown>[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}

test('JSON lines with level names, fields, child bindings and run-time level changes', () => {
  const out = capture();
  const log = createPinoLogger('info', out);
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
    import { createPinoLogger } from ${JSON.stringify(logging)};
    const log = createPinoLogger('info');
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
