// sluice/server: embed a broker in-process.
export { startServer, SluiceServer } from './server.ts';
export type { RunningServer, BoundPorts, ServerDeps } from './server.ts';
export type { ServerOptions } from './options-types.ts';
