// DIRECT.GET (ADR-31): streams with allow_direct subscribe, in queue group `_sys_`, to
//   $JS.API.DIRECT.GET.<stream>            JSON request {seq} | {last_by_subj} | {next_by_subj, seq}
//   $JS.API.DIRECT.GET.<stream>.<subject…> empty request: the last message on <subject…>
// and answer with the stored message itself plus Nats-Stream/Nats-Subject/Nats-Sequence/
// Nats-Time-Stamp headers, or a status-only reply (404 Message Not Found, 408 Empty Request,
// 408 Malformed Request, 408 Bad Request). Queue subscriptions so that, once streams have
// replicas, any one replica answers.

import type { Logger } from '../../runtime/logger.ts';
import { encodeStatusBlock } from '../../protocol/headers.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import { API_PREFIX } from './router.ts';
import { parseJsonObject } from '../json-shape.ts';
import type { StreamLifecycle } from '../manager.ts';
import type { StoredMsg } from '../store/types.ts';
import type { Stream } from '../stream/stream.ts';
import { directGetHeader } from '../stream/info.ts';

export const DIRECT_GET_QUEUE = '_sys_';

/** Where a mirror's subscriptions to its origin's direct-get subjects are kept. */
function mirrorKey(name: string): string {
  return `${name}\u0000mirror`;
}
const EMPTY = new Uint8Array(0);

const NOT_FOUND = encodeStatusBlock(404, 'Message Not Found');
const EMPTY_REQUEST = encodeStatusBlock(408, 'Empty Request');
const MALFORMED = encodeStatusBlock(408, 'Malformed Request');
const BAD_REQUEST = encodeStatusBlock(408, 'Bad Request');

/** Keeps each allow_direct stream's DIRECT.GET subscriptions in step with its config. */
export class DirectGetBinder implements StreamLifecycle {
  private readonly subs = new Map<string, BusSubscription[]>();
  private readonly bus: MessageBus;
  private readonly logger: Logger;

  constructor(bus: MessageBus, logger: Logger) {
    this.bus = bus;
    this.logger = logger;
  }

  added(stream: Stream): void {
    if (stream.config.allow_direct) this.bind(stream, false);
  }

  /**
   * A replica of a replicated stream: every replica answers from its own store, in the cluster-
   * wide queue group, so any one of them (the nearest first) serves each request.
   */
  addReplica(stream: Stream): void {
    if (stream.config.allow_direct) this.bind(stream, true);
  }

  removeReplica(name: string): void {
    this.unbind(name);
  }

  updated(stream: Stream): void {
    const bound = this.subs.has(stream.name);
    if (stream.config.allow_direct && !bound) this.bind(stream, false);
    else if (!stream.config.allow_direct && bound) this.unbind(stream.name);
  }

  removed(stream: Stream): void {
    this.unbind(stream.name);
    this.unbind(mirrorKey(stream.name));
  }

  /**
   * A mirror with mirror_direct that caught up with its origin also answers the origin's direct
   * gets (from its own store, as nats-server's mirrors do), in the same queue group.
   */
  bindMirror(mirror: Stream, origin: string): void {
    if (this.subs.has(mirrorKey(mirror.name))) return;
    this.bind(mirror, false, origin, mirrorKey(mirror.name));
  }

  close(): void {
    for (const name of [...this.subs.keys()]) this.unbind(name);
  }

  private bind(stream: Stream, clusterWide: boolean, subjectName = stream.name, key = stream.name): void {
    const base = `${API_PREFIX}.DIRECT.GET.${subjectName}`;
    const keyStart = base.length + 1;
    this.subs.set(key, [
      this.bus.subscribe(base, (_s, reply, _h, data) => this.safely(reply, () => this.onRequest(stream, reply, data)), DIRECT_GET_QUEUE, clusterWide),
      this.bus.subscribe(
        `${base}.>`,
        (subject, reply, _h, data) => this.safely(reply, () => this.onLastBySubject(stream, reply, subject.slice(keyStart), data)),
        DIRECT_GET_QUEUE,
        clusterWide,
      ),
    ]);
  }

  private unbind(name: string): void {
    for (const s of this.subs.get(name) ?? []) s.unsubscribe();
    this.subs.delete(name);
  }

  private safely(reply: string, fn: () => void): void {
    if (reply === '') return;
    try {
      fn();
    } catch (err) {
      this.logger.error({ err: String(err) }, 'direct get failed');
      this.bus.publish(reply, '', encodeStatusBlock(500, 'Internal Server Error'), EMPTY);
    }
  }

  private onRequest(stream: Stream, reply: string, data: Uint8Array): void {
    if (data.length === 0) return this.status(reply, EMPTY_REQUEST);
    const parsed = parseJsonObject(data, false);
    if (!parsed.ok) return this.status(reply, MALFORMED);
    const req = parsed.value;
    const seq = typeof req.seq === 'number' && req.seq > 0 ? Math.floor(req.seq) : 0;
    const last = typeof req.last_by_subj === 'string' ? req.last_by_subj : '';
    const next = typeof req.next_by_subj === 'string' ? req.next_by_subj : '';
    if (seq === 0 && last === '' && next === '') return this.status(reply, EMPTY_REQUEST);
    if ((seq > 0 && last !== '') || (last !== '' && next !== '')) return this.status(reply, BAD_REQUEST);
    const store = stream.store;
    const m = next !== '' ? store.nextMatching(seq, next) : seq > 0 ? store.get(seq) : store.lastBySubject(last);
    this.answer(stream, reply, m);
  }

  private onLastBySubject(stream: Stream, reply: string, key: string, data: Uint8Array): void {
    if (data.length !== 0 || key === '') return this.status(reply, BAD_REQUEST);
    this.answer(stream, reply, stream.store.lastBySubject(key));
  }

  private answer(stream: Stream, reply: string, m: StoredMsg | undefined): void {
    if (m === undefined) return this.status(reply, NOT_FOUND);
    this.bus.publish(reply, '', directGetHeader(stream.name, m), m.data);
  }

  private status(reply: string, block: Buffer): void {
    this.bus.publish(reply, '', block, EMPTY);
  }
}
