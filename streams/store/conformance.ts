// The StreamStore conformance suite: every implementation runs exactly these tests (see
// memory-store.test.ts and lmdb-store.test.ts), so the two cannot drift apart. Expected values
// follow nats-server's memstore/filestore semantics.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../runtime/clock.ts';
import { runModelCheck } from './model-check.ts';
import { appendNext } from './testing.ts';
import type { StoredMsg, StreamStore } from './types.ts';

export interface StoreHarness {
  store: StreamStore;
  /** Ends the current event-loop turn (LMDB: closes the batch without waiting for its commit). */
  turn(): Promise<void>;
  /** Persistent stores: close and reopen (as after a restart), replacing `store`. */
  reopen?(): Promise<void>;
  cleanup(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreHarness>;

const enc = (s: string): Uint8Array => Buffer.from(s);
const HDR = enc('NATS/1.0\r\nA: 1\r\n\r\n');

async function withStore(factory: StoreFactory, fn: (h: StoreHarness, clock: ManualClock) => Promise<void> | void) {
  const clock = new ManualClock(1_700_000_000_000);
  const h = await factory();
  try {
    await fn(h, clock);
  } finally {
    await h.cleanup();
  }
}

/** Appends `subjects` in order, one message each, with payload `<subject>#<seq>`. */
function fill(s: StreamStore, subjects: string[]): void {
  for (const subj of subjects) appendNext(s, subj, null, enc(`${subj}#${s.state().lastSeq + 1}`));
}

const seqsOf = (it: Iterable<{ seq: number }>): number[] => [...it].map((m) => m.seq);

export function conformanceSuite(label: string, factory: StoreFactory): void {
  describe(`StreamStore conformance: ${label}`, () => {
    it('starts empty with first_seq and last_seq 0', () =>
      withStore(factory, ({ store }) => {
        assert.deepEqual(store.state(), {
          messages: 0, bytes: 0, firstSeq: 0, firstTimeNs: 0n, lastSeq: 0, lastTimeNs: 0n,
          numSubjects: 0, numDeleted: 0,
        });
        assert.equal(store.get(1), undefined);
        assert.equal(store.nextMatching(0), undefined);
        assert.equal(store.lastBySubject('>'), undefined);
      }));

    it('appends with increasing sequences and reads them back exactly', () =>
      withStore(factory, async ({ store, turn }, clock) => {
        const t0 = clock.epochNs();
        assert.equal(appendNext(store, 'orders.new', HDR, enc('one'), clock.epochNs()), 1);
        clock.advance(5);
        assert.equal(appendNext(store, 'orders.old', null, enc('two'), clock.epochNs()), 2);
        assert.equal(appendNext(store, 'orders.new', new Uint8Array(0), new Uint8Array(0), 42n), 3);
        const check = () => {
          const m1 = store.get(1)!;
          assert.equal(m1.subject, 'orders.new');
          assert.deepEqual(Buffer.from(m1.hdr!), Buffer.from(HDR));
          assert.equal(Buffer.from(m1.data).toString(), 'one');
          assert.equal(m1.timeNs, t0);
          const m2 = store.get(2)!;
          assert.equal(m2.hdr, null, 'no header reads back as null');
          assert.equal(m2.timeNs, t0 + 5_000_000n);
          const m3 = store.get(3)!;
          assert.equal(m3.hdr, null, 'an empty header block is stored as none');
          assert.equal(m3.data.length, 0);
          assert.equal(m3.timeNs, 42n);
          assert.equal(store.get(4), undefined);
          assert.equal(store.get(0), undefined);
        };
        check(); // before any commit
        await store.durable();
        check(); // after commit
        const st = store.state();
        assert.equal(st.messages, 3);
        assert.equal(st.firstSeq, 1);
        assert.equal(st.lastSeq, 3);
        assert.equal(st.firstTimeNs, t0);
        assert.equal(st.lastTimeNs, 42n);
        assert.equal(st.numSubjects, 2);
        const expectBytes =
          store.msgSize('orders.new', HDR, enc('one')) +
          store.msgSize('orders.old', null, enc('two')) +
          store.msgSize('orders.new', null, new Uint8Array(0));
        assert.equal(st.bytes, expectBytes);
        await turn();
      }));

    it('copies the caller bytes (the read buffer may be reused)', () =>
      withStore(factory, ({ store }) => {
        const buf = Buffer.from('hello');
        appendNext(store, 'a', null, buf);
        buf.fill(0);
        assert.equal(Buffer.from(store.get(1)!.data).toString(), 'hello');
      }));

    it('lastBySubject with literal, wildcard and match-all filters', () =>
      withStore(factory, async ({ store }) => {
        fill(store, ['a.1', 'b.1', 'a.2', 'a.1', 'c']);
        assert.equal(store.lastBySubject('a.1')!.seq, 4);
        assert.equal(store.lastBySubject('a.*')!.seq, 4);
        assert.equal(store.lastBySubject('b.>')!.seq, 2);
        assert.equal(store.lastBySubject('>')!.seq, 5);
        assert.equal(store.lastBySubject('')!.seq, 5);
        assert.equal(store.lastBySubject('x.*'), undefined);
        assert.ok(store.delete(4));
        assert.equal(store.lastBySubject('a.1')!.seq, 1, 'falls back to the previous one');
        assert.equal(store.lastBySubject('a.*')!.seq, 3);
        await store.durable();
        assert.ok(store.delete(5));
        assert.equal(store.lastBySubject('>')!.seq, 3);
      }));

    it('delete: interior, first, all; numDeleted and the deleted list', () =>
      withStore(factory, async ({ store, turn }) => {
        fill(store, ['a', 'b', 'a', 'b', 'a']);
        await turn();
        assert.equal(store.delete(9), false);
        assert.ok(store.delete(3));
        assert.equal(store.delete(3), false, 'deleting twice');
        assert.equal(store.get(3), undefined);
        let st = store.state({ deleted: true });
        assert.equal(st.numDeleted, 1);
        assert.deepEqual(st.deleted, [3]);
        assert.ok(store.delete(1, { erase: true }));
        st = store.state({ deleted: true });
        assert.equal(st.firstSeq, 2);
        assert.equal(st.messages, 3);
        assert.equal(st.numDeleted, 1);
        assert.deepEqual(st.deleted, [3]);
        assert.ok(store.delete(2));
        assert.equal(store.state().firstSeq, 4, 'skips the interior gap');
        await store.durable();
        assert.ok(store.delete(4));
        assert.ok(store.delete(5));
        st = store.state({ deleted: true });
        assert.deepEqual([st.messages, st.firstSeq, st.lastSeq, st.numDeleted, st.numSubjects], [0, 6, 5, 0, 0]);
        assert.equal(st.firstTimeNs, 0n);
        assert.deepEqual(st.deleted, []);
        assert.equal(st.bytes, 0);
        assert.equal(appendNext(store, 'a', null, enc('x')), 6, 'sequences are never reused');
        assert.equal(store.state().firstSeq, 6);
      }));

    it('deleting the newest messages leaves trailing gaps', () =>
      withStore(factory, ({ store }) => {
        fill(store, ['a', 'b', 'c', 'd']);
        store.delete(4);
        store.delete(3);
        store.delete(1);
        const st = store.state({ deleted: true });
        assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.numDeleted], [2, 4, 1, 2]);
        assert.deepEqual(st.deleted, [3, 4]);
        assert.equal(store.lastBySubject('>')!.seq, 2);
        assert.equal(appendNext(store, 'e', null, enc('e')), 5);
      }));

    it('purge all keeps the sequence going', () =>
      withStore(factory, async ({ store }) => {
        fill(store, ['a', 'b', 'c']);
        await store.durable();
        fill(store, ['d']);
        assert.equal(store.purge(), 4);
        let st = store.state();
        assert.deepEqual([st.messages, st.bytes, st.firstSeq, st.lastSeq, st.numSubjects], [0, 0, 5, 4, 0]);
        assert.notEqual(st.lastTimeNs, 0n, 'last time survives a purge (as in nats-server)');
        assert.equal(store.get(2), undefined);
        assert.equal(store.nextMatching(0), undefined);
        assert.equal(appendNext(store, 'a', null, enc('x')), 5);
        st = store.state();
        assert.deepEqual([st.messages, st.firstSeq, st.lastSeq, st.numSubjects], [1, 5, 5, 1]);
        assert.equal(store.purge({}), 1);
      }));

    it('purge up to a sequence (exclusive), including past the end', () =>
      withStore(factory, async ({ store }) => {
        fill(store, ['a', 'b', 'a', 'b', 'a', 'b']);
        await store.durable();
        assert.equal(store.purge({ upToSeq: 4 }), 3);
        let st = store.state();
        assert.deepEqual([st.messages, st.firstSeq, st.lastSeq], [3, 4, 6]);
        assert.deepEqual(store.subjectsState(), { a: 1, b: 2 });
        assert.equal(store.purge({ upToSeq: 1 }), 0, 'seq 1 purges nothing');
        assert.equal(store.purge({ upToSeq: 10 }), 3);
        st = store.state();
        assert.deepEqual([st.messages, st.firstSeq, st.lastSeq], [0, 10, 9]);
        assert.equal(appendNext(store, 'a', null, enc('x')), 10);
      }));

    it('purge keep N (whole stream counts sequences, nats-style)', () =>
      withStore(factory, ({ store }) => {
        fill(store, ['a', 'b', 'a', 'b', 'a', 'b']);
        assert.equal(store.purge({ keep: 10 }), 0);
        assert.equal(store.purge({ keep: 2 }), 4);
        assert.deepEqual(seqsOf(store.iterate(0)), [5, 6]);
        assert.equal(store.state().firstSeq, 5);
      }));

    it('purge by subject filter, with keep and with an upper sequence', () =>
      withStore(factory, async ({ store }) => {
        fill(store, ['a.1', 'b', 'a.2', 'b', 'a.1', 'b', 'a.2']);
        await store.durable();
        assert.equal(store.purge({ subject: 'a.*', keep: 2 }), 2);
        assert.deepEqual(seqsOf(store.iterate(0, 'a.>')), [5, 7]);
        assert.equal(store.purge({ subject: 'b', upToSeq: 5 }), 2);
        assert.deepEqual(seqsOf(store.iterate(0)), [5, 6, 7]);
        const st = store.state();
        assert.deepEqual([st.firstSeq, st.messages, st.numDeleted], [5, 3, 0]);
        assert.equal(store.purge({ subject: 'zzz' }), 0);
        assert.equal(store.purge({ subject: 'a.1' }), 1);
        assert.deepEqual(store.subjectsState(), { b: 1, 'a.2': 1 });
        assert.deepEqual([store.state().firstSeq, store.state().numDeleted], [6, 0]);
        assert.equal(store.purge({ subject: '>' }), 2, "'>' is a full purge");
        assert.equal(store.state().firstSeq, 8);
      }));

    it('nextMatching and iterate with literal, wildcard and no filter', () =>
      withStore(factory, async ({ store, turn }) => {
        fill(store, ['x.a', 'y.b', 'x.b', 'y.a', 'x.a']);
        await turn();
        fill(store, ['z', 'x.a']);
        assert.deepEqual(seqsOf(store.iterate(0)), [1, 2, 3, 4, 5, 6, 7]);
        assert.deepEqual(seqsOf(store.iterate(2, 'x.a')), [5, 7]);
        assert.deepEqual(seqsOf(store.iterate(1, 'x.*')), [1, 3, 5, 7]);
        assert.deepEqual(seqsOf(store.iterate(1, '*.a')), [1, 4, 5, 7]);
        assert.deepEqual(seqsOf(store.iterate(1, 'nope.*')), []);
        assert.equal(store.nextMatching(6, 'x.b'), undefined);
        assert.equal(store.nextMatching(100), undefined);
        store.delete(5);
        assert.equal(store.nextMatching(5, 'x.a')!.seq, 7);
        assert.equal(store.nextMatching(5)!.seq, 6);
        await store.durable();
        assert.equal(store.nextMatching(5, 'x.*')!.seq, 7);
      }));

    it('visitRange hands out the live messages of a range: committed, uncommitted, deleted ones skipped', () =>
      withStore(factory, async ({ store, turn }) => {
        fill(store, ['a', 'b', 'a', 'c', 'b']);
        await store.durable();
        fill(store, ['a', 'c']);
        await turn(); // 6-7 in flight
        fill(store, ['b', 'a']); // 8-9 not yet handed to LMDB
        store.delete(2); // committed
        store.delete(7); // in flight
        store.delete(8); // pending
        const visited = (from: number, to: number): string[] => {
          const out: string[] = [];
          store.visitRange(from, to, (m) => out.push(`${m.seq}:${Buffer.from(m.data).toString()}`));
          return out;
        };
        const want = ['1:a#1', '3:a#3', '4:c#4', '5:b#5', '6:a#6', '9:a#9'];
        assert.deepEqual(visited(0, 100), want);
        assert.deepEqual(visited(3, 6), want.slice(1, 5));
        assert.deepEqual(visited(7, 8), []);
        assert.deepEqual(visited(6, 5), []);
        await store.durable();
        assert.deepEqual(visited(1, 9), want);
        store.purge({ upToSeq: 4 });
        assert.deepEqual(visited(0, 5), want.slice(2, 4));
      }));

    it('wildcard scans stay correct with many subjects', () =>
      withStore(factory, async ({ store }) => {
        for (let i = 0; i < 300; i++) appendNext(store, `k.${i}`, null, enc(`${i}`));
        appendNext(store, 'other', null, enc('o'));
        await store.durable();
        for (let i = 0; i < 300; i++) appendNext(store, `k.${i}.deep`, null, enc(`${i}`));
        assert.equal(store.nextMatching(0, 'k.*')!.seq, 1);
        assert.equal(store.nextMatching(2, 'o*'), undefined);
        assert.equal(store.nextMatching(2, 'oth*'), undefined);
        assert.equal(store.nextMatching(250, 'k.*.deep')!.seq, 302);
        assert.equal(store.nextMatching(2, 'other')!.seq, 301);
        assert.equal(store.numPendingFrom(0, 'k.*'), 300);
        assert.equal(store.numPendingFrom(101, 'k.>'), 500);
        assert.equal(store.lastBySubject('k.*')!.seq, 300);
        assert.equal(Object.keys(store.subjectsState('k.*.deep')).length, 300);
        assert.equal(store.state().numSubjects, 601);
      }));

    it('numPendingFrom and subjectsState', () =>
      withStore(factory, async ({ store }) => {
        fill(store, ['a', 'b.1', 'a', 'b.2', 'a', 'c']);
        await store.durable();
        assert.equal(store.numPendingFrom(0), 6);
        assert.equal(store.numPendingFrom(4), 3);
        assert.equal(store.numPendingFrom(7), 0);
        assert.equal(store.numPendingFrom(2, 'a'), 2);
        assert.equal(store.numPendingFrom(6, 'a'), 0);
        assert.equal(store.numPendingFrom(0, 'b.*'), 2);
        assert.equal(store.numPendingFrom(3, 'b.>'), 1);
        store.delete(3);
        store.delete(4);
        assert.equal(store.numPendingFrom(2), 3);
        assert.equal(store.numPendingFrom(2, 'a'), 1);
        assert.deepEqual(store.subjectsState(), { a: 2, 'b.1': 1, c: 1 });
        assert.deepEqual(store.subjectsState('b.*'), { 'b.1': 1 });
        assert.deepEqual(store.subjectsState('none'), {});
        assert.equal(store.state().numSubjects, 3);
      }));

    it('applyAppend: explicit sequences from a leader, gaps count as deleted', () =>
      withStore(factory, async ({ store }) => {
        store.applyAppend(10, 'a', null, enc('x'), 7n);
        let st = store.state();
        assert.deepEqual([st.firstSeq, st.lastSeq, st.messages, st.numDeleted, st.firstTimeNs], [10, 10, 1, 0, 7n]);
        store.applyAppend(13, 'a', null, enc('y'), 8n);
        st = store.state({ deleted: true });
        assert.deepEqual(st.deleted, [11, 12]);
        assert.equal(st.numDeleted, 2);
        assert.throws(() => store.applyAppend(13, 'a', null, enc('z'), 9n), /sequence/);
        assert.throws(() => store.applyAppend(5, 'a', null, enc('z'), 9n), /sequence/);
        assert.equal(appendNext(store, 'b', null, enc('z')), 14);
        await store.durable();
        assert.deepEqual(seqsOf(store.iterate(0)), [10, 13, 14]);
      }));

    it("a message appended again with its record (a mirror's copy) reads back the same", () =>
      withStore(factory, async (h, clock) => {
        const store = h.store;
        appendNext(store, 'a', HDR, enc('one'), clock.epochNs());
        appendNext(store, 'b.x', null, enc(''), clock.epochNs() + 1n);
        await store.durable();
        // The third is still uncommitted when it is read (LMDB: the overlay's record).
        appendNext(store, 'a', null, enc('three'), clock.epochNs() + 2n);
        const plain = (m: StoredMsg) => ({ subject: m.subject, timeNs: m.timeNs, hdr: m.hdr && Buffer.from(m.hdr), data: Buffer.from(m.data) });
        const before = store.state().bytes;
        for (const seq of [1, 2, 3]) {
          const m = store.get(seq)!;
          // Only a store of this store's format may take the record; memory stores have none.
          assert.equal(m.record !== undefined, store.recordFormat !== null);
          store.applyAppend(seq + 10, m.subject, m.hdr, m.data, m.timeNs, m.record);
        }
        assert.equal(store.state().bytes, before * 2);
        const check = (): void => {
          for (const seq of [1, 2, 3]) assert.deepEqual(plain(store.get(seq + 10)!), plain(store.get(seq)!));
          assert.deepEqual(store.subjectsState(), { a: 4, 'b.x': 2 });
        };
        check();
        await store.durable();
        check();
        if (h.reopen !== undefined) {
          await h.reopen();
          assert.equal(h.store.state().bytes, before * 2);
          for (const seq of [1, 2, 3]) assert.deepEqual(plain(h.store.get(seq + 10)!), plain(h.store.get(seq)!));
        }
      }));

    it('durable() taken right after an append resolves once that append is durable', () =>
      withStore(factory, async ({ store }) => {
        const a = appendNext(store, 'a', null, enc('1'));
        const aDurable = store.durable();
        const b = appendNext(store, 'a', null, enc('2'));
        const bDurable = store.durable();
        assert.deepEqual([a, b], [1, 2]);
        await Promise.all([aDurable, bDurable, store.durable()]);
        assert.equal(store.get(2)!.seq, 2);
      }));

    it('freeze() keeps the state it was taken in while the store goes on changing', () =>
      withStore(factory, async ({ store }) => {
        fill(store, ['a', 'b', 'a', 'c', 'b', 'a']);
        store.delete(3);
        store.purge({ upToSeq: 2 });
        await store.durable();
        const frozen = store.freeze();
        try {
          // Changes after the freeze are invisible to it.
          store.delete(5);
          fill(store, ['d', 'd']);
          store.purge({ subject: 'a' });
          await store.durable();
          assert.deepEqual(frozen.state, { ...frozen.state, messages: 4, firstSeq: 2, lastSeq: 6, numDeleted: 1 });
          assert.deepEqual(frozen.seqs(0, 100, 100), [2, 4, 5, 6]);
          assert.deepEqual(frozen.seqs(4, 5, 100), [4, 5]);
          assert.deepEqual(frozen.seqs(2, 100, 2), [2, 4]);
          const msgs = frozen.messages(4, 1 << 20);
          assert.deepEqual(msgs.map((m) => [m.seq, m.subject, Buffer.from(m.data).toString()]), [
            [4, 'c', 'c#4'],
            [5, 'b', 'b#5'],
            [6, 'a', 'a#6'],
          ]);
          // A byte budget still returns at least one message.
          assert.deepEqual(seqsOf(frozen.messages(0, 1)), [2]);
          assert.deepEqual(frozen.messages(7, 1 << 20), []);
          assert.deepEqual(seqsOf(store.iterate(0)), [2, 4, 7, 8]);
        } finally {
          frozen.release();
        }
      }));

    it('a closed store refuses use', () =>
      withStore(factory, async ({ store }) => {
        appendNext(store, 'a', null, enc('1'));
        await store.close();
        assert.throws(() => store.applyAppend(2, 'a', null, enc('2'), 1n), /closed/);
        assert.throws(() => store.get(1), /closed/);
      }));

    for (const [name, subjects] of [
      ['few subjects', 6],
      ['many subjects', 400],
    ] as const) {
      it(`matches a reference model under random operations (${name})`, () =>
        withStore(factory, (h) => runModelCheck(h, subjects)));
    }
  });
}
