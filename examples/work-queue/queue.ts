// The streams and the consumer of the work queue, and the shape of a job.
//
// JOBS keeps `jobs.>` with work-queue retention: a message is removed once the consumer acks it,
// and only one consumer may read a subject, so workers compete by sharing the one durable pull
// consumer `workers`. JOBS_DEAD keeps what failed max_deliver times, under `dlq.<subject>`.

import { headers, type JetStreamManager, type MsgHeaders } from '../../client/index.ts';

export const JOBS_STREAM = 'JOBS';
export const JOBS_SUBJECTS = 'jobs.>';
export const WORKERS_CONSUMER = 'workers';
export const DEAD_STREAM = 'JOBS_DEAD';
export const DEAD_PREFIX = 'dlq';

export interface Job {
  id: string;
  /** What to do with `file`; the subject is `jobs.<op>`. */
  op: string;
  file: string;
}

export interface QueueSettings {
  /** Deliveries of one job before it is given up on (and dead-lettered). */
  maxDeliver: number;
  /** How long a worker may hold a job without acking before it is redelivered. */
  ackWaitMs: number;
}

export const DEFAULT_SETTINGS: QueueSettings = { maxDeliver: 3, ackWaitMs: 30_000 };

const NS_PER_MS = 1_000_000;
const DAY_NS = 24 * 60 * 60 * 1000 * NS_PER_MS;

export function jobSubject(job: Job): string {
  return `jobs.${job.op}`;
}

/** Creates both streams and the consumer; a second run with the same settings changes nothing. */
export async function setupQueue(jsm: JetStreamManager, s: QueueSettings = DEFAULT_SETTINGS): Promise<void> {
  await jsm.streams.add({ name: JOBS_STREAM, subjects: [JOBS_SUBJECTS], retention: 'workqueue', storage: 'file' });
  await jsm.streams.add({ name: DEAD_STREAM, subjects: [`${DEAD_PREFIX}.${JOBS_SUBJECTS}`], storage: 'file', max_age: 7 * DAY_NS });
  await jsm.consumers.add(JOBS_STREAM, {
    durable_name: WORKERS_CONSUMER,
    ack_policy: 'explicit',
    max_deliver: s.maxDeliver,
    ack_wait: s.ackWaitMs * NS_PER_MS,
    max_ack_pending: 100,
  });
}

/** Header names a dead letter carries (besides the original payload). */
export const DeadLetterHeader = {
  stream: 'Dead-Letter-Stream',
  sequence: 'Dead-Letter-Sequence',
  subject: 'Dead-Letter-Subject',
  deliveries: 'Dead-Letter-Deliveries',
} as const;

export function deadLetterHeaders(stream: string, seq: number, subject: string, deliveries: number): MsgHeaders {
  const h = headers();
  h.set(DeadLetterHeader.stream, stream);
  h.set(DeadLetterHeader.sequence, String(seq));
  h.set(DeadLetterHeader.subject, subject);
  h.set(DeadLetterHeader.deliveries, String(deliveries));
  return h;
}
