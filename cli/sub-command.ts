// `sluice sub SUBJECT...` (print what arrives) and `sluice reply SUBJECT [BODY]` (answer requests,
// in queue group NATS-RPLY-22 by default, as the nats CLI does). Both run until --count messages
// were handled, the connection closes, or SIGINT/SIGTERM; the subscription is flushed before
// "Subscribing on ..." is printed, so a message published after that line is seen.

import { Command } from 'commander';
import type { Msg, Subscription } from '../client/index.ts';
import { withContext } from './connect.ts';
import { aborted, stopSignalOf, type CliIo } from './io.ts';
import { expandTemplate, headersFrom, printMsg } from './messages.ts';
import { collect, intFlag } from './values.ts';

/** Resolves when every subscription is done (max reached), the connection closed, or a stop. */
async function runUntilDone(subs: readonly Subscription[], closed: Promise<unknown>, signal: AbortSignal): Promise<void> {
  await Promise.race([Promise.all(subs.map((s) => s.closed)), closed, aborted(signal)]);
}

export function createSubCommand(io: CliIo): Command {
  return new Command('sub')
    .alias('subscribe')
    .description('subscribe and print messages as they arrive (Ctrl-C stops)')
    .argument('<subjects...>', 'subjects to subscribe to (wildcards allowed)')
    .option('--queue <group>', 'join this queue group')
    .option('--count <n>', 'stop after this many messages')
    .option('-r, --raw', 'print only the message bodies, one per line')
    .option('--headers', 'print headers (also with --raw)')
    .option('--headers-only', 'print headers, not bodies')
    .action(async (subjects: string[], f: { queue?: string; count?: string; raw?: boolean; headers?: boolean; headersOnly?: boolean }, cmd: Command) => {
      const max = f.count === undefined ? 0 : intFlag('--count', f.count, 1);
      await withContext(io, cmd, async (ctx) => {
        const nc = await ctx.connect();
        let n = 0;
        let finish!: () => void;
        const done = new Promise<void>((r) => (finish = r));
        const onMsg = (m: Msg): void => {
          if (max > 0 && n >= max) return;
          n++;
          printMsg(ctx.out, n, m, { raw: f.raw === true, headers: f.headers === true, headersOnly: f.headersOnly === true });
          if (max > 0 && n >= max) finish();
        };
        const subs = subjects.map((s) => nc.subscribe(s, { queue: f.queue, callback: onMsg, ...(max > 0 && subjects.length === 1 ? { max } : {}) }));
        await nc.flush();
        const q = f.queue !== undefined ? ` in queue group "${f.queue}"` : '';
        ctx.out.note(`Subscribing on ${subjects.map((s) => `"${s}"`).join(', ')}${q}${max > 0 ? ` (stopping after ${max})` : ''}`);
        await Promise.race([done, runUntilDone(subs, nc.closed(), stopSignalOf(io))]);
      });
    });
}

export function createReplyCommand(io: CliIo): Command {
  return new Command('reply')
    .description('answer requests on a subject with a fixed body, a template ({{Request}}, {{Count}}) or --echo')
    .argument('<subject>', 'subject to serve')
    .argument('[body]', 'reply body')
    .option('-q, --queue <group>', 'queue group', 'NATS-RPLY-22')
    .option('--echo', 'answer with the request itself (body and headers)')
    .option('-H, --header <k:v>', 'add a header to replies (repeatable)', collect)
    .option('--count <n>', 'stop after this many requests')
    .option('--no-templates', 'send {{...}} in the body literally')
    .action(async (subject: string, body: string | undefined, f: { queue: string; echo?: boolean; header?: string[]; count?: string; templates: boolean }, cmd: Command) => {
      const max = f.count === undefined ? 0 : intFlag('--count', f.count, 1);
      const headers = headersFrom(f.header);
      const decoder = new TextDecoder();
      await withContext(io, cmd, async (ctx) => {
        const nc = await ctx.connect();
        const id = (): string => nc.createInbox().split('.').pop()!;
        // A bad template fails now, not inside the first request's callback.
        if (f.templates) expandTemplate(body ?? '', { count: 0, nowMs: 0, id, request: '' });
        let n = 0;
        const onMsg = (m: Msg): void => {
          n++;
          printMsg(ctx.out, n, m, { headers: true });
          if (f.echo === true) {
            m.respond(m.data, { headers: m.headers });
            return;
          }
          const text = body ?? '';
          const reply = f.templates
            ? expandTemplate(text, { count: n, nowMs: ctx.clock.nowMs(), id, request: decoder.decode(m.data) })
            : text;
          m.respond(reply, { headers });
        };
        const sub = nc.subscribe(subject, { queue: f.queue, callback: onMsg, ...(max > 0 ? { max } : {}) });
        await nc.flush();
        ctx.out.note(`Listening on "${subject}" in group "${f.queue}"`);
        await runUntilDone([sub], nc.closed(), stopSignalOf(io));
      });
    });
}
