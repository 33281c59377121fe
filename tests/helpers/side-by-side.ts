// nats-server and sluice started from the same nats-server config text, for the e2e tests that
// run the same scenarios against both and compare what the clients saw. `$STORE` in the text is
// replaced by a JetStream store directory of each server's own.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningServer } from '../../server/index.ts';
import { loadConfigText } from '../../server/config/load.ts';
import { startTestServer } from './server.ts';
import { startNatsServer, type ReferenceServer } from './nats-server.ts';

export interface SideBySide {
  /** nats-server's client URL. */
  readonly reference: string;
  /** sluice's client URL. */
  readonly sluice: string;
  /** Stops both (each only if it started) and removes the temp directory. */
  close(): Promise<void>;
}

export async function startSideBySide(conf: string, name: string): Promise<SideBySide> {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${name}-e2e-`));
  let reference: ReferenceServer | undefined;
  let sluice: RunningServer | undefined;
  const close = async (): Promise<void> => {
    await sluice?.close();
    await reference?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const refConf = join(dir, 'nats.conf');
    writeFileSync(refConf, conf.replace('$STORE', join(dir, 'ref-store')));
    reference = await startNatsServer(['-c', refConf]);
    const loaded = loadConfigText(conf.replace('$STORE', join(dir, 'sluice-store')), `${name}.conf`);
    sluice = await startTestServer({ ...loaded.options });
    return { reference: reference.url, sluice: sluice.clientUrl, close };
  } catch (err) {
    await close();
    throw err;
  }
}
