// The work-queue demo: jobs go into a work-queue stream, competing workers pull them, one job
// hits a transient failure and is NAKed with a delay, one is poison and ends in the dead-letter
// stream after max_deliver attempts.
//
//   node --import tsx examples/work-queue/main.ts [nats://127.0.0.1:4222]
//
// runDemo() is what the command runs and what examples/work-queue/work-queue.test.ts checks.

import { fileURLToPath } from 'node:url';
import { connect, jetstream, jetstreamManager } from '../../client/index.ts';
import { listDeadLetters, startDeadLetterMover, type DeadLetter, type DeadLetterMover } from './dead-letter.ts';
import { DEAD_STREAM, DeadLetterHeader, JOBS_STREAM, jobSubject, setupQueue, type Job } from './queue.ts';
import { RetryLater, startWorker, type JobHandler, type Worker, type WorkerEvent } from './worker.ts';

export interface DemoOptions {
  workers?: number;
  jobs?: number;
  /** Redelivery delay asked for by the NAK of the transient failure (default 1 s). */
  nakDelayMs?: number;
  maxDeliver?: number;
  /** Give up waiting for the jobs to settle after this long (default 60 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface DemoSummary {
  /** Job ids acked by each worker. */
  ackedBy: Record<string, string[]>;
  /** NAKs with a delay, and how long the job waited before its next delivery. */
  delayed: { jobId: string; delayMs: number; waitedMs: number; redeliveredAs: number }[];
  /** Jobs moved to JOBS_DEAD in this run. */
  deadLettered: { jobId: string; streamSeq: number; deliveries: number }[];
  /** Every delivery, in order. */
  events: WorkerEvent[];
  /** Messages left in JOBS afterwards (0: everything was acked or moved). */
  remaining: number;
  /** Dead letters in JOBS_DEAD (all runs), with the ids of their jobs. */
  deadStreamJobIds: string[];
}

/** Every 5th job's file is locked on its first attempt (transient); every 7th is corrupt (poison). */
export function demoJobs(n: number): Job[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `job-${String(i + 1).padStart(2, '0')}`;
    const file = (i + 1) % 7 === 0 ? `corrupt-${i + 1}.png` : (i + 1) % 5 === 0 ? `locked-${i + 1}.png` : `photo-${i + 1}.png`;
    return { id, op: 'thumbnail', file };
  });
}

export function demoHandler(nakDelayMs: number): JobHandler {
  return (job, d) => {
    if (job.file.startsWith('corrupt-')) throw new Error(`cannot decode ${job.file}`);
    if (job.file.startsWith('locked-') && d.deliveryCount === 1) throw new RetryLater(nakDelayMs, `${job.file} is locked`);
  };
}

const decoder = new TextDecoder();

export async function runDemo(url: string, opts: DemoOptions = {}): Promise<DemoSummary> {
  const log = opts.log ?? (() => undefined);
  const nakDelayMs = opts.nakDelayMs ?? 1000;
  const jobs = demoJobs(opts.jobs ?? 14);
  const nc = await connect({ servers: url, name: 'work-queue-demo' });
  const jsm = jetstreamManager(nc);
  const workers: Worker[] = [];
  let mover: DeadLetterMover | undefined;
  try {
    await setupQueue(jsm, { maxDeliver: opts.maxDeliver ?? 3, ackWaitMs: 30_000 });
    const purged = await jsm.streams.purge(JOBS_STREAM);
    if (purged > 0) log(`purged ${purged} jobs left over from an earlier run`);

    const events: WorkerEvent[] = [];
    const dead: DeadLetter[] = [];
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const check = (): void => {
      const acked = new Set(events.filter((e) => e.type === 'ack').map((e) => e.jobId));
      if (acked.size + dead.length >= jobs.length) settle();
    };

    mover = await startDeadLetterMover(url, {
      onDeadLetter: (d) => {
        dead.push(d);
        log(`dead-lettered seq ${d.streamSeq} after ${d.deliveries} deliveries: ${decoder.decode(d.data)}`);
        check();
      },
    });
    for (let i = 1; i <= (opts.workers ?? 2); i++) {
      const name = `w${i}`;
      workers.push(
        await startWorker(url, {
          name,
          handler: demoHandler(nakDelayMs),
          onEvent: (e) => {
            events.push(e);
            const what = e.type === 'nak' ? `NAK${e.delayMs > 0 ? ` (redeliver in ${e.delayMs} ms)` : ''}: ${e.reason}` : e.type.toUpperCase();
            log(`${e.worker} ${e.jobId} delivery ${e.deliveryCount}: ${what}`);
            check();
          },
        }),
      );
    }

    log(`publishing ${jobs.length} jobs to ${JOBS_STREAM}; ${workers.length} workers compete for them`);
    const js = jetstream(nc);
    for (const job of jobs) await js.publish(jobSubject(job), JSON.stringify(job));

    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    await Promise.race([
      settled,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`jobs did not settle within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));

    const ackedBy: Record<string, string[]> = {};
    for (const e of events) if (e.type === 'ack') (ackedBy[e.worker] ??= []).push(e.jobId);
    const delayed: DemoSummary['delayed'] = [];
    for (const nak of events.filter((e) => e.type === 'nak' && e.delayMs > 0)) {
      const next = events.find((e) => e.jobId === nak.jobId && e.deliveryCount === nak.deliveryCount + 1);
      if (next !== undefined) {
        delayed.push({ jobId: nak.jobId, delayMs: nak.delayMs, waitedMs: next.receivedAtMs - nak.doneAtMs, redeliveredAs: next.deliveryCount });
      }
    }
    const jobIdOf = (data: Uint8Array): string => (JSON.parse(decoder.decode(data)) as Job).id;
    const deadLettered = dead.map((d) => ({ jobId: jobIdOf(d.data), streamSeq: d.streamSeq, deliveries: d.deliveries }));
    const remaining = (await jsm.streams.info(JOBS_STREAM)).state.messages;
    const stored = await listDeadLetters(jsm);
    const deadStreamJobIds = stored.map((d) => jobIdOf(d.data));

    for (const [w, ids] of Object.entries(ackedBy)) log(`${w} acked ${ids.length}: ${ids.join(' ')}`);
    for (const d of delayed) log(`${d.jobId}: NAK asked for ${d.delayMs} ms, redelivered after ${Math.round(d.waitedMs)} ms`);
    log(`${JOBS_STREAM} holds ${remaining} messages; ${DEAD_STREAM} holds ${stored.length}:`);
    for (const d of stored) {
      log(`  ${d.subject} ${DeadLetterHeader.sequence}=${d.headers.get(DeadLetterHeader.sequence)} ${DeadLetterHeader.deliveries}=${d.headers.get(DeadLetterHeader.deliveries)}`);
    }
    return { ackedBy, delayed, deadLettered, events, remaining, deadStreamJobIds };
  } finally {
    for (const w of workers) await w.stop().catch(() => undefined);
    await mover?.stop().catch(() => undefined);
    await nc.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  runDemo(url, { log: (line) => console.log(line) }).catch((err: unknown) => {
    console.error(`work-queue: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
