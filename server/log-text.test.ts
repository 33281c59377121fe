import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTextLine } from './log-text.ts';
import { createJsonLogger } from './logging.ts';
import { ManualClock } from '../runtime/clock.ts';

test('a readable line: time, level tag, message, then the fields (pid and hostname left out)', () => {
  const line = renderTextLine({ level: 'info', time: '2025-01-01T00:00:00.000Z', pid: 1, hostname: 'h', cid: 7, ip: '10.0.0.1', name: 'my app', msg: 'client connection closed' });
  assert.equal(line, '2025-01-01T00:00:00.000Z [INF] client connection closed cid=7 ip=10.0.0.1 name="my app"');
});

test('the logger writes text lines when asked, JSON otherwise', () => {
  const lines: string[] = [];
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const text = createJsonLogger('debug', { write: (l) => lines.push(l) }, clock, 'text');
  text.child({ cid: 3 }).debug({ reason: 'Client Closed' }, 'client connection closed');
  assert.equal(lines[0], '2025-01-01T00:00:00.000Z [DBG] client connection closed cid=3 reason="Client Closed"\n');
  const json = createJsonLogger('info', { write: (l) => lines.push(l) }, clock);
  json.info({ a: 1 }, 'hi');
  assert.equal((JSON.parse(lines[1]!) as { msg: string; a: number }).a, 1);
});
