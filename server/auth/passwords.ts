// Password and token checks. Plain secrets are compared in constant time; bcrypt hashes are checked
// on a worker thread, because one bcrypt compare at the usual cost (10-11) takes 100-200 ms of
// pure-JS CPU and would otherwise stall every connection of the broker. A successful check is
// remembered (keyed by a SHA-256 of the secret, never the secret) so reconnect storms of good
// clients cost one hash each, not one per connection.

import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { isBcryptHash } from './users.ts';

/** Successful bcrypt checks remembered before the memo is cleared. */
const VERIFIED_MEMO_MAX_ENTRIES = 1024;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time equality of two strings (hashing first makes the lengths equal). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

// The worker is plain CommonJS evaluated from a string, so it needs no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
parentPort.on('message', (m) => {
  let ok = false;
  try { ok = bcrypt.compareSync(m.secret, m.hash); } catch { ok = false; }
  parentPort.postMessage({ id: m.id, ok });
});
`;

export class PasswordChecker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, (ok: boolean) => void>();
  private readonly verified = new Set<string>();
  private closed = false;

  /**
   * Does `given` match `stored` (plain text or a bcrypt hash)? Synchronous for plain secrets and
   * remembered bcrypt successes; a Promise when a bcrypt hash has to be computed.
   */
  check(stored: string, given: string): boolean | Promise<boolean> {
    if (!isBcryptHash(stored)) return secretsEqual(stored, given);
    const memoKey = `${stored}\n${sha256(given).toString('hex')}`;
    if (this.verified.has(memoKey)) return true;
    return this.bcrypt(stored, given).then((ok) => {
      if (ok) {
        if (this.verified.size >= VERIFIED_MEMO_MAX_ENTRIES) this.verified.clear();
        this.verified.add(memoKey);
      }
      return ok;
    });
  }

  /** Stops the worker; checks still pending resolve to false. */
  close(): Promise<void> {
    this.closed = true;
    this.failPending();
    const w = this.worker;
    this.worker = undefined;
    return w === undefined ? Promise.resolve() : w.terminate().then(() => undefined);
  }

  private bcrypt(hash: string, secret: string): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const worker = this.worker ?? this.startWorker();
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, hash, secret });
    });
  }

  private startWorker(): Worker {
    const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptPath } });
    // Idle, the worker must not keep the process alive.
    worker.unref();
    worker.on('message', (m: { id: number; ok: boolean }) => {
      const resolve = this.pending.get(m.id);
      this.pending.delete(m.id);
      resolve?.(m.ok === true);
    });
    const onGone = (): void => {
      if (this.worker === worker) this.worker = undefined;
      // A crashed worker fails its pending checks closed; the next check starts a new one.
      this.failPending();
    };
    worker.on('error', onGone);
    worker.on('exit', onGone);
    this.worker = worker;
    return worker;
  }

  private failPending(): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) resolve(false);
  }
}
