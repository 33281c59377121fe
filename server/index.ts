// sluice/server: embed a broker in-process.
export { startServer, SluiceServer } from './server.ts';
export type { RunningServer, BoundPorts, ServerDeps } from './server.ts';
export type { ServerOptions, TlsOptions, WebSocketOptions, ClusterOptions, LeafNodeOptions, LeafRemoteOptions } from './options-types.ts';
export { defaultLeafNodeOptions, defaultLeafRemote, parseLeafUrl, LEAF_URL_EXPECTED } from './leafnode/options.ts';
export { DEFAULT_CLUSTER_NAME, defaultClusterOptions, parseRouteUrl, ROUTE_URL_EXPECTED } from './cluster/options.ts';
export type { UserConfig, PermissionsConfig } from './auth/users.ts';
// For the CLI and other front ends that build options from text.
export {
  checkOption,
  completeTlsOptions,
  invalidValueMessage,
  OptionsError,
  parseSize,
  resolveOptionsWithWarnings,
} from './options.ts';
export { loadConfigFile, ConfigError } from './config/load.ts';
export { createJsonLogger } from './logging.ts';
export type { JsonLogger, LogDestination, LogFormat } from './logging.ts';
export { FileSink } from './log-sink.ts';
export type { ReloadPlan } from './reload.ts';
export { LOG_LEVELS } from '../runtime/logger.ts';
export type { Logger, LogLevel } from '../runtime/logger.ts';
export { installGarbageCollector } from '../runtime/reclaim.ts';
export { onSteadyWork } from '../runtime/steady-work.ts';
export { DEFAULT_HOST, DEFAULT_MAX_PAYLOAD_BYTES, DEFAULT_PORT } from '../protocol/limits.ts';
