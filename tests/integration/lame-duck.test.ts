// Lame-duck mode with the official client: two standalone `sluice server` processes, A and B, are
// every client's server list. A requester and a responder start on A; then A is put into lame duck
// through the CLI (`sluice server --signal ldm=<pid file>`). The requester behaves as a real app
// does: a request that fails (timeout, no responders while the two clients sit on different
// servers, a connection closing under it) is sent again until it is answered. What must hold: every
// request is answered with its own reply, the clients saw the `ldm` status and end up on B, and A
// exits 0 after stopping JetStream. The responder also calls reconnect() when told about lame
// duck (a client that moves on its own); the requester waits to be closed (one that does not).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startChildServer, type ChildServer } from '../helpers/child-server.ts';
import { waitFor, within } from '../helpers/deadline.ts';

const root = resolve(import.meta.dirname, '../..');

/** `sluice server --signal ...` as an operator would run it; resolves to its exit code and stderr. */
function signalCli(spec: string): Promise<{ code: number | null; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'server', '-sl', spec], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => proc.once('exit', (code) => r({ code, stderr })));
}

/** Requests until answered; returns how many attempts it took. Errors are the transition's, not the test's. */
async function requestUntilAnswered(nc: NatsConnection, id: number, deadlineMs: number): Promise<number> {
  const until = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const m = await nc.request('svc.echo', String(id), { timeout: 500 });
      assert.equal(m.string(), `echo ${id}`, 'a request got another request\'s reply');
      return attempt;
    } catch (err) {
      if (err instanceof assert.AssertionError) throw err;
      if (Date.now() > until) throw new Error(`request ${id} not answered within ${deadlineMs} ms: ${String(err)}`);
      // A short pause before retrying, as an app would, so a closed connection is noticed first.
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

test('clients leave a server in lame-duck mode for the next one in their list, and no request is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ldm-'));
  const servers: ChildServer[] = [];
  const clients: NatsConnection[] = [];
  try {
    const conf = join(dir, 'a.conf');
    const pidFile = join(dir, 'a.pid');
    writeFileSync(conf, 'lame_duck_duration: "1500ms"\nlame_duck_grace_period: "300ms"\n');
    const a = await startChildServer({ portsDir: dir, name: 'ldm-a', storeDir: join(dir, 'a-store'), args: ['-c', conf, '-P', pidFile] });
    servers.push(a);
    const b = await startChildServer({ portsDir: dir, name: 'ldm-b' });
    servers.push(b);
    const opts = { servers: [a.url, b.url], noRandomize: true, reconnectTimeWait: 50, maxReconnectAttempts: -1, pingInterval: 60_000 };

    const responder = await connect({ ...opts, name: 'responder' });
    clients.push(responder);
    const served = new Set<number>();
    responder.subscribe('svc.echo', {
      callback: (_err, m) => {
        served.add(Number(m.string()));
        m.respond(`echo ${m.string()}`);
      },
    });
    const requester = await connect({ ...opts, name: 'requester' });
    clients.push(requester);
    assert.equal(requester.info?.server_name, 'ldm-a');
    await responder.flush();

    const ldmSeen = { responder: false, requester: false };
    void (async () => {
      for await (const s of responder.status()) {
        if (s.type !== 'ldm') continue;
        ldmSeen.responder = true;
        // A client that moves on its own when told, instead of waiting to be closed.
        void responder.reconnect().catch(() => {});
      }
    })();
    void (async () => {
      for await (const s of requester.status()) if (s.type === 'ldm') ldmSeen.requester = true;
    })();

    let aExitCode: number | null | undefined;
    void a.exited.then((code) => (aExitCode = code));
    let ldmSent = false;
    let answeredAfterExit = 0;
    const attempts: number[] = [];
    // Four requests in flight at a time, ids handed out in order, until A has gone and B has
    // answered a good number on its own.
    let nextId = 0;
    const worker = async (): Promise<void> => {
      while (!(aExitCode !== undefined && answeredAfterExit >= 40)) {
        const id = nextId++;
        const exitedBefore = aExitCode !== undefined;
        attempts[id] = await requestUntilAnswered(requester, id, 15_000);
        if (exitedBefore) answeredAfterExit++;
        if (!ldmSent && id >= 50) {
          ldmSent = true;
          const sent = await signalCli(`ldm=${pidFile}`);
          assert.equal(sent.code, 0, sent.stderr);
        }
      }
    };
    await within(Promise.all([worker(), worker(), worker(), worker()]), 40_000, 'the requests to finish');

    assert.equal(await within(a.exited, 10_000, 'A to exit'), 0, `A exited non-zero: ${a.output()}`);
    assert.equal(attempts.length, nextId);
    for (let id = 0; id < nextId; id++) assert.ok(attempts[id]! >= 1, `request ${id} was never answered`);
    for (let id = 0; id < nextId; id++) assert.ok(served.has(id), `request ${id} answered without reaching the responder`);
    assert.ok(ldmSeen.requester && ldmSeen.responder, `both clients saw the ldm status: ${JSON.stringify(ldmSeen)}`);
    await waitFor(() => requester.info?.server_name === 'ldm-b' && responder.info?.server_name === 'ldm-b', 'both clients to be on B');
    const retried = attempts.filter((n) => n > 1).length;
    console.log(`# ${nextId} requests, all answered; ${retried} needed a retry during the move`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await Promise.allSettled(servers.map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
  }
});
