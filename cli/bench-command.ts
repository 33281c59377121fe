// `sluice bench SUBJECT --pub N --sub N --msgs N --size BYTES [--js | --request]`: publishers and
// subscribers on their own connections in this process, a progress bar on a terminal, then a
// table of msgs/s, MB/s and latency percentiles per client and in total (bench/report.ts).
//   core       publishers split --msgs between them; every subscriber expects all of them
//   --js       a stream (--stream, created and removed by the bench) stores SUBJECT; publishers
//              wait for PubAcks with --pubbatch in flight; subscribers read the stream back
//   --request  publishers send requests one at a time; subscribers answer in a queue group
// The run ends when every subscriber has its messages, or when none arrives for --timeout.

import { Presets, SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { connect, jetstream, type NatsConnection } from '../client/index.ts';
import { corePublisher, coreSubscriber, jsPublisher, requester, responder, streamReader, type ClientResult, type Progress, type PublishPlan, type Receiver } from './bench/clients.ts';
import { printReport, reportRows } from './bench/report.ts';
import { withContext, type CommandContext } from './connect.ts';
import { JsErr, isJsError } from './errors.ts';
import { humanBytes } from './format.ts';
import { aborted, CliError, stopSignalOf, type CliIo } from './io.ts';
import { enumFlag, intFlag, sizeFlag } from './values.ts';

interface BenchFlags {
  pub: string;
  sub: string;
  msgs: string;
  size: string;
  js?: boolean;
  request?: boolean;
  stream: string;
  storage: string;
  replicas: string;
  pubbatch: string;
  progress: boolean;
  json?: boolean;
}

export interface BenchSettings {
  subject: string;
  pubs: number;
  subs: number;
  msgs: number;
  size: number;
  mode: 'core' | 'js' | 'request';
  stream: string;
  storage: 'file' | 'memory';
  replicas: number;
  pubBatch: number;
}

export function benchSettings(subject: string, f: BenchFlags): BenchSettings {
  if (f.js === true && f.request === true) throw new CliError('--js and --request cannot be used together');
  const s: BenchSettings = {
    subject,
    pubs: intFlag('--pub', f.pub, 0, 1000),
    subs: intFlag('--sub', f.sub, 0, 1000),
    msgs: intFlag('--msgs', f.msgs, 1),
    size: sizeFlag('--size', f.size, false),
    mode: f.js === true ? 'js' : f.request === true ? 'request' : 'core',
    stream: f.stream,
    storage: enumFlag('--storage', f.storage, { file: 'file', memory: 'memory' } as const),
    replicas: intFlag('--replicas', f.replicas, 1, 5),
    pubBatch: intFlag('--pubbatch', f.pubbatch, 1, 100_000),
  };
  if (s.pubs === 0 && s.subs === 0) throw new CliError('nothing to run: give --pub N and/or --sub N');
  if (s.mode === 'request' && s.pubs === 0) throw new CliError('--request needs at least one requester (--pub N)');
  if (s.mode === 'core' && s.pubs === 0) throw new CliError('--sub without --pub waits for messages from elsewhere: give --pub N too');
  return s;
}

/** Share i of n in `total` (the first ones get the remainder). */
function share(total: number, n: number, i: number): number {
  return Math.floor(total / n) + (i < total % n ? 1 : 0);
}

async function openAll(ctx: CommandContext, n: number, label: string, opened: NatsConnection[]): Promise<NatsConnection[]> {
  const out: NatsConnection[] = [];
  for (let i = 0; i < n; i++) {
    const nc = await connect({ ...ctx.options, name: `sluice bench ${label} #${i + 1}`, clock: ctx.clock, pendingLimitMsgs: -1, pendingLimitBytes: -1 });
    opened.push(nc);
    out.push(nc);
  }
  return out;
}

/** Waits for every receiver; stops them when nothing arrived for `stallMs` or on a stop signal. */
async function waitForReceivers(ctx: CommandContext, receivers: readonly Receiver[], stallMs: number, signal: AbortSignal): Promise<void> {
  const all = Promise.all(receivers.map((r) => r.result)).then(() => 'done' as const);
  let last = -1;
  for (;;) {
    let timer: { cancel(): void } | undefined;
    const tick = new Promise<'tick'>((r) => (timer = ctx.clock.setTimeout(() => r('tick'), stallMs)));
    const winner = await Promise.race([all, tick, aborted(signal).then(() => 'stop' as const)]);
    timer?.cancel();
    if (winner === 'done') return;
    const now = receivers.reduce((a, r) => a + r.received(), 0);
    if (winner === 'stop' || now === last) {
      for (const r of receivers) r.stop();
      await Promise.all(receivers.map((r) => r.result));
      return;
    }
    last = now;
  }
}

function startProgress(io: CliIo, enabled: boolean, total: number, progress: Progress, ctx: CommandContext): () => void {
  if (!enabled || io.stderrIsTTY !== true || io.progressStream === undefined) return () => undefined;
  const bar = new SingleBar({ stream: io.progressStream, format: 'bench [{bar}] {percentage}% | {value}/{total} msgs | {eta_formatted}', hideCursor: true }, Presets.shades_classic);
  bar.start(total, 0);
  const timer = ctx.clock.setInterval(() => bar.update(Math.min(total, progress.done)), 100);
  return () => {
    timer.cancel();
    bar.update(Math.min(total, progress.done));
    bar.stop();
  };
}

export async function runBench(ctx: CommandContext, io: CliIo, s: BenchSettings, showProgress: boolean): Promise<ClientResult[]> {
  const opened: NatsConnection[] = [];
  let createdStream = false;
  const jsm = s.mode === 'js' ? await ctx.jsm() : undefined;
  try {
    if (jsm !== undefined) {
      const exists = await jsm.streams.info(s.stream).then(
        () => true,
        (e: unknown) => (isJsError(e, JsErr.StreamNotFound) ? false : Promise.reject(e)),
      );
      if (exists) throw new CliError(`stream ${s.stream} already exists: remove it (sluice stream rm ${s.stream} -f) or pick another with --stream`);
      await jsm.streams.add({ name: s.stream, subjects: [s.subject], storage: s.storage, num_replicas: s.replicas });
      createdStream = true;
    }
    const progress: Progress = { done: 0 };
    let startNs = 0;
    const runStart = (): number => startNs;
    const pubConns = await openAll(ctx, s.pubs, s.mode === 'request' ? 'requester' : 'publisher', opened);
    const subConns = await openAll(ctx, s.subs, s.mode === 'request' ? 'responder' : 'subscriber', opened);
    const receivers: Receiver[] = subConns.map((nc, i) => {
      const name = `${s.mode === 'request' ? 'rep' : 'sub'} #${i + 1}`;
      if (s.mode === 'request') return responder(name, nc, ctx.clock, s.subject, runStart);
      if (s.mode === 'js') return streamReader(name, jetstream(nc, { timeoutMs: ctx.timeoutMs }), ctx.clock, s.stream, s.msgs, runStart, progress);
      return coreSubscriber(name, nc, ctx.clock, s.subject, s.msgs, runStart, progress);
    });
    await Promise.all(subConns.map((nc) => nc.flush()));
    const expectedProgress = s.mode === 'request' || s.subs === 0 ? s.msgs : s.msgs * s.subs;
    const stopBar = startProgress(io, showProgress, expectedProgress, progress, ctx);
    const stampEvery = s.msgs / Math.max(1, s.pubs) > 100_000 ? 32 : 1;
    startNs = ctx.clock.monoNs();
    let pubResults: ClientResult[];
    try {
      pubResults = await Promise.all(
        pubConns.map((nc, i) => {
          const plan: PublishPlan = { subject: s.subject, size: s.size, count: share(s.msgs, s.pubs, i), stampEvery, startNs };
          const name = `${s.mode === 'request' ? 'req' : 'pub'} #${i + 1}`;
          if (s.mode === 'request') return requester(name, nc, ctx.clock, plan, ctx.timeoutMs, progress);
          if (s.mode === 'js') return jsPublisher(name, nc, ctx.clock, plan, s.pubBatch, ctx.timeoutMs, progress, s.subs === 0);
          return corePublisher(name, nc, ctx.clock, plan, progress, s.subs === 0);
        }),
      );
      if (s.mode === 'request') for (const r of receivers) r.stop();
      await waitForReceivers(ctx, receivers, ctx.timeoutMs, stopSignalOf(io));
    } finally {
      stopBar();
    }
    const subResults = await Promise.all(receivers.map((r) => r.result));
    return [...pubResults, ...subResults];
  } finally {
    await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
    if (createdStream) await jsm!.streams.delete(s.stream).catch(() => undefined);
  }
}

export function createBenchCommand(io: CliIo): Command {
  return new Command('bench')
    .description('measure throughput and latency: core pub/sub (default), --js publish into a stream, or --request')
    .argument('<subject>', 'subject to use')
    .option('--pub <n>', 'publishers (requesters with --request)', '1')
    .option('--sub <n>', 'subscribers (stream readers with --js, responders with --request)', '0')
    .option('--msgs <n>', 'messages to publish, split between publishers', '100000')
    .option('--size <bytes>', 'payload size, e.g. 16, 128 or 1KiB', '128')
    .option('--js', 'publish into a JetStream stream the bench creates (and removes)')
    .option('--request', 'request/reply: publishers wait for each reply')
    .option('--stream <name>', 'stream name for --js', 'benchstream')
    .option('--storage <type>', 'stream storage for --js: file or memory', 'file')
    .option('--replicas <n>', 'stream replicas for --js', '1')
    .option('--pubbatch <n>', 'PubAcks in flight per publisher for --js', '500')
    .option('--no-progress', 'no progress bar')
    .option('-j, --json', 'print the results as JSON')
    .action(async (subject: string, f: BenchFlags, cmd: Command) => {
      const s = benchSettings(subject, f);
      await withContext(io, cmd, async (ctx) => {
        const results = await runBench(ctx, io, s, f.progress && f.json !== true);
        const rows = reportRows(results);
        if (f.json === true) ctx.out.json({ settings: s, results: rows });
        else {
          const n = (count: number, what: string): string => `${count} ${what}${count === 1 ? '' : 's'}`;
          const who = s.mode === 'request' ? `${n(s.pubs, 'requester')}, ${n(s.subs, 'responder')}` : `${n(s.pubs, 'publisher')}, ${n(s.subs, 'subscriber')}`;
          ctx.out.line(`sluice bench "${s.subject}" (${s.mode === 'js' ? `JetStream, ${s.storage} stream ${s.stream}` : s.mode}): ${who}, ${ctx.out.count(s.msgs)} msgs of ${humanBytes(s.size)}`);
          ctx.out.line();
          printReport(ctx.out, rows);
        }
        const short = results.filter((r) => r.kind === 'sub' && r.msgs < r.expected);
        if (short.length > 0) {
          throw new CliError(`${short.map((r) => `${r.name} got ${r.msgs} of ${r.expected}`).join(', ')} messages (nothing arrived for ${ctx.out.nanos(ctx.timeoutMs * 1e6)})`);
        }
      });
    });
}
