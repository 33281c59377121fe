// `sluice kv add|put|get|del|purge|history|watch|ls|rm|status`, as in the nats CLI. A bucket B is
// the stream KV_B; `kv ls` without a bucket lists buckets, with one lists its keys.

import { Command } from 'commander';
import { kv as openKv, type Kv, type KvEntry, type StreamInfo } from '../client/index.ts';
import { withContext, type CommandContext } from './connect.ts';
import { JsErr, notFound } from './errors.ts';
import { humanDuration, timeAgo } from './format.ts';
import { aborted, CliError, readAll, stopSignalOf, type CliIo } from './io.ts';
import { confirm, required } from './prompt.ts';
import { durationFlag, enumFlag, intFlag, sizeFlag } from './values.ts';

const STORAGE = { file: 'file', f: 'file', memory: 'memory', m: 'memory' } as const;

async function bind(ctx: CommandContext, bucket: string): Promise<Kv> {
  const nc = await ctx.connect();
  return openKv(nc, bucket, { bindOnly: true, timeoutMs: ctx.timeoutMs }).catch((e: unknown) => notFound(e, JsErr.StreamNotFound, `bucket ${bucket}`));
}

async function bucketInfo(ctx: CommandContext, bucket: string): Promise<StreamInfo> {
  const jsm = await ctx.jsm();
  return jsm.streams.info(`KV_${bucket}`).catch((e: unknown) => notFound(e, JsErr.StreamNotFound, `bucket ${bucket}`));
}

function renderStatus(ctx: CommandContext, bucket: string, info: StreamInfo): void {
  const out = ctx.out;
  const c = info.config;
  out.fields(`Information for Key-Value Store Bucket ${bucket} created ${timeAgo(out, info.created, ctx.clock.nowMs())}`, [
    ['Bucket', bucket],
    ['History Kept', String(c.max_msgs_per_subject)],
    ['Values Stored', out.count(info.state.messages)],
    ['Size', out.bytes(info.state.bytes)],
    ['Maximum Age', out.nanos(c.max_age)],
    ['Maximum Value Size', out.bytes(c.max_msg_size)],
    ['Maximum Bucket Size', out.bytes(c.max_bytes)],
    ['Storage', c.storage === 'memory' ? 'Memory' : 'File'],
    ['Replicas', String(c.num_replicas)],
    ['Backing Stream', c.name],
  ]);
}

function entryLine(ctx: CommandContext, e: KvEntry): string {
  const when = ctx.out.human ? new Date(e.created).toISOString().replace('T', ' ').slice(0, 19) : e.created.toISOString();
  return e.operation === 'PUT' ? `[${when}] PUT ${e.bucket} > ${e.key}: ${e.string()}` : `[${when}] ${e.operation} ${e.bucket} > ${e.key}`;
}

function addCommand(io: CliIo): Command {
  return new Command('add')
    .alias('new')
    .description('create a bucket')
    .argument('<bucket>')
    .option('--history <n>', 'values kept per key, 1..64', '1')
    .option('--ttl <duration>', 'values expire after this long, e.g. 1h (default: never)')
    .option('--replicas <n>', 'replicas when clustered', '1')
    .option('--storage <type>', 'file or memory', 'file')
    .option('--max-value-size <size>', 'largest value accepted')
    .option('--max-bucket-size <size>', 'total size kept')
    .option('-j, --json', 'print the backing StreamInfo JSON')
    .action(async (bucket: string, f: { history: string; ttl?: string; replicas: string; storage: string; maxValueSize?: string; maxBucketSize?: string; json?: boolean }, cmd: Command) => {
      const history = intFlag('--history', f.history, 1, 64);
      const ttlMs = f.ttl === undefined ? 0 : Math.round(durationFlag('--ttl', f.ttl, true) / 1e6);
      const replicas = intFlag('--replicas', f.replicas, 1, 5);
      const storage = enumFlag('--storage', f.storage, STORAGE);
      const maxValueSize = f.maxValueSize === undefined ? undefined : sizeFlag('--max-value-size', f.maxValueSize);
      const maxBytes = f.maxBucketSize === undefined ? undefined : sizeFlag('--max-bucket-size', f.maxBucketSize);
      await withContext(io, cmd, async (ctx) => {
        const jsm = await ctx.jsm();
        const existing = await jsm.streams.info(`KV_${bucket}`).catch(() => undefined);
        if (existing !== undefined) {
          const c = existing.config;
          if (c.max_msgs_per_subject !== history || Math.round(c.max_age / 1e6) !== ttlMs) {
            throw new CliError(`bucket ${bucket} already exists with history ${c.max_msgs_per_subject} and ttl ${c.max_age > 0 ? humanDuration(c.max_age / 1e6) : 'none'}`);
          }
        }
        const nc = await ctx.connect();
        await openKv(nc, bucket, { history, ttlMs, replicas, storage, maxValueSize, maxBytes, timeoutMs: ctx.timeoutMs });
        const info = await bucketInfo(ctx, bucket);
        if (f.json === true) return ctx.out.json(info);
        if (existing === undefined) ctx.out.line(`Bucket ${bucket} was created\n`);
        renderStatus(ctx, bucket, info);
      });
    });
}

function putCommand(io: CliIo): Command {
  return new Command('put')
    .description('store a value (from stdin when VALUE is missing and stdin is not a terminal)')
    .argument('<bucket>')
    .argument('<key>')
    .argument('[value]')
    .action(async (bucket: string, key: string, value: string | undefined, _f: unknown, cmd: Command) => {
      const data = value !== undefined ? new TextEncoder().encode(value) : io.stdinIsTTY === true ? new TextEncoder().encode(await required(io, undefined, 'value', 'an argument')) : await readAll(io);
      await withContext(io, cmd, async (ctx) => {
        const b = await bind(ctx, bucket);
        const revision = await b.put(key, data);
        ctx.out.line(new TextDecoder().decode(data));
        ctx.out.note(`${bucket} > ${key} revision ${revision}`);
      });
    });
}

function getCommand(io: CliIo): Command {
  return new Command('get')
    .description('print the value of a key')
    .argument('<bucket>')
    .argument('<key>')
    .option('--revision <n>', 'a specific revision')
    .option('--raw', 'print only the value')
    .option('-j, --json', 'print the entry as JSON (value base64)')
    .action(async (bucket: string, key: string, f: { revision?: string; raw?: boolean; json?: boolean }, cmd: Command) => {
      const revision = f.revision === undefined ? undefined : intFlag('--revision', f.revision, 1);
      await withContext(io, cmd, async (ctx) => {
        const b = await bind(ctx, bucket);
        const e = await b.get(key, revision === undefined ? {} : { revision });
        if (e === null) throw new CliError(`key ${key} not found in bucket ${bucket}${revision !== undefined ? ` at revision ${revision}` : ''}`);
        if (f.json === true) {
          return ctx.out.json({ bucket, key, value: Buffer.from(e.value).toString('base64'), revision: e.revision, created: e.created.toISOString(), operation: e.operation });
        }
        if (f.raw === true) return ctx.out.line(e.string());
        ctx.out.line(`${bucket} > ${key} revision: ${e.revision} created @ ${timeAgo(ctx.out, e.created.toISOString(), ctx.clock.nowMs())}`);
        ctx.out.line();
        ctx.out.line(e.string());
      });
    });
}

async function deleteBucket(io: CliIo, ctx: CommandContext, bucket: string, force: boolean): Promise<void> {
  const b = await bind(ctx, bucket);
  await confirm(io, `Really delete bucket ${bucket} and all its values`, force);
  await b.destroy();
  ctx.out.line(`Bucket ${bucket} deleted`);
}

function delCommand(io: CliIo, name: 'del' | 'rm'): Command {
  return new Command(name)
    .description(name === 'del' ? 'delete a key (without KEY: the whole bucket)' : 'delete a bucket (with KEY: that key)')
    .argument('<bucket>')
    .argument('[key]')
    .option('-f, --force', 'no confirmation prompt')
    .action(async (bucket: string, key: string | undefined, f: { force?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        if (key === undefined) return deleteBucket(io, ctx, bucket, f.force === true);
        const b = await bind(ctx, bucket);
        await confirm(io, `Really delete key ${key} of bucket ${bucket}`, f.force === true || io.stdinIsTTY !== true);
        await b.delete(key);
        ctx.out.line(`Deleted ${bucket} > ${key}`);
      });
    });
}

function purgeCommand(io: CliIo): Command {
  return new Command('purge')
    .description('delete a key and its history')
    .argument('<bucket>')
    .argument('<key>')
    .option('-f, --force', 'no confirmation prompt')
    .action(async (bucket: string, key: string, f: { force?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const b = await bind(ctx, bucket);
        await confirm(io, `Really purge key ${key} of bucket ${bucket}`, f.force === true || io.stdinIsTTY !== true);
        await b.purge(key);
        ctx.out.line(`Purged ${bucket} > ${key}`);
      });
    });
}

function historyCommand(io: CliIo): Command {
  return new Command('history')
    .description('every value kept for a key, oldest first')
    .argument('<bucket>')
    .argument('<key>')
    .option('-j, --json', 'print the entries as JSON')
    .action(async (bucket: string, key: string, f: { json?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const b = await bind(ctx, bucket);
        const entries = await b.history(key);
        if (f.json === true) {
          return ctx.out.json(entries.map((e) => ({ key: e.key, revision: e.revision, operation: e.operation, created: e.created.toISOString(), value: Buffer.from(e.value).toString('base64') })));
        }
        if (entries.length === 0) throw new CliError(`key ${key} not found in bucket ${bucket}`);
        const out = ctx.out;
        const rows = entries.map((e) => [e.key, String(e.revision), e.operation, timeAgo(out, e.created.toISOString(), ctx.clock.nowMs()), out.bytes(e.value.length), e.operation === 'PUT' ? e.string() : '']);
        out.table(['Key', 'Revision', 'Op', 'Created', 'Length', 'Value'], rows, out.human ? `History for ${bucket} > ${key}` : undefined);
      });
    });
}

function watchCommand(io: CliIo): Command {
  return new Command('watch')
    .description('print values as they change (Ctrl-C stops)')
    .argument('<bucket>')
    .argument('[key]', 'key or wildcard', '>')
    .option('--history', 'start with every value kept, not only the latest')
    .option('--updates', 'only changes from now on')
    .option('--count <n>', 'stop after this many entries')
    .action(async (bucket: string, key: string, f: { history?: boolean; updates?: boolean; count?: string }, cmd: Command) => {
      const max = f.count === undefined ? 0 : intFlag('--count', f.count, 1);
      await withContext(io, cmd, async (ctx) => {
        const b = await bind(ctx, bucket);
        const w = b.watch({ key, include: f.history === true ? 'allHistory' : f.updates === true ? 'updatesOnly' : 'lastValue' });
        const signal = stopSignalOf(io);
        void aborted(signal).then(() => w.stop());
        await w.initialized;
        ctx.out.note(`Watching ${bucket} > ${key}`);
        let n = 0;
        for await (const e of w) {
          ctx.out.line(entryLine(ctx, e));
          if (max > 0 && ++n >= max) break;
        }
        w.stop();
      });
    });
}

function lsCommand(io: CliIo): Command {
  return new Command('ls')
    .alias('list')
    .description('list buckets, or the keys of BUCKET')
    .argument('[bucket]')
    .option('-n, --names', 'print only names')
    .option('-j, --json', 'print the names as JSON')
    .action(async (bucket: string | undefined, f: { names?: boolean; json?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const out = ctx.out;
        if (bucket !== undefined) {
          const keys = (await (await bind(ctx, bucket)).keys()).sort();
          if (f.json === true) return out.json(keys);
          if (keys.length === 0 && f.names !== true) return out.note(`No keys in bucket ${bucket}`);
          for (const k of keys) out.line(k);
          return;
        }
        const jsm = await ctx.jsm();
        const infos = (await jsm.streams.list()).filter((i) => i.config.name.startsWith('KV_')).sort((a, b) => a.config.name.localeCompare(b.config.name));
        const names = infos.map((i) => i.config.name.slice(3));
        if (f.json === true) return out.json(names);
        if (f.names === true) return names.forEach((n) => out.line(n));
        if (infos.length === 0) return out.line('No Key-Value buckets found');
        const rows = infos.map((i) => [i.config.name.slice(3), String(i.config.max_msgs_per_subject), out.count(i.state.messages), out.bytes(i.state.bytes), out.nanos(i.config.max_age, 'never')]);
        out.table(['Bucket', 'History', 'Values', 'Size', 'TTL'], rows, out.human ? 'Key-Value Buckets' : undefined);
      });
    });
}

function statusCommand(io: CliIo): Command {
  return new Command('status')
    .alias('info')
    .description("show a bucket's settings and size")
    .argument('<bucket>')
    .option('-j, --json', 'print the backing StreamInfo JSON')
    .action(async (bucket: string, f: { json?: boolean }, cmd: Command) => {
      await withContext(io, cmd, async (ctx) => {
        const info = await bucketInfo(ctx, bucket);
        if (f.json === true) return ctx.out.json(info);
        renderStatus(ctx, bucket, info);
      });
    });
}

export function createKvCommand(io: CliIo): Command {
  const kv = new Command('kv').description('use Key-Value buckets');
  for (const sub of [addCommand(io), putCommand(io), getCommand(io), delCommand(io, 'del'), purgeCommand(io), historyCommand(io), watchCommand(io), lsCommand(io), delCommand(io, 'rm'), statusCommand(io)]) {
    kv.addCommand(sub);
  }
  return kv;
}
