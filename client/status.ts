// Connection status events, delivered to every status() iterator opened before they happen.

import { AsyncQueue } from './queue.ts';
import type { NatsError } from './errors.ts';

export type Status =
  /** The connection to `server` was lost. */
  | { type: 'disconnect'; server: string; error?: Error }
  /** About to try `server` (attempt counts failed attempts at it since it last worked). */
  | { type: 'reconnecting'; server: string; attempt: number }
  /** Connected again (subscriptions re-sent, buffered publishes flushed). */
  | { type: 'reconnect'; server: string }
  /** The server entered lame-duck mode and will close the connection soon. */
  | { type: 'ldm'; server: string }
  /** An asynchronous error: a -ERR that keeps the connection, a callback that threw, ... */
  | { type: 'error'; error: NatsError | Error }
  /** A subscription dropped messages over its pending limits. */
  | { type: 'slowConsumer'; subject: string; sid: number; pendingMsgs: number; pendingBytes: number }
  /** The server pool changed from INFO connect_urls. */
  | { type: 'update'; added: string[]; deleted: string[] }
  /** A keepalive PING went unanswered too often; the connection is being replaced. */
  | { type: 'staleConnection'; server: string };

export type StatusType = Status['type'];

export class StatusHub {
  private readonly listeners = new Set<AsyncQueue<Status>>();
  private ended = false;

  emit(s: Status): void {
    for (const q of this.listeners) q.push(s);
  }

  /** A new iterator of the events from now on; it ends when the connection closes. */
  iterator(): AsyncIterableIterator<Status> {
    const q: AsyncQueue<Status> = new AsyncQueue(() => this.listeners.delete(q));
    if (this.ended) q.end();
    else this.listeners.add(q);
    return q;
  }

  end(): void {
    this.ended = true;
    for (const q of this.listeners) q.end();
    this.listeners.clear();
  }
}
