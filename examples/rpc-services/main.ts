// The rpc-services demo: two instances of the pricing service in one queue group, a caller with
// timeouts and retries, then no instance at all.
//
//   node --import tsx examples/rpc-services/main.ts [nats://127.0.0.1:4222]
//
// runDemo() is what the command runs and what examples/rpc-services/rpc-services.test.ts checks.

import { fileURLToPath } from 'node:url';
import { connect, ErrorCode, JSONCodec, NatsError } from '../../client/index.ts';
import { callWithRetry, type RetryPolicy } from './caller.ts';
import { QUOTE_SUBJECT, startService, type ErrorReply, type QuoteReply, type ServiceInstance } from './service.ts';

export interface DemoOptions {
  /** Quote requests sent while both instances run (default 20). */
  calls?: number;
  /** Per-attempt timeout of the caller (default 300 ms). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface DemoSummary {
  calls: number;
  /** Replies per answering instance, as the caller saw them. */
  servedBy: Record<string, number>;
  /** Requests each instance answered, as the instances counted them. */
  handled: Record<string, number>;
  /** Attempts that timed out and were retried. */
  timeouts: number;
  /** Calls that needed more than one attempt. */
  retriedCalls: number;
  /** The call made after both instances stopped. */
  noResponders: { code: string; attempts: number; elapsedMs: number };
}

const replies = JSONCodec<QuoteReply | ErrorReply>();
const json = JSONCodec();

export async function runDemo(url: string, opts: DemoOptions = {}): Promise<DemoSummary> {
  const log = opts.log ?? (() => undefined);
  const calls = opts.calls ?? 20;
  let timeouts = 0;
  const policy: RetryPolicy = {
    timeoutMs: opts.timeoutMs ?? 300,
    retries: 3,
    backoffMs: 20,
    onRetry: (err, attempt) => {
      if (err.code === ErrorCode.Timeout) timeouts++;
      log(`  attempt ${attempt} failed (${err.code}), retrying`);
    },
  };

  const services: ServiceInstance[] = [];
  const caller = await connect({ servers: url, name: 'pricing-caller' });
  try {
    services.push(await startService(url, { instance: 'a' }));
    services.push(await startService(url, { instance: 'b', dropEvery: 3 }));
    log(`two instances of '${QUOTE_SUBJECT}' in one queue group; instance b ignores every 3rd request`);

    const servedBy: Record<string, number> = {};
    let retriedCalls = 0;
    for (let i = 1; i <= calls; i++) {
      const sku = `sku-${i}`;
      const { reply, attempts } = await callWithRetry(caller, QUOTE_SUBJECT, json.encode({ sku }), policy);
      const r = replies.decode(reply.data);
      if ('error' in r) throw new Error(`service error: ${r.error}`);
      servedBy[r.servedBy] = (servedBy[r.servedBy] ?? 0) + 1;
      if (attempts > 1) retriedCalls++;
      log(`${sku}: ${r.priceCents} cents from instance ${r.servedBy}${attempts > 1 ? ` after ${attempts} attempts` : ''}`);
    }
    const handled = Object.fromEntries(services.map((s) => [s.instance, s.handled()]));
    log(`load: ${Object.entries(servedBy).map(([k, v]) => `${k}=${v}`).join(' ')}; ${timeouts} timeouts retried`);

    for (const s of services.splice(0)) await s.stop();
    log('both instances stopped');
    const started = performance.now();
    let attemptsMade = 0;
    let code = '';
    try {
      await callWithRetry(caller, QUOTE_SUBJECT, json.encode({ sku: 'sku-x' }), {
        ...policy,
        onRetry: (err, attempt) => {
          attemptsMade = attempt;
          log(`  attempt ${attempt} failed (${err.code}), retrying`);
        },
      });
    } catch (err) {
      if (!(err instanceof NatsError)) throw err;
      code = err.code;
    }
    const elapsedMs = Math.round(performance.now() - started);
    log(`no instance running: ${code} after ${attemptsMade + 1} attempts in ${elapsedMs} ms (not a ${policy.timeoutMs} ms timeout each)`);
    return { calls, servedBy, handled, timeouts, retriedCalls, noResponders: { code, attempts: attemptsMade + 1, elapsedMs } };
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    await caller.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const url = process.argv[2] ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  runDemo(url, { log: (line) => console.log(line) }).catch((err: unknown) => {
    console.error(`rpc-services: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
