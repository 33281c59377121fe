// The work-queue example end to end against an in-process broker with JetStream: competing
// workers, acks, a NAK with delay redelivered after the delay, poison jobs dead-lettered after
// max_deliver (through the MAX_DELIVERIES advisory), and a message that is not a job terminated.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, jetstream, jetstreamManager, type NatsConnection } from '../../client/index.ts';
import { startJsTestServer, type JsTestServer } from '../../tests/helpers/jetstream-server.ts';
import { waitFor } from '../../tests/helpers/deadline.ts';
import { demoJobs, runDemo } from './main.ts';
import { JOBS_STREAM, WORKERS_CONSUMER } from './queue.ts';
import { startWorker, type WorkerEvent } from './worker.ts';
import { MAX_DELIVERIES_ADVISORY, startDeadLetterMover } from './dead-letter.ts';

const NAK_DELAY_MS = 300;

describe('examples/work-queue', () => {
  let js: JsTestServer;
  let nc: NatsConnection;

  before(async () => {
    js = await startJsTestServer();
    nc = await connect({ servers: js.clientUrl });
  });
  after(async () => {
    await nc?.close();
    await js?.close();
  });

  test('workers share the jobs, a delayed NAK waits, poison jobs are dead-lettered', async () => {
    const jobs = demoJobs(14);
    const poison = jobs.filter((j) => j.file.startsWith('corrupt-')).map((j) => j.id);
    const locked = jobs.filter((j) => j.file.startsWith('locked-')).map((j) => j.id);
    const good = jobs.map((j) => j.id).filter((id) => !poison.includes(id));
    assert.deepEqual([poison.length, locked.length], [2, 2], 'the demo has poison and transient jobs');

    const s = await runDemo(js.clientUrl, { jobs: 14, workers: 2, nakDelayMs: NAK_DELAY_MS, maxDeliver: 3 });

    const acked = Object.values(s.ackedBy).flat();
    assert.deepEqual([...acked].sort(), good, 'every good job acked exactly once');
    assert.deepEqual(Object.keys(s.ackedBy).sort(), ['w1', 'w2'], 'both workers got work');

    assert.deepEqual(s.delayed.map((d) => d.jobId).sort(), locked);
    for (const d of s.delayed) {
      assert.equal(d.redeliveredAs, 2);
      assert.ok(d.waitedMs >= NAK_DELAY_MS - 5, `${d.jobId} redelivered after the delay (${d.waitedMs} ms)`);
      assert.ok(d.waitedMs < NAK_DELAY_MS + 5000, `${d.jobId} redelivered by the NAK, not the 30 s ack wait`);
    }

    assert.deepEqual(s.deadLettered.map((d) => d.jobId).sort(), poison);
    for (const d of s.deadLettered) assert.equal(d.deliveries, 3);
    for (const id of poison) {
      const tries = s.events.filter((e) => e.jobId === id).map((e) => [e.type, e.deliveryCount]);
      assert.deepEqual(tries, [['nak', 1], ['nak', 2], ['nak', 3]], `${id} delivered max_deliver times, then never again`);
    }
    assert.deepEqual(s.deadStreamJobIds, s.deadLettered.map((d) => d.jobId), 'JOBS_DEAD holds the poison jobs');
    assert.equal(s.remaining, 0, 'acked jobs left the work queue, dead letters were moved out');
  });

  test('a second run (as against a persistent npm start store) starts clean and appends dead letters', async () => {
    const s = await runDemo(js.clientUrl, { jobs: 7, nakDelayMs: 1 });
    assert.deepEqual(s.deadLettered.map((d) => d.jobId), ['job-07']);
    assert.equal(s.deadStreamJobIds.length, 3, 'two from the first run, one from this one');
    assert.equal(s.remaining, 0);
  });

  test('a message that is not a job is terminated, not redelivered', async () => {
    const events: WorkerEvent[] = [];
    const handled: string[] = [];
    const w = await startWorker(js.clientUrl, { name: 'solo', handler: (job) => void handled.push(job.id), onEvent: (e) => void events.push(e) });
    try {
      const j = jetstream(nc);
      await j.publish('jobs.thumbnail', 'not json');
      await j.publish('jobs.thumbnail', JSON.stringify({ id: 'after', op: 'thumbnail', file: 'a.png' }));
      await waitFor(() => events.length >= 2, 'both messages handled');
      assert.deepEqual(events.map((e) => [e.type, e.reason]), [['term', 'not a job'], ['ack', '']]);
      assert.deepEqual(handled, ['after'], 'the handler never saw the garbage');
      const info = await waitFor(async () => {
        const i = await jetstreamManager(nc).consumers.info(JOBS_STREAM, WORKERS_CONSUMER);
        return i.num_ack_pending === 0 && i.num_redelivered === 0 ? i : undefined;
      }, 'nothing pending on the consumer');
      assert.equal(info.num_pending, 0);
    } finally {
      await w.stop();
    }
  });

  test('the mover survives a malformed advisory and skips a job that is already gone', async () => {
    const errors: unknown[] = [];
    const mover = await startDeadLetterMover(js.clientUrl, { onError: (e) => void errors.push(e) });
    try {
      nc.publish(MAX_DELIVERIES_ADVISORY, 'not json');
      nc.publish(MAX_DELIVERIES_ADVISORY, JSON.stringify({ stream: JOBS_STREAM, consumer: WORKERS_CONSUMER, stream_seq: 999_999, deliveries: 3 }));
      nc.publish(MAX_DELIVERIES_ADVISORY, 'not json either'); // advisories are handled in order: this one comes last
      await waitFor(() => errors.length === 2, 'both malformed advisories reported');
      assert.equal(mover.moved(), 0, 'nothing to move for a sequence that is not in JOBS');
    } finally {
      await mover.stop();
    }
  });
});
