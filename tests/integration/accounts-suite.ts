// The accounts scenarios, run against any server started with ACCOUNTS_CONF: sluice in
// tests/integration/accounts.test.ts, sluice and nats-server side by side in
// tests/e2e/accounts-vs-nats-server.e2e.ts (which compares what every client received).
// Each scenario returns what its clients received, as plain data in a stable order.

import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '../helpers/deadline.ts';

/** nats-server syntax; `$STORE` is replaced by a JetStream store directory. */
export const ACCOUNTS_CONF = `
jetstream { store_dir: "$STORE" }
authorization { users: [ { user: g, password: g } ] }
no_auth_user: g
system_account: SYS
accounts {
  A: {
    jetstream: enabled
    users: [ { user: a, password: a } ]
    exports: [
      { stream: "a.>" }
      { service: "svc.*" }
      { service: "chunks.*", response_type: stream }
      { stream: "private.>", accounts: [C] }
      { service: "$JS.API.>", response_type: stream, accounts: [B] }
      { service: "c.orders.>", accounts: [B] }
      { service: "$JS.ACK.>", accounts: [B] }
    ]
  }
  B: {
    jetstream: enabled
    users: [ { user: b, password: b } ]
    imports: [
      { stream: { account: A, subject: "a.>" }, prefix: from_a }
      { service: { account: A, subject: "svc.x" }, to: "local.x" }
      { service: { account: A, subject: "svc.*" } }
      { service: { account: A, subject: "chunks.*" } }
      { service: { account: A, subject: "$JS.API.>" }, to: "JS.A.API.>" }
      { service: { account: A, subject: "c.orders.>" } }
      { service: { account: A, subject: "$JS.ACK.>" } }
    ]
  }
  SYS: { users: [ { user: sys, password: sys } ] }
  C: {
    users: [ { user: c, password: c, permissions: { publish: ["c.>"], subscribe: ["c.>", "_INBOX.>", "private.>"] } } ]
    imports: [ { stream: { account: A, subject: "private.>" } } ]
  }
}
`;

export interface Clients {
  /** No credentials: no_auth_user g, in $G. */
  g: NatsConnection;
  a: NatsConnection;
  b: NatsConnection;
  c: NatsConnection;
}

export async function connectAll(url: string): Promise<Clients> {
  const [g, a, b, c] = await Promise.all([
    connect({ servers: url, name: 'g' }),
    connect({ servers: url, user: 'a', pass: 'a', name: 'a' }),
    connect({ servers: url, user: 'b', pass: 'b', name: 'b' }),
    connect({ servers: url, user: 'c', pass: 'c', name: 'c' }),
  ]);
  return { g: g!, a: a!, b: b!, c: c! };
}

export async function closeAll(cl: Clients | undefined): Promise<void> {
  if (cl === undefined) return;
  await Promise.all(Object.values(cl).map((nc: NatsConnection) => nc.close().catch(() => {})));
}

/** Collects "who subject data" lines; `settle` waits until `n` arrived (no fixed sleeps). */
export class Received {
  readonly lines: string[] = [];
  add(who: string): (err: Error | null, m: Msg) => void {
    return (_err, m) => this.lines.push(`${who} ${m.subject} ${m.string()}`);
  }
  async settle(n: number, what: string): Promise<string[]> {
    await waitFor(() => this.lines.length >= n, what, 5000);
    return [...this.lines].sort();
  }
}

async function flushAll(cl: Clients): Promise<void> {
  await Promise.all([cl.g.flush(), cl.a.flush(), cl.b.flush(), cl.c.flush()]);
}

/**
 * The same subject in every account: each subscriber hears only its own account's publish, then a
 * marker each account publishes last proves nothing else was on its way.
 */
export async function isolation(cl: Clients): Promise<string[]> {
  const r = new Received();
  const subs = Object.entries(cl).map(([who, nc]) => (nc as NatsConnection).subscribe('c.shared', { callback: r.add(who) }));
  await flushAll(cl);
  for (const [who, nc] of Object.entries(cl)) (nc as NatsConnection).publish('c.shared', `from ${who}`);
  await flushAll(cl);
  const lines = await r.settle(4, 'every account to hear its own publish');
  // A round trip through each server connection: anything that crossed would be here by now.
  await flushAll(cl);
  for (const s of subs) s.unsubscribe();
  return [...lines, ...r.lines.slice(4)];
}

/** A stream import with a prefix: A's publish appears in B under from_a; B's own does not go to A. */
export async function streamImport(cl: Clients): Promise<string[]> {
  const r = new Received();
  const sb = cl.b.subscribe('from_a.>', { callback: r.add('b') });
  const sa = cl.a.subscribe('a.>', { callback: r.add('a') });
  const sc = cl.c.subscribe('private.>', { callback: r.add('c') });
  await flushAll(cl);
  cl.a.publish('a.one', '1');
  cl.b.publish('a.two', 'from b: stays in B');
  cl.a.publish('private.p', 'only C imports this');
  await flushAll(cl);
  const lines = await r.settle(3, 'the imported stream');
  await flushAll(cl);
  sb.unsubscribe();
  sa.unsubscribe();
  sc.unsubscribe();
  return [...lines, ...r.lines.slice(3)];
}

/**
 * Service imports: `to` remaps local.x onto A's svc.x, a wildcard import passes the subject as
 * published, a request no responder in A serves gets no-responders, and the responder sees a
 * reply subject of its own account, never B's inbox.
 */
export async function serviceImport(cl: Clients): Promise<string[]> {
  const seen: string[] = [];
  const responder = cl.a.subscribe('svc.*', {
    callback: (_e, m) => {
      const info = m.headers?.get('Nats-Request-Info');
      const acc = info ? (JSON.parse(info) as { acc?: string }).acc : 'none';
      const mine = m.headers?.get('X-Mine') ?? '';
      seen.push(`a saw ${m.subject} reply ${m.reply?.startsWith('_R_.') ? '_R_.*' : String(m.reply)} from account ${acc}${mine ? ` X-Mine ${mine}` : ''}`);
      if (m.subject !== 'svc.silent') m.respond(`A answers ${m.subject}: ${m.string()}`);
    },
  });
  await cl.a.flush();
  const out: string[] = [];
  out.push((await cl.b.request('local.x', 'via to', { timeout: 2000 })).string());
  const h = headers();
  h.set('X-Mine', 'kept');
  out.push((await cl.b.request('svc.y', 'via wildcard', { timeout: 2000, headers: h })).string());
  out.push(await outcome(cl.b.request('svc.silent', 'nobody answers', { timeout: 500 })));
  responder.unsubscribe();
  await cl.a.flush();
  out.push(await outcome(cl.c.request('c.svc', 'C imports no service', { timeout: 2000 })));
  return [...seen.sort(), ...out];
}

function outcome(p: Promise<Msg>): Promise<string> {
  return p.then(
    (m) => `answer ${m.string()}`,
    (e: Error) => `error ${e.name}${/no responders/i.test(e.message) ? ' (no responders)' : ''}`,
  );
}

/**
 * A request through a service import that no one in the exporting account serves: no-responders
 * (nats-server >= 2.11; 2.9.10 lets it time out, see the e2e).
 */
export async function serviceNoResponders(cl: Clients): Promise<string[]> {
  return [await outcome(cl.b.request('svc.y', 'no responder', { timeout: 1000 }))];
}

/** A singleton export answers once however often the responder replies; a stream export every time. */
export async function responseTypes(cl: Clients): Promise<string[]> {
  const responder = (subject: string) =>
    cl.a.subscribe(subject, {
      callback: (_e, m) => {
        for (let i = 1; i <= 3; i++) m.respond(`${m.subject} part ${i}`);
      },
    });
  const s1 = responder('svc.twice');
  const s2 = responder('chunks.1');
  await cl.a.flush();
  const got = new Received();
  const inbox = cl.b.subscribe('c.replies.>', { callback: got.add('b') });
  await cl.b.flush();
  cl.b.publish('svc.twice', 'x', { reply: 'c.replies.singleton' });
  cl.b.publish('chunks.1', 'x', { reply: 'c.replies.stream' });
  await cl.b.flush();
  const lines = await got.settle(4, 'one singleton response and three streamed ones');
  // The round trip to A and back again: a late second singleton response would show by now.
  await cl.a.flush();
  await cl.b.flush();
  s1.unsubscribe();
  s2.unsubscribe();
  inbox.unsubscribe();
  return [...lines, ...got.lines.slice(4)];
}

/** A queue group's members in A share the messages; B's members of the same name hear nothing. */
export async function queueGroups(cl: Clients): Promise<string[]> {
  const counts = { a1: 0, a2: 0, b: 0 };
  const subs = [
    cl.a.subscribe('c.jobs', { queue: 'w', callback: () => void counts.a1++ }),
    cl.a.subscribe('c.jobs', { queue: 'w', callback: () => void counts.a2++ }),
    cl.b.subscribe('c.jobs', { queue: 'w', callback: () => void counts.b++ }),
  ];
  await flushAll(cl);
  for (let i = 0; i < 20; i++) cl.a.publish('c.jobs', String(i));
  await cl.a.flush();
  await waitFor(() => counts.a1 + counts.a2 >= 20, 'the queue group to get every job', 5000);
  await flushAll(cl);
  for (const s of subs) s.unsubscribe();
  return [`A's group got ${counts.a1 + counts.a2}`, `B's group got ${counts.b}`];
}

/** $JS.API in an account with JetStream answers; in one without, 10039. */
export async function jetstreamPerAccount(cl: Clients): Promise<string[]> {
  const info = async (nc: NatsConnection): Promise<string> => {
    const m = await nc.request('$JS.API.INFO', '', { timeout: 2000 });
    const body = m.json<{ type: string; error?: { code: number; err_code: number } }>();
    return body.error === undefined ? `${body.type} ok` : `${body.type} ${body.error.code} ${body.error.err_code}`;
  };
  return [`a ${await info(cl.a)}`, `b ${await info(cl.b)}`, `g ${await info(cl.g)}`];
}

/**
 * JetStream per account: A and B each make a stream of the same name on the same subjects; each
 * stores only its own account's messages and lists only its own stream.
 */
export async function jetstreamIsolation(cl: Clients): Promise<string[]> {
  const out: string[] = [];
  for (const nc of [cl.a, cl.b]) await (await jetstreamManager(nc)).streams.add({ name: 'SAME', subjects: ['c.same.>'] });
  const js = (nc: NatsConnection) => jetstream(nc);
  await js(cl.a).publish('c.same.1', 'a1');
  await js(cl.a).publish('c.same.2', 'a2');
  await js(cl.b).publish('c.same.1', 'b1');
  cl.g.publish('c.same.1', 'g: no stream in $G');
  await cl.g.flush();
  for (const [who, nc] of [['a', cl.a], ['b', cl.b]] as const) {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('SAME');
    const names: string[] = [];
    for await (const n of jsm.streams.names()) names.push(n);
    const last = await jsm.streams.getMessage('SAME', { last_by_subj: 'c.same.1' });
    out.push(`${who}: ${info.state.messages} messages, streams ${names.join(',')}, last on c.same.1 ${last?.string()}`);
    await jsm.streams.delete('SAME');
  }
  return out;
}

/**
 * The system account: a client connecting and leaving is announced in SYS on
 * $SYS.ACCOUNT.<account>.CONNECT / DISCONNECT, and $SYS.REQ.SERVER.PING answers with statistics.
 * Returned with the values that differ between two servers (ids, times, hosts) reduced to keys.
 */
export async function systemEvents(url: string): Promise<unknown> {
  const sys = await connect({ servers: url, user: 'sys', pass: 'sys' });
  try {
    const events: Record<string, unknown>[] = [];
    sys.subscribe('$SYS.ACCOUNT.A.*', {
      callback: (_e, m) => {
        if (!m.subject.endsWith('.CONNECT') && !m.subject.endsWith('.DISCONNECT')) return;
        events.push({ subject: m.subject, ...m.json<Record<string, unknown>>() });
      },
    });
    await sys.flush();
    const nc = await connect({ servers: url, user: 'a', pass: 'a', name: 'evt' });
    nc.publish('c.evt', 'hello');
    await nc.flush();
    await nc.close();
    await waitFor(() => events.length >= 2, 'the connect and disconnect events', 5000);
    const ping = await sys.request('$SYS.REQ.SERVER.PING', '', { timeout: 2000 });
    const keys = (o: unknown) => Object.keys((o ?? {}) as object).sort();
    const shape = (e: Record<string, unknown>) => {
      const client = e.client as Record<string, unknown>;
      return {
        subject: e.subject,
        type: e.type,
        keys: keys(e),
        server: keys(e.server),
        client: { keys: keys(client).filter((k) => k !== 'rtt'), acc: client.acc, user: client.user, name: client.name, kind: client.kind, client_type: client.client_type },
        ...(e.reason !== undefined ? { sent: e.sent, received: e.received, reason: e.reason } : {}),
      };
    };
    const p = ping.json<{ server: unknown; statsz: Record<string, unknown> }>();
    return { events: events.map(shape), ping: { server: keys(p.server), statsz: keys(p.statsz) } };
  } finally {
    await sys.close();
  }
}

/**
 * Cross-account JetStream: B uses A's JetStream through imports of A's API (as JS.A.API), of the
 * stream's subjects and of the ack subjects; A sees what B stored and acknowledged.
 */
export async function crossAccountJetStream(cl: Clients): Promise<string[]> {
  const out: string[] = [];
  const jsm = await jetstreamManager(cl.b, { apiPrefix: 'JS.A.API' });
  const info = await jsm.streams.add({ name: 'XORDERS', subjects: ['c.orders.>'] });
  out.push(`created ${info.config.name}`);
  const js = jetstream(cl.b, { apiPrefix: 'JS.A.API' });
  for (let i = 1; i <= 3; i++) {
    const ack = await js.publish(`c.orders.${i}`, `order ${i}`);
    out.push(`puback ${ack.stream} ${ack.seq}`);
  }
  await jsm.consumers.add('XORDERS', { durable_name: 'd', ack_policy: AckPolicy.Explicit });
  const consumer = await js.consumers.get('XORDERS', 'd');
  const batch = await consumer.fetch({ max_messages: 3, expires: 2000 });
  for await (const m of batch) {
    out.push(`fetched ${m.subject} ${m.string()}`);
    if (!(await m.ackAck())) out.push(`ack of ${m.seq} not confirmed`);
  }
  const own = await jetstreamManager(cl.a);
  const si = await own.streams.info('XORDERS');
  const ci = await own.consumers.info('XORDERS', 'd');
  out.push(`A sees ${si.state.messages} messages, ${ci.num_ack_pending} unacknowledged, ${ci.delivered.consumer_seq} delivered`);
  await own.streams.delete('XORDERS');
  return out;
}

/** /accstatz: the accounts with connections (all with unused=1), and what one entry holds. */
export async function accountStatz(httpUrl: string, url: string): Promise<unknown> {
  const nc = await connect({ servers: url, user: 'c', pass: 'c' });
  try {
    nc.publish('c.statz', 'hello');
    await nc.flush();
    type Statz = { account_statz: { acc: string; conns: number; received: { msgs: number } }[] };
    const get = async (q: string): Promise<Statz> => (await (await fetch(`${httpUrl}/accstatz${q}`)).json()) as Statz;
    const used = await get('');
    const all = await get('?unused=1');
    const c = used.account_statz.find((a) => a.acc === 'C');
    return {
      used: used.account_statz.map((a) => `${a.acc} ${a.conns}`).sort(),
      all: all.account_statz.map((a) => a.acc).sort(),
      keys: Object.keys(c ?? {}).sort(),
      cReceivedAtLeastOne: (c?.received.msgs ?? 0) >= 1,
    };
  } finally {
    await nc.close();
  }
}

/** /accountz?acc=B's imports and exports of A, without nats-server's own system account imports. */
export async function accountDetail(httpUrl: string): Promise<unknown> {
  const detail = async (acc: string): Promise<Record<string, unknown>> =>
    ((await (await fetch(`${httpUrl}/accountz?acc=${acc}`)).json()) as { account_detail: Record<string, unknown> }).account_detail;
  const b = await detail('B');
  const a = await detail('A');
  const { accounts: list, system_account: system } = (await (await fetch(`${httpUrl}/accountz`)).json()) as { accounts: string[]; system_account: string };
  const sortBy = (xs: unknown) => [...((xs as Record<string, unknown>[]) ?? [])].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  return {
    accounts: [...list].sort(),
    system,
    // nats-server's own imports from the system account (sluice has none).
    b_imports: sortBy(b.imports).filter((i) => (i as { account: string }).account !== system),
    a_exports: sortBy(a.exports),
    a_jetstream: a.jetstream_enabled,
    b_jetstream: b.jetstream_enabled,
  };
}
