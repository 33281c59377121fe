// `sluice consumer add|edit|info|ls|rm|next`, named and flagged as in the nats CLI. Consumers made
// here are durable (named). `next` pulls from a pull consumer and acknowledges (--no-ack not).

import { Command } from 'commander';
import type { ConsumerConfig, ConsumerInfo } from '../client/index.ts';
import { withContext, type CommandContext } from './connect.ts';
import { addConsumerConfigFlags, consumerConfigFromFlags, type ConsumerFlags } from './consumer-config.ts';
import { JsErr, isJsError, notFound } from './errors.ts';
import { timeAgo, type Output } from './format.ts';
import { CliError, type CliIo } from './io.ts';
import { printMsg } from './messages.ts';
import { confirm, required } from './prompt.ts';
import { intFlag } from './values.ts';

interface JsonFlag {
  json?: boolean;
}

async function consumerInfo(ctx: CommandContext, stream: string, name: string): Promise<ConsumerInfo> {
  const jsm = await ctx.jsm();
  try {
    return await jsm.consumers.info(stream, name);
  } catch (e) {
    if (isJsError(e, JsErr.StreamNotFound)) throw new CliError(`stream ${stream} not found`);
    return notFound(e, JsErr.ConsumerNotFound, `consumer ${name} of stream ${stream}`);
  }
}

const POLICY_NAME: Readonly<Record<string, string>> = {
  all: 'All',
  new: 'New',
  last: 'Last',
  last_per_subject: 'Last Per Subject',
  by_start_sequence: 'From Sequence',
  by_start_time: 'From Time',
};

export function renderConsumerInfo(out: Output, i: ConsumerInfo, nowMs: number): void {
  const c = i.config;
  out.line(out.bold(`Information for Consumer ${i.stream_name} > ${i.name} created ${timeAgo(out, i.created, nowMs)}`));
  out.line();
  const cfg: [string, string][] = [['Name', i.name]];
  if (c.description !== undefined && c.description !== '') cfg.push(['Description', c.description]);
  if (c.deliver_subject !== undefined && c.deliver_subject !== '') cfg.push(['Delivery Subject', c.deliver_subject]);
  else cfg.push(['Pull Mode', 'true']);
  const filters = c.filter_subjects ?? (c.filter_subject !== undefined && c.filter_subject !== '' ? [c.filter_subject] : []);
  if (filters.length > 0) cfg.push(['Filter Subject', filters.join(', ')]);
  let policy = POLICY_NAME[c.deliver_policy] ?? c.deliver_policy;
  if (c.deliver_policy === 'by_start_sequence') policy += ` ${c.opt_start_seq ?? 0}`;
  if (c.deliver_policy === 'by_start_time') policy += ` ${c.opt_start_time ?? ''}`;
  cfg.push(['Deliver Policy', policy], ['Ack Policy', c.ack_policy[0]!.toUpperCase() + c.ack_policy.slice(1)]);
  if (c.ack_policy !== 'none') cfg.push(['Ack Wait', out.nanos(c.ack_wait ?? 0, '-')]);
  cfg.push(
    ['Replay Policy', c.replay_policy === 'original' ? 'Original' : 'Instant'],
    ['Maximum Deliveries', out.count(c.max_deliver ?? -1)],
    ['Max Ack Pending', out.count(c.max_ack_pending ?? -1)],
  );
  if (c.deliver_subject === undefined || c.deliver_subject === '') cfg.push(['Max Waiting Pulls', out.count(c.max_waiting ?? 0)]);
  if (c.headers_only === true) cfg.push(['Headers Only', 'true']);
  out.fields('Configuration:', cfg);
  out.fields('State:', [
    ['Last Delivered Message', `Consumer sequence: ${i.delivered.consumer_seq} Stream sequence: ${i.delivered.stream_seq}`],
    ['Acknowledgment Floor', `Consumer sequence: ${i.ack_floor.consumer_seq} Stream sequence: ${i.ack_floor.stream_seq}`],
    ['Outstanding Acks', `${out.count(i.num_ack_pending)}${(c.max_ack_pending ?? -1) > 0 ? ` out of maximum ${out.count(c.max_ack_pending!)}` : ''}`],
    ['Redelivered Messages', out.count(i.num_redelivered)],
    ['Unprocessed Messages', out.count(i.num_pending)],
    ...(c.deliver_subject === undefined || c.deliver_subject === '' ? [['Waiting Pulls', out.count(i.num_waiting)] as [string, string]] : []),
  ]);
}

function show(ctx: CommandContext, info: ConsumerInfo, json: boolean | undefined, heading?: string): void {
  if (json === true) return ctx.out.json(info);
  if (heading !== undefined) ctx.out.line(heading);
  renderConsumerInfo(ctx.out, info, ctx.clock.nowMs());
}

async function names(io: CliIo, streamArg: string | undefined, nameArg: string | undefined): Promise<[string, string]> {
  const stream = await required(io, streamArg, 'stream name', 'the first argument: sluice consumer <command> STREAM NAME');
  const name = await required(io, nameArg, 'consumer name', 'the second argument: sluice consumer <command> STREAM NAME');
  return [stream, name];
}

function addCommand(io: CliIo): Command {
  return addConsumerConfigFlags(
    new Command('add').alias('create').description('create a durable consumer on a stream').argument('[stream]', 'stream name').argument('[name]', 'consumer name'),
  )
    .option('--defaults', 'accept the defaults for everything not given (no prompts)')
    .option('-j, --json', 'print the ConsumerInfo JSON')
    .action(async (streamArg: string | undefined, nameArg: string | undefined, f: ConsumerFlags & JsonFlag & { defaults?: boolean }, cmd: Command) => {
      const [stream, name] = await names(io, streamArg, nameArg);
      await withContext(io, cmd, async (ctx) => {
        const { config, deliverAsSubject } = consumerConfigFromFlags(f, ctx.clock.nowMs());
        if (deliverAsSubject !== undefined) ctx.out.note(`--deliver "${deliverAsSubject}" is not a deliver policy: it is the push delivery subject (--target)`);
        if (config.deliver_subject === undefined && f.pull !== true && f.defaults !== true && f.config === undefined) {
          const target = await required(io, undefined, 'delivery subject (empty for a pull consumer)', '--target SUBJECT or --pull', '');
          if (target !== '') config.deliver_subject = target;
        }
        const jsm = await ctx.jsm();
        const cfg: Partial<ConsumerConfig> = { ...config, durable_name: name };
        delete cfg.name;
        const info = await jsm.consumers.add(stream, cfg).catch((e: unknown) => notFound(e, JsErr.StreamNotFound, `stream ${stream}`));
        show(ctx, info, f.json, `Consumer ${name} of stream ${stream} was created\n`);
      });
    });
}

function editCommand(io: CliIo): Command {
  return addConsumerConfigFlags(new Command('edit').alias('update').description('change a consumer: only the flags given').argument('<stream>').argument('<name>'))
    .option('-j, --json', 'print the ConsumerInfo JSON')
    .action(async (stream: string, name: string, f: ConsumerFlags & JsonFlag, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const { config } = consumerConfigFromFlags(f, ctx.clock.nowMs());
        if (Object.keys(config).length === 0) throw new CliError('nothing to change: give the fields to edit as flags, e.g. --max-deliver 5');
        const current = await consumerInfo(ctx, stream, name);
        const jsm = await ctx.jsm();
        const info = await jsm.consumers.update(stream, name, { ...current.config, ...config });
        show(ctx, info, f.json, `Consumer ${name} of stream ${stream} was updated\n`);
      });
    });
}

function infoCommand(io: CliIo): Command {
  return new Command('info')
    .description('show a consumer: configuration and state')
    .argument('[stream]')
    .argument('[name]')
    .option('-j, --json', 'print the ConsumerInfo JSON')
    .action(async (streamArg: string | undefined, nameArg: string | undefined, f: JsonFlag, cmd: Command) => {
      const [stream, name] = await names(io, streamArg, nameArg);
      await withContext(io, cmd, async (ctx) => show(ctx, await consumerInfo(ctx, stream, name), f.json));
    });
}

function lsCommand(io: CliIo): Command {
  return new Command('ls')
    .alias('list')
    .description("list a stream's consumers")
    .argument('[stream]')
    .option('-n, --names', 'print only the names')
    .option('-j, --json', 'print the names as JSON')
    .action(async (streamArg: string | undefined, f: JsonFlag & { names?: boolean }, cmd: Command) => {
      const stream = await required(io, streamArg, 'stream name', 'an argument: sluice consumer ls STREAM');
      await withContext(io, cmd, async (ctx) => {
        const jsm = await ctx.jsm();
        const list = await jsm.consumers.list(stream).catch((e: unknown) => notFound(e, JsErr.StreamNotFound, `stream ${stream}`));
        const sorted = [...list].sort((a, b) => a.name.localeCompare(b.name));
        if (f.json === true) return ctx.out.json(sorted.map((c) => c.name));
        if (f.names === true) return sorted.forEach((c) => ctx.out.line(c.name));
        if (sorted.length === 0) return ctx.out.line(`No consumers defined on stream ${stream}`);
        const out = ctx.out;
        const rows = sorted.map((c) => [
          c.name,
          c.config.deliver_subject !== undefined && c.config.deliver_subject !== '' ? `push ${c.config.deliver_subject}` : 'pull',
          c.config.ack_policy,
          out.count(c.num_pending),
          out.count(c.num_ack_pending),
          out.count(c.num_redelivered),
          c.delivered.last_active !== undefined ? timeAgo(out, c.delivered.last_active, ctx.clock.nowMs()) : 'never',
        ]);
        out.table(['Name', 'Mode', 'Ack', 'Unprocessed', 'Ack Pending', 'Redelivered', 'Last Delivery'], rows, out.human ? `Consumers of ${stream}` : undefined);
      });
    });
}

function rmCommand(io: CliIo): Command {
  return new Command('rm')
    .alias('delete')
    .description('delete a consumer')
    .argument('<stream>')
    .argument('<name>')
    .option('-f, --force', 'no confirmation prompt')
    .action(async (stream: string, name: string, f: { force?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        await consumerInfo(ctx, stream, name);
        await confirm(io, `Really delete consumer ${name} of stream ${stream}`, f.force === true);
        await (await ctx.jsm()).consumers.delete(stream, name);
        ctx.out.line(`Consumer ${name} of stream ${stream} deleted`);
      });
    });
}

function nextCommand(io: CliIo): Command {
  return new Command('next')
    .description('pull messages from a pull consumer and acknowledge them')
    .argument('<stream>')
    .argument('<name>')
    .option('--count <n>', 'how many messages to pull', '1')
    .option('--ack', 'acknowledge each message (the default)')
    .option('--no-ack', 'do not acknowledge')
    .option('--nak', 'negatively acknowledge (redeliver)')
    .option('--term', 'terminate (never redeliver)')
    .option('-r, --raw', 'print only the message bodies')
    .action(async (stream: string, name: string, f: { count: string; ack?: boolean; nak?: boolean; term?: boolean; raw?: boolean }, cmd: Command) => {
      const count = intFlag('--count', f.count, 1);
      const ack = f.ack !== false;
      await withContext(io, cmd, async (ctx) => {
        const info = await consumerInfo(ctx, stream, name);
        if (info.config.deliver_subject !== undefined && info.config.deliver_subject !== '') {
          throw new CliError(`consumer ${name} of stream ${stream} is a push consumer: next works on pull consumers`);
        }
        const js = await ctx.js();
        const consumer = await js.consumers.get(stream, name);
        let n = 0;
        for await (const m of consumer.fetch({ maxMessages: count, expiresMs: ctx.timeoutMs })) {
          n++;
          const d = m.info;
          printMsg(ctx.out, n, m.msg, { raw: f.raw === true }, `[#${n}] subj: ${m.subject} / tries: ${d.deliveryCount} / cons seq: ${d.deliverySequence} / str seq: ${d.streamSequence} / pending: ${d.pending}`);
          if (f.term === true) m.term();
          else if (f.nak === true) m.nak();
          else if (ack) await m.ackAck(ctx.timeoutMs);
          if (f.raw !== true) ctx.out.note(f.term === true ? 'Terminated message' : f.nak === true ? 'NAKed message' : ack ? 'Acknowledged message' : 'Not acknowledged');
        }
        if (n === 0) throw new CliError(`no message from consumer ${name} of stream ${stream} within ${ctx.out.nanos(ctx.timeoutMs * 1e6)}`);
      });
    });
}

export function createConsumerCommand(io: CliIo): Command {
  const consumer = new Command('consumer').alias('con').description('manage JetStream consumers');
  for (const sub of [addCommand, editCommand, infoCommand, lsCommand, rmCommand, nextCommand]) consumer.addCommand(sub(io));
  return consumer;
}
