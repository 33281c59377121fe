// A broker with JetStream on a temporary store directory, for tests. Always stop it: close()
// stops the server (which closes JetStream and flushes LMDB) and removes the directory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/index.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import type { Clock } from '../../runtime/clock.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';

export interface JsTestServer {
  readonly server: RunningServer;
  readonly clientUrl: string;
  readonly storeDir: string;
  /** Stops the server (and JetStream); keeps the store dir. */
  stop(): Promise<void>;
  /** stop(), then remove the store dir unless the caller gave it. */
  close(): Promise<void>;
}

export function tempStoreDir(prefix = 'sluice-js-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface JsTestServerOptions {
  storeDir?: string;
  logger?: Logger;
  /** JetStream's clock (timestamps, max_age, dedupe window); the server keeps the system clock. */
  jsClock?: Clock;
  options?: Partial<ServerOptions>;
}

export async function startJsTestServer(o: JsTestServerOptions = {}): Promise<JsTestServer> {
  const ownDir = o.storeDir === undefined;
  const storeDir = o.storeDir ?? tempStoreDir();
  const deps = { logger: o.logger ?? silentLogger, ...(o.jsClock !== undefined ? { jetstreamClock: o.jsClock } : {}) };
  let server: RunningServer;
  try {
    server = await startServer({ host: '127.0.0.1', port: 0, storeDir, ...o.options }, deps);
  } catch (err) {
    if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    throw err;
  }
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => (stopped ??= server.close());
  return {
    server,
    clientUrl: server.clientUrl,
    storeDir,
    stop,
    async close() {
      await stop();
      if (ownDir) rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
