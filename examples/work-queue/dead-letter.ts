// The dead-letter path. When a job has been delivered max_deliver times without an ack, the
// consumer stops redelivering it and the server publishes a MAX_DELIVERIES advisory (only while
// somebody listens). This mover copies the job from JOBS into JOBS_DEAD under `dlq.<subject>`,
// with headers saying where it came from, then deletes it from JOBS, where it would otherwise stay
// forever (nothing acks it).
//
// Advisories are plain messages, not stored: a mover that is down misses them. Run more than one
// (they share a queue group, so each advisory is handled once); the copy carries a message id,
// so handling the same advisory twice stores it once.

import { Buffer } from 'node:buffer';
import { connect, headers, jetstream, jetstreamManager, JetStreamApiError, MsgHeaders, type JetStreamManager, type Msg } from '../../client/index.ts';
import { DEAD_PREFIX, DEAD_STREAM, deadLetterHeaders, JOBS_STREAM, WORKERS_CONSUMER } from './queue.ts';

export const MAX_DELIVERIES_ADVISORY = `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${JOBS_STREAM}.${WORKERS_CONSUMER}`;

/** The advisory's fields this mover uses (the JSON has more: id, timestamp, ...). */
export interface MaxDeliveriesAdvisory {
  type: string;
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

export interface DeadLetter {
  /** Where the job was in JOBS. */
  streamSeq: number;
  subject: string;
  deliveries: number;
  data: Uint8Array;
}

export interface DeadLetterMover {
  /** Advisories handled so far. */
  moved(): number;
  stop(): Promise<void>;
}

export interface MoverOptions {
  onDeadLetter?: (d: DeadLetter) => void;
  onError?: (err: unknown) => void;
}

/** NATS' "no message found" API error: the job is already gone (moved before, or acked). */
const NO_MESSAGE_FOUND = 10037;

function fromBase64(s: string | undefined): Uint8Array {
  return s === undefined ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'base64'));
}

export async function startDeadLetterMover(url: string, opts: MoverOptions = {}): Promise<DeadLetterMover> {
  const nc = await connect({ servers: url, name: 'dead-letter-mover' });
  const js = jetstream(nc);
  const jsm = jetstreamManager(nc);
  const onError = opts.onError ?? ((err: unknown) => console.error('dead-letter mover:', err));
  const sub = nc.subscribe(MAX_DELIVERIES_ADVISORY, { queue: 'dead-letter-mover' });
  await nc.flush(); // subscribed at the server: no advisory from now on is missed
  let moved = 0;

  const move = async (m: Msg): Promise<void> => {
    const adv = m.json<MaxDeliveriesAdvisory>();
    let stored;
    try {
      stored = await jsm.streams.getMessage(JOBS_STREAM, { seq: adv.stream_seq });
    } catch (err) {
      if (err instanceof JetStreamApiError && err.errCode === NO_MESSAGE_FOUND) return;
      throw err;
    }
    const dead: DeadLetter = { streamSeq: stored.seq, subject: stored.subject, deliveries: adv.deliveries, data: fromBase64(stored.data) };
    await js.publish(`${DEAD_PREFIX}.${stored.subject}`, dead.data, {
      msgID: `${JOBS_STREAM}-${stored.seq}`,
      headers: deadLetterHeaders(JOBS_STREAM, stored.seq, stored.subject, adv.deliveries),
    });
    await jsm.streams.deleteMessage(JOBS_STREAM, stored.seq);
    moved++;
    opts.onDeadLetter?.(dead);
  };

  const loop = (async () => {
    for await (const m of sub) await move(m).catch(onError);
  })();
  return {
    moved: () => moved,
    async stop() {
      await sub.drain(); // advisories already received are still moved
      await loop;
      await nc.close();
    },
  };
}

export interface StoredDeadLetter {
  seq: number;
  subject: string;
  headers: MsgHeaders;
  data: Uint8Array;
}

/** Everything in JOBS_DEAD, oldest first (for the demo's report; a real system would consume it). */
export async function listDeadLetters(jsm: JetStreamManager): Promise<StoredDeadLetter[]> {
  const info = await jsm.streams.info(DEAD_STREAM);
  const out: StoredDeadLetter[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    try {
      const m = await jsm.streams.getMessage(DEAD_STREAM, { seq });
      const h = m.hdrs === undefined ? headers() : MsgHeaders.decode(Buffer.from(m.hdrs, 'base64'));
      out.push({ seq: m.seq, subject: m.subject, headers: h, data: fromBase64(m.data) });
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.errCode === NO_MESSAGE_FOUND)) throw err;
    }
  }
  return out;
}
