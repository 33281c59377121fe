// Scenarios of the system account's requests and of JetStream's advisories, run against any server
// started with ACCOUNTS_CONF (accounts-suite.ts): sluice in system-account.test.ts, sluice and
// nats-server 2.9.10 side by side in tests/e2e/system-account-vs-nats-server.e2e.ts. Each returns
// the shapes (keys, types, subjects) that must be the same, with what differs between two
// servers (ids, times) left out.

import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { waitFor } from '../helpers/deadline.ts';

const keys = (o: unknown): string[] => Object.keys((o ?? {}) as object).sort();

/** The requests a tool sends, with the body it sends; answered by every server, here one. */
export const SYSTEM_REQUESTS: readonly (readonly [string, unknown])[] = [
  ['$SYS.REQ.SERVER.PING.VARZ', ''],
  ['$SYS.REQ.SERVER.PING.CONNZ', { subscriptions: true }],
  ['$SYS.REQ.SERVER.PING.SUBSZ', { subscriptions: true, account: 'A' }],
  ['$SYS.REQ.SERVER.PING.ROUTEZ', ''],
  ['$SYS.REQ.SERVER.PING.LEAFZ', ''],
  ['$SYS.REQ.SERVER.PING.ACCOUNTZ', ''],
  ['$SYS.REQ.SERVER.PING.ACCOUNTZ', { account: 'A' }],
  ['$SYS.REQ.SERVER.PING.JSZ', { accounts: true }],
  ['$SYS.REQ.SERVER.PING.HEALTHZ', ''],
  ['$SYS.REQ.SERVER.PING.STATSZ', ''],
  ['$SYS.REQ.SERVER.<id>.VARZ', ''],
  ['$SYS.REQ.ACCOUNT.A.CONNZ', ''],
  ['$SYS.REQ.ACCOUNT.A.SUBSZ', ''],
  ['$SYS.REQ.ACCOUNT.A.LEAFZ', ''],
  ['$SYS.REQ.ACCOUNT.A.INFO', ''],
  ['$SYS.REQ.ACCOUNT.A.JSZ', ''],
  ['$SYS.REQ.ACCOUNT.A.STATZ', ''],
  ['$SYS.REQ.ACCOUNT.PING.STATZ', ''],
  ['$SYS.REQ.ACCOUNT.A.CONNS', ''],
  ['$SYS.REQ.ACCOUNT.NOPE.INFO', ''],
  ['$SYS.REQ.ACCOUNT.NOPE.JSZ', ''],
  ['$SYS.REQ.SERVER.PING.CONNZ', { subscriptions: 'yes' }],
  ['$SYS.REQ.SERVER.PING.CONNZ', { sort: 'bogus' }],
];

export interface RequestShape {
  readonly request: string;
  /** The answer's keys; `server`, `data` (or `statsz`) and `error` as keys of their own. */
  readonly top: string[];
  readonly server: string[];
  readonly data: string[] | null | undefined;
  readonly error: unknown;
}

/** Each of SYSTEM_REQUESTS from a system account user, and the shape of its answer. */
export async function systemRequests(url: string): Promise<RequestShape[]> {
  const sys = await connect({ servers: url, user: 'sys', pass: 'sys' });
  // A client of A, so that A's requests have a connection (and a subscription) to show.
  const a = await connect({ servers: url, user: 'a', pass: 'a', name: 'shape' });
  try {
    a.subscribe('c.shape');
    await a.flush();
    const id = (await sys.request('$SYS.REQ.SERVER.PING', '', { timeout: 3000 })).json<{ server: { id: string } }>().server.id;
    const out: RequestShape[] = [];
    for (const [subject, body] of SYSTEM_REQUESTS) {
      const m = await sys.request(subject.replace('<id>', id), typeof body === 'string' ? body : JSON.stringify(body), { timeout: 3000 });
      const j = m.json<Record<string, unknown>>();
      const data = 'data' in j ? (j.data === null ? null : keys(j.data)) : 'statsz' in j ? keys(j.statsz) : undefined;
      out.push({ request: `${subject} ${typeof body === 'string' ? body : JSON.stringify(body)}`, top: keys(j), server: keys(j.server), data, error: j.error });
    }
    return out;
  } finally {
    await a.close();
    await sys.close();
  }
}

/**
 * The requests nats-server imports into every account, sent by a user of A: answered for A alone
 * (its connections, its statistics). Shapes as systemRequests gives them, and the accounts of the
 * connections CONNZ lists.
 */
export async function accountPingRequests(url: string): Promise<(RequestShape & { accounts?: string[] })[]> {
  const a = await connect({ servers: url, user: 'a', pass: 'a', name: 'pinger' });
  const b = await connect({ servers: url, user: 'b', pass: 'b', name: 'bystander' });
  try {
    const out: (RequestShape & { accounts?: string[] })[] = [];
    for (const subject of ['$SYS.REQ.SERVER.PING.CONNZ', '$SYS.REQ.ACCOUNT.PING.CONNZ', '$SYS.REQ.ACCOUNT.PING.STATZ']) {
      const j = (await a.request(subject, JSON.stringify({ auth: true }), { timeout: 3000 })).json<Record<string, unknown>>();
      const data = j.data as Record<string, unknown> | undefined;
      const conns = data?.connections as { account?: string; name?: string }[] | undefined;
      const statz = data?.account_statz as { acc: string }[] | undefined;
      out.push({
        request: subject,
        top: keys(j),
        server: keys(j.server),
        data: data === undefined ? undefined : keys(data),
        error: j.error,
        accounts: (conns?.map((c) => `${c.account} ${c.name}`) ?? statz?.map((x) => x.acc) ?? []).sort(),
      });
    }
    return out;
  } finally {
    await b.close();
    await a.close();
  }
}

/** One advisory as received: its subject, type and keys (and for an audit, the API subject). */
export interface AdvisoryShape {
  readonly subject: string;
  readonly type: string;
  readonly keys: string[];
  readonly detail: string;
}

/**
 * A stream and a consumer created, used and deleted in A while A listens on $JS.EVENT.ADVISORY.>:
 * the stream and consumer actions, a terminated and a nak'ed message, and the API audit of each
 * request. Returned sorted (the two servers may interleave an action and its audit differently).
 */
export async function jetstreamAdvisories(url: string): Promise<AdvisoryShape[]> {
  const a = await connect({ servers: url, user: 'a', pass: 'a', name: 'advisories' });
  try {
    const got: AdvisoryShape[] = [];
    a.subscribe('$JS.EVENT.ADVISORY.>', {
      callback: (_e, m) => {
        const j = m.json<Record<string, unknown>>();
        const client = j.client as Record<string, unknown> | undefined;
        const detail =
          j.type === 'io.nats.jetstream.advisory.v1.api_audit'
            ? `${String(j.subject)} client ${keys(client).filter((k) => k !== 'rtt').join(',')} acc ${String(client?.acc)} response ${JSON.parse(String(j.response)).type}`
            : `${String(j.stream)}${j.consumer !== undefined ? ` ${String(j.consumer)}` : ''}${j.action !== undefined ? ` ${String(j.action)}` : ''}${j.deliveries !== undefined ? ` deliveries ${String(j.deliveries)}` : ''}`;
        got.push({ subject: m.subject, type: String(j.type), keys: keys(j), detail });
      },
    });
    await a.flush();
    const jsm = await jetstreamManager(a, { checkAPI: false });
    await jsm.streams.add({ name: 'ADV', subjects: ['c.adv.>'] });
    await jsm.streams.update('ADV', { subjects: ['c.adv.>', 'c.adv2'] });
    await jsm.consumers.add('ADV', { durable_name: 'work', ack_policy: AckPolicy.Explicit, max_deliver: 1 });
    const js = jetstream(a, { checkAPI: false });
    await js.publish('c.adv.1', 'one');
    await js.publish('c.adv.2', 'two');
    const c = await js.consumers.get('ADV', 'work');
    const batch = await c.fetch({ max_messages: 2, expires: 5000 });
    let n = 0;
    for await (const m of batch) {
      if (n++ === 0) m.term();
      else m.nak();
      if (n === 2) break;
    }
    // The acks are handled apart from the API (nats-server's consumer goroutine): heard first.
    await waitFor(() => got.some((g) => g.subject.includes('.MSG_NAKED.')) && got.some((g) => g.subject.includes('.MSG_TERMINATED.')), 'the nak and term advisories', 5000);
    await jsm.consumers.delete('ADV', 'work');
    await jsm.streams.delete('ADV');
    await waitFor(() => got.some((g) => g.detail.startsWith('$JS.API.STREAM.DELETE.ADV ')), 'the audit of the stream delete', 5000);
    await a.flush();
    return got.sort((x, y) => (x.subject + x.detail < y.subject + y.detail ? -1 : x.subject + x.detail > y.subject + y.detail ? 1 : 0));
  } finally {
    await a.close();
  }
}

