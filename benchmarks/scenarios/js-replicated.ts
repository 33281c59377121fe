// Replicated JetStream on a 3-server cluster of each kind (`servers: 3`, `needs: ['jetstream']`:
// every server gets its own fresh store directory and the whole route list, and the run starts once
// every server's /jsz names the same meta leader; lib/servers.ts startCluster).
//
// - js-pub-r3: js-pub's publisher (scenarios/js-pub.ts, runJsPub: one raw connection, <= 1,000
//   PubAcks outstanding, 128 B, acked msgs/s, every ack checked) into a file stream with
//   num_replicas 3. The publisher is connected to server 1, which may or may not lead the stream;
//   the clock starts once the CREATE reply (or STREAM.INFO) names the stream's leader, and each
//   run records which server that was (`leaderServer`, 1-3, in the results file).
//
// - js-failover-r3: failover time, SIGKILL of the stream leader -> first acknowledged publish.
//   One file stream FAILOVER (num_replicas 3) is created per run; then `kills` times:
//     1. wait until STREAM.INFO names a leader and both followers are `current` (after a restart:
//        the restarted server has caught up; `catchupMs` = restart -> that moment);
//     2. publish `preMsgs` messages one at a time (each acked);
//     3. make sure the client connection is on a server that is not the leader (reconnect to the
//        next server otherwise), subscribe its reply inbox, PING/PONG;
//     4. t0; SIGKILL the leader's process (ctx.control, i.e. the compare started the servers);
//        once it has exited, publish one message with a Nats-Msg-Id (HPUB, reply
//        `_INBOX.fo.<kill>.<attempt>`, CONNECT no_responders) and retry at once, same msg id, on a
//        503 no-responders status, on any error reply (e.g. 10008 without a leader), and when no
//        reply came within `attemptTimeoutMs` (`retryDelayMs` > 0 pauses after a 503/error reply;
//        by default there is no pause, so a client hammers its server with a few thousand
//        publishes a second while the cluster has no leader). The first PubAck of any attempt ends the clock
//        (an attempt that timed out still counts if its ack comes later): failover ms = t0 -> it.
//     5. restart the killed server (same ports, name, routes and store) and go on with 1.
//   Reported: median and max failover ms over the kills (compared: median, lower is better),
//   every kill's time (`failoverMs1..N`), attempts per kill and what answered them, catch-up times,
//   and `extraMsgs`: messages stored beyond the ones published (a retry stored twice despite its
//   msg id; 0 expected). The servers' CPU is measured by this scenario (the pids change), over the
//   whole run: `otherCpuPct` is machine busy time used by neither the servers nor this process.

import { performance } from 'node:perf_hooks';
import { JsApiError, whileNotReady } from '../lib/js-ready.ts';
import { RawConn } from '../lib/raw-conn.ts';
import { machineCpuSeconds, procCpuSeconds } from '../lib/servers.ts';
import { median } from '../lib/stats.ts';
import { runJsPub } from './js-pub.ts';
import type { Metrics, RunContext, Scenario, ServerControl } from './types.ts';

type Json = Record<string, unknown>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- js-pub-r3 ---------------------------------------------------------------------------------

export function jsPubR3Scenario(msgs: number): Scenario {
  return {
    name: 'js-pub-r3',
    group: 'js-cluster',
    description:
      'JetStream async publish into an R3 file stream on a 3-server cluster, publisher on server 1 (leader anywhere), <= 1,000 PubAcks outstanding, 128 B; acked msgs/s',
    params: { msgs, replicas: 3, payloadBytes: 128, maxPending: 1000, refillMin: 1, subject: 'bench.js.x', sampleEvery: 1000, timeoutMs: 300_000 },
    countParam: 'msgs',
    metrics: [{ key: 'msgsPerSec', label: 'acked msgs/s', better: 'higher' }],
    primary: 'msgsPerSec',
    needs: ['jetstream'],
    servers: 3,
    bar: { op: '>=', ratio: 0.5 },
    run: runJsPub,
  };
}

// ---- js-failover-r3 ----------------------------------------------------------------------------

const STREAM = 'FAILOVER';
const SUBJECT = 'bench.fo.x';
const INBOX = '_INBOX.fo.';
const API_INBOX = `${INBOX}api`;

interface Reply {
  inbox: string;
  /** 'ack' (a PubAck), 'noresp' (503), 'error' (a JSON error or any other status). */
  kind: 'ack' | 'noresp' | 'error';
  json: Json | null;
  text: string;
}

function classify(line: Buffer, payload: Buffer): Reply {
  const parts = line.toString('latin1').split(' ');
  const inbox = parts[1] ?? '';
  let body = payload;
  if (parts[0] === 'HMSG') {
    const hdrLen = Number(parts[parts.length - 2]);
    const head = payload.toString('latin1', 0, hdrLen);
    const status = /^NATS\/1\.0\s+(\d{3})/.exec(head);
    if (status !== null) return { inbox, kind: status[1] === '503' ? 'noresp' : 'error', json: null, text: head.split('\r\n')[0] };
    body = payload.subarray(hdrLen);
  }
  const text = body.toString('utf8');
  let json: Json | null = null;
  try {
    json = JSON.parse(text) as Json;
  } catch {
    return { inbox, kind: 'error', json: null, text: text.slice(0, 200) };
  }
  if (json.error !== undefined || typeof json.seq !== 'number') return { inbox, kind: 'error', json, text: text.slice(0, 300) };
  return { inbox, kind: 'ack', json, text };
}

/** One client connection: API requests and publishes, every reply on `_INBOX.fo.>`. */
class FoConn {
  readonly conn: RawConn;
  readonly server: number;
  private readonly waiters = new Map<string, (r: Reply) => void>();
  /** Called for replies nobody waits for (a failover attempt's late ack). */
  onStray: ((r: Reply) => void) | null = null;

  private constructor(conn: RawConn, server: number) {
    this.conn = conn;
    this.server = server;
  }

  static async open(ctx: RunContext, server: number): Promise<FoConn> {
    let fc: FoConn | null = null;
    const conn = await RawConn.connect(ctx.cluster[server], { name: `js-failover-${server + 1}`, noResponders: true, onMsg: (line, payload) => fc?.dispatch(classify(line, payload)) });
    fc = new FoConn(conn, server);
    conn.sub(`${INBOX}>`, 1);
    await conn.flush();
    return fc;
  }

  private dispatch(r: Reply): void {
    const w = this.waiters.get(r.inbox);
    if (w !== undefined) {
      this.waiters.delete(r.inbox);
      w(r);
    } else if (this.onStray !== null) this.onStray(r);
  }

  /** Sends one request (PUB or, with headers, HPUB) and resolves with its reply, or null on timeout. */
  request(subject: string, inbox: string, body: string, headers: Record<string, string> | null, timeoutMs: number): Promise<Reply | null> {
    if (this.conn.failure !== null) return Promise.reject(this.conn.failure);
    return new Promise<Reply | null>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(inbox);
        resolve(null);
      }, timeoutMs);
      this.waiters.set(inbox, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      const payload = Buffer.from(body);
      if (headers === null) {
        this.conn.socket.write(Buffer.concat([Buffer.from(`PUB ${subject} ${inbox} ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
      } else {
        const hdr = Buffer.from(`NATS/1.0\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
        this.conn.socket.write(Buffer.concat([Buffer.from(`HPUB ${subject} ${inbox} ${hdr.length} ${hdr.length + payload.length}\r\n`), hdr, payload, Buffer.from('\r\n')]));
      }
    });
  }

  /** A JetStream API call; throws on a timeout or an error reply. */
  async api(subject: string, body: Json | '', timeoutMs = 10_000): Promise<Json> {
    const r = await this.request(subject, API_INBOX, body === '' ? '' : JSON.stringify(body), null, timeoutMs);
    if (r === null) throw new Error(`no reply to ${subject} within ${timeoutMs} ms (via server ${this.server + 1})`);
    if (r.kind === 'noresp') throw new JsApiError(subject, 503, 'no responders');
    if (r.json === null) throw new JsApiError(subject, 0, r.text);
    const e = r.json.error as { err_code?: number } | undefined;
    if (e !== undefined) throw new JsApiError(subject, e.err_code ?? 0, JSON.stringify(e));
    return r.json;
  }

  close(): void {
    this.conn.close();
  }
}

interface StreamCluster {
  leader?: string;
  replicas?: Array<{ name: string; current?: boolean; lag?: number; offline?: boolean }>;
}

/** Machine, generator and per-server CPU over the run; the servers' pids change with restarts,
 * so each process's CPU is read when it starts being counted and right before it is killed. */
class CpuTracker {
  private serverSec = 0;
  private readonly since = new Map<number, number>();
  private machine0: number | null = null;
  private gen0: NodeJS.CpuUsage | null = null;
  private wall0 = 0;
  constructor(private readonly control: ServerControl, private readonly n: number) {}
  start(): void {
    this.wall0 = performance.now();
    this.machine0 = machineCpuSeconds();
    this.gen0 = process.cpuUsage();
    for (let i = 0; i < this.n; i++) this.track(i);
  }
  /** Starts counting server i's (new) process. */
  track(i: number): void {
    const pid = this.control.pid(i);
    const c = procCpuSeconds(pid);
    if (c !== null) this.since.set(pid, c);
  }
  /** Adds server i's process's CPU so far and stops counting it (call right before a kill). */
  settle(i: number): void {
    const pid = this.control.pid(i);
    const a = this.since.get(pid);
    const b = procCpuSeconds(pid);
    if (a !== undefined && b !== null) this.serverSec += b - a;
    this.since.delete(pid);
  }
  finish(): Metrics {
    for (let i = 0; i < this.n; i++) this.settle(i);
    const wallSec = (performance.now() - this.wall0) / 1000;
    const m1 = machineCpuSeconds();
    const g = this.gen0 !== null ? process.cpuUsage(this.gen0) : null;
    if (wallSec <= 0 || g === null) return {};
    const genCpuPct = ((g.user + g.system) / 1e6 / wallSec) * 100;
    const serverCpuPct = (this.serverSec / wallSec) * 100;
    const out: Metrics = { serverCpuPct, genCpuPct };
    if (m1 !== null && this.machine0 !== null) out.otherCpuPct = Math.max(0, ((m1 - this.machine0) / wallSec) * 100 - genCpuPct - serverCpuPct);
    return out;
  }
}

export async function runJsFailover(ctx: RunContext): Promise<Metrics> {
  const control = ctx.control;
  if (control === undefined) throw new Error('js-failover-r3 kills servers: it runs only under the compare (npm run bench), which starts them');
  if (ctx.cluster.length < 3) throw new Error('js-failover-r3 needs a cluster of 3 servers');
  const p = ctx.params;
  const kills = Number(p.kills);
  const preMsgs = Number(p.preMsgs);
  const attemptTimeoutMs = Number(p.attemptTimeoutMs);
  const retryDelayMs = Number(p.retryDelayMs);
  const killTimeoutMs = Number(p.killTimeoutMs);
  const catchupTimeoutMs = Number(p.catchupTimeoutMs);
  const body = 'x'.repeat(Number(p.payloadBytes));
  const n = ctx.cluster.length;
  const names = ctx.cluster.map((s) => s.name ?? '');
  const runId = Math.random().toString(36).slice(2, 8);

  const cpu = new CpuTracker(control, n);
  cpu.start();
  let fc = await FoConn.open(ctx, 0);
  const failoverMs: number[] = [];
  const catchupMs: number[] = [];
  const attemptsPer: number[] = [];
  let noResp = 0;
  let errors = 0;
  let timeouts = 0;
  let dupAcks = 0;
  let lateAcks = 0;
  let firstError = '';
  let published = 0;
  const leaders: number[] = [];
  const newLeaders: number[] = [];
  try {
    // The stream: retried while the cluster answers 10008 (no meta leader / stream leader yet).
    await whileNotReady(() => fc.api(`$JS.API.STREAM.CREATE.${STREAM}`, { name: STREAM, subjects: ['bench.fo.>'], storage: 'file', num_replicas: 3 }, 30_000), 30_000);

    let restartedAt: number | null = null;
    for (let k = 1; k <= kills; k++) {
      // 1. A leader, and every follower current.
      const waitFrom = performance.now();
      let cl: StreamCluster = {};
      for (;;) {
        try {
          const info = await fc.api(`$JS.API.STREAM.INFO.${STREAM}`, '', 2000);
          cl = (info.cluster ?? {}) as StreamCluster;
          const reps = cl.replicas ?? [];
          if (cl.leader !== undefined && cl.leader !== '' && reps.length === n - 1 && reps.every((r) => r.current === true && r.offline !== true)) break;
        } catch (err) {
          if (!(err instanceof JsApiError) && !(err as Error).message.startsWith('no reply')) throw err;
        }
        if (performance.now() - waitFrom > catchupTimeoutMs) {
          throw new Error(`kill ${k}: stream ${STREAM} not led with every replica current ${catchupTimeoutMs} ms after the restart: ${JSON.stringify(cl)}`);
        }
        await sleep(20);
      }
      if (restartedAt !== null) catchupMs.push(performance.now() - restartedAt);

      // 2. A few messages through the healthy cluster.
      for (let i = 0; i < preMsgs; i++) {
        const id = `${runId}-${k}-pre-${i}`;
        const r = await fc.request(SUBJECT, `${INBOX}pre.${k}.${i}`, body, { 'Nats-Msg-Id': id }, 5000);
        if (r === null || r.kind !== 'ack') throw new Error(`kill ${k}: publish ${i + 1} before the kill not acked: ${r === null ? 'timeout' : r.text}`);
        published++;
      }

      // 3. The leader, and a client on another server.
      const info = await fc.api(`$JS.API.STREAM.INFO.${STREAM}`, '', 5000);
      const leaderName = (info.cluster as StreamCluster | undefined)?.leader ?? '';
      const leader = names.indexOf(leaderName);
      if (leader < 0) throw new Error(`kill ${k}: stream leader '${leaderName}' is not one of ${names.join(', ')}`);
      leaders.push(leader + 1);
      if (fc.server === leader) {
        fc.close();
        fc = await FoConn.open(ctx, (leader + 1) % n);
      }
      const conn = fc;

      // 4. Kill, then publish until acked.
      const msgId = `${runId}-${k}-failover`;
      let acked = false;
      let ackAt = 0;
      conn.onStray = (r) => {
        if (r.kind !== 'ack' || !r.inbox.startsWith(`${INBOX}${k}.`)) return;
        if (acked) dupAcks++;
        else {
          acked = true;
          ackAt = performance.now();
          lateAcks++;
        }
      };
      cpu.settle(leader);
      const t0 = performance.now();
      await control.kill(leader);
      let attempts = 0;
      while (!acked) {
        if (performance.now() - t0 > killTimeoutMs) {
          throw new Error(`kill ${k} (leader ${leaderName}): no PubAck within ${killTimeoutMs} ms, ${attempts} attempts (${noResp} no-responders, ${errors} errors, ${timeouts} timeouts so far; first error: ${firstError})`);
        }
        attempts++;
        const r = await conn.request(SUBJECT, `${INBOX}${k}.${attempts}`, body, { 'Nats-Msg-Id': msgId }, attemptTimeoutMs);
        if (acked) break; // a late ack of an earlier attempt arrived meanwhile
        if (r === null) timeouts++;
        else if (r.kind === 'ack') {
          acked = true;
          ackAt = performance.now();
          if (r.json?.duplicate === true) dupAcks++;
        } else if (r.kind === 'noresp') noResp++;
        else {
          errors++;
          if (firstError === '') firstError = r.text;
        }
        if (!acked && r !== null && retryDelayMs > 0) await sleep(retryDelayMs);
      }
      failoverMs.push(ackAt - t0);
      attemptsPer.push(attempts);
      published++;

      // 5. Bring the killed server back.
      const before = performance.now();
      await control.restart(leader);
      cpu.track(leader);
      restartedAt = before;
      const after = await fc.api(`$JS.API.STREAM.INFO.${STREAM}`, '', 5000).catch(() => null);
      const nl = names.indexOf(((after?.cluster as StreamCluster | undefined)?.leader ?? '') as string);
      newLeaders.push(nl + 1);
      conn.onStray = null;
    }

    // Every acked message once, nothing else.
    const deadline2 = performance.now() + 10_000;
    let messages = -1;
    for (;;) {
      try {
        const info = await fc.api(`$JS.API.STREAM.INFO.${STREAM}`, '', 2000);
        messages = Number((info.state as { messages?: number } | undefined)?.messages ?? -1);
        break;
      } catch (err) {
        if (performance.now() > deadline2) throw err;
        await sleep(50);
      }
    }
    if (messages < published) throw new Error(`stream ${STREAM} holds ${messages} messages after the run, ${published} were acked`);
    const extraMsgs = messages - published;
    if (extraMsgs > 0) ctx.log(`${ctx.server.kind}: ${extraMsgs} message(s) stored beyond the ${published} acked (a retried publish stored twice)`);

    const sorted = [...failoverMs].sort((a, b) => a - b);
    const m: Metrics = {
      failoverMedianMs: median(failoverMs),
      failoverMaxMs: sorted[sorted.length - 1],
      failoverMinMs: sorted[0],
      attemptsMedian: median(attemptsPer),
      noResponders: noResp,
      errorReplies: errors,
      attemptTimeouts: timeouts,
      lateAcks,
      duplicateAcks: dupAcks,
      extraMsgs,
      ...(catchupMs.length > 0 ? { catchupMedianMs: median(catchupMs), catchupMaxMs: Math.max(...catchupMs) } : {}),
      ...cpu.finish(),
    };
    failoverMs.forEach((v, i) => (m[`failoverMs${i + 1}`] = v));
    leaders.forEach((v, i) => (m[`killedServer${i + 1}`] = v));
    newLeaders.forEach((v, i) => (m[`newLeader${i + 1}`] = v));
    return m;
  } finally {
    fc.close();
  }
}

export function jsFailoverR3Scenario(kills: number): Scenario {
  return {
    name: 'js-failover-r3',
    group: 'js-cluster',
    description:
      'R3 file stream on a 3-server cluster: SIGKILL the stream leader -> first PubAck through a surviving server (Nats-Msg-Id, retried at once on 503/error/timeout); the killed server is restarted and caught up before the next kill; median and max ms',
    params: { kills, preMsgs: 5, attemptTimeoutMs: 100, retryDelayMs: 0, killTimeoutMs: 30_000, catchupTimeoutMs: 60_000, payloadBytes: 128 },
    countParam: 'kills',
    metrics: [
      { key: 'failoverMedianMs', label: 'failover median ms', better: 'lower' },
      { key: 'failoverMaxMs', label: 'failover max ms', better: 'lower' },
    ],
    primary: 'failoverMedianMs',
    needs: ['jetstream'],
    servers: 3,
    run: runJsFailover,
  };
}
