// The bench's result table: per client and per group (publishers, subscribers, ...) in total,
// msgs/s, MB/s (10^6 bytes of payload per second) and latency percentiles. A group's total rate
// is its messages over the span from the earliest start to the latest end, the way the raw
// generator in benchmarks/ measures a run.

import { humanDuration, humanRate, type Output } from '../format.ts';
import type { ClientKind, ClientResult } from './clients.ts';
import { LatencyHistogram } from './histogram.ts';

const GROUP_NAME: Readonly<Record<ClientKind, string>> = { pub: 'publishers', sub: 'subscribers', req: 'requesters', rep: 'responders' };
const PERCENTILES = [50, 90, 99, 99.9] as const;

export interface RateRow {
  name: string;
  msgs: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  latencyNs: Record<string, number> | null;
}

function row(name: string, msgs: number, payloadBytes: number, startNs: number, endNs: number, latency: LatencyHistogram | undefined): RateRow {
  const seconds = Math.max(1e-9, (endNs - startNs) / 1e9);
  const hasLatency = latency !== undefined && latency.count > 0;
  return {
    name,
    msgs,
    seconds,
    msgsPerSec: msgs / seconds,
    mbPerSec: payloadBytes / seconds / 1e6,
    latencyNs: hasLatency ? Object.fromEntries(PERCENTILES.map((p) => [`p${p}`, latency.percentileNs(p)])) : null,
  };
}

/** Rows: every client, then one total per kind of client. */
export function reportRows(results: readonly ClientResult[]): RateRow[] {
  const rows = results.map((r) => row(r.name, r.msgs, r.payloadBytes, r.startNs, r.endNs, r.latency));
  for (const kind of ['pub', 'sub', 'req', 'rep'] as const) {
    const group = results.filter((r) => r.kind === kind);
    if (group.length === 0) continue;
    const hist = new LatencyHistogram();
    for (const r of group) if (r.latency !== undefined) hist.merge(r.latency);
    const msgs = group.reduce((a, r) => a + r.msgs, 0);
    const bytes = group.reduce((a, r) => a + r.payloadBytes, 0);
    const start = Math.min(...group.map((r) => r.startNs));
    const end = Math.max(...group.map((r) => r.endNs));
    rows.push(row(`${GROUP_NAME[kind]} total`, msgs, bytes, start, end, hist.count > 0 ? hist : undefined));
  }
  return rows;
}

function lat(ns: number | undefined): string {
  return ns === undefined || Number.isNaN(ns) ? '-' : humanDuration(ns / 1e6);
}

export function printReport(out: Output, rows: readonly RateRow[]): void {
  const table = rows.map((r) => [
    r.name,
    out.count(r.msgs),
    out.human ? humanRate(r.msgsPerSec) : r.msgsPerSec.toFixed(0),
    r.mbPerSec.toFixed(2),
    ...PERCENTILES.map((p) => lat(r.latencyNs?.[`p${p}`])),
  ]);
  out.table(['client', 'msgs', 'msgs/s', 'MB/s', ...PERCENTILES.map((p) => `p${p}`)], table);
}
