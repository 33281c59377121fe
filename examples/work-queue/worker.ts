// A worker: one connection, pulling from the shared durable consumer one job at a time (so a busy
// worker does not sit on jobs another could take), then
//   - ack when the handler succeeds (waiting for the server's confirmation: at-least-once, and
//     the work-queue stream drops the job),
//   - NAK with a delay when the handler throws RetryLater (redelivered after the delay, to any worker),
//   - NAK at once when it throws anything else (redelivered until max_deliver is used up),
//   - TERM when the message is not a job at all (never redelivered).

import { connect, jetstream, type JsMsg } from '../../client/index.ts';
import { JOBS_STREAM, WORKERS_CONSUMER, type Job } from './queue.ts';

/** Thrown by a handler for a transient failure: try again after delayMs. */
export class RetryLater extends Error {
  readonly delayMs: number;
  constructor(delayMs: number, message: string) {
    super(message);
    this.name = 'RetryLater';
    this.delayMs = delayMs;
  }
}

export interface Delivery {
  worker: string;
  /** 1 on the first delivery. */
  deliveryCount: number;
  streamSeq: number;
}

export type JobHandler = (job: Job, delivery: Delivery) => void | Promise<void>;

export type WorkerEvent = Delivery & {
  type: 'ack' | 'nak' | 'term';
  jobId: string;
  /** performance.now() when the message reached the worker, and when the outcome was sent. */
  receivedAtMs: number;
  doneAtMs: number;
  /** nak: the requested redelivery delay (0 = at once). */
  delayMs: number;
  /** nak, term: why. */
  reason: string;
};

export interface WorkerOptions {
  name: string;
  handler: JobHandler;
  onEvent?: (e: WorkerEvent) => void;
  /** A job whose outcome could not be sent, or the end of the pull loop (default: console.error). */
  onError?: (err: unknown) => void;
}

export interface Worker {
  readonly name: string;
  /** Stop pulling, finish the job in hand, close the connection. */
  stop(): Promise<void>;
}

function parseJob(m: JsMsg): Job | undefined {
  try {
    const j = m.json<Partial<Job>>();
    return typeof j?.id === 'string' && typeof j.op === 'string' && typeof j.file === 'string' ? (j as Job) : undefined;
  } catch {
    return undefined;
  }
}

export async function startWorker(url: string, opts: WorkerOptions): Promise<Worker> {
  const nc = await connect({ servers: url, name: `worker-${opts.name}` });
  const consumer = await jetstream(nc).consumers.get(JOBS_STREAM, WORKERS_CONSUMER);
  const messages = consumer.consume({ maxMessages: 1 });
  const emit = opts.onEvent ?? (() => undefined);

  const handle = async (m: JsMsg): Promise<void> => {
    const receivedAtMs = performance.now();
    const delivery: Delivery = { worker: opts.name, deliveryCount: m.info.deliveryCount, streamSeq: m.seq };
    const event = (type: WorkerEvent['type'], jobId: string, delayMs: number, reason: string): void =>
      emit({ ...delivery, type, jobId, receivedAtMs, doneAtMs: performance.now(), delayMs, reason });
    const job = parseJob(m);
    if (job === undefined) {
      m.term('not a job');
      return event('term', '', 0, 'not a job');
    }
    try {
      await opts.handler(job, delivery);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const delayMs = err instanceof RetryLater ? err.delayMs : 0;
      if (delayMs > 0) m.nak(delayMs);
      else m.nak();
      return event('nak', job.id, delayMs, reason);
    }
    await m.ackAck();
    event('ack', job.id, 0, '');
  };

  const onError = opts.onError ?? ((err: unknown) => console.error(`worker ${opts.name}:`, err));
  const loop = (async () => {
    try {
      for await (const m of messages) await handle(m).catch(onError);
    } catch (err) {
      onError(err);
    }
  })();
  return {
    name: opts.name,
    async stop() {
      messages.stop();
      await loop;
      await nc.drain();
    },
  };
}
