// ConsumerConfig from `consumer add` / `consumer edit` flags, named as in the nats CLI: --pull or
// --target SUBJECT (push), --deliver POLICY, --ack, --filter, --max-deliver, --max-pending,
// --wait (ack wait), --replay, ... Only given flags appear in the result.

import type { Command } from 'commander';
import type { ConsumerConfig, DeliverPolicy } from '../client/index.ts';
import { CliError } from './io.ts';
import { loadConfigFile } from './stream-config.ts';
import { collect, durationFlag, enumFlag, intFlag, listFlag, parseDurationNs } from './values.ts';

export interface ConsumerFlags {
  pull?: boolean;
  target?: string;
  deliver?: string;
  deliverPolicy?: string;
  deliverGroup?: string;
  ack?: string;
  filter?: string[];
  maxDeliver?: string;
  maxPending?: string;
  wait?: string;
  replay?: string;
  description?: string;
  heartbeat?: string;
  flowControl?: boolean;
  headersOnly?: boolean;
  maxWaiting?: string;
  inactiveThreshold?: string;
  config?: string;
}

export function addConsumerConfigFlags(cmd: Command): Command {
  return cmd
    .option('--pull', 'a pull consumer (the default without --target)')
    .option('--target <subject>', 'a push consumer delivering to this subject')
    .option('--deliver <policy>', 'where to start: all, new, last, subject (last per subject), a stream sequence, or a duration such as 1h; any other value is taken as the push subject (--target)')
    .option('--deliver-policy <policy>', 'same as --deliver POLICY')
    .option('--deliver-group <group>', 'push consumers: deliver only to this queue group')
    .option('--ack <policy>', 'explicit, none or all')
    .option('--filter <subjects>', 'only messages on these subjects, comma-separated or repeated', collect)
    .option('--max-deliver <n>', 'most deliveries of one message (-1 = unlimited)')
    .option('--max-pending <n>', 'most unacknowledged messages (max_ack_pending)')
    .option('--wait <duration>', 'how long to wait for an ack before redelivering (ack_wait), e.g. 30s')
    .option('--replay <policy>', 'instant or original')
    .option('--description <text>', 'a description')
    .option('--heartbeat <duration>', 'push consumers: idle heartbeat interval')
    .option('--flow-control', 'push consumers: enable flow control')
    .option('--headers-only', 'deliver headers without bodies')
    .option('--max-waiting <n>', 'pull consumers: most waiting pull requests')
    .option('--inactive-threshold <duration>', 'remove the consumer after this long without activity')
    .option('--config <file>', 'JSON ConsumerConfig to start from (flags override it)');
}

const ACK = { explicit: 'explicit', none: 'none', all: 'all' } as const;
const REPLAY = { instant: 'instant', original: 'original' } as const;
const NAMED_POLICIES: Readonly<Record<string, DeliverPolicy>> = {
  all: 'all',
  new: 'new',
  last: 'last',
  subject: 'last_per_subject',
  last_per_subject: 'last_per_subject',
  'last-per-subject': 'last_per_subject',
};

/** A --deliver value as a start policy, or undefined when it is not one. */
export function deliverPolicy(text: string, nowMs: number): Partial<ConsumerConfig> | undefined {
  const named = NAMED_POLICIES[text.toLowerCase()];
  if (named !== undefined) return { deliver_policy: named };
  if (/^\d+$/.test(text)) return { deliver_policy: 'by_start_sequence', opt_start_seq: Number(text) };
  const ns = parseDurationNs(text);
  if (ns !== undefined && !/^\d+(\.\d+)?$/.test(text)) {
    return { deliver_policy: 'by_start_time', opt_start_time: new Date(nowMs - ns / 1e6).toISOString() };
  }
  return undefined;
}

export interface ConsumerConfigResult {
  config: Partial<ConsumerConfig>;
  /** --deliver was not a policy and was taken as the push subject. */
  deliverAsSubject?: string;
}

export function consumerConfigFromFlags(f: ConsumerFlags, nowMs: number): ConsumerConfigResult {
  const c: Partial<ConsumerConfig> = f.config !== undefined ? { ...(loadConfigFile(f.config) as Partial<ConsumerConfig>) } : {};
  let deliverAsSubject: string | undefined;
  if (f.deliverPolicy !== undefined) {
    const p = deliverPolicy(f.deliverPolicy, nowMs);
    if (p === undefined) throw new CliError(`invalid value for --deliver-policy: expected all, new, last, subject, a sequence or a duration, got "${f.deliverPolicy}"`);
    Object.assign(c, p);
  }
  if (f.deliver !== undefined) {
    const p = deliverPolicy(f.deliver, nowMs);
    if (p !== undefined) Object.assign(c, p);
    else deliverAsSubject = f.deliver;
  }
  const target = f.target ?? deliverAsSubject;
  if (f.pull === true && target !== undefined) throw new CliError('--pull and a push subject (--target) cannot be used together');
  if (target !== undefined) c.deliver_subject = target;
  if (f.deliverGroup !== undefined) c.deliver_group = f.deliverGroup;
  if (f.ack !== undefined) c.ack_policy = enumFlag('--ack', f.ack, ACK);
  const filters = listFlag(f.filter);
  if (filters !== undefined) {
    if (filters.length === 1) c.filter_subject = filters[0];
    else c.filter_subjects = filters;
  }
  if (f.maxDeliver !== undefined) c.max_deliver = intFlag('--max-deliver', f.maxDeliver, -1);
  if (f.maxPending !== undefined) c.max_ack_pending = intFlag('--max-pending', f.maxPending, -1);
  if (f.wait !== undefined) c.ack_wait = durationFlag('--wait', f.wait);
  if (f.replay !== undefined) c.replay_policy = enumFlag('--replay', f.replay, REPLAY);
  if (f.description !== undefined) c.description = f.description;
  if (f.heartbeat !== undefined) c.idle_heartbeat = durationFlag('--heartbeat', f.heartbeat);
  if (f.flowControl !== undefined) c.flow_control = f.flowControl;
  if (f.headersOnly !== undefined) c.headers_only = f.headersOnly;
  if (f.maxWaiting !== undefined) c.max_waiting = intFlag('--max-waiting', f.maxWaiting, 1);
  if (f.inactiveThreshold !== undefined) c.inactive_threshold = durationFlag('--inactive-threshold', f.inactiveThreshold);
  return { config: c, ...(deliverAsSubject !== undefined ? { deliverAsSubject } : {}) };
}
