// JetStream's API advisories, as nats-server publishes them in the stream's account
// (jetstream_events.go, stream.go, jetstream_api.go): a stream created, updated or deleted on
// $JS.EVENT.ADVISORY.STREAM.<CREATED|UPDATED|DELETED>.<stream>, and every API request with its
// answer on $JS.EVENT.ADVISORY.API (the audit). The ApiRouter tells this observer of each answer
// it sends, whichever server sends it: a request is answered once in a cluster too (by the
// server that took it, the meta leader or the stream's leader), so each advisory goes out once.
// Nothing is built unless someone listens on the subject. Consumer advisories are the consumer's
// own (consumer/advisories.ts).

import type { Clock } from '../../runtime/clock.ts';
import { newToken } from '../../runtime/ids.ts';
import type { MessageBus } from '../bus.ts';
import { formatTimeNs } from '../time.ts';

export const API_AUDIT_SUBJECT = '$JS.EVENT.ADVISORY.API';
const STREAM_ADVISORY_PREFIX = '$JS.EVENT.ADVISORY.STREAM';
const API_AUDIT_TYPE = 'io.nats.jetstream.advisory.v1.api_audit';
const STREAM_ACTION_TYPE = 'io.nats.jetstream.advisory.v1.stream_action';

/**
 * Marks a STREAM.CREATE answer for a stream that already existed with the same config: nats-server
 * answers it as created but sends no advisory. A symbol key, so the JSON sent never shows it.
 */
export const STREAM_EXISTED: unique symbol = Symbol('stream-existed');

/** The request an answer is for, when the answering server has it (it took the request itself). */
export interface AnsweredRequest {
  readonly subject: string;
  readonly data: Uint8Array;
  /** Who asked (nats-server's ClientInfo), as captured when the request arrived; undefined when unknown. */
  readonly client?: Record<string, unknown> | undefined;
}

export interface ApiAdvisoryDeps {
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly serverName: string;
  readonly domain: string | undefined;
  /** The connection whose request is being delivered right now, as a ClientInfo (server-provided). */
  readonly requester?: () => Record<string, unknown> | undefined;
}

const STREAM_ACTIONS: Record<string, { kind: string; action: string } | undefined> = {
  stream_create: { kind: 'CREATED', action: 'create' },
  stream_update: { kind: 'UPDATED', action: 'modify' },
  stream_delete: { kind: 'DELETED', action: 'delete' },
};

export class ApiAdvisories {
  private readonly deps: ApiAdvisoryDeps;

  constructor(deps: ApiAdvisoryDeps) {
    this.deps = deps;
  }

  /** Who is asking, taken while the request is delivered (only when an audit will be wanted). */
  requestClient(): Record<string, unknown> | undefined {
    if (!this.deps.bus.hasInterest(API_AUDIT_SUBJECT)) return undefined;
    return this.deps.requester?.();
  }

  /**
   * An answer went out for a route of kind `kind` (stream_create, ...): the stream advisory when
   * it succeeded, and the audit of the request when this server had it.
   */
  answered(kind: string, req: AnsweredRequest | undefined, body: Record<string | symbol, unknown>): void {
    const ok = body.error === undefined;
    const act = STREAM_ACTIONS[kind];
    if (act !== undefined && ok && body[STREAM_EXISTED] !== true) {
      const name = (kind === 'stream_delete' ? streamOfSubject(req?.subject) : (body.config as { name?: string } | undefined)?.name) ?? '';
      if (name !== '') this.streamAction(act.kind, act.action, name);
    }
    if (req !== undefined) this.audit(req, body);
  }

  /** A stream deleted where the request is not at hand (a cluster's meta leader): named directly. */
  streamDeleted(name: string): void {
    this.streamAction('DELETED', 'delete', name);
  }

  private streamAction(kind: string, action: string, stream: string): void {
    const subject = `${STREAM_ADVISORY_PREFIX}.${kind}.${stream}`;
    if (!this.deps.bus.hasInterest(subject)) return;
    this.publish(subject, { ...this.typed(STREAM_ACTION_TYPE), stream, action, ...this.domain() });
  }

  /** The audit alone, for a request another server answered (its stream advisory is that server's). */
  audit(req: AnsweredRequest, body: object): void {
    if (!this.deps.bus.hasInterest(API_AUDIT_SUBJECT)) return;
    const request = Buffer.from(req.data.buffer, req.data.byteOffset, req.data.byteLength).toString('utf8');
    this.publish(API_AUDIT_SUBJECT, {
      ...this.typed(API_AUDIT_TYPE),
      server: this.deps.serverName,
      client: req.client ?? null,
      subject: req.subject,
      ...(request !== '' ? { request } : {}),
      response: JSON.stringify(body),
      ...this.domain(),
    });
  }

  private typed(type: string): Record<string, unknown> {
    return { type, id: newToken(22), timestamp: formatTimeNs(this.deps.clock.epochNs()) };
  }

  private domain(): Record<string, string> {
    const d = this.deps.domain;
    return d !== undefined && d !== '' ? { domain: d } : {};
  }

  private publish(subject: string, event: object): void {
    this.deps.bus.publish(subject, '', null, Buffer.from(JSON.stringify(event), 'utf8'));
  }
}

/** The stream a $JS.API.STREAM.<verb>.<stream> request names. */
function streamOfSubject(subject: string | undefined): string | undefined {
  if (subject === undefined) return undefined;
  const t = subject.split('.');
  return t.length === 5 ? t[4] : undefined;
}
