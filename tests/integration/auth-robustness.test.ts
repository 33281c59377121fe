// No input crashes the server: random bytes, malformed CONNECTs and hostile credentials over TCP
// and WebSocket, before and after authentication. Afterwards the server still serves and holds no
// leftover connections. The seed is printed; SLUICE_SEED=<n> replays a run.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { createUser } from '@nats-io/nkeys';
import { seededRng } from '../../runtime/rng.ts';
import { startTestServer } from '../helpers/server.ts';
import { rawPeer, type TransportKind } from '../helpers/peer.ts';
import { waitFor } from '../helpers/deadline.ts';
import type { RunningServer } from '../../server/index.ts';

const seed = Number(process.env.SLUICE_SEED ?? Math.floor(Date.now() % 1_000_000));
const rng = seededRng(seed);
const pick = <T,>(xs: readonly T[]): T => xs[rng.int(xs.length)]!;

function randomBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

const HOSTILE_CONNECTS = [
  'CONNECT\r\n',
  'CONNECT {\r\n',
  'CONNECT []\r\n',
  'CONNECT null\r\n',
  'CONNECT {"user":{"$gt":""},"pass":[1]}\r\n',
  'CONNECT {"user":"admin","pass":null}\r\n',
  'CONNECT {"auth_token":12345}\r\n',
  `CONNECT {"nkey":"${createUser().getPublicKey()}","sig":"${'A'.repeat(86)}"}\r\n`,
  'CONNECT {"nkey":"UNOTAKEY","sig":"%%%"}\r\n',
  'CONNECT {"nkey":"","sig":"","jwt":"e30.e30.e30"}\r\n',
  `CONNECT {"user":"admin","pass":"${'x'.repeat(3000)}"}\r\n`,
  'CONNECT {"protocol":7}\r\n',
  'CONNECT {"user":"admin","pass":"pw","no_responders":true}\r\n',
];

describe(`robustness under auth (seed ${seed})`, () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({
      wsPort: 0,
      authTimeoutMs: 500,
      users: [
        { user: 'admin', password: 'pw' },
        { user: 'limited', password: 'pw', permissions: { publish: { allow: ['ok.>'] }, subscribe: { deny: ['secret.>'] }, allowResponses: true } },
      ],
    });
  });
  after(() => server.close());

  for (const kind of ['tcp', 'ws'] as const satisfies readonly TransportKind[]) {
    test(`${kind}: hostile CONNECTs and random bytes end in a clean close, never a crash`, async () => {
      const inputs: Buffer[] = [];
      for (const c of HOSTILE_CONNECTS) inputs.push(Buffer.from(c));
      for (let i = 0; i < 20; i++) inputs.push(randomBytes(1 + rng.int(300)));
      // Authenticated garbage: valid login, then noise, wild subjects and odd ops.
      for (let i = 0; i < 20; i++) {
        const tail = pick([
          randomBytes(1 + rng.int(200)).toString('latin1'),
          'SUB > 1\r\nSUB secret.* 2\r\nPUB secret.x 1\r\nx\r\n',
          'PUB ok.* 1\r\nx\r\nPUB _INBOX.x 1\r\nx\r\nHPUB ok.a 5 4\r\nxxxx\r\n',
          'UNSUB 1 -3\r\nSUB a b c d\r\nPUB a -1\r\n',
          `PUB ok.a ${1 << 30}\r\n`,
        ]);
        inputs.push(Buffer.from(`CONNECT {"verbose":${rng.int(2) === 1},"user":"limited","pass":"pw"}\r\n${tail}`, 'latin1'));
      }
      await Promise.all(
        inputs.map(async (input) => {
          const p = await rawPeer(kind, server);
          try {
            await p.waitFor('INFO ');
            p.send(input.toString('latin1'));
            p.send('PING\r\n');
            // Either the server answers (the input was harmless) or it closes the connection.
            await waitFor(() => p.closed || p.text.includes('PONG'), 'an answer or a close', 5000);
          } finally {
            p.close();
          }
        }),
      );
      await waitFor(() => server.connectionCount() === 0, 'every connection released');
      const nc = await connect({ servers: server.clientUrl, user: 'admin', pass: 'pw' });
      const s = nc.subscribe('alive', { max: 1 });
      nc.publish('alive', 'yes');
      for await (const m of s) assert.equal(m.string(), 'yes');
      await nc.close();
    });
  }
});
