// Differential for issue 21 against the Go nats-server (2.9.10 here):
// - subject transforms: the reference applies a table of account `mappings` as it routes; every
//   mapped subject it delivers must equal protocol/subject-transform.ts's output for the same
//   src/dest/sample (2.9 has every function but left/right, which 2.10 added);
// - mirrors and sources: the same scenario on both servers gives the same stored subjects and
//   sequences, the same StreamInfo mirror/sources shape, and the same error codes;
// - republish: the same messages, subjects and Nats-* headers (2.9 lacks Nats-Time-Stamp).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { compileSubjectTransform } from '../../protocol/subject-transform.ts';
import { startNatsServer, type ReferenceServer } from '../helpers/nats-server.ts';
import { startJsTestServer, type JsTestServer } from '../helpers/jetstream-server.ts';
import { waitFor, within } from '../helpers/deadline.ts';
import { publishMany } from '../helpers/publish-many.ts';

/** [src, dest, sample subjects]. Each mapping gets its own first token so they do not overlap. */
const MAPPINGS: readonly [string, string, readonly string[]][] = [
  ['m1.*.*', 'r1.$2.$1', ['m1.a.b']],
  ['m2.*.*', 'r2.{{wildcard(2)}}.{{ Wildcard(1) }}', ['m2.x.y']],
  ['m3.*.*', 'r3.{{partition(7,1,2)}}.$1.$2', ['m3.eu.42', 'm3.us.1', 'm3.ap.999', 'm3.a.b']],
  ['m4.*', 'r4.{{partition(3,1)}}', ['m4.alpha', 'm4.beta', 'm4.gamma', 'm4.ñandú']],
  // ('--abc' splits to '.abc' on both, which nats-server then can not deliver: unit-tested only.)
  ['m5.*', 'r5.{{split(1,-)}}', ['m5.-abc-def--ghi-', 'm5.abc', 'm5.a-b']],
  ['m6.*', 'r6.{{splitfromleft(1,3)}}', ['m6.12345', 'm6.12']],
  ['m7.*', 'r7.{{SplitFromRight(1,3)}}', ['m7.12345']],
  ['m8.*', 'r8.{{SliceFromLeft(1,3)}}', ['m8.1234567890', 'm8.123456']],
  ['m9.*', 'r9.{{SliceFromRight(1,3)}}', ['m9.1234567890']],
  ['m10.*.>', 'r10.$1.>', ['m10.a.b.c']],
  ['m11.>', 'r11.>', ['m11.q']],
];

describe('subject transforms against nats-server mappings', () => {
  let dir: string;
  let server: ReferenceServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-transform-e2e-'));
    const conf = join(dir, 'mappings.conf');
    writeFileSync(conf, `mappings = {\n${MAPPINGS.map(([s, d]) => `  "${s}": "${d}"`).join('\n')}\n}\n`);
    server = await startNatsServer(['-c', conf]);
  });
  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('every mapped subject nats-server routes equals ours', async () => {
    const nc = await connect({ servers: server.url });
    try {
      for (const [src, dest, samples] of MAPPINGS) {
        const ours = compileSubjectTransform(src, dest);
        assert.ok(ours.ok && ours.transform !== null, `${src} -> ${dest}`);
        for (const sample of samples) {
          const sub = nc.subscribe('>', { max: 1 });
          await nc.flush();
          nc.publish(sample, 'x');
          let got = '';
          await within(
            (async () => {
              for await (const m of sub) got = m.subject;
            })(),
            5000,
            `nats-server delivering ${sample}`,
          );
          assert.equal(ours.transform.match(sample), got, `${src} -> ${dest} on ${sample}`);
        }
      }
    } finally {
      await nc.close();
    }
  });
});

interface Scenario {
  mirror: { subjects: string[]; seqs: number[]; lag: number | undefined; name: string | undefined };
  sources: { subjects: string[]; names: string[]; lags: number[] };
  errors: number[];
  republished: { subject: string; stream: string; seq: string; subj: string; last: string; data: string }[];
}

/** The same steps on either server. */
async function scenario(url: string): Promise<Scenario> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: 'O1', subjects: ['o1.*'] });
    await jsm.streams.add({ name: 'O2', subjects: ['o2.*'] });
    await publishMany(js, (i) => `o1.${i % 3}`, 30);
    await publishMany(js, (i) => `o2.${i % 2}`, 10);
    await jsm.streams.add({ name: 'M', mirror: { name: 'O1', filter_subject: 'o1.1' } });
    await jsm.streams.add({ name: 'S', sources: [{ name: 'O1', opt_start_seq: 25 }, { name: 'O2', filter_subject: 'o2.0' }] });
    await waitFor(async () => (await jsm.streams.info('S')).state.messages === 11, 'sources copied', 10_000);
    await waitFor(async () => (await jsm.streams.info('M')).state.messages === 10, 'mirror copied', 10_000);
    const read = async (stream: string, n: number): Promise<{ subject: string; seq: number }[]> => {
      const c = await js.consumers.get(stream);
      const out: { subject: string; seq: number }[] = [];
      for await (const m of await c.consume()) {
        out.push({ subject: m.subject, seq: m.seq });
        if (out.length === n) break;
      }
      return out;
    };
    const m = await read('M', 10);
    const s = await read('S', 11);
    const mi = await jsm.streams.info('M');
    const si = await jsm.streams.info('S');

    const errors: number[] = [];
    const code = async (p: Promise<unknown>): Promise<void> => {
      try {
        await p;
        errors.push(0);
      } catch (err) {
        errors.push(err instanceof JetStreamApiError ? err.code : -1);
      }
    };
    await code(jsm.streams.add({ name: 'E1', mirror: { name: 'O1' }, subjects: ['e1'] }));
    await code(jsm.streams.add({ name: 'E2', mirror: { name: 'O1' }, sources: [{ name: 'O2' }] }));
    await code(jsm.streams.update('M', { ...mi.config, mirror: { name: 'O2' } }));
    await code(jsm.streams.add({ name: 'E3', sources: [{ name: 'O1' }], max_msg_size: 0 }));

    // Republish: a stream whose stored messages are published again.
    await jsm.streams.add({ name: 'RP', subjects: ['rp.*'], republish: { src: 'rp.*', dest: 'out.$1' } });
    const got: Msg[] = [];
    const sub = nc.subscribe('out.>', { callback: (_e, msg) => void got.push(msg) });
    await nc.flush();
    for (const k of ['a', 'b', 'a']) await js.publish(`rp.${k}`, k);
    await waitFor(() => got.length === 3, 'republished');
    sub.unsubscribe();
    return {
      mirror: { subjects: m.map((x) => x.subject), seqs: m.map((x) => x.seq), lag: mi.mirror?.lag, name: mi.mirror?.name },
      sources: { subjects: s.map((x) => x.subject), names: si.sources?.map((x) => x.name) ?? [], lags: si.sources?.map((x) => x.lag) ?? [] },
      errors,
      republished: got.map((r) => ({
        subject: r.subject,
        stream: r.headers?.get('Nats-Stream') ?? '',
        seq: r.headers?.get('Nats-Sequence') ?? '',
        subj: r.headers?.get('Nats-Subject') ?? '',
        last: r.headers?.get('Nats-Last-Sequence') ?? '',
        data: r.string(),
      })),
    };
  } finally {
    await nc.close();
  }
}

describe('mirrors, sources and republish: sluice and nats-server side by side', () => {
  let dir: string;
  let ref: ReferenceServer;
  let ours: JsTestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-sourcing-e2e-'));
    ref = await startNatsServer(['-js', '-sd', dir]);
    ours = await startJsTestServer();
  });
  after(async () => {
    await ref?.stop();
    await ours?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('same stored messages, info and errors', async () => {
    const theirs = await scenario(ref.url);
    const mine = await scenario(ours.clientUrl);
    // Sequence numbers of the mirror: the origin's (both servers keep them).
    assert.deepEqual(mine.mirror, theirs.mirror);
    // Sources: the same messages; the interleaving of two origins is not defined, so compare sorted.
    assert.deepEqual([...mine.sources.subjects].sort(), [...theirs.sources.subjects].sort());
    // nats-server lists a stream's sources in no fixed order (a Go map): compare them as a set.
    const pairs = (x: { names: string[]; lags: number[] }): string[] => x.names.map((n, i) => `${n}:${x.lags[i]}`).sort();
    assert.deepEqual(pairs(mine.sources), pairs(theirs.sources));
    assert.deepEqual(mine.errors, theirs.errors);
    assert.deepEqual(theirs.errors, [10034, 10031, 10055, 0]);
    assert.deepEqual(mine.republished, theirs.republished);
  });
});
