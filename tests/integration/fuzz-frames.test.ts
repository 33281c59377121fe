// Fuzzing beyond the parser: random and mutated frames over real sockets to a real in-process
// server with JetStream on. CONNECT JSON with wrong types and odd fields, HPUB header blocks with
// bad lengths and bad lines (into a plain subscriber and a stream), and $JS.API request bodies
// built from the request shapes of protocol/jetstream-api.ts, then mutated. Each case runs on its
// own connection, which must either answer (its PING gets a PONG) or be closed; after each case a
// bystander connection must still get its PONG, replies on the case's inbox must be JSON, and the
// server must be back to its baseline connection count.
//
// Seeded and replayable: the seed is printed; FUZZ_SEED=n replays it (SEED=n works too), and
// FUZZ_PATH=p (the path fast-check prints with a counterexample) replays just the failing case.
// FUZZ_RUNS=n sets the cases per property (default 25, ~3 s in all); FUZZ_RUNS=300 ran ~15 s.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RawClient } from '../helpers/raw-client.ts';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor } from '../helpers/deadline.ts';
import { testSeed } from '../../protocol/testing.ts';

const SEED = process.env['FUZZ_SEED'] !== undefined && process.env['FUZZ_SEED'] !== '' ? Number(process.env['FUZZ_SEED']) >>> 0 : testSeed();
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 25);
console.log(`# fuzz-frames.test.ts FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);

const MAX_PAYLOAD = 4096;
let js: JsTestServer;
let port: number;
let bystander: RawClient;

async function connected(connect = '{"verbose":false,"pedantic":false,"headers":true}'): Promise<RawClient> {
  const raw = await RawClient.connect(port);
  raw.send(`CONNECT ${connect}\r\nPING\r\n`);
  await raw.waitFor('PONG\r\n');
  raw.clear();
  return raw;
}

before(async () => {
  js = await startJsTestServer({ options: { maxPayloadBytes: MAX_PAYLOAD } });
  port = js.server.ports.client;
  bystander = await connected();
  // A stream on the subjects the HPUB cases publish to, so header blocks reach JetStream's header
  // parsing (Nats-Msg-Id, Nats-Expected-*, rollups) too.
  const setup = await connected();
  const body = JSON.stringify({ name: 'FZ', subjects: ['fz.js.>'], storage: 'memory', max_msgs: 1000 });
  setup.send(`SUB _INBOX.setup 1\r\nPUB $JS.API.STREAM.CREATE.FZ _INBOX.setup ${Buffer.byteLength(body)}\r\n${body}\r\n`);
  await setup.waitFor('"config"');
  setup.destroy();
});

after(async () => {
  bystander?.destroy();
  await js?.close();
});

type Outcome = 'answered' | 'closed';

/** Resolves when `raw` got a PONG after `from` bytes, or closed; false when neither by the deadline. */
async function answeredOrClosed(raw: RawClient, from: number, timeoutMs: number): Promise<Outcome | false> {
  try {
    return await waitFor(
      () => (raw.closed ? 'closed' : raw.bytes.indexOf('PONG\r\n', from, 'latin1') !== -1 ? 'answered' : false),
      'PONG or close',
      timeoutMs,
    );
  } catch {
    return false;
  }
}

/**
 * Runs one case: `bytes` on a fresh connection (after CONNECT unless `raw` bytes include their own),
 * then a PING. A connection still waiting for input (a declared length not yet reached) is fed up
 * to max_payload bytes of CRLFs and another PING, which must settle it one way or the other.
 */
async function runCase(bytes: Buffer, connect: string | null): Promise<{ outcome: Outcome; text: string }> {
  const raw = connect === null ? await RawClient.connect(port) : await connected(connect);
  try {
    const from = raw.bytes.length;
    raw.send(Buffer.concat([bytes, Buffer.from('PING\r\n')]));
    let outcome = await answeredOrClosed(raw, from, 300);
    if (outcome === false) {
      const mark = raw.bytes.length;
      raw.send(`${'\r\n'.repeat(MAX_PAYLOAD / 2 + 8)}PING\r\n`);
      outcome = await answeredOrClosed(raw, mark, 10_000);
    }
    assert.notEqual(outcome, false, `the connection neither answered nor closed; got ${JSON.stringify(raw.text.slice(-300))}`);
    return { outcome: outcome as Outcome, text: raw.text };
  } finally {
    raw.destroy();
  }
}

/** The bystander is answered, and the case's connection is gone from the server. */
async function serverIsFine(): Promise<void> {
  const from = bystander.bytes.length;
  bystander.send('PING\r\n');
  const outcome = await answeredOrClosed(bystander, from, 10_000);
  assert.equal(outcome, 'answered', 'the bystander got its PONG');
  // The bystander is the only client connection left once the case's connection is closed.
  await waitFor(() => js.server.connectionCount() === 1, `connections back to 1 (now ${js.server.connectionCount()})`, 10_000);
}

/** Every MSG on an _INBOX.fz subject carries a JSON reply. */
function checkJsonReplies(text: string): void {
  const re = /MSG (_INBOX\.fz\S*) \S+ (\d+)\r\n/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index + m[0].length;
    const body = text.slice(start, start + Number(m[2]));
    if (body.length < Number(m[2])) continue; // cut off by the close
    assert.doesNotThrow(() => JSON.parse(Buffer.from(body, 'latin1').toString('utf8')), `reply on ${m[1]} is JSON: ${body.slice(0, 200)}`);
  }
}

// ---- generators ----------------------------------------------------------------------------

const oddString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', ' ', '\u0000', 'é日😀', 'a.b.>', '*', '"', '\\', '\r\n', 'x'.repeat(300)),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  fc.integer(),
  fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 64, -(2 ** 63), 1e308),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.integer(), oddString), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), oddString, fc.boolean()), { maxKeys: 3 }),
);

/** Serialised JSON, sometimes cut short, doubled or with a stray byte. */
function mutatedJson(value: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc
    .tuple(value, fc.constantFrom('none', 'none', 'none', 'truncate', 'append', 'flip'), fc.nat())
    .map(([v, how, at]) => {
      const text = JSON.stringify(v) ?? 'null';
      const k = text.length === 0 ? 0 : at % text.length;
      switch (how) {
        case 'truncate':
          return text.slice(0, k);
        case 'append':
          return `${text}}`;
        case 'flip':
          return text.slice(0, k) + String.fromCharCode(text.charCodeAt(k) ^ 0x20) + text.slice(k + 1);
        default:
          return text;
      }
    });
}

const CONNECT_FIELDS = [
  'verbose', 'pedantic', 'tls_required', 'auth_token', 'user', 'pass', 'name', 'lang', 'version', 'protocol', 'echo',
  'headers', 'no_responders', 'sig', 'jwt', 'nkey', 'account', 'new_account', 'import', 'export', 'unknown_field',
] as const;
const connectJson = mutatedJson(
  fc.dictionary(fc.constantFrom(...CONNECT_FIELDS), oddValue, { maxKeys: 6 }).map((o) => ({ verbose: false, ...o })),
);

const headerLine = fc.oneof(
  fc.constantFrom('NATS/1.0', 'NATS/1.0 503', 'NATS/1.0 408 Request Timeout', 'NATS/2.0', 'NATS/1.0 abc', 'HTTP/1.1', ''),
  fc
    .tuple(fc.constantFrom('Nats-Msg-Id', 'Nats-Expected-Last-Sequence', 'Nats-Expected-Stream', 'Nats-Rollup', 'Nats-Expected-Last-Subject-Sequence', 'Nats-TTL', 'X'), oddString)
    .map(([k, v]) => `${k}: ${v}`),
  fc.constantFrom('no colon', ': empty name', 'Bad Name: v', 'a:b:c', '\tfolded', 'x\ry: z', 'é: 日'),
);
const headerBlock = fc.array(headerLine, { minLength: 0, maxLength: 5 }).map((lines) => `${['NATS/1.0', ...lines].join('\r\n')}\r\n\r\n`);

/** Most frames are well formed (with odd header lines); the rest are broken in one way. */
const hpub = fc
  .record({
    subject: fc.constantFrom('fz.plain', 'fz.js.a', 'fz.js.b'),
    reply: fc.constantFrom('', '_INBOX.fz.1'),
    hdr: headerBlock,
    payload: fc.string({ maxLength: 40 }),
    flaw: fc.constantFrom('none', 'none', 'none', 'none', 'hdrLen', 'total', 'digits', 'end', 'subject', 'status'),
    delta: fc.constantFrom(-1, 1, -5, 7, 100_000, MAX_PAYLOAD),
    badSubject: fc.constantFrom('fz.*', 'fz..x', 'fz.>', ''),
    badDigits: fc.constantFrom('negative', 'letters', 'missing'),
    badEnd: fc.constantFrom('\r\n', '\n\n', '', 'NATS/1.0'),
    badStatus: fc.constantFrom('NATS/2.0', 'NATS/1.0 abc', 'HTTP/1.1', '', 'NATS/1.0 503'),
  })
  .map(({ subject, reply, hdr, payload, flaw, delta, badSubject, badDigits, badEnd, badStatus }) => {
    let block = hdr;
    if (flaw === 'end') block = hdr.slice(0, -4) + badEnd;
    if (flaw === 'status') block = badStatus + hdr.slice('NATS/1.0'.length);
    const hdrBytes = Buffer.from(block, 'utf8');
    const body = Buffer.concat([hdrBytes, Buffer.from(payload, 'utf8')]);
    const hdrLen = Math.max(0, hdrBytes.length + (flaw === 'hdrLen' ? delta : 0));
    const total = Math.max(0, body.length + (flaw === 'total' ? delta : 0));
    let nums = `${hdrLen} ${total}`;
    if (flaw === 'digits') nums = badDigits === 'negative' ? `-${hdrLen} ${total}` : badDigits === 'letters' ? `${hdrLen}x ${total}` : `${total}`;
    const line = ['HPUB', flaw === 'subject' ? badSubject : subject, reply, nums].filter((p) => p !== '').join(' ');
    return Buffer.concat([Buffer.from(`${line}\r\n`), body, Buffer.from('\r\n')]);
  });

const STREAMS = ['FZ', 'FZ2', 'fz bad', ''] as const;
const streamConfig = fc.record(
  {
    name: fc.constantFrom(...STREAMS),
    subjects: fc.oneof(fc.array(fc.constantFrom('fz.js.>', 'fz2.>', 'fz2.a', '>', '$JS.API.>', '', 'a b'), { maxLength: 3 }), oddValue),
    retention: fc.oneof(fc.constantFrom('limits', 'interest', 'workqueue'), oddValue),
    storage: fc.oneof(fc.constantFrom('memory', 'file'), oddValue),
    max_msgs: fc.oneof(fc.integer({ min: -2, max: 1000 }), oddValue),
    max_bytes: fc.oneof(fc.integer({ min: -2, max: 1 << 20 }), oddValue),
    max_age: fc.oneof(fc.constantFrom(0, 1_000_000, 1e9), oddValue),
    max_msg_size: fc.oneof(fc.integer({ min: -1, max: 1 << 20 }), oddValue),
    num_replicas: fc.oneof(fc.constantFrom(1, 3, 0), oddValue),
    discard: fc.oneof(fc.constantFrom('old', 'new'), oddValue),
    duplicate_window: fc.oneof(fc.constantFrom(0, 1e8, 2e9), oddValue),
    mirror: oddValue,
    sources: oddValue,
    republish: oddValue,
    subject_transform: oddValue,
    deny_delete: oddValue,
    allow_rollup_hdrs: oddValue,
    sealed: oddValue,
  },
  { requiredKeys: ['name'] },
);
const consumerConfig = fc.record(
  {
    durable_name: fc.oneof(fc.constantFrom('C1', 'C 2', ''), oddValue),
    name: fc.oneof(fc.constantFrom('C1', 'E'), oddValue),
    deliver_policy: fc.oneof(fc.constantFrom('all', 'last', 'new', 'by_start_sequence', 'by_start_time', 'last_per_subject'), oddValue),
    opt_start_seq: oddValue,
    opt_start_time: fc.oneof(fc.constantFrom('2020-01-01T00:00:00Z', 'yesterday'), oddValue),
    ack_policy: fc.oneof(fc.constantFrom('none', 'all', 'explicit'), oddValue),
    ack_wait: oddValue,
    max_deliver: oddValue,
    filter_subject: fc.oneof(fc.constantFrom('fz.js.a', 'other', '>'), oddValue),
    filter_subjects: oddValue,
    deliver_subject: fc.oneof(fc.constantFrom('_INBOX.fz.push', 'fz.js.a'), oddValue),
    max_ack_pending: oddValue,
    max_waiting: oddValue,
    flow_control: oddValue,
    idle_heartbeat: oddValue,
    headers_only: oddValue,
    inactive_threshold: oddValue,
  },
  { requiredKeys: [] },
);

/** One $JS.API request: a subject and a body built from the request shapes, then mutated. */
const jsRequest: fc.Arbitrary<readonly string[]> = fc.oneof(
  fc.tuple(fc.constantFrom('STREAM.CREATE', 'STREAM.UPDATE'), fc.constantFrom(...STREAMS), mutatedJson(streamConfig)).map(([op, name, body]) => [`${op}.${name}`, body]),
  fc
    .tuple(fc.constantFrom('STREAM.INFO', 'STREAM.DELETE', 'STREAM.PURGE', 'STREAM.MSG.GET', 'STREAM.MSG.DELETE', 'DIRECT.GET'), fc.constantFrom(...STREAMS), mutatedJson(
      fc.record(
        { seq: oddValue, last_by_subj: fc.oneof(fc.constant('fz.js.a'), oddValue), filter: oddValue, keep: oddValue, no_erase: oddValue, deleted_details: oddValue, subjects_filter: oddValue, offset: oddValue },
        { requiredKeys: [] },
      ),
    ))
    .map(([op, name, body]) => [`${op}.${name}`, body]),
  fc.tuple(fc.constantFrom('STREAM.NAMES', 'STREAM.LIST', 'INFO', 'CONSUMER.NAMES.FZ', 'CONSUMER.LIST.FZ'), mutatedJson(fc.record({ offset: oddValue, subject: oddValue }, { requiredKeys: [] }))),
  fc
    .tuple(
      fc.constantFrom('CONSUMER.CREATE.FZ', 'CONSUMER.CREATE.FZ.C1', 'CONSUMER.CREATE.FZ.C1.fz.js.a', 'CONSUMER.DURABLE.CREATE.FZ.C1', 'CONSUMER.CREATE.NOPE'),
      mutatedJson(fc.record({ stream_name: fc.oneof(fc.constant('FZ'), oddValue), config: fc.oneof(consumerConfig, oddValue), action: fc.oneof(fc.constantFrom('', 'create', 'update'), oddValue) }, { requiredKeys: [] })),
    ),
  fc.tuple(fc.constantFrom('CONSUMER.INFO.FZ.C1', 'CONSUMER.DELETE.FZ.C1', 'CONSUMER.MSG.NEXT.FZ.C1', 'CONSUMER.MSG.NEXT.FZ.E'), mutatedJson(fc.oneof(fc.record({ batch: oddValue, expires: oddValue, no_wait: oddValue, max_bytes: oddValue, idle_heartbeat: oddValue }, { requiredKeys: [] }), oddValue))),
);

function pubFrame(subject: string, reply: string, body: string): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`PUB ${subject} ${reply} ${b.length}\r\n`), b, Buffer.from('\r\n')]);
}

const params = (path: string): fc.Parameters<unknown> => ({ seed: SEED, numRuns: RUNS, endOnFailure: true, ...(path !== '' ? { path } : {}) });
const PATH = process.env['FUZZ_PATH'] ?? '';

// ---- properties ----------------------------------------------------------------------------

test('CONNECT with odd JSON: the connection answers or is closed, nobody else notices', { timeout: 300_000 }, async () => {
  const outcomes = { answered: 0, closed: 0 };
  await fc.assert(
    fc.asyncProperty(connectJson, async (json) => {
      const { outcome } = await runCase(Buffer.from(`CONNECT ${json}\r\n`, 'utf8'), null);
      outcomes[outcome]++;
      await serverIsFine();
    }),
    params(PATH),
  );
  console.log(`# CONNECT cases: ${JSON.stringify(outcomes)}`);
});

test('HPUB with bad header blocks and lengths: answered or closed, a stream and a subscriber on the subjects, nobody else notices', { timeout: 300_000 }, async () => {
  const outcomes = { answered: 0, closed: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(hpub, { minLength: 1, maxLength: 3 }), async (frames) => {
      const { outcome, text } = await runCase(Buffer.concat([Buffer.from('SUB fz.> 1\r\nSUB _INBOX.fz.> 2\r\n'), ...frames]), '{"verbose":false,"pedantic":false,"headers":true}');
      outcomes[outcome]++;
      checkJsonReplies(text);
      await serverIsFine();
    }),
    params(PATH),
  );
  console.log(`# HPUB cases: ${JSON.stringify(outcomes)}`);
});

test('$JS.API requests built from the request shapes, mutated: each is answered or closed, replies are JSON, nobody else notices', { timeout: 300_000 }, async () => {
  const outcomes = { answered: 0, closed: 0 };
  await fc.assert(
    fc.asyncProperty(fc.array(jsRequest, { minLength: 1, maxLength: 4 }), async (requests) => {
      const frames = requests.map(([api, body], i) => pubFrame(`$JS.API.${api!}`, `_INBOX.fz.${i}`, body!));
      const { outcome, text } = await runCase(Buffer.concat([Buffer.from('SUB _INBOX.fz.> 1\r\n'), ...frames]), '{"verbose":false,"pedantic":false,"headers":true}');
      outcomes[outcome]++;
      checkJsonReplies(text);
      await serverIsFine();
    }),
    params(PATH),
  );
  console.log(`# $JS.API cases: ${JSON.stringify(outcomes)}`);
});
