// What the JetStream scenarios share about a cluster that is still electing: the API error they
// read from a reply, and a retry of a request while it answers 10008 (no meta or stream leader
// yet), polled with a short growing interval under a deadline.

import { performance } from 'node:perf_hooks';

/** nats-server's "JetStream system temporarily unavailable". */
export const JS_NOT_READY = 10008;

export class JsApiError extends Error {
  readonly errCode: number;
  constructor(subject: string, errCode: number, detail: string) {
    super(`${subject}: ${detail}`);
    this.errCode = errCode;
  }
}

/** `fn` again while it fails with 10008, until `timeoutMs` has passed; other errors at once. */
export async function whileNotReady<T>(fn: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let waitMs = 5;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof JsApiError) || err.errCode !== JS_NOT_READY || performance.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, waitMs));
      waitMs = Math.min(50, waitMs * 2);
    }
  }
}
