// `sluice stream add|edit|info|ls|rm|purge|get|rmm|backup|restore`, named and flagged as in the
// nats CLI. Info, ls and get print the API's JSON with --json. A missing stream is
// `stream NAME not found`, exit 1.

import { Command } from 'commander';
import type { StreamConfig, StreamInfo } from '../client/index.ts';
import { withContext, type CommandContext } from './connect.ts';
import { JsErr, notFound } from './errors.ts';
import { CliError, type CliIo } from './io.ts';
import { confirm, required } from './prompt.ts';
import { backupStream, restoreStream } from './stream-backup.ts';
import { addStreamConfigFlags, streamConfigFromFlags, type StreamFlags } from './stream-config.ts';
import { decodeStored, renderStoredMessage, renderStreamInfo, renderStreamList } from './stream-render.ts';
import { intFlag } from './values.ts';

interface JsonFlag {
  json?: boolean;
}

async function streamInfo(ctx: CommandContext, name: string): Promise<StreamInfo> {
  const jsm = await ctx.jsm();
  try {
    return await jsm.streams.info(name);
  } catch (e) {
    return notFound(e, JsErr.StreamNotFound, `stream ${name}`);
  }
}

function show(ctx: CommandContext, info: StreamInfo, json: boolean | undefined, heading?: string): void {
  if (json === true) return ctx.out.json(info);
  if (heading !== undefined) ctx.out.line(heading);
  renderStreamInfo(ctx.out, info, ctx.clock.nowMs());
}

function addCommand(io: CliIo): Command {
  return addStreamConfigFlags(
    new Command('add')
      .alias('create')
      .description('create a stream')
      .argument('[name]', 'stream name (asked for on a terminal when missing)'),
  )
    .option('--defaults', 'accept the defaults for everything not given (no prompts)')
    .option('-j, --json', 'print the StreamInfo JSON')
    .action(async (nameArg: string | undefined, f: StreamFlags & JsonFlag & { defaults?: boolean }, cmd: Command) => {
      const cfg = streamConfigFromFlags(f);
      const name = await required(io, nameArg ?? cfg.name, 'stream name', 'an argument: sluice stream add NAME');
      if (cfg.subjects === undefined && f.defaults !== true && f.config === undefined) {
        cfg.subjects = [await required(io, undefined, 'subjects (comma-separated)', '--subjects', name)].flatMap((s) => s.split(/[\s,]+/)).filter((s) => s !== '');
      }
      await withContext(io, cmd, async (ctx) => {
        const jsm = await ctx.jsm();
        const info = await jsm.streams.add({ ...cfg, name });
        show(ctx, info, f.json, `Stream ${name} was created\n`);
      });
    });
}

function editCommand(io: CliIo): Command {
  return addStreamConfigFlags(new Command('edit').alias('update').description('change a stream: only the flags given').argument('<name>', 'stream name'))
    .option('-f, --force', 'no confirmation prompt')
    .option('-j, --json', 'print the StreamInfo JSON')
    .action(async (name: string, f: StreamFlags & JsonFlag & { force?: boolean }, cmd: Command) => {
      const changes = streamConfigFromFlags(f);
      if (Object.keys(changes).length === 0) throw new CliError('nothing to change: give the fields to edit as flags, e.g. --max-msgs 1000');
      await withContext(io, cmd, async (ctx) => {
        const current = await streamInfo(ctx, name);
        const merged: StreamConfig = { ...current.config, ...changes, name };
        const changed = Object.keys(changes).filter((k) => JSON.stringify(current.config[k as keyof StreamConfig]) !== JSON.stringify(changes[k as keyof StreamConfig]));
        if (changed.length === 0) {
          ctx.out.note(`Stream ${name} already has that configuration`);
        } else {
          await confirm(io, `Really change ${changed.join(', ')} of stream ${name}`, f.force === true || io.stdinIsTTY !== true);
        }
        const jsm = await ctx.jsm();
        const info = await jsm.streams.update(name, merged);
        show(ctx, info, f.json, `Stream ${name} was updated\n`);
      });
    });
}

function infoCommand(io: CliIo): Command {
  return new Command('info')
    .description('show a stream: configuration and state')
    .argument('[name]', 'stream name')
    .option('-j, --json', 'print the StreamInfo JSON')
    .action(async (nameArg: string | undefined, f: JsonFlag, cmd: Command) => {
      const name = await required(io, nameArg, 'stream name', 'an argument: sluice stream info NAME');
      await withContext(io, cmd, async (ctx) => show(ctx, await streamInfo(ctx, name), f.json));
    });
}

function lsCommand(io: CliIo): Command {
  return new Command('ls')
    .alias('list')
    .description('list streams')
    .option('--subject <subject>', 'only streams that store this subject')
    .option('-n, --names', 'print only the names')
    .option('-j, --json', 'print the names as JSON (STREAM.NAMES)')
    .action(async (f: JsonFlag & { subject?: string; names?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const jsm = await ctx.jsm();
        if (f.json === true || f.names === true) {
          const names = (await jsm.streams.names(f.subject)).sort();
          if (f.json === true) ctx.out.json(names);
          else for (const n of names) ctx.out.line(n);
          return;
        }
        renderStreamList(ctx.out, await jsm.streams.list(f.subject), ctx.clock.nowMs());
      });
    });
}

function rmCommand(io: CliIo): Command {
  return new Command('rm')
    .alias('delete')
    .description('delete a stream and all its messages')
    .argument('<name>', 'stream name')
    .option('-f, --force', 'no confirmation prompt')
    .action(async (name: string, f: { force?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        await streamInfo(ctx, name);
        await confirm(io, `Really delete stream ${name}`, f.force === true);
        await (await ctx.jsm()).streams.delete(name);
        ctx.out.line(`Stream ${name} deleted`);
      });
    });
}

function purgeCommand(io: CliIo): Command {
  return new Command('purge')
    .description('remove messages from a stream (all, or by --subject, --seq, --keep)')
    .argument('<name>', 'stream name')
    .option('-f, --force', 'no confirmation prompt')
    .option('--subject <subject>', 'only messages on this subject')
    .option('--seq <n>', 'messages before this sequence')
    .option('--keep <n>', 'keep this many of the newest messages')
    .option('-j, --json', 'print the API response')
    .action(async (name: string, f: JsonFlag & { force?: boolean; subject?: string; seq?: string; keep?: string }, cmd: Command) => {
      const req: { filter?: string; seq?: number; keep?: number } = {};
      if (f.subject !== undefined) req.filter = f.subject;
      if (f.seq !== undefined) req.seq = intFlag('--seq', f.seq, 1);
      if (f.keep !== undefined) req.keep = intFlag('--keep', f.keep, 0);
      if (req.seq !== undefined && req.keep !== undefined) throw new CliError('--seq and --keep cannot be used together');
      await withContext(io, cmd, async (ctx) => {
        await streamInfo(ctx, name);
        await confirm(io, `Really purge stream ${name}`, f.force === true);
        const purged = await (await ctx.jsm()).streams.purge(name, Object.keys(req).length > 0 ? req : undefined);
        if (f.json === true) ctx.out.json({ success: true, purged });
        else ctx.out.line(`Purged ${purged} messages from stream ${name}`);
      });
    });
}

function getCommand(io: CliIo): Command {
  return new Command('get')
    .description('print one stored message: by sequence, or the last on a subject (-S)')
    .argument('<name>', 'stream name')
    .argument('[seq]', 'message sequence')
    .option('-S, --last-for <subject>', 'the last message on this subject')
    .option('-j, --json', 'print the API JSON (base64 data and headers)')
    .action(async (name: string, seqText: string | undefined, f: JsonFlag & { lastFor?: string }, cmd: Command) => {
      if ((seqText === undefined) === (f.lastFor === undefined)) throw new CliError('give a sequence or -S/--last-for SUBJECT (one of them)');
      const query = seqText !== undefined ? { seq: intFlag('seq', seqText, 1) } : { last_by_subj: f.lastFor! };
      await withContext(io, cmd, async (ctx) => {
        await streamInfo(ctx, name);
        const jsm = await ctx.jsm();
        const what = query.seq !== undefined ? `message ${query.seq} in stream ${name}` : `message on ${f.lastFor} in stream ${name}`;
        const m = await jsm.streams.getMessage(name, query).catch((e: unknown) => notFound(e, JsErr.NoMessageFound, what));
        if (f.json === true) return ctx.out.json(m);
        renderStoredMessage(ctx.out, name, decodeStored(m), ctx.clock.nowMs());
      });
    });
}

function rmmCommand(io: CliIo): Command {
  return new Command('rmm')
    .description('delete one message from a stream')
    .argument('<name>', 'stream name')
    .argument('<seq>', 'message sequence')
    .option('-f, --force', 'no confirmation prompt')
    .action(async (name: string, seqText: string, f: { force?: boolean }, cmd: Command) => {
      const seq = intFlag('seq', seqText, 1);
      await withContext(io, cmd, async (ctx) => {
        await streamInfo(ctx, name);
        await confirm(io, `Really delete message ${seq} from stream ${name}`, f.force === true);
        await (await ctx.jsm()).streams.deleteMessage(name, seq);
        ctx.out.line(`Message ${seq} deleted from stream ${name}`);
      });
    });
}

function backupCommand(io: CliIo): Command {
  return new Command('backup')
    .description('save a stream (configuration and messages) into a directory')
    .argument('<name>', 'stream name')
    .argument('<dir>', 'directory to create')
    .action(async (name: string, dir: string, _f: unknown, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const info = await streamInfo(ctx, name);
        const r = await backupStream(ctx, info, dir);
        ctx.out.line(`Backed up ${r.messages} messages (${ctx.out.bytes(r.bytes)}) of stream ${name} to ${dir}`);
      });
    });
}

function restoreCommand(io: CliIo): Command {
  return new Command('restore')
    .description('re-create a stream from a backup directory (messages get new sequence numbers)')
    .argument('<dir>', 'backup directory')
    .option('--config <file>', 'JSON StreamConfig to use instead of the saved one')
    .action(async (dir: string, f: { config?: string }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const r = await restoreStream(ctx, dir, f.config);
        ctx.out.line(`Restored stream ${r.stream}: ${r.messages} messages`);
      });
    });
}

export function createStreamCommand(io: CliIo): Command {
  const stream = new Command('stream').alias('str').description('manage JetStream streams');
  for (const sub of [addCommand, editCommand, infoCommand, lsCommand, rmCommand, purgeCommand, getCommand, rmmCommand, backupCommand, restoreCommand]) {
    stream.addCommand(sub(io));
  }
  return stream;
}
