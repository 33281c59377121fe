// The same raw protocol transcripts against sluice and the reference nats-server: what a client
// receives (after INFO) must be byte-for-byte the same.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';
import { startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import { startTestServer } from '../helpers/server.ts';
import type { RunningServer } from '../../server/index.ts';

interface Transcript {
  name: string;
  /** Sent after INFO arrives; each string is one write. */
  send: string[];
  /** The run ends when the received text contains this (after INFO) or the server closes. */
  until: string;
  /** A second connection that must be subscribed first (e.g. a responder). */
  peer?: { send: string[]; until: string };
}

const HDR = 'NATS/1.0\r\nA: 1\r\nA: 2\r\n\r\n';

const transcripts: Transcript[] = [
  { name: 'ping before connect', send: ['PING\r\n'], until: 'PONG\r\n' },
  {
    name: 'pub/sub with wildcards, sids and reply',
    send: ['CONNECT {"verbose":false,"pedantic":false}\r\nSUB a.* 1\r\nSUB a.> 2\r\nSUB > 3\r\nPUB a.b r.x 5\r\nhello\r\nPUB a.b.c 0\r\n\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'verbose acknowledgements',
    send: ['CONNECT {"verbose":true,"pedantic":false}\r\nSUB x 1\r\nPUB x 2\r\nhi\r\nUNSUB 1\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'UNSUB with max',
    send: ['CONNECT {"verbose":false}\r\nSUB m 7\r\nUNSUB 7 2\r\nPUB m 1\r\n1\r\nPUB m 1\r\n2\r\nPUB m 1\r\n3\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'headers to a headers client and stripped for a non-headers client',
    send: [`CONNECT {"verbose":false,"headers":true}\r\nSUB h 1\r\nHPUB h ${HDR.length} ${HDR.length + 2}\r\n${HDR}ok\r\nPING\r\n`],
    until: 'PONG\r\n',
  },
  {
    name: 'headers stripped without headers support',
    send: [`CONNECT {"verbose":false}\r\nSUB h 1\r\nHPUB h ${HDR.length} ${HDR.length + 2}\r\n${HDR}ok\r\nPING\r\n`],
    until: 'PONG\r\n',
  },
  {
    name: 'no responders status',
    send: ['CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.a.* 1\r\nPUB nobody _INBOX.a.1 2\r\nhi\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'invalid subject stays open',
    send: ['CONNECT {"verbose":false}\r\nSUB a..b 1\r\nSUB ok 2\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'pedantic publish to a wildcard subject',
    send: ['CONNECT {"verbose":false,"pedantic":true}\r\nPUB a.* 1\r\nx\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  { name: 'unknown operation closes', send: ['CONNECT {"verbose":false}\r\nFOO bar\r\n'], until: '\u0000never' },
  { name: 'max payload closes', send: ['CONNECT {"verbose":false}\r\nPUB big 2000000\r\n'], until: '\u0000never' },
  { name: 'bad client protocol closes', send: ['CONNECT {"verbose":false,"protocol":7}\r\n'], until: '\u0000never' },
  {
    name: 'queue group with one member and a plain subscriber',
    send: ['CONNECT {"verbose":false}\r\nSUB q g 1\r\nSUB q 2\r\nPUB q 1\r\nx\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'request to a responder on another connection',
    peer: { send: ['CONNECT {"verbose":false}\r\nSUB svc 1\r\nPING\r\n'], until: 'PONG\r\n' },
    send: ['CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.b.* 1\r\nPUB svc _INBOX.b.1 2\r\nhi\r\nPING\r\n'],
    until: 'PONG\r\n',
  },
  {
    name: 'case-insensitive verbs and tab separators',
    send: ['connect {"verbose":false}\r\nsub\tt.x\t1\r\npub t.x  2\r\nhi\r\nping\r\n'],
    until: 'PONG\r\n',
  },
];

async function run(port: number, t: Transcript): Promise<string> {
  let peer: RawClient | undefined;
  if (t.peer) {
    peer = await RawClient.connect(port);
    await peer.waitFor('\r\n');
    peer.clear();
    for (const s of t.peer.send) peer.send(s);
    await peer.waitFor(t.peer.until);
  }
  const c = await RawClient.connect(port);
  try {
    await c.waitFor('\r\n'); // INFO
    c.clear();
    for (const s of t.send) c.send(s);
    await Promise.race([c.waitFor(t.until).catch(() => undefined), c.waitClosed()]);
    return (c.closed ? '[closed]' : '') + c.text;
  } finally {
    c.destroy();
    peer?.destroy();
  }
}

describe('wire transcripts: sluice vs nats-server', () => {
  let reference: ReferenceServer;
  let sluice: RunningServer;
  before(async () => {
    reference = await startNatsServer();
    sluice = await startTestServer();
  });
  after(async () => {
    await reference?.stop();
    await sluice?.close();
  });
  for (const t of transcripts) {
    test(t.name, async () => {
      const want = await run(reference.port, t);
      const got = await run(sluice.ports.client, t);
      assert.equal(got, want);
    });
  }
});
