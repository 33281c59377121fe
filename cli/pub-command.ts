// `sluice pub SUBJECT [BODY]` and `sluice req SUBJECT [BODY]`, with the nats CLI's flags: --count,
// -H/--header K:V, body templates ({{Count}}, {{TimeStamp}}, ...), --stdin (alias --force-stdin)
// for the body, -J/--jetstream to publish into a stream and print its ack.

import { Command } from 'commander';
import type { NatsConnection } from '../client/index.ts';
import { withContext, type CommandContext } from './connect.ts';
import { humanBytes, humanDuration } from './format.ts';
import { readAll, type CliIo } from './io.ts';
import { expandTemplate, hasTemplate, headersFrom, printMsg } from './messages.ts';
import { collect, intFlag } from './values.ts';

interface BodyFlags {
  stdin?: boolean;
  forceStdin?: boolean;
  templates: boolean;
  header?: string[];
  count: string;
}

/** The body source: a fixed byte string, or a template expanded per message. */
async function bodyMaker(io: CliIo, ctx: CommandContext, nc: NatsConnection, body: string | undefined, f: BodyFlags): Promise<(n: number) => Uint8Array> {
  const encoder = new TextEncoder();
  const raw = f.stdin === true || f.forceStdin === true ? await readAll(io) : encoder.encode(body ?? '');
  const text = new TextDecoder().decode(raw);
  if (!f.templates || !hasTemplate(text)) return () => raw;
  const id = (): string => {
    const inbox = nc.createInbox();
    return inbox.slice(inbox.lastIndexOf('.') + 1);
  };
  return (n) => encoder.encode(expandTemplate(text, { count: n, nowMs: ctx.clock.nowMs(), id }));
}

/** The body and header flags pub and req share. */
function addBodyFlags(cmd: Command, countHelp: string): Command {
  return cmd
    .option('--count <n>', countHelp, '1')
    .option('-H, --header <k:v>', 'add a header (repeatable)', collect)
    .option('--stdin', 'read the body from stdin')
    .option('--force-stdin', 'same as --stdin (nats CLI spelling)')
    .option('--no-templates', 'send {{...}} in the body literally');
}

export function createPubCommand(io: CliIo): Command {
  return addBodyFlags(
    new Command('pub')
      .alias('publish')
      .description('publish a message (body from the argument, a {{Count}}/{{TimeStamp}} template, or --stdin)')
      .argument('<subject>', 'subject to publish to')
      .argument('[body]', 'message body'),
    'publish this many messages',
  )
    .option('--reply <subject>', 'reply subject')
    .option('-J, --jetstream', 'publish into a stream and wait for its acknowledgement')
    .option('-q, --quiet', 'print nothing on success')
    .action(async (subject: string, body: string | undefined, f: BodyFlags & { reply?: string; jetstream?: boolean; quiet?: boolean }, cmd: Command) => {
      const count = intFlag('--count', f.count, 1);
      const headers = headersFrom(f.header);
      await withContext(io, cmd, async (ctx) => {
        const nc = await ctx.connect();
        const make = await bodyMaker(io, ctx, nc, body, f);
        let bytes = 0;
        if (f.jetstream === true) {
          const js = await ctx.js();
          for (let n = 1; n <= count; n++) {
            const data = make(n);
            const ack = await js.publish(subject, data, { headers });
            bytes += data.length;
            if (f.quiet !== true) ctx.out.note(`Published ${data.length} bytes to "${subject}" (stream ${ack.stream}, seq ${ack.seq}${ack.duplicate === true ? ', duplicate' : ''})`);
          }
          return;
        }
        for (let n = 1; n <= count; n++) {
          const data = make(n);
          nc.publish(subject, data, { headers, reply: f.reply });
          bytes += data.length;
          // Let the socket drain now and then on large counts.
          if (n % 10_000 === 0) await nc.flush();
        }
        await nc.flush();
        if (f.quiet === true) return;
        ctx.out.note(count === 1 ? `Published ${bytes} bytes to "${subject}"` : `Published ${count} messages (${humanBytes(bytes)}) to "${subject}"`);
      });
    });
}

export function createReqCommand(io: CliIo): Command {
  return addBodyFlags(
    new Command('req')
      .alias('request')
      .description('send a request and print the reply')
      .argument('<subject>', 'subject to send the request to')
      .argument('[body]', 'request body'),
    'send this many requests, one after the other',
  )
    .option('-r, --raw', 'print only the reply body')
    .action(async (subject: string, body: string | undefined, f: BodyFlags & { raw?: boolean }, cmd: Command) => {
      const count = intFlag('--count', f.count, 1);
      const headers = headersFrom(f.header);
      await withContext(io, cmd, async (ctx) => {
        const nc = await ctx.connect();
        const make = await bodyMaker(io, ctx, nc, body, f);
        for (let n = 1; n <= count; n++) {
          const started = ctx.clock.monoNs();
          const reply = await nc.request(subject, make(n), { headers, timeoutMs: ctx.timeoutMs });
          const rttMs = (ctx.clock.monoNs() - started) / 1e6;
          if (f.raw !== true) ctx.out.note(`Received with rtt ${humanDuration(rttMs)}`);
          printMsg(ctx.out, n, reply, { raw: f.raw === true }, null);
        }
      });
    });
}
