// Catch-up of a replica that cannot replay the log (ADR 0010, "Snapshot install"): its group's
// log was trimmed past the point it has applied, because it lost its data (a new disk, a wiped
// store_dir) or joined later. Raft then sends it a snapshot, which for a stream is only a mark:
// the state is the leader's store. The replica copies that store from the leader over the routes,
// as nats-server's stream catch-up does, then goes on with the log after it.
//
// Exactness: the leader freezes its replica at an applied raft index A (its store frozen with
// nothing uncommitted, its consumers' copies and config taken in the same turn) and serves every
// batch from that frozen image. The follower ends up with exactly the state at A, records A as
// applied, and skips the log entries up to A. Nothing of the live store is read while it changes,
// so no op between A and the end of the copy is seen twice or missed.
//
// Protocol: requests on `$JSC.CATCHUP.<stream>` (the leader subscribes cluster-wide while it
// leads), msgpack bodies, one reply each to the follower's cluster-wide inbox. The follower pulls
// batch after batch, so it sets the pace and the leader never queues more than one batch for it.
//   start {min, have}        -> {session, applied, state, config, consumers} | {error}
//   seqs  {session, from, to} -> {seqs, upTo}   live sequences the follower may already hold
//   msgs  {session, from}     -> {msgs}          whole messages after what it holds
//   end   {session}           (no reply)

import { Packr } from 'msgpackr';
import type { StreamConfig } from '../../protocol/jetstream-api.ts';
import { newToken } from '../../runtime/ids.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import type { LoadedConsumer } from '../consumer/persistence.ts';
import type { FrozenStore, StoreState, StreamStore, TimeNs } from '../store/types.ts';

const packr = new Packr({ useRecords: false });

export const CATCHUP_PREFIX = '$JSC.CATCHUP';
/** A catch-up batch: about this many bytes of messages (at least one message). */
export const CATCHUP_BATCH_BYTES = 256 * 1024;
/** Sequences per `seqs` reply. */
export const CATCHUP_SEQS_BATCH = 50_000;
/** A session nobody asked anything of for this long is released (its read transaction too). */
export const CATCHUP_SESSION_IDLE_MS = 30_000;
/** How long the follower waits for one reply before starting over. */
export const CATCHUP_REQUEST_TIMEOUT_MS = 10_000;
/** Sessions a leader keeps per stream; the oldest goes when another starts. */
const MAX_SESSIONS = 8;

export function catchupSubject(stream: string): string {
  return `${CATCHUP_PREFIX}.${stream}`;
}

/** The leader's replica frozen at raft index `applied`. */
export interface ReplicaImage {
  readonly applied: number;
  readonly store: FrozenStore;
  readonly config: StreamConfig;
  readonly consumers: LoadedConsumer[];
}

type Request =
  | { op: 'start'; min: number; have: number }
  | { op: 'seqs'; session: string; from: number; to: number }
  | { op: 'msgs'; session: string; from: number }
  | { op: 'end'; session: string };

interface StartReply {
  session: string;
  applied: number;
  state: StoreState;
  config: StreamConfig;
  consumers: LoadedConsumer[];
}
type WireMsg = [seq: number, subject: string, hdr: Uint8Array | null, data: Uint8Array, timeNs: TimeNs];
type ErrorReply = { error: string };

function isError(r: unknown): r is ErrorReply {
  return typeof r === 'object' && r !== null && typeof (r as ErrorReply).error === 'string';
}

// ---- the leader's side --------------------------------------------------------------------

interface Session {
  readonly image: ReplicaImage;
  timer: NodeJS.Timeout;
}

/** Serves catch-up requests for one stream from frozen images of its replica. */
export class CatchupServer {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly bus: MessageBus,
    /** Freezes the replica at its applied index; rejects when it cannot serve `min` yet. */
    private readonly freeze: (min: number) => Promise<ReplicaImage>,
  ) {}

  subscribe(stream: string): BusSubscription {
    return this.bus.subscribe(catchupSubject(stream), (_s, reply, _h, data) => this.handle(reply, data), '', true);
  }

  private handle(reply: string, data: Buffer): void {
    let req: Request;
    try {
      req = packr.unpack(data) as Request;
    } catch {
      return;
    }
    if (req.op === 'end') {
      this.release(req.session);
      return;
    }
    if (reply === '') return;
    if (req.op === 'start') {
      this.freeze(req.min).then(
        (image) => this.answer(reply, this.open(image)),
        (err: unknown) => this.answer(reply, { error: String(err instanceof Error ? err.message : err) }),
      );
      return;
    }
    const s = this.sessions.get(req.session);
    if (s === undefined) {
      this.answer(reply, { error: 'no such catch-up session' });
      return;
    }
    s.timer.refresh();
    if (req.op === 'seqs') {
      const seqs = s.image.store.seqs(req.from, req.to, CATCHUP_SEQS_BATCH);
      const upTo = seqs.length < CATCHUP_SEQS_BATCH ? req.to : seqs[seqs.length - 1]!;
      this.answer(reply, { seqs, upTo });
    } else {
      const msgs: WireMsg[] = s.image.store.messages(req.from, CATCHUP_BATCH_BYTES).map((m) => [m.seq, m.subject, m.hdr, m.data, m.timeNs]);
      this.answer(reply, { msgs });
    }
  }

  private open(image: ReplicaImage): StartReply {
    if (this.sessions.size >= MAX_SESSIONS) this.release(this.sessions.keys().next().value!);
    const session = newToken(12);
    const timer = setTimeout(() => this.release(session), CATCHUP_SESSION_IDLE_MS);
    timer.unref();
    this.sessions.set(session, { image, timer });
    return { session, applied: image.applied, state: image.store.state, config: image.config, consumers: image.consumers };
  }

  private answer(reply: string, body: unknown): void {
    this.bus.publish(reply, '', null, packr.pack(body));
  }

  private release(session: string): void {
    const s = this.sessions.get(session);
    if (s === undefined) return;
    this.sessions.delete(session);
    clearTimeout(s.timer);
    s.image.store.release();
  }

  close(): void {
    for (const id of [...this.sessions.keys()]) this.release(id);
  }
}

// ---- the follower's side ------------------------------------------------------------------

/** Request/reply over the bus with a cluster-wide inbox; every wait can be cut short by close(). */
export class CatchupClient {
  private readonly inbox = `$JSC.R.${newToken(16)}`;
  private readonly sub: BusSubscription;
  private readonly waiting = new Map<string, { resolve(b: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private next = 0;
  private closed = false;

  constructor(
    private readonly bus: MessageBus,
    private readonly stream: string,
    private readonly timeoutMs = CATCHUP_REQUEST_TIMEOUT_MS,
  ) {
    this.sub = bus.subscribe(`${this.inbox}.*`, (subject, _r, _h, data) => {
      const w = this.waiting.get(subject);
      if (w === undefined) return;
      this.waiting.delete(subject);
      clearTimeout(w.timer);
      try {
        w.resolve(packr.unpack(data));
      } catch (err) {
        w.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }, '', true);
  }

  private request<T>(req: Request): Promise<T> {
    if (this.closed) return Promise.reject(new Error('catch-up closed'));
    const reply = `${this.inbox}.${++this.next}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(reply);
        reject(new Error(`no catch-up reply for ${req.op} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(reply, { resolve: (b) => (isError(b) ? reject(new Error(b.error)) : resolve(b as T)), reject, timer });
      this.bus.publish(catchupSubject(this.stream), reply, null, packr.pack(req));
    });
  }

  start(min: number, have: number): Promise<StartReply> {
    return this.request({ op: 'start', min, have });
  }

  seqs(session: string, from: number, to: number): Promise<{ seqs: number[]; upTo: number }> {
    return this.request({ op: 'seqs', session, from, to });
  }

  async msgs(session: string, from: number): Promise<WireMsg[]> {
    return (await this.request<{ msgs: WireMsg[] }>({ op: 'msgs', session, from })).msgs;
  }

  end(session: string): void {
    if (!this.closed) this.bus.publish(catchupSubject(this.stream), '', null, packr.pack({ op: 'end', session } satisfies Request));
  }

  close(): void {
    this.closed = true;
    this.sub.unsubscribe();
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('catch-up closed'));
    }
    this.waiting.clear();
  }
}

/** What the follower takes over besides the messages (the caller applies it). */
export interface CaughtUp {
  readonly applied: number;
  readonly config: StreamConfig;
  readonly consumers: LoadedConsumer[];
}

const EMPTY = new Uint8Array(0);

/** A catch-up that no retry can fix: this replica holds more than its leader. */
export class CatchupImpossible extends Error {
  override name = 'CatchupImpossible';
}

/**
 * Makes `store` hold exactly the leader's frozen image (one attempt; throws on any failure, and a
 * later attempt starts over from what this one left: every step below is safe to repeat).
 * Messages the follower already holds are kept, since a sequence names the same message on every
 * replica; the ones the leader no longer has are removed.
 */
export async function copyFromLeader(client: CatchupClient, store: StreamStore, min: number): Promise<CaughtUp> {
  const local = store.state();
  const image = await client.start(min, local.lastSeq);
  const session = image.session;
  try {
    const theirs = image.state;
    if (local.lastSeq > theirs.lastSeq) {
      throw new CatchupImpossible(`this replica holds sequence ${local.lastSeq}, beyond the leader's ${theirs.lastSeq}`);
    }
    const have = local.lastSeq;
    // 1. What the leader has removed from the front.
    if (local.messages > 0 && theirs.firstSeq > local.firstSeq) store.purge({ upToSeq: Math.min(theirs.firstSeq, have + 1) });
    // 2. Interior messages held here that the leader removed.
    for (let from = Math.max(theirs.firstSeq, store.state().firstSeq); from <= have; ) {
      const { seqs, upTo } = await client.seqs(session, from, have);
      const live = new Set(seqs);
      const doomed: number[] = [];
      for (const m of store.iterate(from)) {
        if (m.seq > upTo) break;
        if (!live.has(m.seq)) doomed.push(m.seq);
      }
      for (const seq of doomed) store.delete(seq);
      from = upTo + 1;
    }
    // 3. Everything after what is held here.
    for (let from = Math.max(have + 1, theirs.firstSeq); from <= theirs.lastSeq; ) {
      const batch = await client.msgs(session, from);
      if (batch.length === 0) break;
      for (const [seq, subject, hdr, data, timeNs] of batch) store.applyAppend(seq, subject, hdr, data, timeNs);
      from = batch[batch.length - 1]![0] + 1;
    }
    // 4. The leader's last sequence may be a removed message (or the stream is empty): take the
    // sequence without a message, as an interest stream's skipped append does.
    if (store.state().lastSeq < theirs.lastSeq) {
      store.applyAppend(theirs.lastSeq, '_catchup', null, EMPTY, theirs.lastTimeNs);
      store.delete(theirs.lastSeq);
    }
    await store.durable();
    const mine = store.state();
    if (mine.messages !== theirs.messages || mine.lastSeq !== theirs.lastSeq || (theirs.messages > 0 && mine.firstSeq !== theirs.firstSeq)) {
      throw new Error(
        `copy differs from the leader's (messages ${mine.messages}/${theirs.messages}, first ${mine.firstSeq}/${theirs.firstSeq}, last ${mine.lastSeq}/${theirs.lastSeq})`,
      );
    }
    return { applied: image.applied, config: image.config, consumers: image.consumers };
  } finally {
    client.end(session);
  }
}
