// JetStream's advisories with the official client: on one server, a stream and a consumer created,
// used and deleted give nats-server's stream and consumer advisories and an API audit of every
// request (the same list nats-server 2.9.10 gives, tests/e2e/system-account-vs-nats-server.e2e.ts);
// in a three-server cluster each advisory of a replicated stream goes out once.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from '../helpers/server.ts';
import { startTestCluster, waitForMetaLeader, type TestCluster } from '../helpers/cluster.ts';
import { waitFor } from '../helpers/deadline.ts';
import { ACCOUNTS_CONF } from './accounts-suite.ts';
import { jetstreamAdvisories } from './system-account-suite.ts';

const AUDIT_CLIENT = 'client acc,client_type,host,id,kind,lang,name,server,start,user,ver acc A';

describe('JetStream advisories on one server', () => {
  let dir: string;
  let server: RunningServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-advisories-'));
    const loaded = loadConfigText(ACCOUNTS_CONF.replace('$STORE', join(dir, 'store')), 'accounts.conf');
    server = await startTestServer(loaded.options);
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('stream and consumer actions, term and nak, and the audit of each API request, in the stream\'s account', async () => {
    const got = await jetstreamAdvisories(server.clientUrl);
    const audit = (api: string, response: string) => `${api} ${AUDIT_CLIENT} response io.nats.jetstream.api.v1.${response}_response`;
    assert.deepEqual(
      got.map((g) => `${g.subject} ${g.type.replace('io.nats.jetstream.advisory.v1.', '')} ${g.detail}`),
      [
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.CONSUMER.CREATE.ADV.work', 'consumer_create')}`,
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.CONSUMER.DELETE.ADV.work', 'consumer_delete')}`,
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.CONSUMER.INFO.ADV.work', 'consumer_info')}`,
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.STREAM.CREATE.ADV', 'stream_create')}`,
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.STREAM.DELETE.ADV', 'stream_delete')}`,
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.STREAM.INFO.ADV', 'stream_info')}`,
        `$JS.EVENT.ADVISORY.API api_audit ${audit('$JS.API.STREAM.UPDATE.ADV', 'stream_update')}`,
        '$JS.EVENT.ADVISORY.CONSUMER.CREATED.ADV.work consumer_action ADV work create',
        '$JS.EVENT.ADVISORY.CONSUMER.DELETED.ADV.work consumer_action ADV work delete',
        '$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.ADV.work nak ADV work deliveries 1',
        '$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.ADV.work terminated ADV work deliveries 1',
        '$JS.EVENT.ADVISORY.STREAM.CREATED.ADV stream_action ADV create',
        '$JS.EVENT.ADVISORY.STREAM.DELETED.ADV stream_action ADV delete',
        '$JS.EVENT.ADVISORY.STREAM.UPDATED.ADV stream_action ADV modify',
      ],
    );
  });

  test('a stream created again with the same config is answered but not advised again', async () => {
    const a = await connect({ servers: server.clientUrl, user: 'a', pass: 'a' });
    try {
      const created: string[] = [];
      a.subscribe('$JS.EVENT.ADVISORY.STREAM.>', { callback: (_e, m) => void created.push(m.subject) });
      await a.flush();
      const jsm = await jetstreamManager(a, { checkAPI: false });
      await jsm.streams.add({ name: 'TWICE', subjects: ['c.twice'] });
      await jsm.streams.add({ name: 'TWICE', subjects: ['c.twice'] });
      await jsm.streams.delete('TWICE');
      await waitFor(() => created.length >= 2, 'the created and deleted advisories');
      await a.flush();
      assert.deepEqual(created, ['$JS.EVENT.ADVISORY.STREAM.CREATED.TWICE', '$JS.EVENT.ADVISORY.STREAM.DELETED.TWICE']);
    } finally {
      await a.close();
    }
  });
});

describe('JetStream advisories of a replicated stream in a three-server cluster', () => {
  let cluster: TestCluster;
  const conns: NatsConnection[] = [];

  before(async () => {
    cluster = await startTestCluster(3, { jetstream: true, clusterName: 'adv' });
    await cluster.meshed();
    await waitForMetaLeader(cluster.members.map((m) => m.server), 3);
  });

  after(async () => {
    for (const nc of conns) await nc.close().catch(() => undefined);
    await cluster?.close();
  });

  test('each stream and consumer action of an R3 stream is advised once, whoever leads', async () => {
    const listener = await connect({ servers: cluster.members[0]!.server.url });
    const admin = await connect({ servers: cluster.members[1]!.server.url });
    conns.push(listener, admin);
    const got: string[] = [];
    const audited: string[] = [];
    listener.subscribe('$JS.EVENT.ADVISORY.>', {
      callback: (_e, m) => {
        if (m.subject !== '$JS.EVENT.ADVISORY.API') got.push(m.subject);
        else audited.push(m.json<{ subject: string }>().subject);
      },
    });
    await listener.flush();
    // The other servers send here once they know of the subscription.
    await waitFor(async () => {
      const seen = await Promise.all(
        cluster.members.slice(1).map(async (m) => {
          const r = (await (await fetch(`${m.server.httpUrl}/routez?subs=1`)).json()) as { routes: { subscriptions_list?: string[] }[] };
          return r.routes.some((x) => (x.subscriptions_list ?? []).includes('$JS.EVENT.ADVISORY.>'));
        }),
      );
      return seen.every(Boolean);
    }, 'the advisory subscription to be known cluster-wide', 10_000);
    const jsm = await jetstreamManager(admin, { timeout: 10_000, checkAPI: false });
    await jsm.streams.add({ name: 'RADV', subjects: ['radv.>'], num_replicas: 3 });
    await jsm.streams.update('RADV', { subjects: ['radv.>', 'radv2'], num_replicas: 3 });
    await jsm.consumers.add('RADV', { durable_name: 'rc', ack_policy: AckPolicy.Explicit });
    await jsm.consumers.delete('RADV', 'rc');
    await jsm.streams.delete('RADV');
    await waitFor(() => got.includes('$JS.EVENT.ADVISORY.STREAM.DELETED.RADV'), 'the stream deleted advisory', 10_000);
    // Duplicates would come over the same routes before a marker each server publishes now.
    for (const m of cluster.members) {
      const nc = await connect({ servers: m.server.url });
      conns.push(nc);
      nc.publish('$JS.EVENT.ADVISORY.MARKER', '');
      await nc.flush();
    }
    await waitFor(() => got.filter((s) => s === '$JS.EVENT.ADVISORY.MARKER').length === 3, 'the three markers', 10_000);
    assert.deepEqual(
      got.filter((s) => s !== '$JS.EVENT.ADVISORY.MARKER').sort(),
      [
        '$JS.EVENT.ADVISORY.CONSUMER.CREATED.RADV.rc',
        '$JS.EVENT.ADVISORY.CONSUMER.DELETED.RADV.rc',
        '$JS.EVENT.ADVISORY.STREAM.CREATED.RADV',
        '$JS.EVENT.ADVISORY.STREAM.DELETED.RADV',
        '$JS.EVENT.ADVISORY.STREAM.UPDATED.RADV',
      ],
    );
    // Each request is audited once: the consumer requests by the stream's leader that answers
    // them, the stream's by the server that took the request from the client (the meta group
    // answers those from elsewhere; the answer passes there on its way to the client).
    assert.deepEqual(audited.filter((s) => s.includes('RADV')).sort(), [
      '$JS.API.CONSUMER.CREATE.RADV.rc',
      '$JS.API.CONSUMER.DELETE.RADV.rc',
      '$JS.API.STREAM.CREATE.RADV',
      '$JS.API.STREAM.DELETE.RADV',
      '$JS.API.STREAM.INFO.RADV',
      '$JS.API.STREAM.UPDATE.RADV',
    ]);
  });
});
