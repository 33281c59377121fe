// Leaf nodes between sluice processes on loopback (the scenarios are in leafnode-suite.ts; the
// same run against nats-server in tests/e2e/leafnode.e2e.ts), plus what only sluice reports (the
// names and roles of the links in /leafz) and loop detection (nats-server replaces a second link
// from the same edge instead, so that scenario is sluice's own).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers/deadline.ts';
import { freePort } from '../helpers/nats-server.ts';
import { leafnodeSuite, sluiceServers } from './leafnode-suite.ts';

leafnodeSuite('a sluice hub with two sluice edges', sluiceServers);

test('/leafz names the server at the other end and says which side dialled', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leafz-'));
  const leafPort = await freePort();
  const hub = await sluiceServers.hub(dir, leafPort, await freePort());
  try {
    const edge = await sluiceServers.edge(dir, 'edge1', [{ url: `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}` }]);
    try {
      type Leafz = { leafs: { name: string; is_spoke: boolean; account: string }[] };
      const hz = await waitFor(async () => {
        const z = (await (await fetch(`${hub.httpUrl}/leafz`)).json()) as Leafz;
        return z.leafs.length === 1 ? z : undefined;
      }, 'the edge to connect');
      assert.deepEqual(hz.leafs.map((l) => [l.name, l.is_spoke, l.account]), [['edge1', false, '$G']]);
      const ez = (await (await fetch(`${edge.httpUrl}/leafz`)).json()) as Leafz;
      assert.deepEqual(ez.leafs.map((l) => [l.name, l.is_spoke]), [['hub', true]]);
    } finally {
      await edge.kill();
    }
  } finally {
    await hub.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an edge dialling the same hub twice detects the loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-leaf-loop-'));
  const leafPort = await freePort();
  const hub = await sluiceServers.hub(dir, leafPort, await freePort());
  try {
    const remote = { url: `nats-leaf://leaf:s3cret@127.0.0.1:${leafPort}` };
    const edge = await sluiceServers.edge(dir, 'looped', [remote, remote]);
    try {
      await waitFor(() => /Loop detected/.test(edge.output()), 'the loop to be detected', 15_000);
    } finally {
      await edge.kill();
    }
  } finally {
    await hub.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
