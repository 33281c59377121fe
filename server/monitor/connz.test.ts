import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConnz } from './connz.ts';
import { parseBool } from './query.ts';
import type { ConnSnapshot } from './conn-info.ts';
import { QueryError } from './http.ts';

function conn(cid: number, o: Partial<ConnSnapshot> = {}): ConnSnapshot {
  return {
    cid,
    transport: 'tcp',
    ip: '127.0.0.1',
    port: 40000 + cid,
    startMs: 1_000 + cid,
    lastActivityMs: 2_000,
    rttMs: -1,
    pendingBytes: 0,
    inMsgs: 0,
    outMsgs: 0,
    inBytes: 0,
    outBytes: 0,
    name: '',
    lang: '',
    version: '',
    user: '',
    account: '$G',
    subs: [],
    subscriptionCount: 0,
    ...o,
  };
}

const source = (open: ConnSnapshot[], closed: ConnSnapshot[] = []) => ({ serverId: 'S', nowMs: () => 10_000, open: () => open, closed: () => closed });
const cids = (r: Record<string, unknown>) => (r.connections as { cid: number }[]).map((c) => c.cid);
const q = (s: string) => new URLSearchParams(s);

test('parseBool reads what Go strconv.ParseBool reads and refuses the rest', () => {
  for (const v of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(parseBool(q(`x=${v}`), 'x'), true);
  for (const v of ['0', 'f', 'F', 'false', 'FALSE', 'False', '']) assert.equal(parseBool(q(`x=${v}`), 'x'), false);
  assert.equal(parseBool(q(''), 'x'), false);
  assert.throws(() => parseBool(q('x=yes'), 'x'), QueryError);
});

test('sort orders: counters largest first, cid and start ascending, ties by cid', () => {
  const open = [conn(3, { inMsgs: 5, outBytes: 1 }), conn(1, { inMsgs: 9 }), conn(2, { inMsgs: 5, outBytes: 7 })];
  assert.deepEqual(cids(buildConnz(source(open), q(''))), [1, 2, 3]);
  assert.deepEqual(cids(buildConnz(source(open), q('sort=msgs_from'))), [1, 2, 3]);
  assert.deepEqual(cids(buildConnz(source(open), q('sort=bytes_to'))), [2, 3, 1]);
  assert.deepEqual(cids(buildConnz(source(open), q('sort=start'))), [1, 2, 3]);
});

test('closed connections: stop newest first, reason alphabetical, only with state=closed', () => {
  const closed = [conn(1, { stopMs: 5_000, reason: 'Stale Connection' }), conn(2, { stopMs: 6_000, reason: 'Client Closed' })];
  const src = source([conn(9)], closed);
  assert.deepEqual(cids(buildConnz(src, q('state=closed&sort=stop'))), [2, 1]);
  assert.deepEqual(cids(buildConnz(src, q('state=closed&sort=reason'))), [2, 1]);
  assert.deepEqual(cids(buildConnz(src, q('state=all'))), [1, 2, 9]);
  assert.throws(() => buildConnz(src, q('state=all&sort=stop')), /only valid on closed connections/);
  const one = (buildConnz(src, q('state=closed&cid=1')).connections as Record<string, unknown>[])[0]!;
  assert.equal(one.reason, 'Stale Connection');
  // A closed connection's uptime and idle end at its stop, not now.
  assert.equal(one.uptime, '3s');
  assert.equal(one.idle, '3s');
});

test('paging: offset and limit, total counts everything that matched', () => {
  const open = Array.from({ length: 5 }, (_, i) => conn(i + 1));
  const r = buildConnz(source(open), q('offset=1&limit=2'));
  assert.deepEqual(cids(r), [2, 3]);
  assert.equal(r.num_connections, 2);
  assert.equal(r.total, 5);
  assert.equal(r.limit, 2);
  assert.equal(buildConnz(source(open), q('limit=0')).limit, 1024);
  assert.throws(() => buildConnz(source(open), q('offset=-1')), QueryError);
});

test('empty optional strings are left out; auth shows the user, not the global account', () => {
  const c = (buildConnz(source([conn(1, { user: 'alice' })]), q('auth=1')).connections as Record<string, unknown>[])[0]!;
  assert.equal(c.authorized_user, 'alice');
  assert.equal('name' in c || 'lang' in c || 'version' in c || 'account' in c, false);
});
