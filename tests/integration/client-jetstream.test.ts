// JetStream and KV through sluice/client against an in-process sluice broker with a store.

import { after, before, describe } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/server.ts';
import type { RunningServer } from '../../server/index.ts';
import { jetstreamSuite } from './client-suite-jetstream.ts';

describe('sluice/client JetStream and KV against sluice', () => {
  let server: RunningServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-client-js-'));
    server = await startTestServer({ storeDir: dir });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  jetstreamSuite(() => server.clientUrl);
});
