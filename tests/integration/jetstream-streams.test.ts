// JetStream streams through the official client (@nats-io/jetstream v3) over real sockets: the
// control plane, publishing with acks, dedupe, limits, expectations, rollups, reads, and JSON
// errors for bad requests. Expected values are what nats-server answers to the same requests.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { jsApi, rejectsWithJsError } from '../helpers/js-api.ts';
import { MemoryLogger } from '../../runtime/logger.ts';

describe('JetStream streams with the official client', () => {
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
    const errors = logger.entries.filter((e) => e.level === 'error');
    assert.deepEqual(errors, [], 'no errors logged');
  });

  const api = (subject: string, body: unknown = ''): Promise<Record<string, any>> => jsApi(nc, subject, body);

  const rejects = rejectsWithJsError;

  test('create echoes the server defaults; info, update, names, list, find, delete', async () => {
    const si = await jsm.streams.add({ name: 'CRUD', subjects: ['crud.>'] });
    const c = si.config;
    assert.deepEqual(
      [c.retention, c.storage, c.discard, c.max_msgs, c.max_bytes, c.max_age, c.max_msgs_per_subject, c.max_msg_size, c.num_replicas],
      ['limits', 'file', 'old', -1, -1, 0, -1, -1, 1],
    );
    assert.equal(c.duplicate_window, 120_000_000_000);
    assert.equal(si.state.messages, 0);
    assert.equal(si.state.first_ts, '0001-01-01T00:00:00Z');
    // Re-creating with the same config succeeds; a different one is 10058.
    await jsm.streams.add({ name: 'CRUD', subjects: ['crud.>'] });
    await rejects(jsm.streams.add({ name: 'CRUD', subjects: ['crud.>'], max_msgs: 5 }), 10058);

    const updated = await jsm.streams.update('CRUD', { subjects: ['crud.>', 'crud2.*'], max_msgs: 100 });
    assert.equal(updated.config.max_msgs, 100);
    await js.publish('crud2.x', 'via new subject');
    assert.equal((await jsm.streams.info('CRUD')).state.messages, 1);

    await jsm.streams.add({ name: 'CRUD_MEM', subjects: ['crudmem'], storage: 'memory' as StreamConfig['storage'] });
    const names: string[] = [];
    for await (const n of jsm.streams.names()) names.push(n);
    assert.ok(names.includes('CRUD') && names.includes('CRUD_MEM'));
    const listed: string[] = [];
    for await (const s of jsm.streams.list('crud2.abc')) listed.push(s.config.name);
    assert.deepEqual(listed, ['CRUD']);
    assert.equal(await jsm.streams.find('crudmem'), 'CRUD_MEM');

    const info = await jsm.getAccountInfo();
    assert.ok(info.streams >= 2);
    assert.ok(info.storage > 0);

    assert.equal(await jsm.streams.delete('CRUD'), true);
    assert.equal(await jsm.streams.delete('CRUD_MEM'), true);
    await rejects(jsm.streams.info('CRUD'), 10059, 'stream not found');
  });

  test('publishes are acked with increasing sequences; Nats-Msg-Id dedupes inside the window', async () => {
    await jsm.streams.add({ name: 'PUB', subjects: ['pub.*'] });
    const acks = await Promise.all(Array.from({ length: 50 }, (_, i) => js.publish('pub.a', `m${i}`)));
    assert.deepEqual(
      acks.map((a) => a.seq),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.ok(acks.every((a) => a.stream === 'PUB' && !a.duplicate));
    const first = await js.publish('pub.b', 'x', { msgID: 'order-1' });
    const dup = await js.publish('pub.b', 'x again', { msgID: 'order-1' });
    assert.equal(first.seq, 51);
    assert.deepEqual([dup.seq, dup.duplicate], [51, true]);
    assert.equal((await jsm.streams.info('PUB')).state.messages, 51);
  });

  test('dedupe stops once the duplicate window has passed', async () => {
    await jsm.streams.add({ name: 'DUPWIN', subjects: ['dupwin'], duplicate_window: 100_000_000 });
    const a = await js.publish('dupwin', '1', { msgID: 'k' });
    assert.equal((await js.publish('dupwin', '1', { msgID: 'k' })).duplicate, true);
    const later = await waitFor(async () => {
      const ack = await js.publish('dupwin', '2', { msgID: 'k' });
      return ack.duplicate ? undefined : ack;
    }, 'the duplicate window to pass');
    assert.equal(later.seq, a.seq + 1);
  });

  test('max_msgs, max_bytes and max_msgs_per_subject evict the oldest (discard old)', async () => {
    await jsm.streams.add({ name: 'LIM_MSGS', subjects: ['lim.msgs'], max_msgs: 3 });
    for (let i = 0; i < 5; i++) await js.publish('lim.msgs', `${i}`);
    let st = (await jsm.streams.info('LIM_MSGS')).state;
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [3, 3, 5]);

    // A file-store record of subject "lim.bytes" and a 100-byte payload is 22+9+100+8 = 139 bytes.
    await jsm.streams.add({ name: 'LIM_BYTES', subjects: ['lim.bytes'], max_bytes: 139 * 2 });
    for (let i = 0; i < 4; i++) await js.publish('lim.bytes', new Uint8Array(100));
    st = (await jsm.streams.info('LIM_BYTES')).state;
    assert.deepEqual([st.messages, st.bytes, st.first_seq], [2, 278, 3]);

    await jsm.streams.add({ name: 'LIM_PER', subjects: ['lim.per.*'], max_msgs_per_subject: 2 });
    for (const s of ['a', 'b', 'a', 'a', 'a', 'b']) await js.publish(`lim.per.${s}`, s);
    const info = await jsm.streams.info('LIM_PER', { subjects_filter: '>' });
    assert.deepEqual(info.state.subjects, { 'lim.per.a': 2, 'lim.per.b': 2 });
    assert.equal(info.state.first_seq, 2);
  });

  test('max_msg_size and discard new refuse publishes with nats-server errors', async () => {
    await jsm.streams.add({ name: 'LIM_SIZE', subjects: ['lim.size'], max_msg_size: 10 });
    await js.publish('lim.size', '0123456789');
    await rejects(js.publish('lim.size', '0123456789x'), 10054, 'message size exceeds maximum allowed');

    await jsm.streams.add({ name: 'LIM_NEW', subjects: ['lim.new'], max_msgs: 2, discard: 'new' as StreamConfig['discard'] });
    await js.publish('lim.new', '1');
    await js.publish('lim.new', '2');
    await rejects(js.publish('lim.new', '3'), 10077, 'maximum messages exceeded');
    assert.equal((await jsm.streams.info('LIM_NEW')).state.messages, 2);

    await jsm.streams.add({
      name: 'LIM_NEWPER',
      subjects: ['lim.newper.*'],
      discard: 'new' as StreamConfig['discard'],
      max_msgs_per_subject: 1,
      discard_new_per_subject: true,
    });
    await js.publish('lim.newper.a', '1');
    await js.publish('lim.newper.b', '1');
    await rejects(js.publish('lim.newper.a', '2'), 10077, 'maximum messages per subject exceeded');
  });

  test('first_seq starts the stream at the given sequence', async () => {
    const si = await jsm.streams.add({ name: 'FIRSTSEQ', subjects: ['firstseq'], first_seq: 100 });
    assert.equal(si.config.first_seq, 100);
    assert.deepEqual([si.state.first_seq, si.state.last_seq], [100, 99]);
    assert.equal((await js.publish('firstseq', 'x')).seq, 100);
  });

  test('max_age removes messages once they are older than the limit', async () => {
    await jsm.streams.add({ name: 'AGE', subjects: ['age'], max_age: 200_000_000 });
    for (let i = 0; i < 10; i++) await js.publish('age', `${i}`);
    await waitFor(async () => (await jsm.streams.info('AGE')).state.messages === 0, 'messages to expire', 5000);
    const st = (await jsm.streams.info('AGE')).state;
    assert.deepEqual([st.first_seq, st.last_seq], [11, 10]);
    assert.equal((await js.publish('age', 'after')).seq, 11);
  });

  test('Nats-Expected-* headers reject mismatches with the right err_code', async () => {
    await jsm.streams.add({ name: 'EXP', subjects: ['exp.*'] });
    await js.publish('exp.a', '1', { msgID: 'first' });
    await js.publish('exp.b', '2');
    await rejects(js.publish('exp.a', 'x', { expect: { streamName: 'OTHER' } }), 10060, 'expected stream does not match');
    await rejects(js.publish('exp.a', 'x', { expect: { lastSequence: 1 } }), 10071, 'wrong last sequence: 2');
    await rejects(js.publish('exp.a', 'x', { expect: { lastSubjectSequence: 0 } }), 10071, 'wrong last sequence: 1');
    await rejects(js.publish('exp.a', 'x', { expect: { lastMsgID: 'first' } }), 10070, 'wrong last msg ID: ');
    const ok = await js.publish('exp.a', '3', {
      msgID: 'third',
      expect: { streamName: 'EXP', lastSequence: 2, lastSubjectSequence: 1 },
    });
    assert.equal(ok.seq, 3);
    assert.equal((await js.publish('exp.c', '4', { expect: { lastMsgID: 'third', lastSubjectSequence: 0 } })).seq, 4);
  });

  test('Nats-Rollup keeps only the rollup message (per subject or whole stream)', async () => {
    await jsm.streams.add({ name: 'ROLL', subjects: ['roll.*'], allow_rollup_hdrs: true });
    for (const s of ['a', 'b', 'a', 'b']) await js.publish(`roll.${s}`, s);
    const h = headers();
    h.set('Nats-Rollup', 'sub');
    await js.publish('roll.a', 'rolled', { headers: h });
    let info = await jsm.streams.info('ROLL', { subjects_filter: '>' });
    assert.deepEqual(info.state.subjects, { 'roll.a': 1, 'roll.b': 2 });
    const all = headers();
    all.set('Nats-Rollup', 'all');
    await js.publish('roll.b', 'everything', { headers: all });
    info = await jsm.streams.info('ROLL');
    assert.deepEqual([info.state.messages, info.state.first_seq], [1, 6]);

    await jsm.streams.add({ name: 'NOROLL', subjects: ['noroll'] });
    await rejects(js.publish('noroll', 'x', { headers: h }), 10111, 'rollup not permitted');
  });

  test('get, delete and direct get', async () => {
    await jsm.streams.add({ name: 'READ', subjects: ['read.>'], allow_direct: true });
    const h = headers();
    h.set('App', 'v1');
    await js.publish('read.a', 'one', { headers: h });
    await js.publish('read.b', 'two');
    await js.publish('read.a', 'three');

    const bySeq = await jsm.streams.getMessage('READ', { seq: 1 });
    assert.deepEqual([bySeq?.subject, bySeq?.string(), bySeq?.header.get('App')], ['read.a', 'one', 'v1']);
    const last = await jsm.streams.getMessage('READ', { last_by_subj: 'read.a' });
    assert.deepEqual([last?.seq, last?.string()], [3, 'three']);
    const next = await api('$JS.API.STREAM.MSG.GET.READ', { seq: 2, next_by_subj: 'read.a' });
    assert.equal(next.message.seq, 3);
    assert.equal(await jsm.streams.getMessage('READ', { seq: 99 }), null);

    const direct = await jsm.direct.getMessage('READ', { seq: 1 });
    assert.deepEqual([direct?.seq, direct?.subject, direct?.string()], [1, 'read.a', 'one']);
    assert.equal(direct?.header.get('Nats-Stream'), 'READ');
    assert.equal(direct?.header.get('App'), 'v1');
    assert.match(direct?.timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const directLast = await jsm.direct.getMessage('READ', { last_by_subj: 'read.b' });
    assert.deepEqual([directLast?.seq, directLast?.string()], [2, 'two']);
    assert.equal(await jsm.direct.getMessage('READ', { seq: 42 }), null);

    assert.equal(await jsm.streams.deleteMessage('READ', 2), true);
    assert.equal(await jsm.streams.deleteMessage('READ', 1, false), true);
    await rejects(jsm.streams.deleteMessage('READ', 2), 10057, 'no message found');
    const info = await jsm.streams.info('READ', { deleted_details: true });
    assert.deepEqual([info.state.messages, info.state.first_seq], [1, 3]);
    await jsm.streams.add({ name: 'NODEL', subjects: ['nodel'], deny_delete: true });
    await js.publish('nodel', 'x');
    await rejects(jsm.streams.deleteMessage('NODEL', 1), 10057, 'message delete not permitted');
  });

  test('purge: everything, by subject, up to a sequence, keeping N', async () => {
    await jsm.streams.add({ name: 'PURGE', subjects: ['purge.*'] });
    const fill = async (): Promise<void> => {
      for (const s of ['a', 'b', 'a', 'b', 'a', 'b']) await js.publish(`purge.${s}`, s);
    };
    await fill();
    assert.equal((await jsm.streams.purge('PURGE', { filter: 'purge.a' })).purged, 3);
    assert.equal((await jsm.streams.purge('PURGE', { seq: 5 })).purged, 2);
    assert.equal((await jsm.streams.purge('PURGE')).purged, 1);
    let st = (await jsm.streams.info('PURGE')).state;
    assert.deepEqual([st.messages, st.first_seq, st.last_seq], [0, 7, 6]);
    await fill();
    assert.equal((await jsm.streams.purge('PURGE', { keep: 2 })).purged, 4);
    assert.equal((await jsm.streams.purge('PURGE', { filter: 'purge.b', keep: 1 })).purged, 0);
    await fill();
    assert.equal((await jsm.streams.purge('PURGE', { filter: 'purge.b', keep: 1 })).purged, 3);
    st = (await jsm.streams.info('PURGE')).state;
    assert.equal(st.messages, 5);
    assert.equal((await js.publish('purge.a', 'after')).seq, 19);
    await jsm.streams.add({ name: 'NOPURGE', subjects: ['nopurge'], deny_purge: true });
    await rejects(jsm.streams.purge('NOPURGE'), 10110, 'stream purge not permitted');
  });

  test('bad requests get JSON errors, never a crash', async () => {
    const type = 'io.nats.jetstream.api.v1.stream_create_response';
    const cases: [string, unknown, number, string][] = [
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', max_msgs: -5 }, 10052, 'max_msgs must be set to -1'],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', subjects: ['a..b'] }, 10052, 'invalid subject'],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', subjects: ['pub.x'] }, 10065, 'subjects overlap with an existing stream'],
      ['$JS.API.STREAM.CREATE.BAD', '{"name":"BAD",', 10025, ''],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', max_msgs: 'lots' }, 10025, ''],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'OTHER' }, 10056, 'stream name in subject does not match request'],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', num_replicas: 3 }, 10074, 'replicas > 1 not supported in non-clustered mode'],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', max_age: 5 }, 10052, 'max age needs to be >= 100ms'],
      ['$JS.API.STREAM.CREATE.BAD', { name: 'BAD', sealed: true }, 10052, 'stream configuration for create can not be sealed'],
    ];
    for (const [subject, body, errCode, description] of cases) {
      const r = await api(subject, body);
      assert.equal(r.type, type);
      assert.equal(r.error?.err_code, errCode, JSON.stringify(body));
      if (description !== '') assert.equal(r.error.description, description);
    }
    const unknown: [string, unknown, string][] = [
      ['$JS.API.STREAM.INFO.NOPE', '', 'stream_info'],
      ['$JS.API.STREAM.UPDATE.NOPE', { name: 'NOPE' }, 'stream_update'],
      ['$JS.API.STREAM.DELETE.NOPE', '', 'stream_delete'],
      ['$JS.API.STREAM.PURGE.NOPE', '', 'stream_purge'],
      ['$JS.API.STREAM.MSG.GET.NOPE', { seq: 1 }, 'stream_msg_get'],
      ['$JS.API.STREAM.MSG.DELETE.NOPE', { seq: 1 }, 'stream_msg_delete'],
    ];
    for (const [subject, body, kind] of unknown) {
      const r = await api(subject, body);
      assert.equal(r.type, `io.nats.jetstream.api.v1.${kind}_response`);
      assert.deepEqual(r.error, { code: 404, err_code: 10059, description: 'stream not found' }, subject);
    }
    assert.equal((await api('$JS.API.STREAM.NAMES', '{"offset":-1}')).offset, 0);
    assert.equal((await api('$JS.API.STREAM.NAMES', 'garbage')).error.err_code, 10025);
    assert.equal((await api('$JS.API.INFO', 'not empty')).error.err_code, 10038);
    assert.equal((await api('$JS.API.STREAM.MSG.GET.PUB', {})).error.err_code, 10003);
    assert.equal((await api('$JS.API.STREAM.PURGE.PUB', { seq: 2, keep: 1 })).error.err_code, 10003);
    // Still serving.
    assert.equal((await jsm.streams.info('PUB')).config.name, 'PUB');
  });
});
