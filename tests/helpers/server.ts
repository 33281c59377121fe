// Start an in-process broker on a free port for a test, and always stop it.

import { startServer, type RunningServer } from '../../server/index.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import { silentLogger, type Logger } from '../../runtime/logger.ts';

export async function startTestServer(opts: Partial<ServerOptions> = {}, logger: Logger = silentLogger): Promise<RunningServer> {
  return startServer({ host: '127.0.0.1', port: 0, ...opts }, { logger });
}
