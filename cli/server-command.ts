// `sluice server`: run a broker in the foreground until SIGTERM/SIGINT.
//
// Precedence: defaults < config file (--config) < flags. Every flag value is checked by the same
// rule as the option it sets, and a bad one is reported naming the flag. The server logs its
// bound ports itself; this command only starts it, relays config warnings, and shuts it down.

import { rmSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  FileSink,
  checkOption,
  completeTlsOptions,
  createJsonLogger,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_HOST,
  defaultLeafNodeOptions,
  defaultLeafRemote,
  LEAF_URL_EXPECTED,
  parseLeafUrl,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_PORT,
  invalidValueMessage,
  loadConfigFile,
  LOG_LEVELS,
  OptionsError,
  parseRouteUrl,
  parseSize,
  resolveOptionsWithWarnings,
  ROUTE_URL_EXPECTED,
  startServer,
  type ClusterOptions,
  type JsonLogger,
  type LeafNodeOptions,
  type LogDestination,
  type RunningServer,
  type ServerOptions,
  type TlsOptions,
} from '../server/index.ts';
import { letYoungGenerationGrow } from './heap-tuning.ts';
import { CliError } from './io.ts';
import { ServerSignals } from './server-signals.ts';
import { parseSignalRequest, sendSignal } from './signal-command.ts';

/** The flags as commander hands them over: strings, or undefined when not given. */
export interface ServerFlags {
  host?: string;
  port?: string;
  name?: string;
  httpPort?: string;
  storeDir?: string;
  jetstreamSync?: string;
  clusterPort?: string;
  clusterAdvertise?: string;
  clusterName?: string;
  routes?: string;
  leafnodePort?: string;
  leafnodeRemote?: string[];
  maxPayload?: string;
  config?: string;
  logLevel?: string;
  logFile?: string;
  log?: string;
  debug?: boolean;
  trace?: boolean;
  pid?: string;
  signal?: string;
  portsFileDir?: string;
  wsPort?: string;
  user?: string;
  pass?: string;
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsVerify?: boolean;
}

export function createServerCommand(): Command {
  // No commander defaults: an absent flag must stay undefined so the config file can set it.
  return new Command('server')
    .description('run a broker in the foreground (SIGTERM/SIGINT stops it)')
    .option('--host <host>', `interface to listen on for clients (default: ${DEFAULT_HOST})`)
    .option('-p, --port <port>', `client port; 0 (or -1) picks a free port (default: ${DEFAULT_PORT})`)
    .option('-n, --name <name>', 'server name announced to clients (default: the generated server id)')
    .option('-m, --http-port <port>', 'monitoring HTTP port (/healthz, /varz); 0 picks a free port (default: off)')
    .option('--store-dir <dir>', 'JetStream storage directory (default: JetStream off)')
    .option('--jetstream-sync <mode>', 'when a JetStream write is acknowledged: committed (default: at the commit, fsync every second), durable (after fsync), none (never fsync)')
    .option('--max-payload <size>', `largest message payload, e.g. 1048576 or 1MB (default: ${DEFAULT_MAX_PAYLOAD_BYTES})`)
    .option('--cluster-port <port>', 'cluster port for routes from other servers; 0 (or -1) picks a free port (default: not clustered)')
    .option('--cluster-advertise <host:port>', 'address other servers dial to reach this one (default: the cluster listener)')
    .option('--cluster-name <name>', `cluster name; routes from another cluster are refused (default: ${DEFAULT_CLUSTER_NAME})`)
    .option('--routes <urls>', 'seed routes to join, comma-separated: nats-route://host:port[,...]')
    .option('--leafnode-port <port>', 'port for leaf node connections from edge servers; 0 (or -1) picks a free port (default: off)')
    .option('--leafnode-remote <url>', 'a hub to join as a leaf node, nats-leaf://[user:pass@]host:port (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('-c, --config <file>', 'config file: JSON with the same keys, or nats-server syntax')
    .option('--log-level <level>', `${LOG_LEVELS.join(', ')} (default: info)`)
    .option('-l, --log-file <file>', 'append log lines (JSON) to this file instead of stdout; SIGUSR1 reopens it')
    .addOption(new Option('--log <file>', "nats-server's name for --log-file").hideHelp())
    .option('-D, --debug', 'log at debug level (connections opening and closing)')
    .option('-V, --trace', 'log at trace level (implies --debug); -DV is both')
    .option('-P, --pid <file>', 'write the process id to this file (for --signal)')
    .option('--signal <command>', 'signal a running server and exit: stop|quit|term|reopen|reload|ldm as <command>=<pid> or <command>=<pid file> (-sl works too)')
    .option('--ports-file-dir <dir>', 'write <dir>/<name>_<pid>.ports listing the bound URLs')
    .option('--ws-port <port>', 'WebSocket port (ws://, or wss:// when TLS is configured); 0 picks a free port (default: off)')
    .option('--user <user>', 'require this user name in CONNECT (with --pass)')
    .option('--pass <password>', 'password for --user (plain, or a bcrypt hash)')
    .option('--token <token>', 'require this token in CONNECT (plain, or a bcrypt hash)')
    .option('--tls-cert <file>', 'TLS certificate (PEM) for the client and WebSocket ports')
    .option('--tls-key <file>', 'TLS private key (PEM), with --tls-cert')
    .option('--tls-ca <file>', 'CA bundle (PEM) that client certificates must chain to')
    .option('--tls-verify', 'require and verify client certificates (needs --tls-ca)')
    .action(async (flags: ServerFlags) => {
      await runServer(flags);
    });
}

// --- flags -> options ------------------------------------------------------------------------

function flagError(flag: string, expected: string, got: unknown): OptionsError {
  return new OptionsError(flag, invalidValueMessage(flag, expected, got));
}

function portFlag(flag: string, text: string): number {
  const expected = 'an integer 0..65535 (0 or -1 = a free port)';
  if (!/^\s*-?\d+\s*$/.test(text)) throw flagError(flag, expected, text);
  const n = Number(text);
  const port = n === -1 ? 0 : n;
  if (checkOption('port', port) !== undefined) throw flagError(flag, expected, text);
  return port;
}

function checked<K extends keyof ServerOptions>(field: K, flag: string, value: ServerOptions[K], text: string): ServerOptions[K] {
  const expected = checkOption(field, value);
  if (expected !== undefined) throw flagError(flag, expected, text);
  return value;
}

/** Only the flags that were given, converted and checked; throws an OptionsError naming the flag. */
export function optionsFromFlags(flags: ServerFlags): Partial<ServerOptions> {
  const o: Partial<ServerOptions> = {};
  if (flags.host !== undefined) o.host = checked('host', '--host', flags.host, flags.host);
  if (flags.port !== undefined) o.port = portFlag('--port', flags.port);
  if (flags.name !== undefined) o.serverName = checked('serverName', '--name', flags.name, flags.name);
  if (flags.httpPort !== undefined) o.httpPort = portFlag('--http-port', flags.httpPort);
  if (flags.storeDir !== undefined) o.storeDir = checked('storeDir', '--store-dir', flags.storeDir, flags.storeDir);
  if (flags.jetstreamSync !== undefined) {
    o.jetstreamSync = checked('jetstreamSync', '--jetstream-sync', flags.jetstreamSync as ServerOptions['jetstreamSync'], flags.jetstreamSync);
  }
  if (flags.maxPayload !== undefined) {
    const bytes = parseSize(flags.maxPayload);
    if (bytes === undefined || checkOption('maxPayloadBytes', bytes) !== undefined) {
      throw flagError('--max-payload', 'a positive size up to 64MB, e.g. 1048576 or 1MB', flags.maxPayload);
    }
    o.maxPayloadBytes = bytes;
  }
  if (flags.logLevel !== undefined) {
    o.logLevel = checked('logLevel', '--log-level', flags.logLevel as ServerOptions['logLevel'], flags.logLevel);
  }
  const logFile = flags.logFile ?? flags.log;
  if (logFile !== undefined) o.logFile = checked('logFile', flags.logFile !== undefined ? '--log-file' : '--log', logFile, logFile);
  if (flags.debug === true || flags.trace === true) {
    const flag = flags.trace === true ? '--trace' : '--debug';
    if (flags.logLevel !== undefined) throw new OptionsError(flag, `${flag} cannot be combined with --log-level: give one of them`);
    o.logLevel = flags.trace === true ? 'trace' : 'debug';
  }
  if (flags.pid !== undefined) o.pidFile = checked('pidFile', '--pid', flags.pid, flags.pid);
  if (flags.portsFileDir !== undefined) {
    o.portsFileDir = checked('portsFileDir', '--ports-file-dir', flags.portsFileDir, flags.portsFileDir);
  }
  if (flags.wsPort !== undefined) o.wsPort = portFlag('--ws-port', flags.wsPort);
  if (flags.user !== undefined) o.user = checked('user', '--user', flags.user, flags.user);
  if (flags.pass !== undefined) o.pass = flags.pass;
  if (flags.token !== undefined) o.token = checked('token', '--token', flags.token, flags.token);
  const tls = tlsFromFlags(flags);
  if (tls !== undefined) o.tls = tls;
  const cluster = clusterFromFlags(flags);
  if (cluster !== undefined) o.cluster = cluster as ServerOptions['cluster'];
  const leafnodes = leafNodesFromFlags(flags);
  if (leafnodes !== undefined) o.leafnodes = leafnodes as ServerOptions['leafnodes'];
  return o;
}

/** --leafnode-port and --leafnode-remote as a partial leafnodes setting; undefined when neither was given. */
function leafNodesFromFlags(flags: ServerFlags): Partial<LeafNodeOptions> | undefined {
  const { leafnodePort, leafnodeRemote } = flags;
  if (leafnodePort === undefined && leafnodeRemote === undefined) return undefined;
  const l: Partial<LeafNodeOptions> = {};
  if (leafnodePort !== undefined) l.port = portFlag('--leafnode-port', leafnodePort);
  if (leafnodeRemote !== undefined) {
    for (const url of leafnodeRemote) if (parseLeafUrl(url) === undefined) throw flagError('--leafnode-remote', LEAF_URL_EXPECTED, url);
    l.remotes = leafnodeRemote.map((url) => defaultLeafRemote([url]));
  }
  return l;
}

/** --cluster-* and --routes as a partial cluster setting; undefined when none were given. */
function clusterFromFlags(flags: ServerFlags): Partial<ClusterOptions> | undefined {
  const { clusterPort, clusterName, routes, clusterAdvertise } = flags;
  if (clusterPort === undefined && clusterName === undefined && routes === undefined && clusterAdvertise === undefined) return undefined;
  const c: Partial<ClusterOptions> = {};
  if (clusterPort !== undefined) c.port = portFlag('--cluster-port', clusterPort);
  if (clusterName !== undefined) {
    if (clusterName === '' || /\s/.test(clusterName)) throw flagError('--cluster-name', 'a name without whitespace', clusterName);
    c.name = clusterName;
  }
  if (clusterAdvertise !== undefined) {
    if (parseRouteUrl(`nats-route://${clusterAdvertise}`) === undefined) throw flagError('--cluster-advertise', 'host:port', clusterAdvertise);
    c.advertise = clusterAdvertise;
  }
  if (routes !== undefined) {
    const list = routes.split(',').map((r) => r.trim()).filter((r) => r !== '');
    const bad = list.find((r) => parseRouteUrl(r) === undefined);
    if (bad !== undefined || list.length === 0) throw flagError('--routes', ROUTE_URL_EXPECTED + ' (comma-separated)', routes);
    c.routes = list;
  }
  return c;
}

/** --tls-* flags as a TLS setting (defaults filled in); undefined when none were given. */
function tlsFromFlags(flags: ServerFlags): TlsOptions | undefined {
  const { tlsCert, tlsKey, tlsCa, tlsVerify } = flags;
  if (tlsCert === undefined && tlsKey === undefined && tlsCa === undefined && tlsVerify === undefined) return undefined;
  if (tlsCert === undefined || tlsCert.trim() === '') throw flagError('--tls-cert', 'a certificate file (with --tls-key)', tlsCert);
  if (tlsKey === undefined || tlsKey.trim() === '') throw flagError('--tls-key', 'a private key file (with --tls-cert)', tlsKey);
  if (tlsCa !== undefined && tlsCa.trim() === '') throw flagError('--tls-ca', 'a CA file', tlsCa);
  if (tlsVerify === true && tlsCa === undefined) {
    throw new OptionsError('--tls-verify', '--tls-verify needs --tls-ca: the CA that client certificates must chain to');
  }
  return completeTlsOptions({ certFile: tlsCert, keyFile: tlsKey, caFile: tlsCa, verify: tlsVerify === true });
}

export interface ServerSettings {
  options: ServerOptions;
  /** Config-file warnings, one line each (the server logs option warnings itself). */
  warnings: string[];
}

/** Config file (if any) overlaid with flags, then resolved and validated as a whole. */
export function serverSettingsFromFlags(flags: ServerFlags): ServerSettings {
  const fromFlags = optionsFromFlags(flags);
  let fromFile: Partial<ServerOptions> = {};
  const warnings: string[] = [];
  if (flags.config !== undefined) {
    if (flags.config.trim() === '') throw flagError('--config', 'a file name', flags.config);
    const loaded = loadConfigFile(flags.config);
    fromFile = loaded.options;
    warnings.push(...loaded.warnings);
  }
  const merged = { ...fromFile, ...fromFlags };
  // Cluster flags override the file's cluster block field by field.
  if (fromFile.cluster !== undefined && fromFlags.cluster !== undefined) merged.cluster = { ...fromFile.cluster, ...fromFlags.cluster };
  // Leafnode flags: the port replaces the file's, remotes from flags are added to the file's.
  if (fromFlags.leafnodes !== undefined) {
    const file = fromFile.leafnodes ?? defaultLeafNodeOptions();
    const flagRemotes = fromFlags.leafnodes.remotes ?? [];
    merged.leafnodes = { ...file, ...fromFlags.leafnodes, remotes: [...file.remotes, ...flagRemotes] };
  }
  // TLS flags name the files; the file's other TLS settings (timeout, handshake_first) still apply.
  if (fromFile.tls !== undefined && fromFlags.tls !== undefined) {
    merged.tls = { ...fromFlags.tls, timeoutMs: fromFile.tls.timeoutMs, handshakeFirst: fromFile.tls.handshakeFirst };
  }
  const resolved = resolveOptionsWithWarnings(merged);
  return { options: resolved.options, warnings };
}

// --- running ---------------------------------------------------------------------------------

async function runServer(flags: ServerFlags): Promise<void> {
  if (flags.signal !== undefined) {
    sendSignal(parseSignalRequest(flags.signal));
    return;
  }
  const { options, warnings } = serverSettingsFromFlags(flags);
  // A server that replicates streams does per-message work from the start (cli/heap-tuning.ts).
  if (options.cluster !== undefined && options.storeDir !== undefined) letYoungGenerationGrow();
  const logFile = options.logFile === undefined ? undefined : openLogFile(options.logFile);
  const logger = createJsonLogger(options.logLevel, logFile, undefined, logFormat(logFile));
  for (const w of warnings) logger.warn({}, w);

  const signals = new ServerSignals(logger, {
    reload: (server) => reloadConfig(flags, server, logger),
    reopenLog: () => logFile?.reopen(),
  });
  signals.install();

  // The pid file first (as nats-server does): whoever sees the ports file can signal the process.
  if (options.pidFile !== undefined) writePidFile(options.pidFile);
  let server: RunningServer;
  try {
    server = await startServer(options, { logger });
  } catch (err) {
    if (options.pidFile !== undefined) rmSync(options.pidFile, { force: true });
    logger.flush();
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot start server: ${e.message}`);
  }
  signals.attach(server);
  const cause = await signals.stopped;
  if (cause !== 'SIGUSR2') logger.info({ signal: cause }, 'shutting down');
  await server.close();
  if (options.pidFile !== undefined) rmSync(options.pidFile, { force: true });
  logger.flush();
  logFile?.close();
}

/** JSON lines, except readable ones for a person watching stdout in a terminal. */
function logFormat(file: LogDestination | undefined): 'json' | 'text' {
  return file === undefined && process.stdout.isTTY === true ? 'text' : 'json';
}

function openLogFile(path: string): FileSink {
  try {
    return new FileSink(path);
  } catch (err) {
    throw new CliError(`cannot open log file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function writePidFile(path: string): void {
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (err) {
    throw new CliError(`cannot write pid file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/**
 * SIGHUP: the config file read again and overlaid with the same flags as at start (flags keep
 * winning, as in nats-server). A file that cannot be read or is invalid changes nothing: one error
 * line says why.
 */
function reloadConfig(flags: ServerFlags, server: RunningServer, logger: JsonLogger): void {
  if (flags.config === undefined) {
    logger.error({}, 'config reload failed: the server was started without a config file (--config)');
    return;
  }
  let next: ServerOptions;
  try {
    next = serverSettingsFromFlags(flags).options;
  } catch (err) {
    logger.error({ file: flags.config }, `config reload failed, keeping the running configuration: ${oneLineMessage(err)}`);
    return;
  }
  server.reload(next);
}

function oneLineMessage(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
