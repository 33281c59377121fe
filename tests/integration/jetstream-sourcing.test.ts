// Mirrors and sources through the official clients: a mirror catches up with 10,000 messages
// (same sequences and times as its origin) and follows new ones, serves its origin's direct gets
// with mirror_direct; a stream sources three others (filter, transform, opt_start_seq), keeps
// going when an origin is deleted and recreated; StreamInfo reports lag and active; config errors
// are nats-server's. The restart case (SIGKILL) is in jetstream-sourcing-restart.test.ts.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { publishMany } from '../helpers/publish-many.ts';
import { rejectsWithJsError } from '../helpers/js-api.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

describe('mirrors and sources', () => {
  let srv: JsTestServer;
  let logger: MemoryLogger;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let js: JetStreamClient;

  before(async () => {
    logger = new MemoryLogger();
    srv = await startJsTestServer({ logger });
    nc = await connect({ servers: srv.clientUrl });
    jsm = await jetstreamManager(nc);
    js = jetstream(nc);
  });
  after(async () => {
    await nc?.close();
    await srv?.close();
    assert.deepEqual(logger.entries.filter((e) => e.level === 'error'), [], 'no errors logged');
  });

  test('a mirror catches up with 10,000 messages, keeps sequences and times, and follows new ones', async () => {
    await jsm.streams.add({ name: 'ORIG', subjects: ['orig.>'], allow_direct: true });
    await publishMany(js, (i) => `orig.${i % 7}`, 10_000);
    // A deleted origin message stays a gap in the mirror.
    await jsm.streams.deleteMessage('ORIG', 5000);
    const created = await jsm.streams.add({ name: 'MIR', mirror: { name: 'ORIG' } });
    assert.equal(created.config.mirror_direct, true, 'inherits allow_direct');
    assert.equal(created.config.subjects, undefined);
    await waitFor(async () => (await jsm.streams.info('MIR')).state.last_seq === 10_000, 'mirror caught up', 20_000);
    const info = await jsm.streams.info('MIR');
    assert.equal(info.state.messages, 9_999);
    assert.equal(info.mirror?.name, 'ORIG');
    assert.equal(info.mirror?.lag, 0);
    assert.ok(info.mirror!.active >= 0);
    for (const seq of [1, 4999, 5001, 10_000]) {
      const a = await jsm.streams.getMessage('ORIG', { seq });
      const b = await jsm.streams.getMessage('MIR', { seq });
      assert.deepEqual([b?.subject, b?.string(), b?.time.getTime()], [a?.subject, a?.string(), a?.time.getTime()]);
    }
    assert.equal(await jsm.streams.getMessage('MIR', { seq: 5000 }), null, 'the gap stays a gap');
    await publishMany(js, () => 'orig.new', 10, 10_000);
    await waitFor(async () => (await jsm.streams.info('MIR')).state.last_seq === 10_010, 'mirror followed');
    assert.equal((await jsm.streams.getMessage('MIR', { last_by_subj: 'orig.new' }))?.string(), 'm10009');
  });

  test('a mirror has no subjects and its config can not change', async () => {
    await rejectsWithJsError(jsm.streams.add({ name: 'MIR2', mirror: { name: 'ORIG' }, subjects: ['m2'] }), 10034, 'stream mirrors can not contain subjects');
    const cfg = (await jsm.streams.info('MIR')).config;
    await rejectsWithJsError(jsm.streams.update('MIR', { ...cfg, mirror: { name: 'ORIG', opt_start_seq: 3 } }), 10055, 'stream mirror configuration can not be updated');
    await rejectsWithJsError(jsm.streams.update('MIR', { ...cfg, subjects: ['mir.>'] }), 10034, 'stream mirrors can not contain subjects');
    await rejectsWithJsError(jsm.streams.add({ name: 'R3', mirror: { name: 'ORIG' }, num_replicas: 3 }), 10074, 'replicas > 1 not supported in non-clustered mode');
  });

  test('a mirror with mirror_direct answers its origin\'s direct gets', async () => {
    // Once the origin is gone, only the mirror is in the queue group for ORIG's direct gets.
    await jsm.streams.delete('ORIG');
    const r = await nc.request('$JS.API.DIRECT.GET.ORIG', JSON.stringify({ seq: 10 }));
    assert.equal(r.headers?.get('Nats-Stream'), 'MIR');
    assert.equal(r.headers?.get('Nats-Sequence'), '10');
    const info = await jsm.streams.info('MIR');
    assert.equal(info.mirror?.lag, 0);
    assert.ok(info.mirror!.active > 0, 'time since the origin was last seen');
  });

  test('a stream sources three streams with filter, transform and start sequence, and survives an origin being recreated', async () => {
    await jsm.streams.add({ name: 'EDGE1', subjects: ['e1.>'] });
    await jsm.streams.add({ name: 'EDGE2', subjects: ['e2.>'] });
    await jsm.streams.add({ name: 'EDGE3', subjects: ['e3.>'] });
    await publishMany(js, (i) => `e1.${i % 2 === 0 ? 'keep' : 'drop'}`, 20);
    await publishMany(js, (i) => `e2.t.${i}`, 10);
    await publishMany(js, () => 'e3.x', 10);
    const created = await jsm.streams.add({
      name: 'HUB',
      sources: [
        { name: 'EDGE1', filter_subject: 'e1.keep' },
        { name: 'EDGE2', subject_transforms: [{ src: 'e2.t.*', dest: 'hub.e2.{{wildcard(1)}}' }] },
        { name: 'EDGE3', opt_start_seq: 6 },
      ],
    });
    assert.equal(created.config.subjects, undefined);
    await waitFor(async () => (await jsm.streams.info('HUB')).state.messages === 25, 'sources copied');
    const info = await jsm.streams.info('HUB');
    assert.deepEqual(
      info.sources?.map((s) => [s.name, s.lag, s.active]),
      [
        ['EDGE1', 0, 0],
        ['EDGE2', 0, 0],
        ['EDGE3', 0, 0],
      ],
    );
    const subjects = await jsm.streams.info('HUB', { subjects_filter: '>' });
    assert.equal(subjects.state.subjects?.['e1.keep'], 10);
    assert.equal(subjects.state.subjects?.['hub.e2.3'], 1);
    assert.equal(subjects.state.subjects?.['e3.x'], 5);
    const first = await jsm.streams.getMessage('HUB', { last_by_subj: 'e3.x' });
    assert.equal(first?.header.get('Nats-Stream-Source'), 'EDGE3 10 > >');

    // EDGE2 goes away and comes back empty: its new messages are copied from its start.
    await jsm.streams.delete('EDGE2');
    await js.publish('e1.keep', 'while-gone');
    await waitFor(async () => (await jsm.streams.info('HUB')).state.messages === 26, 'other sources go on');
    const gone = (await jsm.streams.info('HUB')).sources?.find((s) => s.name === 'EDGE2');
    assert.ok(gone !== undefined && gone.active > 0);
    await jsm.streams.add({ name: 'EDGE2', subjects: ['e2.>'] });
    await publishMany(js, (i) => `e2.t.new${i}`, 3);
    await waitFor(async () => (await jsm.streams.info('HUB')).state.messages === 29, 'recreated origin copied');
    const again = await jsm.streams.getMessage('HUB', { last_by_subj: 'hub.e2.new0' });
    assert.equal(again?.header.get('Nats-Stream-Source'), 'EDGE2 1 e2.t.* hub.e2.{{wildcard(1)}}');
  });

  test('sourced messages keep Nats-Msg-Id dedupe and lose Nats-Expected-* headers', async () => {
    await jsm.streams.add({ name: 'SRC_A', subjects: ['sa.>'] });
    await jsm.streams.add({ name: 'SRC_B', subjects: ['sb.>'] });
    await js.publish('sa.1', 'x', { msgID: 'same' });
    await js.publish('sb.1', 'y', { msgID: 'same' });
    await js.publish('sa.2', 'z', { expect: { lastSequence: 1 } });
    await jsm.streams.add({ name: 'AGG', sources: [{ name: 'SRC_A' }, { name: 'SRC_B' }] });
    await waitFor(async () => {
      const i = await jsm.streams.info('AGG');
      return i.sources?.every((s) => s.lag === 0) === true && i.state.messages === 2;
    }, 'sources copied');
    const m = await jsm.streams.getMessage('AGG', { last_by_subj: 'sa.2' });
    assert.equal(m?.header.get('Nats-Expected-Last-Sequence'), '');
  });

  test('mirror and source config errors are nats-server\'s', async () => {
    await rejectsWithJsError(
      jsm.streams.add({ name: 'BADS', sources: [{ name: 'EDGE1' }, { name: 'EDGE1' }] }),
      10140,
      'duplicate source configuration detected',
    );
    await rejectsWithJsError(jsm.streams.add({ name: 'BADM', mirror: { name: 'EDGE1' }, sources: [{ name: 'EDGE3' }] }), 10031, 'stream mirrors can not also contain other sources');
    await rejectsWithJsError(
      jsm.streams.add({ name: 'BADT', sources: [{ name: 'EDGE1', subject_transforms: [{ src: 'e1.*', dest: 'x.$2' }] }] }),
      10049,
      "subject transform from 'e1.*' to 'x.$2' for the source: invalid mapping destination: wildcard index out of range in $2: [2]",
    );
  });
});
