// js-pub and js-pub-sync: JetStream publish with PubAcks, the JetStream publish performance bar.
//
// One raw-socket connection does everything: it deletes a leftover stream BENCH (so the scenario
// can be repeated against a long-running server, e.g. when profiling with run.ts), creates
//   {"name":"BENCH","subjects":["bench.js.>"],"storage":"file"}
// through $JS.API.STREAM.CREATE.BENCH (waiting for the JSON reply, failing on an error), subscribes
// the wildcard inbox `_INBOX.bench.*` and publishes `PUB bench.js.x _INBOX.bench.<n> 128` frames,
// n = 1, 2, ... Each PubAck arrives as a MSG on `_INBOX.bench.<n>`; since the stream is fresh and
// there is one publishing connection, the ack of publish n must carry seq n.
//
// - js-pub: asynchronous publish with at most `maxPending` (1,000) PubAcks outstanding. The
//   window is kept full: after every inbound socket chunk the acks in it are counted and the freed
//   slots are refilled with frames built into one buffer and written with one write(). Frames are
//   built byte-wise (the reply number written as decimal digits; no strings per message). The
//   hot loop parses no JSON: every ack's 3rd byte is checked to be the `s` of `{"stream"` (an
//   error reply is `{"error"...`), every `sampleEvery`-th ack and the last one are parsed and must
//   be {"stream":"BENCH","seq":n} for their inbox n, the last ack's seq must equal the count, and
//   STREAM.INFO must afterwards report exactly `msgs` messages, last_seq = msgs. Clock: first
//   publish write -> last ack scanned. Reports acked msgs/s.
// - js-pub-sync: one publish at a time, the next sent when the previous PubAck has arrived
//   (`warmup` unmeasured publishes first; the count is `requests`, set by --requests like the
//   other latency scenarios). Reports p50/p99/p99.9 µs and msgs/s; compared on p99.
//
// Durability each server uses at ack time (neither fsyncs before acking; both survive a process
// crash of the server, neither guarantees the acked messages survive a power loss at ack time):
// - nats-server 2.9.10 (`-js -sd DIR`, file storage): acks once the message is written to its
//   block file (OS page cache), before any fsync; it fsyncs on `sync_interval`, 2 minutes by default.
// - sluice (`--store-dir DIR`, default sync 'committed', streams/store/lmdb-env.ts): acks after
//   the LMDB commit of the event-loop turn's group of appends, without a per-transaction
//   fdatasync (LMDB noSync); the environment is fsynced every second. sluice's STREAM.CREATE
//   reply carries a `sync` field only in mode 'none'; the scenario passes it to ctx.log.
//   ('durable', ack after fdatasync, is what sluice offers beyond nats-server's default; it is
//   not what this bar compares; the server (server/server.ts) does not expose the setting yet,
//   so every sluice run here is 'committed'.)
//
// `replicas` (param, default 1) sets the stream's num_replicas: js-pub-r3 (scenarios/js-replicated.ts)
// runs runJsPub with 3 on a 3-server cluster. A replicated CREATE is retried while the cluster
// answers 10008 (no meta leader yet), and the clock starts only once the stream has a leader: the
// CREATE reply's cluster.leader, else STREAM.INFO polled until it names one.

import { performance } from 'node:perf_hooks';
import { JsApiError, whileNotReady } from '../lib/js-ready.ts';
import { RawConn } from '../lib/raw-conn.ts';
import { summarizeLatencies } from '../lib/stats.ts';
import type { Metrics, RunContext, Scenario } from './types.ts';

const STREAM = 'BENCH';
const STREAM_SUBJECTS = 'bench.js.>';
const INBOX_PREFIX = '_INBOX.bench.';
const API_REPLY = `${INBOX_PREFIX}api`;
const CR = 13;
const LF = 10;
const DOT = 0x2e;
const ZERO = 48;
const S_LOWER = 0x73;
/** The `stream not found` err_code: deleting a stream that is not there is fine. */
const STREAM_NOT_FOUND = 10059;
/** `JetStream system temporarily unavailable` (cluster without a meta or stream leader yet). */

type Json = Record<string, unknown>;

/** Reads the decimal number after the last '.' of the control line's subject token (`MSG <subject> ...`). */
function inboxNumber(line: Buffer): number {
  const s = 4; // after "MSG "
  let e = s;
  while (e < line.length && line[e] !== 0x20) e++;
  let i = e - 1;
  while (i > s && line[i] !== DOT) i--;
  let n = 0;
  for (let k = i + 1; k < e; k++) {
    const d = line[k] - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return e - i > 1 ? n : -1;
}

/** Writes n (>= 0) as decimal digits at `at`; returns the new offset. */
export function writeDecimal(buf: Buffer, at: number, n: number): number {
  if (n < 10) {
    buf[at] = ZERO + n;
    return at + 1;
  }
  let digits = 0;
  for (let v = n; v > 0; v = Math.floor(v / 10)) digits++;
  let i = at + digits - 1;
  for (let v = n; v > 0; v = Math.floor(v / 10)) buf[i--] = ZERO + (v % 10);
  return at + digits;
}

/**
 * The publishing connection: JetStream API requests (one at a time, reply on `_INBOX.bench.api`)
 * during setup and verification, PubAcks on `_INBOX.bench.<n>` in between. Acks are counted and
 * checked here; the scenarios decide what to send after each inbound chunk (`conn.onData`).
 */
export class JsPubConn {
  conn!: RawConn;
  /** PubAcks received (API replies are not counted). */
  acked = 0;
  /** Acks whose payload is not a PubAck (`{"error":...}` or anything else). */
  badAcks = 0;
  firstBad = '';
  /** Acks parsed and checked against their inbox number. */
  sampled = 0;
  /** seq of the last ack received (parsed). */
  lastSeq = -1;
  private apiWaiter: ((json: Json) => void) | null = null;
  private readonly sampleEvery: number;
  private readonly expected: number;

  private constructor(sampleEvery: number, expected: number) {
    this.sampleEvery = sampleEvery;
    this.expected = expected;
  }

  /** With replicas > 1: the server that led the stream when the clock started. */
  leader = '';

  /** Connects, subscribes `_INBOX.bench.*`, (re)creates the stream and logs its durability.
   * `readBytes` > 0: the connection reads into a buffer of that size (RawConnOptions.readBytes). */
  static async open(ctx: RunContext, name: string, sampleEvery: number, expected: number, replicas = 1, readBytes = 0): Promise<JsPubConn> {
    const c = new JsPubConn(sampleEvery, expected);
    c.conn = await RawConn.connect(ctx.server, { name, readBytes, onMsg: (line, payload) => c.onMsg(line, payload) });
    try {
      c.conn.sub(`${INBOX_PREFIX}*`, 1);
      await c.conn.flush();
      try {
        await c.api(`$JS.API.STREAM.DELETE.${STREAM}`, '');
      } catch (err) {
        if (!(err instanceof JsApiError) || err.errCode !== STREAM_NOT_FOUND) throw err;
      }
      const config: Json = { name: STREAM, subjects: [STREAM_SUBJECTS], storage: 'file', ...(replicas > 1 ? { num_replicas: replicas } : {}) };
      const created = replicas > 1 ? await c.createReplicated(config) : await c.api(`$JS.API.STREAM.CREATE.${STREAM}`, config);
      const cfg = created.config as Json | undefined;
      if (cfg?.name !== STREAM || cfg.storage !== 'file') throw new Error(`STREAM.CREATE: unexpected reply ${JSON.stringify(created).slice(0, 300)}`);
      if (replicas > 1) {
        if ((cfg.num_replicas ?? 1) !== replicas) throw new Error(`STREAM.CREATE: asked for ${replicas} replicas, got ${JSON.stringify(cfg.num_replicas)}`);
        c.leader = await c.streamLeader(created);
      }
      ctx.log(
        `${ctx.server.kind}: stream ${STREAM} (file${replicas > 1 ? `, R${replicas}, leader ${c.leader}` : ''}) created; sync: ${typeof created.sync === 'string' ? created.sync : 'default'}`,
      );
    } catch (err) {
      c.conn.close();
      throw err;
    }
    return c;
  }

  api(subject: string, body: Json | '', timeoutMs = 10_000): Promise<Json> {
    const payload = Buffer.from(body === '' ? '' : JSON.stringify(body));
    return new Promise<Json>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.apiWaiter = null;
        reject(new Error(`no reply to ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.conn.onFailure = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.apiWaiter = (json) => {
        clearTimeout(timer);
        this.conn.onFailure = null;
        const e = json.error as { code?: number; err_code?: number; description?: string } | undefined;
        if (e !== undefined) reject(new JsApiError(subject, e.err_code ?? 0, JSON.stringify(e)));
        else resolve(json);
      };
      this.conn.socket.write(Buffer.concat([Buffer.from(`PUB ${subject} ${API_REPLY} ${payload.length}\r\n`), payload, Buffer.from('\r\n')]));
    });
  }

  /** CREATE of a replicated stream, retried while the cluster is not ready (10008: no meta leader
   * yet, or no stream leader yet) for up to 30 s. */
  private createReplicated(config: Json): Promise<Json> {
    return whileNotReady(() => this.api(`$JS.API.STREAM.CREATE.${STREAM}`, config, 30_000), 30_000);
  }

  /** The stream leader from a CREATE/INFO reply's cluster.leader, else STREAM.INFO until it names one. */
  private async streamLeader(created: Json): Promise<string> {
    let info = created;
    const deadline = performance.now() + 30_000;
    for (;;) {
      const leader = (info.cluster as { leader?: string } | undefined)?.leader;
      if (typeof leader === 'string' && leader !== '') return leader;
      if (performance.now() > deadline) throw new Error(`stream ${STREAM} has no leader 30 s after its creation: ${JSON.stringify(info.cluster)}`);
      await new Promise((r) => setTimeout(r, 50));
      info = await this.api(`$JS.API.STREAM.INFO.${STREAM}`, '');
    }
  }

  /** After the run: the stream must hold exactly `expected` messages, 1..expected. */
  async verifyStream(): Promise<void> {
    const info = await this.api(`$JS.API.STREAM.INFO.${STREAM}`, '');
    const st = info.state as { messages?: number; last_seq?: number; first_seq?: number } | undefined;
    if (st?.messages !== this.expected || st.last_seq !== this.expected || st.first_seq !== 1) {
      throw new Error(`stream state after the run: ${JSON.stringify(st)}, expected ${this.expected} messages, seq 1..${this.expected}`);
    }
  }

  /** Throws when an ack was bad, missing, duplicated or out of order. */
  checkAcks(): void {
    if (this.badAcks > 0) throw new Error(`${this.badAcks} publishes were not acked with a PubAck, first: ${this.firstBad}`);
    if (this.acked !== this.expected) throw new Error(`${this.acked} PubAcks for ${this.expected} publishes`);
    if (this.lastSeq !== this.expected) throw new Error(`last PubAck has seq ${this.lastSeq}, expected ${this.expected}`);
  }

  private onMsg(line: Buffer, payload: Buffer): void {
    if (this.apiWaiter !== null && line.length > 4 + API_REPLY.length && line.toString('latin1', 4, 4 + API_REPLY.length + 1) === `${API_REPLY} `) {
      const w = this.apiWaiter;
      this.apiWaiter = null;
      let json: Json;
      try {
        json = JSON.parse(payload.toString('utf8')) as Json;
      } catch {
        json = { error: { description: `bad JSON: ${payload.toString('utf8').slice(0, 200)}` } };
      }
      w(json);
      return;
    }
    const n = ++this.acked;
    // {"stream":... -> byte 2 is 's'; {"error":... is not. The one per-ack check, no parsing.
    if (payload.length < 12 || payload[2] !== S_LOWER) {
      if (this.badAcks++ === 0) this.firstBad = `${line.toString('latin1')}: ${payload.toString('utf8').slice(0, 300)}`;
      return;
    }
    if (n % this.sampleEvery === 0 || n === this.expected) this.sample(line, payload, n === this.expected);
  }

  private sample(line: Buffer, payload: Buffer, last: boolean): void {
    this.sampled++;
    const text = payload.toString('utf8');
    let ack: { stream?: unknown; seq?: unknown; duplicate?: unknown };
    try {
      ack = JSON.parse(text) as typeof ack;
    } catch {
      ack = {};
    }
    const inbox = inboxNumber(line);
    if (ack.stream !== STREAM || typeof ack.seq !== 'number' || ack.seq !== inbox || ack.duplicate === true) {
      if (this.badAcks++ === 0) this.firstBad = `${line.toString('latin1')}: ${text.slice(0, 300)} (expected seq ${inbox})`;
    }
    if (last && typeof ack.seq === 'number') this.lastSeq = ack.seq;
  }
}

/** `PUB <subject> _INBOX.bench.` and ` <size>\r\n<payload>\r\n`: a frame is head + n + tail. */
export function frameParts(subject: string, payloadBytes: number): { head: Buffer; tail: Buffer; maxFrame: number } {
  const head = Buffer.from(`PUB ${subject} ${INBOX_PREFIX}`);
  const sizeLine = Buffer.from(` ${payloadBytes}\r\n`);
  const tail = Buffer.allocUnsafe(sizeLine.length + payloadBytes + 2);
  sizeLine.copy(tail, 0);
  for (let i = 0; i < payloadBytes; i++) tail[sizeLine.length + i] = 97 + (i % 26);
  tail[tail.length - 2] = CR;
  tail[tail.length - 1] = LF;
  return { head, tail, maxFrame: head.length + 16 + tail.length };
}

// ---- js-pub ----------------------------------------------------------------------------------

export async function runJsPub(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const msgs = Number(p.msgs);
  const maxPending = Number(p.maxPending);
  const refillMin = Math.max(1, Math.min(Number(p.refillMin), maxPending));
  const timeoutMs = Number(p.timeoutMs);
  const replicas = Number(p.replicas ?? 1);
  const { head, tail, maxFrame } = frameParts(String(p.subject), Number(p.payloadBytes));
  const js = await JsPubConn.open(ctx, String(p.connName ?? 'js-pub'), Number(p.sampleEvery), msgs, replicas, Number(p.readBytes ?? 0));
  try {
    const conn = js.conn;
    let sent = 0;
    let writes = 0;
    /** Fills the window: frames n = sent+1 ... into one buffer, one write. */
    const fill = (): void => {
      const room = Math.min(maxPending - (sent - js.acked), msgs - sent);
      if (room < refillMin && sent + room < msgs) return;
      if (room <= 0) return;
      const buf = Buffer.allocUnsafe(room * maxFrame);
      let at = 0;
      for (let k = 0; k < room; k++) {
        at += head.copy(buf, at);
        at = writeDecimal(buf, at, ++sent);
        at += tail.copy(buf, at);
      }
      writes++;
      conn.socket.write(buf.subarray(0, at));
    };
    let timer: NodeJS.Timeout | undefined;
    let t0 = 0;
    const elapsedMs = await new Promise<number>((resolve, reject) => {
      conn.onFailure = reject;
      conn.onData = () => {
        if (js.acked >= msgs) {
          const ms = performance.now() - t0;
          ctx.measureEnd();
          conn.onData = null;
          resolve(ms);
          return;
        }
        if (js.badAcks > 0) {
          reject(new Error(`PubAck check failed after ${js.acked} acks: ${js.firstBad}`));
          return;
        }
        fill();
      };
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${js.acked} of ${msgs} acked, ${sent} sent`)), timeoutMs);
      ctx.measureStart();
      t0 = performance.now();
      fill();
    }).finally(() => clearTimeout(timer));
    conn.onData = null;
    // Late duplicates would arrive before the PONG.
    await conn.flush();
    js.checkAcks();
    await js.verifyStream();
    return {
      msgsPerSec: msgs / (elapsedMs / 1000),
      elapsedMs,
      avgFramesPerWrite: msgs / writes,
      sampledAcks: js.sampled,
      // Replicated: which server (1-based, ctx.cluster order) led the stream; 0 = not in the list.
      ...(replicas > 1 ? { leaderServer: ctx.cluster.findIndex((s) => s.name === js.leader) + 1 } : {}),
    };
  } finally {
    js.conn.close();
  }
}

// ---- js-pub-sync -----------------------------------------------------------------------------

export async function runJsPubSync(ctx: RunContext): Promise<Metrics> {
  const p = ctx.params;
  const n = Number(p.requests);
  const warmup = Number(p.warmup);
  const timeoutMs = Number(p.timeoutMs);
  const { head, tail, maxFrame } = frameParts(String(p.subject), Number(p.payloadBytes));
  const js = await JsPubConn.open(ctx, 'js-pub-sync', Number(p.sampleEvery), warmup + n);
  try {
    const conn = js.conn;
    const samplesUs = new Float64Array(n);
    let timer: NodeJS.Timeout | undefined;
    let t0 = 0;
    const elapsedMs = await new Promise<number>((resolve, reject) => {
      let sent = 0;
      let sentAt = 0;
      const send = (): void => {
        const buf = Buffer.allocUnsafe(maxFrame);
        let at = head.copy(buf, 0);
        at = writeDecimal(buf, at, ++sent);
        at += tail.copy(buf, at);
        sentAt = performance.now();
        conn.socket.write(buf.subarray(0, at));
      };
      conn.onFailure = reject;
      conn.onData = () => {
        if (js.acked < sent) return;
        const now = performance.now();
        if (js.acked > sent) {
          reject(new Error(`${js.acked} PubAcks for ${sent} publishes`));
          return;
        }
        if (js.badAcks > 0) {
          reject(new Error(`PubAck check failed after ${js.acked} acks: ${js.firstBad}`));
          return;
        }
        const i = sent - warmup - 1;
        if (i >= 0) samplesUs[i] = (now - sentAt) * 1000;
        if (sent === warmup) {
          ctx.measureStart();
          t0 = performance.now();
        }
        if (sent < warmup + n) send();
        else {
          ctx.measureEnd();
          conn.onData = null;
          resolve(now - t0);
        }
      };
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms: ${js.acked} of ${warmup + n} acked`)), timeoutMs);
      if (warmup === 0) {
        ctx.measureStart();
        t0 = performance.now();
      }
      send();
    }).finally(() => clearTimeout(timer));
    conn.onData = null;
    await conn.flush();
    js.checkAcks();
    await js.verifyStream();
    return { ...summarizeLatencies(samplesUs), msgsPerSec: n / (elapsedMs / 1000), elapsedMs };
  } finally {
    js.conn.close();
  }
}

// ---- registry entries ------------------------------------------------------------------------

export const DURABILITY =
  'durability at ack: nats-server acks before fsync (sync_interval 2 min); sluice "committed" (LMDB commit, no per-txn fdatasync, env fsync every 1 s)';

export function jsPubScenario(msgs: number): Scenario {
  return {
    name: 'js-pub',
    group: 'js-pub',
    description: `JetStream async publish, <= 1,000 PubAcks outstanding, 128 B, file stream; acked msgs/s. ${DURABILITY}`,
    params: { msgs, payloadBytes: 128, maxPending: 1000, refillMin: 1, subject: 'bench.js.x', sampleEvery: 1000, timeoutMs: 300_000 },
    countParam: 'msgs',
    metrics: [{ key: 'msgsPerSec', label: 'acked msgs/s', better: 'higher' }],
    primary: 'msgsPerSec',
    needs: ['jetstream'],
    bar: { op: '>=', ratio: 1.0 },
    run: runJsPub,
  };
}

export function jsPubSyncScenario(requests: number): Scenario {
  return {
    name: 'js-pub-sync',
    group: 'js-pub-sync',
    description: `JetStream publish one at a time (wait for each PubAck), 128 B, file stream; p50/p99 µs. ${DURABILITY}`,
    params: { requests, warmup: 1000, payloadBytes: 128, subject: 'bench.js.x', sampleEvery: 100, timeoutMs: 300_000 },
    countParam: 'requests',
    metrics: [
      { key: 'p50Us', label: 'p50 µs', better: 'lower' },
      { key: 'p99Us', label: 'p99 µs', better: 'lower' },
      { key: 'p999Us', label: 'p99.9 µs', better: 'lower' },
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
    ],
    primary: 'p99Us',
    needs: ['jetstream'],
    bar: { op: '<=', ratio: 2.0 },
    run: runJsPubSync,
  };
}
