// /healthz: 200 {status: ok} when the server can serve, else 503 {status: unavailable, error}.
// nats-server's query parameters narrow what is checked: `js-enabled-only` only that JetStream,
// when configured, is running (not whether it caught up with its cluster); `js-server-only` the
// server's own JetStream state (the meta group) but not each stream's group.

import { HttpAnswer } from './http.ts';
import { parseBool } from './query.ts';

export interface HealthzSource {
  /** Whether JetStream is configured on this server. */
  jetstreamEnabled(): boolean;
  /** Why JetStream is not ready ('' when it is): the meta group only, or also every stream's group. */
  jetstreamHealth(serverOnly: boolean): string;
}

export function buildHealthz(src: HealthzSource, query: URLSearchParams): unknown {
  // Parsed first: a malformed value is a 400 whatever else is asked.
  const enabledOnly = parseBool(query, 'js-enabled-only');
  const serverOnly = parseBool(query, 'js-server-only');
  if (enabledOnly || !src.jetstreamEnabled()) return { status: 'ok' };
  const error = src.jetstreamHealth(serverOnly);
  return error === '' ? { status: 'ok' } : new HttpAnswer(503, { status: 'unavailable', error });
}
