import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveOptionsWithWarnings } from './options.ts';
import { planReload } from './reload.ts';
import type { ServerOptions } from './options-types.ts';

const opts = (o: Parameters<typeof resolveOptionsWithWarnings>[0]) => resolveOptionsWithWarnings(o).options;

test('the same configuration changes nothing', () => {
  const o = { users: [{ user: 'a', password: 'b', permissions: { publish: { allow: ['x'] } } }], maxPayloadBytes: 1000 };
  assert.deepEqual(planReload(opts(o), opts(structuredClone(o))), { changed: [], refused: [] });
});

test('users, limits and the log level are reloadable', () => {
  const before = opts({ users: [{ user: 'a', password: 'b' }] });
  const after = opts({ users: [{ user: 'a', password: 'c' }], maxPayloadBytes: 1000, logLevel: 'debug', maxPendingBytes: 2000, writeDeadlineMs: 5 });
  assert.deepEqual(planReload(before, after), { changed: ['maxPayloadBytes', 'maxPendingBytes', 'writeDeadlineMs', 'logLevel', 'users'], refused: [] });
});

test('ports, the store directory and the cluster need a restart', () => {
  const before = opts({ port: 4222 });
  const after = opts({ port: 4223, storeDir: '/tmp/x', cluster: { port: 6222 } as ServerOptions['cluster'], httpPort: 8222, logLevel: 'debug' });
  const plan = planReload(before, after);
  assert.deepEqual(plan.refused, ['port', 'httpPort', 'storeDir', 'cluster']);
  assert.deepEqual(plan.changed, ['logLevel']);
});
