// StreamConfig from `stream add` / `stream edit` flags (the nats CLI's names), optionally on top
// of a --config JSON file. Only flags that were given appear in the result, so `edit` changes
// exactly those fields and `add` leaves the rest to the server's defaults.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { StreamConfig } from '../client/index.ts';
import { CliError } from './io.ts';
import { collect, durationFlag, enumFlag, intFlag, listFlag, sizeFlag } from './values.ts';

export interface StreamFlags {
  subjects?: string[];
  description?: string;
  storage?: string;
  replicas?: string;
  retention?: string;
  discard?: string;
  discardPerSubject?: boolean;
  maxAge?: string;
  maxBytes?: string;
  maxConsumers?: string;
  maxMsgSize?: string;
  maxMsgs?: string;
  maxMsgsPerSubject?: string;
  dupeWindow?: string;
  allowRollup?: boolean;
  denyDelete?: boolean;
  denyPurge?: boolean;
  allowDirect?: boolean;
  config?: string;
}

export function addStreamConfigFlags(cmd: Command): Command {
  return cmd
    .option('--subjects <subjects>', 'subjects the stream stores, comma-separated or repeated (default: the stream name)', collect)
    .option('--description <text>', 'a description')
    .option('--storage <type>', 'file or memory (f, m)')
    .option('--replicas <n>', 'replicas when clustered')
    .option('--retention <policy>', 'limits, interest or work (workq)')
    .option('--discard <policy>', 'at a limit, discard old messages or refuse new ones: old, new')
    .option('--discard-per-subject', 'apply discard new per subject (with --max-msgs-per-subject)')
    .option('--no-discard-per-subject', 'do not apply discard new per subject')
    .option('--max-age <duration>', 'oldest message kept, e.g. 1h, 7d (-1 = unlimited)')
    .option('--max-bytes <size>', 'total size kept, e.g. 1GB (-1 = unlimited)')
    .option('--max-consumers <n>', 'most consumers (-1 = unlimited)')
    .option('--max-msg-size <size>', 'largest message accepted (-1 = unlimited)')
    .option('--max-msgs <n>', 'most messages kept (-1 = unlimited)')
    .option('--max-msgs-per-subject <n>', 'most messages kept per subject (-1 = unlimited)')
    .option('--dupe-window <duration>', 'window for Nats-Msg-Id de-duplication, e.g. 2m')
    .option('--allow-rollup', 'allow Nats-Rollup headers')
    .option('--no-allow-rollup', 'refuse Nats-Rollup headers')
    .option('--deny-delete', 'refuse deleting single messages through the API')
    .option('--no-deny-delete', 'allow deleting single messages')
    .option('--deny-purge', 'refuse purges through the API')
    .option('--no-deny-purge', 'allow purges')
    .option('--allow-direct', 'allow direct gets (needed by KV-style readers)')
    .option('--no-allow-direct', 'refuse direct gets')
    .option('--config <file>', 'JSON StreamConfig to start from (flags override it)');
}

const STORAGE = { file: 'file', f: 'file', memory: 'memory', m: 'memory' } as const;
const RETENTION = { limits: 'limits', interest: 'interest', work: 'workqueue', workq: 'workqueue', workqueue: 'workqueue' } as const;
const DISCARD = { old: 'old', new: 'new' } as const;

/** A whole number, or -1 for unlimited ("unlimited" and "-1" both accepted). */
function limitFlag(flag: string, text: string): number {
  if (text.trim().toLowerCase() === 'unlimited') return -1;
  return intFlag(flag, text, -1);
}

export function loadConfigFile(file: string): Partial<StreamConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read --config file ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--config file ${file} is not JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CliError(`--config file ${file}: expected a JSON object (a StreamConfig)`);
  // A saved StreamInfo (`stream info --json`) carries the config one level down.
  const o = v as Record<string, unknown>;
  return (typeof o.config === 'object' && o.config !== null && o.state !== undefined ? o.config : o) as Partial<StreamConfig>;
}

/** The config fields set by flags (and --config), nothing else. */
export function streamConfigFromFlags(f: StreamFlags): Partial<StreamConfig> {
  const c: Partial<StreamConfig> = f.config !== undefined ? { ...loadConfigFile(f.config) } : {};
  const subjects = listFlag(f.subjects);
  if (subjects !== undefined) c.subjects = subjects;
  if (f.description !== undefined) c.description = f.description;
  if (f.storage !== undefined) c.storage = enumFlag('--storage', f.storage, STORAGE);
  if (f.replicas !== undefined) c.num_replicas = intFlag('--replicas', f.replicas, 1, 5);
  if (f.retention !== undefined) c.retention = enumFlag('--retention', f.retention, RETENTION);
  if (f.discard !== undefined) c.discard = enumFlag('--discard', f.discard, DISCARD);
  if (f.discardPerSubject !== undefined) c.discard_new_per_subject = f.discardPerSubject;
  if (f.maxAge !== undefined) c.max_age = durationFlag('--max-age', f.maxAge, true);
  if (f.maxBytes !== undefined) c.max_bytes = sizeFlag('--max-bytes', f.maxBytes);
  if (f.maxConsumers !== undefined) c.max_consumers = limitFlag('--max-consumers', f.maxConsumers);
  if (f.maxMsgSize !== undefined) c.max_msg_size = sizeFlag('--max-msg-size', f.maxMsgSize);
  if (f.maxMsgs !== undefined) c.max_msgs = limitFlag('--max-msgs', f.maxMsgs);
  if (f.maxMsgsPerSubject !== undefined) c.max_msgs_per_subject = limitFlag('--max-msgs-per-subject', f.maxMsgsPerSubject);
  if (f.dupeWindow !== undefined) c.duplicate_window = durationFlag('--dupe-window', f.dupeWindow);
  if (f.allowRollup !== undefined) c.allow_rollup_hdrs = f.allowRollup;
  if (f.denyDelete !== undefined) c.deny_delete = f.denyDelete;
  if (f.denyPurge !== undefined) c.deny_purge = f.denyPurge;
  if (f.allowDirect !== undefined) c.allow_direct = f.allowDirect;
  return c;
}
