// The shared client suite (client-suite.ts) through sluice/client against an in-process sluice
// broker, over TCP, and over WebSocket when the server has a WebSocket listener.

import { after, before, describe } from 'node:test';
import { startTestServer } from '../helpers/server.ts';
import type { RunningServer } from '../../server/index.ts';
import type { ServerOptions } from '../../server/options-types.ts';
import { clientSuite, varzSubscriptions } from './client-suite.ts';

describe('sluice/client over TCP against sluice', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ maxPayloadBytes: 1024 * 1024 + 1024, httpPort: 0 });
  });
  after(async () => {
    await server.close();
  });
  clientSuite(() => ({ url: server.clientUrl, subscriptions: () => varzSubscriptions(server.httpUrl!) }));
});

const wsOptions: Partial<ServerOptions> = { maxPayloadBytes: 1024 * 1024 + 1024, httpPort: 0, wsPort: 0 };

describe('sluice/client over WebSocket against sluice', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer(wsOptions);
  });
  after(async () => {
    await server.close();
  });
  clientSuite(() => ({ url: `ws://127.0.0.1:${server.ports.ws}`, subscriptions: () => varzSubscriptions(server.httpUrl!) }));
});
