import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumerConfig, StreamConfig } from '../../protocol/jetstream-api.ts';
import { normalizeStreamConfig } from '../stream/config.ts';
import {
  applyConsumerDefaults,
  checkConsumerConfig,
  checkConsumerUpdate,
  consumerConfigJson,
  decodeConsumerConfig,
  sameConsumerConfig,
} from './config.ts';

function stream(body: Record<string, unknown> = {}): StreamConfig {
  const r = normalizeStreamConfig({ name: 'S', subjects: ['s.>'], ...body });
  assert.ok(r.ok);
  return r.config;
}

function cfg(raw: Record<string, unknown>, s = stream()): ConsumerConfig {
  const d = decodeConsumerConfig(raw);
  assert.ok(typeof d !== 'string', String(d));
  return applyConsumerDefaults(d, s);
}

test('a durable pull consumer echoes nats-server defaults in its field order', () => {
  const c = consumerConfigJson(cfg({ durable_name: 'd', name: 'd', ack_policy: 'explicit' }));
  assert.equal(
    JSON.stringify(c),
    '{"durable_name":"d","name":"d","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,"replay_policy":"instant","max_waiting":512,"max_ack_pending":1000,"num_replicas":0}',
  );
});

test('ephemerals get the 5 s inactive threshold; ack none has no ack wait or ack pending', () => {
  const c = consumerConfigJson(cfg({ deliver_subject: 'in.box', ack_policy: 'none' }));
  assert.equal(c.inactive_threshold, 5e9);
  assert.equal(c.ack_wait, undefined);
  assert.equal(c.max_ack_pending, undefined);
  assert.equal(c.max_waiting, undefined, 'push consumers have no waiting queue');
});

test('backoff sets the ack wait; stream consumer limits fill in the defaults', () => {
  const s = stream({ consumer_limits: { max_ack_pending: 50, inactive_threshold: 60e9 } });
  const c = cfg({ durable_name: 'd', ack_policy: 'explicit', backoff: [1e9, 5e9], max_deliver: 3 }, s);
  assert.deepEqual([c.ack_wait, c.max_ack_pending, c.inactive_threshold], [1e9, 50, 60e9]);
  assert.equal(checkConsumerConfig(c, s), undefined);
  const over = cfg({ durable_name: 'd', ack_policy: 'explicit', max_ack_pending: 51 }, s);
  assert.equal(checkConsumerConfig(over, s)?.err_code, 10121);
});

test('validation answers with nats-server err_codes', () => {
  const s = stream();
  const code = (raw: Record<string, unknown>, st = s): number | undefined => checkConsumerConfig(cfg(raw, st), st)?.err_code;
  assert.equal(code({ deliver_policy: 'by_start_sequence' }), 10094);
  assert.equal(code({ deliver_policy: 'all', opt_start_seq: 5 }), 10094);
  assert.equal(code({ deliver_policy: 'last_per_subject' }), 10094);
  assert.equal(code({ deliver_policy: 'by_start_time' }), 10094);
  assert.equal(code({ ack_policy: 'explicit', backoff: [1e9, 2e9], max_deliver: 1 }), 10116);
  assert.equal(code({ deliver_subject: 'x.*' }), 10079);
  assert.equal(code({ deliver_subject: 's.a' }), 10081, 'captured by the stream');
  assert.equal(code({ deliver_subject: 'x', flow_control: true }), 10108);
  assert.equal(code({ deliver_subject: 'x', idle_heartbeat: 50e6 }), 10083);
  assert.equal(code({ idle_heartbeat: 1e9 }), 10088);
  assert.equal(code({ flow_control: true }), 10089);
  assert.equal(code({ filter_subject: 'a', filter_subjects: ['b'] }), 10136);
  assert.equal(code({ filter_subjects: ['s.a', 's.*'] }), 10138);
  assert.equal(code({ filter_subjects: [''] }), 10139);
  assert.equal(code({ durable_name: 'a', name: 'b' }), 10132);
  assert.equal(code({ ack_policy: 'none' }, stream({ retention: 'workqueue' })), 10084);
  assert.equal(code({ num_replicas: 3 }), 10126);
  assert.equal(code({ sample_freq: 'often' }), 10095);
  assert.equal(code({ deliver_policy: 'last_per_subject', filter_subject: 's.>' }), undefined);
});

test('decoding rejects wrongly typed fields like Go json.Unmarshal', () => {
  assert.match(String(decodeConsumerConfig({ ack_wait: '30s' })), /cannot unmarshal string/);
  assert.match(String(decodeConsumerConfig({ deliver_policy: 'sometimes' })), /can not unmarshal "sometimes"/);
  assert.match(String(decodeConsumerConfig({ opt_start_time: 'yesterday' })), /parsing time/);
});

test('update rules', () => {
  const old = cfg({ durable_name: 'd', ack_policy: 'explicit' });
  assert.equal(checkConsumerUpdate(old, cfg({ durable_name: 'd', ack_policy: 'explicit', max_ack_pending: 10, description: 'x' }), false), undefined);
  assert.equal(checkConsumerUpdate(old, cfg({ durable_name: 'd', ack_policy: 'all' }), false), 'ack policy can not be updated');
  assert.equal(checkConsumerUpdate(old, cfg({ durable_name: 'd', ack_policy: 'explicit', deliver_policy: 'new' }), false), 'deliver policy can not be updated');
  assert.equal(checkConsumerUpdate(old, cfg({ durable_name: 'd', ack_policy: 'explicit', deliver_subject: 'x' }), false), 'can not update pull consumer to push based');
  const push = cfg({ durable_name: 'd', deliver_subject: 'x' });
  const moved = cfg({ durable_name: 'd', deliver_subject: 'y' });
  assert.equal(checkConsumerUpdate(push, moved, false), undefined);
  assert.deepEqual((checkConsumerUpdate(push, moved, true) as { err_code: number }).err_code, 10013);
  assert.equal(sameConsumerConfig(old, cfg({ durable_name: 'd', ack_policy: 'explicit' })), true);
});
