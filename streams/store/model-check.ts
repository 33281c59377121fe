// Randomised check of a StreamStore against a naive reference model (a sorted map and brute-force
// queries). Operations are interleaved with ended turns and waits for durability, so the LMDB store
// is checked with changes pending, in flight and committed. Set STORE_SEED to replay a failing run.

import assert from 'node:assert/strict';
import { subjectMatches } from '../../protocol/subject.ts';
import { seededRng, systemRng, type Rng } from '../../runtime/rng.ts';
import type { StoreHarness } from './conformance.ts';
import { appendNext } from './testing.ts';
import type { PurgeOptions, StreamStore } from './types.ts';

interface ModelMsg {
  seq: number;
  subject: string;
  timeNs: bigint;
  data: string;
}

class Model {
  readonly msgs = new Map<number, ModelMsg>();
  first = 0;
  last = 0;
  lastTimeNs = 0n;

  append(m: ModelMsg): void {
    if (this.msgs.size === 0) this.first = m.seq;
    this.msgs.set(m.seq, m);
    this.last = m.seq;
    this.lastTimeNs = m.timeNs;
  }

  live(): ModelMsg[] {
    return [...this.msgs.values()].sort((a, b) => a.seq - b.seq);
  }

  remove(seq: number): boolean {
    if (!this.msgs.delete(seq)) return false;
    this.resetFirst();
    return true;
  }

  private resetFirst(): void {
    this.first = this.msgs.size === 0 ? this.last + 1 : Math.min(...this.msgs.keys());
  }

  matching(filter: string | undefined): ModelMsg[] {
    const all = filter === undefined || filter === '' || filter === '>';
    return this.live().filter((m) => all || subjectMatches(filter, m.subject));
  }

  purge(o: PurgeOptions): number {
    const up = o.upToSeq ?? 0;
    const keep = o.keep ?? 0;
    const all = o.subject === undefined || o.subject === '' || o.subject === '>';
    if (all) {
      if (keep === 0 && up === 0) return this.compact(this.last + 1);
      if (up > 1) return this.compact(up);
      if (keep > 0) return keep >= this.msgs.size ? 0 : this.compact(this.last - keep + 1);
      return 0;
    }
    const matched = this.matching(o.subject);
    if (keep > 0 && keep >= matched.length) return 0;
    const limit = keep > 0 ? matched.length - keep : matched.length;
    const maxSeq = up > 1 ? up - 1 : Infinity;
    let n = 0;
    for (const m of matched) {
      if (n >= limit || m.seq > maxSeq) break;
      this.msgs.delete(m.seq);
      n++;
    }
    if (n > 0) this.resetFirst();
    return n;
  }

  private compact(up: number): number {
    let n = 0;
    for (const seq of [...this.msgs.keys()]) {
      if (seq < up) {
        this.msgs.delete(seq);
        n++;
      }
    }
    if (up > this.last) {
      this.first = up;
      this.last = up - 1;
    } else {
      this.resetFirst();
    }
    return n;
  }
}

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)]!;
}

export async function runModelCheck(h: StoreHarness, subjectSpace: number): Promise<void> {
  const seed = process.env.STORE_SEED !== undefined ? Number(process.env.STORE_SEED) : systemRng().seed;
  const rng = seededRng(seed);
  let store = h.store;
  const model = new Model();
  const side = Math.ceil(Math.sqrt(subjectSpace));
  const subject = (): string =>
    subjectSpace <= 6 ? pick(rng, ['a', 'b', 'c.x', 'c.y', 'd.e.f', 'd.q.f']) : `s.${rng.int(side)}.${rng.int(side)}`;
  const filters =
    subjectSpace <= 6
      ? [undefined, '>', 'a', 'c.*', 'c.>', '*', 'd.*.f', 'zz', '*.x', 'd.e.f']
      : [undefined, '>', 's.3.*', 's.*.4', 's.>', 's.3.4', '*.*.*', 's.99', '*.1.>'];
  let bytes = 0;
  const sizeOf = (m: ModelMsg) => store.msgSize(m.subject, null, Buffer.from(m.data));
  let step = 0;
  try {
    for (step = 0; step < 1500; step++) {
      const r = rng.next();
      if (r < 0.5) {
        const m: ModelMsg = { seq: 0, subject: subject(), timeNs: 1_000_000n + BigInt(step), data: `d${step}` };
        m.seq = appendNext(store, m.subject, null, Buffer.from(m.data), m.timeNs);
        assert.equal(m.seq, model.last + 1);
        model.append(m);
      } else if (r < 0.52) {
        const m: ModelMsg = { seq: model.last + 1 + rng.int(3), subject: subject(), timeNs: 5n, data: 'g' };
        store.applyAppend(m.seq, m.subject, null, Buffer.from(m.data), m.timeNs);
        model.append(m);
      } else if (r < 0.72) {
        const live = model.live();
        const seq = live.length > 0 && rng.next() < 0.8 ? pick(rng, live).seq : rng.int(model.last + 3);
        assert.equal(store.delete(seq), model.remove(seq), `delete ${seq}`);
      } else if (r < 0.745) {
        const o: PurgeOptions = {};
        if (rng.next() < 0.6) o.subject = pick(rng, filters) ?? '';
        if (rng.next() < 0.4) o.upToSeq = model.first + rng.int(Math.max(1, model.last - model.first + 3));
        if (rng.next() < 0.4) o.keep = rng.int(8);
        assert.equal(store.purge(o), model.purge(o), `purge ${JSON.stringify(o)}`);
      } else if (r < 0.86) {
        await h.turn();
      } else if (r < 0.9) {
        await store.durable();
      }
      bytes = 0;
      for (const m of model.msgs.values()) bytes += sizeOf(m);
      const st = store.state({ deleted: step % 50 === 0 });
      const live = model.live();
      assert.equal(st.messages, model.msgs.size, 'messages');
      assert.equal(st.firstSeq, model.first, 'firstSeq');
      assert.equal(st.lastSeq, model.last, 'lastSeq');
      assert.equal(st.bytes, bytes, 'bytes');
      assert.equal(st.firstTimeNs, live.length > 0 ? live[0]!.timeNs : 0n, 'firstTimeNs');
      assert.equal(st.lastTimeNs, model.lastTimeNs, 'lastTimeNs');
      assert.equal(st.numSubjects, new Set(live.map((m) => m.subject)).size, 'numSubjects');
      assert.equal(st.numDeleted, live.length === 0 ? 0 : model.last - model.first + 1 - live.length);
      if (st.deleted !== undefined) {
        const gaps: number[] = [];
        for (let s = model.first; live.length > 0 && s <= model.last; s++) if (!model.msgs.has(s)) gaps.push(s);
        assert.deepEqual(st.deleted, gaps, 'deleted');
      }
      checkQueries(store, model, rng, filters);
      if (h.reopen !== undefined && rng.next() < 0.01) {
        // A restart must bring back exactly this state, summaries and index included.
        await h.reopen();
        store = h.store;
      }
    }
  } catch (err) {
    (err as Error).message = `[STORE_SEED=${seed} step ${step}] ${(err as Error).message}`;
    throw err;
  }
}

function checkQueries(store: StreamStore, model: Model, rng: Rng, filters: (string | undefined)[]): void {
  const seq = rng.int(model.last + 3);
  const want = model.msgs.get(seq);
  const got = store.get(seq);
  assert.equal(got?.seq, want?.seq, `get ${seq}`);
  if (want !== undefined) {
    assert.equal(got!.subject, want.subject);
    assert.equal(Buffer.from(got!.data).toString(), want.data);
    assert.equal(got!.timeNs, want.timeNs);
  }
  const f = pick(rng, filters);
  const from = rng.int(model.last + 3);
  const matching = model.matching(f).filter((m) => m.seq >= from);
  assert.equal(store.nextMatching(from, f)?.seq, matching[0]?.seq, `nextMatching ${from} ${f}`);
  assert.equal(store.numPendingFrom(from, f), matching.length, `numPendingFrom ${from} ${f}`);
  const lo = rng.int(model.last + 3);
  const hi = lo + rng.int(30);
  const visited: { seq: number; data: string }[] = [];
  store.visitRange(lo, hi, (m) => visited.push({ seq: m.seq, data: Buffer.from(m.data).toString() }));
  const inRange = model.live().filter((m) => m.seq >= lo && m.seq <= hi);
  assert.deepEqual(visited, inRange.map((m) => ({ seq: m.seq, data: m.data })), `visitRange ${lo} ${hi}`);
  const all = model.matching(f);
  assert.equal(store.lastBySubject(f ?? '')?.seq, all[all.length - 1]?.seq, `lastBySubject ${f}`);
  const counts: Record<string, number> = {};
  for (const m of all) counts[m.subject] = (counts[m.subject] ?? 0) + 1;
  assert.deepEqual(store.subjectsState(f), counts, `subjectsState ${f}`);
}
