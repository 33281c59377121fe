// The connection flags every client command shares, as the nats CLI has them: -s/--server,
// --user, --password, --token, --nkey, --tlsca/--tlscert/--tlskey, --timeout. They are accepted
// before the command name (on the program) and after it (on every group and leaf command, hidden
// from their help); the value nearest the leaf wins. Environment: SLUICE_URL or NATS_URL for the
// server, NATS_USER / NATS_PASSWORD / NATS_TOKEN / NATS_NKEY / NATS_CA / NATS_CERT / NATS_KEY /
// NATS_TIMEOUT as in the nats CLI.

import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import {
  connect,
  jetstream,
  jetstreamManager,
  systemClock,
  type Clock,
  type ConnectionOptions,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
} from '../client/index.ts';
import { describeError } from './errors.ts';
import { Output } from './format.ts';
import { CliError, type CliIo } from './io.ts';
import { durationMsFlag } from './values.ts';

export const DEFAULT_SERVER = 'nats://127.0.0.1:4222';
export const DEFAULT_TIMEOUT_MS = 5000;

export interface ConnectionFlags {
  server?: string;
  user?: string;
  password?: string;
  token?: string;
  nkey?: string;
  tlsca?: string;
  tlscert?: string;
  tlskey?: string;
  timeout?: string;
}

const FLAG_NAMES: readonly (keyof ConnectionFlags)[] = ['server', 'user', 'password', 'token', 'nkey', 'tlsca', 'tlscert', 'tlskey', 'timeout'];

/** Adds the connection flags to `cmd` (hidden from its help unless `visible`). */
export function addConnectionFlags(cmd: Command, visible: boolean): Command {
  const opts: Option[] = [
    new Option('-s, --server <url>', `server URL(s), comma-separated (env SLUICE_URL or NATS_URL; default ${DEFAULT_SERVER})`),
    new Option('--user <user>', 'user name (env NATS_USER)'),
    new Option('--password <password>', 'password (env NATS_PASSWORD)'),
    new Option('--token <token>', 'token (env NATS_TOKEN)'),
    new Option('--nkey <file>', 'file holding an nkey user seed, SU... (env NATS_NKEY)'),
    new Option('--tlsca <file>', 'CA certificate(s) to trust, PEM (env NATS_CA)'),
    new Option('--tlscert <file>', 'client certificate, PEM (env NATS_CERT)'),
    new Option('--tlskey <file>', 'client private key, PEM (env NATS_KEY)'),
    new Option('--timeout <duration>', 'how long to wait for the server: connect, requests, API calls (env NATS_TIMEOUT; default 5s)'),
  ];
  for (const o of opts) cmd.addOption(visible ? o : o.hideHelp());
  return cmd;
}

/** The connection flags of `cmd` and its ancestors; the one nearest `cmd` wins. */
export function connectionFlagsOf(cmd: Command): ConnectionFlags {
  const chain: Command[] = [];
  for (let c: Command | null = cmd; c !== null; c = c.parent) chain.unshift(c);
  const flags: ConnectionFlags = {};
  for (const c of chain) {
    const o = c.opts() as ConnectionFlags;
    for (const k of FLAG_NAMES) if (o[k] !== undefined) flags[k] = o[k];
  }
  return flags;
}

function readFlagFile(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${flag} file ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** Flags and environment as client connection options (without connecting). */
export function connectionOptions(flags: ConnectionFlags, env: Readonly<Record<string, string | undefined>>): ConnectionOptions & { timeoutMs: number } {
  const pick = (flag: string | undefined, ...vars: string[]): string | undefined => {
    if (flag !== undefined) return flag;
    for (const v of vars) if (env[v] !== undefined && env[v] !== '') return env[v];
    return undefined;
  };
  const server = pick(flags.server, 'SLUICE_URL', 'NATS_URL') ?? DEFAULT_SERVER;
  const servers = server.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servers.length === 0) throw new CliError('invalid value for --server: expected a URL such as nats://127.0.0.1:4222, got ""');
  const timeoutText = pick(flags.timeout, 'NATS_TIMEOUT');
  const timeoutMs = timeoutText === undefined ? DEFAULT_TIMEOUT_MS : durationMsFlag('--timeout', timeoutText);
  const o: ConnectionOptions & { timeoutMs: number } = {
    servers,
    name: 'sluice CLI',
    timeoutMs,
    requestTimeoutMs: timeoutMs,
    reconnect: false,
    noRandomize: true,
  };
  const user = pick(flags.user, 'NATS_USER');
  const token = pick(flags.token, 'NATS_TOKEN');
  if (user !== undefined && token !== undefined) throw new CliError('--user and --token cannot be used together');
  if (user !== undefined) {
    o.user = user;
    o.pass = pick(flags.password, 'NATS_PASSWORD') ?? '';
  }
  if (token !== undefined) o.token = token;
  const nkey = pick(flags.nkey, 'NATS_NKEY');
  if (nkey !== undefined) {
    const seed = readFlagFile('--nkey', nkey)
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find((l) => l.startsWith('SU'));
    if (seed === undefined) throw new CliError(`--nkey file ${nkey} holds no user seed (a line starting with SU)`);
    o.nkeySeed = seed;
  }
  const ca = pick(flags.tlsca, 'NATS_CA');
  const cert = pick(flags.tlscert, 'NATS_CERT');
  const key = pick(flags.tlskey, 'NATS_KEY');
  if ((cert === undefined) !== (key === undefined)) throw new CliError('--tlscert and --tlskey go together');
  if (ca !== undefined || cert !== undefined) {
    o.tls = {
      ...(ca !== undefined ? { ca: readFlagFile('--tlsca', ca) } : {}),
      ...(cert !== undefined ? { cert: readFlagFile('--tlscert', cert), key: readFlagFile('--tlskey', key!) } : {}),
    };
  }
  return o;
}

/** What a client command gets: output, flags resolved, and lazily a connection. */
export class CommandContext {
  readonly io: CliIo;
  readonly out: Output;
  readonly clock: Clock;
  readonly options: ConnectionOptions & { timeoutMs: number };
  private nc: NatsConnection | undefined = undefined;

  constructor(io: CliIo, cmd: Command, clock: Clock = systemClock) {
    this.io = io;
    this.out = new Output(io);
    this.clock = clock;
    this.options = connectionOptions(connectionFlagsOf(cmd), io.env ?? {});
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  async connect(): Promise<NatsConnection> {
    if (this.nc !== undefined) return this.nc;
    try {
      this.nc = await connect({ ...this.options, clock: this.clock });
    } catch (e) {
      throw new CliError(describeError(e, this.options));
    }
    return this.nc;
  }

  async jsm(): Promise<JetStreamManager> {
    return jetstreamManager(await this.connect(), { timeoutMs: this.timeoutMs });
  }

  async js(): Promise<JetStreamClient> {
    return jetstream(await this.connect(), { timeoutMs: this.timeoutMs });
  }

  /** Flushes what was published and closes the connection (if one was made). */
  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    if (nc === undefined || nc.isClosed()) return;
    await nc.flush().catch(() => undefined);
    await nc.close();
  }
}

/**
 * Runs `body` with a context for `cmd`, and always closes the connection. Client errors become
 * one-line CliErrors (see errors.ts).
 */
export async function withContext<T>(io: CliIo, cmd: Command, body: (ctx: CommandContext) => Promise<T>): Promise<T> {
  const ctx = new CommandContext(io, cmd);
  try {
    return await body(ctx);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(describeError(e, ctx.options));
  } finally {
    await ctx.close().catch(() => undefined);
  }
}
