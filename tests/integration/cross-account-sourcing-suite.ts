// Sources and mirrors from another account, run against any server started with SOURCING_CONF:
// sluice in tests/integration/cross-account-sourcing.test.ts, sluice and nats-server 2.9.10 side
// by side in tests/e2e/cross-account-sourcing-vs-nats-server.e2e.ts. Account B mirrors and
// sources account A's stream ORDERS through `external: { api: "$JS.A.API", deliver }`: A exports
// the consumer create (and delete) API of ORDERS, the deliver subjects and flow control; B
// imports them. Each scenario returns what B's streams hold as plain lines.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { waitFor } from '../helpers/deadline.ts';
import { publishMany } from '../helpers/publish-many.ts';

/** Messages published in one go once the links run. */
const BULK = 3000;

/** nats-server syntax; `$STORE` is replaced by a JetStream store directory. */
export const SOURCING_CONF = `
jetstream { store_dir: "$STORE" }
accounts {
  A: {
    jetstream: enabled
    users: [ { user: a, password: a } ]
    exports: [
      { service: "$JS.API.CONSUMER.CREATE.ORDERS", accounts: [B] }
      { service: "$JS.API.CONSUMER.CREATE.ORDERS.>", accounts: [B] }
      { service: "$JS.API.CONSUMER.DELETE.ORDERS.>", accounts: [B] }
      { service: "$JS.FC.>", accounts: [B] }
      { stream: "deliver.b.>", accounts: [B] }
    ]
  }
  B: {
    jetstream: enabled
    users: [ { user: b, password: b } ]
    imports: [
      { service: { account: A, subject: "$JS.API.CONSUMER.CREATE.ORDERS" }, to: "$JS.A.API.CONSUMER.CREATE.ORDERS" }
      { service: { account: A, subject: "$JS.API.CONSUMER.CREATE.ORDERS.>" }, to: "$JS.A.API.CONSUMER.CREATE.ORDERS.>" }
      { service: { account: A, subject: "$JS.API.CONSUMER.DELETE.ORDERS.>" }, to: "$JS.A.API.CONSUMER.DELETE.ORDERS.>" }
      { service: { account: A, subject: "$JS.FC.>" } }
      { stream: { account: A, subject: "deliver.b.>" } }
    ]
  }
}
`;

const EXTERNAL = { api: '$JS.A.API', deliver: 'deliver.b' };

async function as(url: string, user: string): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const nc = await connect({ servers: url, user, pass: user, name: user });
  return { nc, jsm: await jetstreamManager(nc) };
}

async function clean(jsm: JetStreamManager): Promise<void> {
  for await (const name of jsm.streams.names()) await jsm.streams.delete(name);
}

/** What B's stream holds: count, sequences and each message's subject and data. */
async function contents(jsm: JetStreamManager, stream: string): Promise<string> {
  const si = await jsm.streams.info(stream);
  const msgs: string[] = [];
  for (let seq = si.state.first_seq; seq <= si.state.last_seq && seq > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    msgs.push(m === null ? `${seq} missing` : `${m.subject}=${m.string()}`);
  }
  return `${stream}: ${si.state.messages} messages, ${si.state.first_seq}..${si.state.last_seq}: ${msgs.join(' ')}`;
}

async function waitForCount(jsm: JetStreamManager, stream: string, n: number): Promise<void> {
  await waitFor(async () => (await jsm.streams.info(stream)).state.messages >= n, `${stream} to hold ${n} messages`, 20_000);
}

/**
 * B mirrors ORDERS and sources it (filtered, next to its own subjects); A publishes before and
 * after B's streams exist; both follow. `keep` leaves the streams for a test to go on with.
 */
export async function mirrorAndSourceFromAccount(url: string, keep = false): Promise<string[]> {
  const a = await as(url, 'a');
  const b = await as(url, 'b');
  const out: string[] = [];
  try {
    await clean(a.jsm);
    await clean(b.jsm);
    await a.jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
    const js = jetstream(a.nc);
    for (let i = 1; i <= 4; i++) await js.publish(`orders.${i % 2 === 0 ? 'eu' : 'us'}.${i}`, `order ${i}`);
    await b.jsm.streams.add({ name: 'COPY', mirror: { name: 'ORDERS', external: EXTERNAL } });
    await b.jsm.streams.add({
      name: 'EU',
      subjects: ['local.>'],
      sources: [{ name: 'ORDERS', filter_subject: 'orders.eu.>', external: EXTERNAL }],
    });
    await waitForCount(b.jsm, 'COPY', 4);
    await waitForCount(b.jsm, 'EU', 2);
    for (let i = 5; i <= 6; i++) await js.publish(`orders.${i % 2 === 0 ? 'eu' : 'us'}.${i}`, `order ${i}`);
    await waitForCount(b.jsm, 'COPY', 6);
    await waitForCount(b.jsm, 'EU', 3);
    await jetstream(b.nc).publish('local.1', 'own');
    out.push(await contents(b.jsm, 'COPY'));
    out.push(await contents(b.jsm, 'EU'));
    const mi = await b.jsm.streams.info('COPY');
    out.push(`COPY mirror ${mi.mirror?.name} external ${(mi.mirror as { external?: { api: string } } | undefined)?.external?.api} lag ${mi.mirror?.lag}`);
    const ei = await b.jsm.streams.info('EU');
    // (2.10 also names each source's filter_subject here; 2.9.10 does not.)
    out.push(`EU sources ${ei.sources?.map((s) => `${s.name} lag ${s.lag}`).join(', ')}`);
    const own = (await a.jsm.streams.info('ORDERS')).state;
    out.push(`A's ORDERS: ${own.messages} messages`);
    // Enough to need the origin's flow control answered across the accounts ($JS.FC import).
    await publishMany(js, (i) => `orders.bulk.${i}`, BULK, 0);
    await waitForCount(b.jsm, 'COPY', 6 + BULK);
    const bulk = (await b.jsm.streams.info('COPY')).state;
    const last = await b.jsm.streams.getMessage('COPY', { seq: bulk.last_seq });
    const origin = (await a.jsm.streams.info('ORDERS')).state;
    out.push(`COPY after ${BULK} more: ${bulk.messages} messages, ${bulk.bytes === origin.bytes ? 'as many bytes as ORDERS' : 'bytes differ'}, last ${last?.subject}=${last?.string()}`);
    if (!keep) {
      await clean(b.jsm);
      await clean(a.jsm);
    }
  } finally {
    await a.nc.close();
    await b.nc.close();
  }
  return out;
}

/** After the streams of mirrorAndSourceFromAccount(keep): A publishes `n` more; B's mirror takes them once, in order. */
export async function mirrorResumes(url: string, n: number): Promise<string> {
  const a = await as(url, 'a');
  const b = await as(url, 'b');
  try {
    const before = (await b.jsm.streams.info('COPY')).state.messages;
    await publishMany(jetstream(a.nc), (i) => `orders.after.${i}`, n, 0);
    await waitForCount(b.jsm, 'COPY', before + n);
    const st = (await b.jsm.streams.info('COPY')).state;
    const origin = (await a.jsm.streams.info('ORDERS')).state;
    const last = await b.jsm.streams.getMessage('COPY', { seq: st.last_seq });
    return `COPY ${st.messages} messages, ${st.first_seq}..${st.last_seq}, ORDERS ${origin.messages} ${origin.first_seq}..${origin.last_seq}, last ${last?.subject}=${last?.string()}`;
  } finally {
    await a.nc.close();
    await b.nc.close();
  }
}
