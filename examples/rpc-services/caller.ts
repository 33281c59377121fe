// The caller's side of request/reply: a request with a per-attempt timeout, retried with
// exponential backoff when nobody answered in time (TIMEOUT) or nobody was listening
// (NO_RESPONDERS: the server says so at once, so the caller does not wait out the timeout).
// Any other error is not retried. When the attempts run out, the last error is thrown as is,
// so callers switch on its `code`.

import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, NatsError, type Msg, type NatsConnection, type Payload } from '../../client/index.ts';

export interface RetryPolicy {
  /** How long one attempt waits for a reply. */
  timeoutMs: number;
  /** Attempts after the first one. */
  retries: number;
  /** Wait before the first retry; doubles for each further retry. */
  backoffMs: number;
  /** Told about each failed attempt that will be retried (logging, metrics, tests). */
  onRetry?: (err: NatsError, attempt: number) => void | Promise<void>;
}

export const DEFAULT_POLICY: RetryPolicy = { timeoutMs: 500, retries: 2, backoffMs: 50 };

/** Errors worth another attempt: the request may succeed once an instance is (back) up. */
export function isRetryable(err: unknown): err is NatsError {
  return err instanceof NatsError && (err.code === ErrorCode.Timeout || err.code === ErrorCode.NoResponders);
}

export interface CallResult {
  reply: Msg;
  /** 1 when the first attempt succeeded. */
  attempts: number;
}

export async function callWithRetry(nc: NatsConnection, subject: string, body: Payload, policy: RetryPolicy = DEFAULT_POLICY): Promise<CallResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      const reply = await nc.request(subject, body, { timeoutMs: policy.timeoutMs });
      return { reply, attempts: attempt };
    } catch (err) {
      if (!isRetryable(err) || attempt > policy.retries) throw err;
      await policy.onRetry?.(err, attempt);
      await delay(policy.backoffMs * 2 ** (attempt - 1));
    }
  }
}
