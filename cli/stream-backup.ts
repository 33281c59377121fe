// `stream backup` / `stream restore` through the client API, so they work against any server:
// the backup directory holds `stream.json` (the StreamInfo at backup time) and `messages.ndjson`
// (one stored message per line, in the API's shape: subject, seq, time, base64 hdrs and data),
// read with an ordered consumer up to the last sequence at the start. Restore creates the stream
// from the saved config and publishes the messages in order through JetStream: contents, subjects
// and headers come back, sequence numbers and timestamps are new (this is not the server
// snapshot format of `nats stream backup`).

import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MsgHeaders, type StreamConfig, type StreamInfo } from '../client/index.ts';
import type { CommandContext } from './connect.ts';
import { CliError } from './io.ts';
import { loadConfigFile } from './stream-config.ts';
import { Window } from './window.ts';

const FORMAT = 'sluice-stream-backup/1';

interface BackupHeader {
  format: string;
  info: StreamInfo;
}

interface BackupLine {
  subject: string;
  seq: number;
  time: string;
  hdrs?: string;
  data?: string;
}

export async function backupStream(ctx: CommandContext, info: StreamInfo, dir: string): Promise<{ messages: number; bytes: number }> {
  if (existsSync(dir)) throw new CliError(`backup directory ${dir} already exists`);
  mkdirSync(dir, { recursive: true });
  const header: BackupHeader = { format: FORMAT, info };
  const out = createWriteStream(join(dir, 'messages.ndjson'));
  const lastSeq = info.state.last_seq;
  let messages = 0;
  let bytes = 0;
  try {
    if (info.state.messages > 0) {
      const js = await ctx.js();
      const it = js.consumers.ordered(info.config.name, { deliverPolicy: 'all' }).consume({ maxMessages: 1024 });
      for await (const m of it) {
        const line: BackupLine = { subject: m.subject, seq: m.seq, time: new Date(Math.floor(m.info.timestampNanos / 1e6)).toISOString() };
        const h = m.msg.headerBytes;
        if (h.length > 0) line.hdrs = Buffer.from(h).toString('base64');
        if (m.data.length > 0) line.data = Buffer.from(m.data).toString('base64');
        if (!out.write(JSON.stringify(line) + '\n')) await once(out, 'drain');
        messages++;
        bytes += m.data.length + h.length;
        if (m.seq >= lastSeq || m.info.pending === 0) break;
      }
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  writeFileSync(join(dir, 'stream.json'), JSON.stringify(header, null, 2) + '\n');
  return { messages, bytes };
}

/** Publish headers a restore must not replay (they were checks at the original publish). */
function replayable(h: MsgHeaders): MsgHeaders | undefined {
  for (const k of h.keys()) if (/^nats-expected-/i.test(k)) h.delete(k);
  return h.size > 0 || h.code !== 0 ? h : undefined;
}

const WINDOW = 256;

export async function restoreStream(ctx: CommandContext, dir: string, configFile: string | undefined): Promise<{ stream: string; messages: number }> {
  let header: BackupHeader;
  try {
    header = JSON.parse(readFileSync(join(dir, 'stream.json'), 'utf8')) as BackupHeader;
  } catch (e) {
    throw new CliError(`${dir} is not a stream backup: cannot read stream.json (${(e as Error).message.split('\n')[0]})`);
  }
  if (header.format !== FORMAT) throw new CliError(`${dir} is not a stream backup (format ${JSON.stringify(header.format)})`);
  const cfg: StreamConfig = configFile !== undefined ? ({ ...loadConfigFile(configFile) } as StreamConfig) : header.info.config;
  const name = cfg.name;
  const jsm = await ctx.jsm();
  const exists = await jsm.streams.info(name).then(
    () => true,
    () => false,
  );
  if (exists) throw new CliError(`stream ${name} already exists: delete it first (sluice stream rm ${name} -f)`);
  await jsm.streams.add({ ...cfg, name });
  const js = await ctx.js();
  const lines = createInterface({ input: createReadStream(join(dir, 'messages.ndjson')), crlfDelay: Infinity });
  const window = new Window(WINDOW);
  let messages = 0;
  for await (const text of lines) {
    if (text.trim() === '') continue;
    const m = JSON.parse(text) as BackupLine;
    const headers = m.hdrs !== undefined ? replayable(MsgHeaders.decode(Buffer.from(m.hdrs, 'base64'))) : undefined;
    const data = m.data !== undefined ? Buffer.from(m.data, 'base64') : new Uint8Array(0);
    window.add(js.publish(m.subject, data, { headers, expect: { streamName: name } }));
    if (window.full) await window.room();
    messages++;
  }
  await window.drain();
  return { stream: name, messages };
}
