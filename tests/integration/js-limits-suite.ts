// JetStream account limits, run against any server started with LIMITS_CONF: sluice in
// tests/integration/js-limits.test.ts, sluice and nats-server 2.9.10 side by side in
// tests/e2e/js-limits-vs-nats-server.e2e.ts (which compares what the clients were told).
// Each scenario returns what its client saw as plain lines: the error codes, the limits and the
// usage $JS.API.INFO reports.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { waitFor } from '../helpers/deadline.ts';
import { AckPolicy, JetStreamApiError, jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';

/**
 * nats-server syntax; `$STORE` is replaced by a JetStream store directory. L has the count and
 * byte limits, M the other spellings of the byte limits and max_ack_pending, R max_bytes_required
 * and a per-stream cap, U none (the server's totals still apply).
 */
export const LIMITS_CONF = `
jetstream { store_dir: "$STORE", max_mem: 2M, max_file: 64M }
accounts {
  L: {
    jetstream: { max_mem: 64K, max_file: 256K, max_streams: 3, max_consumers: 2 }
    users: [ { user: l, password: l } ]
  }
  M: {
    jetstream: { max_memory: 32K, max_store: 1M, max_ack_pending: 100 }
    users: [ { user: m, password: m } ]
  }
  R: {
    jetstream: { max_bytes_required: true, disk_max_stream_bytes: 100K }
    users: [ { user: r, password: r } ]
  }
  U: {
    jetstream: enabled
    users: [ { user: u, password: u } ]
  }
}
`;

export async function connectAs(url: string, user: string): Promise<NatsConnection> {
  return connect({ servers: url, user, pass: user, name: user });
}

/** `ok` or `<err_code> <description>` of an API call. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof JetStreamApiError) return `${e.status} ${e.code} ${e.message}`;
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

async function cleanStreams(jsm: JetStreamManager): Promise<void> {
  for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
}

/** $JS.API.INFO of each account: its limits and usage. */
export async function accountInfo(url: string): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const user of ['l', 'm', 'r', 'u']) {
    const nc = await connectAs(url, user);
    try {
      const info = await (await jetstreamManager(nc)).getAccountInfo();
      const { memory, storage, streams, consumers, limits, api } = info;
      out[user] = { memory, storage, streams, consumers, limits, api_keys: Object.keys(api).sort() };
    } finally {
      await nc.close();
    }
  }
  return out;
}

/** max_streams 3: the fourth create is refused; max_consumers 2 per stream. */
export async function streamAndConsumerCounts(url: string): Promise<string[]> {
  const nc = await connectAs(url, 'l');
  const out: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await cleanStreams(jsm);
    for (let i = 1; i <= 4; i++) out.push(`stream C${i}: ${await outcome(jsm.streams.add({ name: `C${i}`, subjects: [`count.${i}`] }))}`);
    out.push(`C1 again, same config: ${await outcome(jsm.streams.add({ name: 'C1', subjects: ['count.1'] }))}`);
    for (let i = 1; i <= 3; i++) out.push(`consumer d${i} on C1: ${await outcome(jsm.consumers.add('C1', { durable_name: `d${i}` }))}`);
    out.push(`consumer d1 on C2: ${await outcome(jsm.consumers.add('C2', { durable_name: 'd1' }))}`);
    out.push(`stream max_consumers 5 (account 2): ${await outcome(jsm.streams.update('C3', { subjects: ['count.3'], max_consumers: 5 } as Partial<StreamConfig>))}`);
    await jsm.streams.delete('C3');
    out.push(`C4 after deleting C3: ${await outcome(jsm.streams.add({ name: 'C4', subjects: ['count.4'], max_consumers: 5 }))}`);
    const info = await jsm.getAccountInfo();
    out.push(`account: ${info.streams} streams, ${info.consumers} consumers`);
    await cleanStreams(jsm);
  } finally {
    await nc.close();
  }
  return out;
}

/** max_bytes against what the account (and the server) has left. */
export async function reservations(url: string): Promise<string[]> {
  const out: string[] = [];
  for (const user of ['l', 'u']) {
    const nc = await connectAs(url, user);
    try {
      const jsm = await jetstreamManager(nc);
      await cleanStreams(jsm);
      const add = async (name: string, cfg: Partial<StreamConfig>): Promise<void> => {
        out.push(`${user} ${name} ${cfg.storage ?? 'file'} max_bytes ${cfg.max_bytes ?? '-'}: ${await outcome(jsm.streams.add({ name, subjects: [`res.${name}`], ...cfg }))}`);
      };
      await add('F1', { max_bytes: 200 * 1024 });
      await add('F2', { max_bytes: 100 * 1024 });
      await add('F3', { max_bytes: 56 * 1024 });
      await add('F4', {});
      await add('M1', { storage: 'memory' as StreamConfig['storage'], max_bytes: 128 * 1024 });
      await add('M2', { storage: 'memory' as StreamConfig['storage'], max_bytes: 64 * 1024 });
      await add('BIG', { max_bytes: 100 * 1024 * 1024 });
      await add('BIGM', { storage: 'memory' as StreamConfig['storage'], max_bytes: 3 * 1024 * 1024 });
      out.push(`${user} update F1 to max_bytes 300K: ${await outcome(jsm.streams.update('F1', { subjects: ['res.F1'], max_bytes: 300 * 1024 }))}`);
      const info = await jsm.getAccountInfo();
      out.push(`${user} account: ${info.streams} streams`);
      await cleanStreams(jsm);
    } finally {
      await nc.close();
    }
  }
  return out;
}

/** Publishes 1 KiB messages until refused: how many were stored, what the refusal says, the state after. */
export async function fillUp(url: string, user: string, storage: 'file' | 'memory', max: number): Promise<string[]> {
  const nc = await connectAs(url, user);
  const out: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await cleanStreams(jsm);
    await jsm.streams.add({ name: 'FILL', subjects: ['fill.>'], storage: storage as StreamConfig['storage'] });
    const js = jetstream(nc);
    const payload = new Uint8Array(1024);
    let stored = 0;
    let refusal = '';
    for (let i = 0; i < max && refusal === ''; i++) {
      const r = await outcome(js.publish(`fill.${i % 4}`, payload));
      if (r === 'ok') stored++;
      else refusal = r;
    }
    out.push(`${user} ${storage}: stored ${stored}, then ${refusal || 'no refusal'}`);
    out.push(`${user} ${storage}: next publish: ${await outcome(js.publish('fill.x', payload))}`);
    const si = await jsm.streams.info('FILL');
    out.push(`${user} ${storage}: state ${si.state.messages} messages, first ${si.state.first_seq}, last ${si.state.last_seq}`);
    const info = await jsm.getAccountInfo();
    out.push(`${user} ${storage}: account memory ${info.memory > 0 ? 'used' : '0'}, storage ${info.storage > 0 ? 'used' : '0'}`);
    await jsm.streams.purge('FILL');
    out.push(`${user} ${storage}: after purge: ${await outcome(js.publish('fill.y', payload))}`);
    await cleanStreams(jsm);
  } finally {
    await nc.close();
  }
  return out;
}

/** max_ack_pending 100 (account M): a consumer's default, and its ceiling. */
export async function ackPending(url: string): Promise<string[]> {
  const nc = await connectAs(url, 'm');
  const out: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await cleanStreams(jsm);
    await jsm.streams.add({ name: 'ACKS', subjects: ['acks.>'] });
    const d = await jsm.consumers.add('ACKS', { durable_name: 'default', ack_policy: AckPolicy.Explicit });
    out.push(`default: max_ack_pending ${d.config.max_ack_pending}`);
    const low = await jsm.consumers.add('ACKS', { durable_name: 'low', ack_policy: AckPolicy.Explicit, max_ack_pending: 50 });
    out.push(`50: max_ack_pending ${low.config.max_ack_pending}`);
    out.push(`500: ${await outcome(jsm.consumers.add('ACKS', { durable_name: 'high', ack_policy: AckPolicy.Explicit, max_ack_pending: 500 }))}`);
    const none = await jsm.consumers.add('ACKS', { durable_name: 'none', ack_policy: AckPolicy.None });
    out.push(`ack none: max_ack_pending ${none.config.max_ack_pending ?? '-'}`);
    await cleanStreams(jsm);
  } finally {
    await nc.close();
  }
  return out;
}

/**
 * A mirror in account L (memory, like its origin) copies until the account's memory is full: the
 * copies beyond it keep their sequences but not their messages, and the mirror goes on.
 */
export async function mirrorIntoFullAccount(url: string): Promise<string[]> {
  const nc = await connectAs(url, 'l');
  try {
    const jsm = await jetstreamManager(nc);
    await cleanStreams(jsm);
    const memory = 'memory' as StreamConfig['storage'];
    await jsm.streams.add({ name: 'ORIG', subjects: ['orig.>'], storage: memory });
    const js = jetstream(nc);
    const payload = new Uint8Array(1024);
    for (let i = 1; i <= 40; i++) await js.publish(`orig.${i % 4}`, payload);
    await jsm.streams.add({ name: 'MIR', mirror: { name: 'ORIG' }, storage: memory });
    // Copied (or dropped) up to the origin's last sequence.
    await waitFor(async () => (await jsm.streams.info('MIR')).state.last_seq >= 40, 'the mirror to reach sequence 40', 10_000);
    const st = (await jsm.streams.info('MIR')).state;
    const out = [`MIR: ${st.messages} messages, first ${st.first_seq}, last ${st.last_seq}`];
    await jsm.streams.purge('ORIG');
    await jsm.streams.purge('MIR');
    await js.publish('orig.after', payload);
    await waitFor(async () => (await jsm.streams.info('MIR')).state.messages >= 1, 'the mirror to copy again', 10_000);
    const again = (await jsm.streams.info('MIR')).state;
    out.push(`after purging both: MIR ${again.messages} messages, last ${again.last_seq}`);
    await cleanStreams(jsm);
    return out;
  } finally {
    await nc.close();
  }
}

/** max_bytes_required and disk_max_stream_bytes 100K (account R), on create and update. */
export async function perStreamBytes(url: string): Promise<string[]> {
  const nc = await connectAs(url, 'r');
  const out: string[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await cleanStreams(jsm);
    const add = async (what: string, cfg: Partial<StreamConfig>): Promise<void> => {
      out.push(`${what}: ${await outcome(jsm.streams.add({ name: 'CAP', subjects: ['cap.>'], ...cfg }))}`);
    };
    await add('no max_bytes', {});
    await add('max_bytes 200K', { max_bytes: 200_000 });
    await add('memory, max_bytes 200K (no memory cap)', { max_bytes: 200_000, storage: 'memory' as StreamConfig['storage'] });
    await jsm.streams.delete('CAP');
    await add('max_bytes 50K', { max_bytes: 50_000 });
    out.push(`update to max_bytes 150K: ${await outcome(jsm.streams.update('CAP', { subjects: ['cap.>'], max_bytes: 150_000 }))}`);
    out.push(`update to no max_bytes: ${await outcome(jsm.streams.update('CAP', { subjects: ['cap.>'], max_bytes: -1 }))}`);
    await cleanStreams(jsm);
  } finally {
    await nc.close();
  }
  return out;
}
