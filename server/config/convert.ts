// Value conversions and the option collector shared by the config-file mappers (load.ts for the
// top level, auth-config.ts and listeners-config.ts for the authorization, tls and websocket
// blocks). A conversion returns the value or a Bad naming what was expected; the Collector turns
// a Bad into one ConfigError line naming the key (and file:line:col in nats syntax).

import type { UserConfig } from '../auth/users.ts';
import type { ServerOptions } from '../options-types.ts';
import { checkOption, invalidValueMessage, isLogLevel, parseDurationMs, parseSize } from '../options.ts';
import { LOG_LEVELS } from '../../runtime/logger.ts';
import { SYNC_MODES, type SyncMode } from '../../streams/settings.ts';
import type { ConfMap, ConfValue } from './nats-conf.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface LoadedConfig {
  options: Partial<ServerOptions>;
  /** One line each, for the caller to log. */
  warnings: string[];
  format: 'json' | 'nats';
}

// ---------------------------------------------------------------------------------------------
// Value conversions. Each returns the converted value, or a Bad carrying what was expected.

export class Bad {
  constructor(readonly expected: string) {}
}
export type Conv<T> = (v: ConfValue | unknown, raw?: string) => T | Bad;

export const PORT_EXPECTED = 'an integer 0..65535 (0 or -1 = a free port)';
export const SIZE_EXPECTED = 'a size in bytes, e.g. 1048576 or "1MB"';
export const DURATION_EXPECTED = 'a duration such as "2m" or "10s", or a number of seconds';
export const POSITIVE_DURATION_EXPECTED = 'a positive duration such as "2m" or "10s", or a number of seconds';

export const asPort: Conv<number> = (v) => (v === -1 ? 0 : typeof v === 'number' && Number.isInteger(v) ? v : new Bad(PORT_EXPECTED));
export const asString: Conv<string> = (v) => (typeof v === 'string' ? v : new Bad('a string'));
export const asInt: Conv<number> = (v) => (typeof v === 'number' && Number.isInteger(v) ? v : new Bad('an integer'));
export const asSize: Conv<number> = (v) => {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string') return parseSize(v) ?? new Bad(SIZE_EXPECTED);
  return new Bad(SIZE_EXPECTED);
};
/**
 * A duration: a Go-style string ("2m", "1h30m"), or a plain number of seconds (nats-server's
 * older form). `raw` is the unquoted source text in nats syntax: `2m` there lexes as the size
 * 2,000,000 (nats-server would then wait 23 days); when the key wants a duration we read the
 * text the user wrote instead.
 */
export const asDurationMs: Conv<number> = (v, raw) => {
  if (raw !== undefined && /^\d+[a-zA-Z]+$/.test(raw)) return parseDurationMs(raw) ?? new Bad(DURATION_EXPECTED);
  if (typeof v === 'string') return parseDurationMs(v) ?? new Bad(DURATION_EXPECTED);
  if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
  return new Bad(DURATION_EXPECTED);
};
export const asLogLevel: Conv<string> = (v) => (isLogLevel(v) ? v : new Bad(`one of ${LOG_LEVELS.join(', ')}`));
export const asSyncMode: Conv<SyncMode> = (v) =>
  typeof v === 'string' && (SYNC_MODES as readonly string[]).includes(v) ? (v as SyncMode) : new Bad(`one of ${SYNC_MODES.join(', ')}`);
export const asBool: Conv<boolean> = (v) => (typeof v === 'boolean' ? v : new Bad('true or false'));

/** "host:port", "[v6]:port", ":port" or a bare port number, as nats-server's `listen`. */
export const asHostPort: Conv<{ host: string | undefined; port: number }> = (v) => {
  const expected = 'a port or "host:port"';
  if (typeof v === 'number') {
    const p = asPort(v);
    return p instanceof Bad ? new Bad(expected) : { host: undefined, port: p };
  }
  if (typeof v !== 'string') return new Bad(expected);
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(-?\d+)$/.exec(v.trim());
  if (!m) return new Bad(expected);
  const host = m[1] ?? m[2] ?? '';
  const port = asPort(Number(m[3]));
  if (port instanceof Bad) return new Bad(expected);
  return { host: host === '' ? undefined : host, port };
};

// ---------------------------------------------------------------------------------------------

/** Collects options and warnings; turns Bad values into one-line ConfigErrors. */
export class Collector {
  readonly options: Record<string, unknown> = {};
  readonly warnings: string[] = [];
  /** Users of the accounts block, added to the `users` option at the end (after any authorization block's). */
  private readonly accountUsers: UserConfig[] = [];
  constructor(
    private readonly file: string,
    /** file:line:col of a key, when the format knows it. */
    readonly locate: (keyPath: string, map?: ConfMap) => string | undefined = () => undefined,
  ) {}

  fail(keyPath: string, expected: string, got: unknown, map?: ConfMap): never {
    const where = this.locate(keyPath, map) ?? this.file;
    throw new ConfigError(`${where}: ${invalidValueMessage(JSON.stringify(keyPath), expected, got)}`);
  }

  convert<T>(conv: Conv<T>, keyPath: string, v: unknown, map?: ConfMap, raw?: string): T {
    const r = conv(v, raw);
    if (r instanceof Bad) this.fail(keyPath, r.expected, v, map);
    return r;
  }

  /**
   * Sets an option, judged by the option's own rule so range errors name the config key.
   * `expected` overrides the rule's wording where the config's unit differs from the option's.
   */
  set<K extends keyof ServerOptions>(
    field: K,
    value: ServerOptions[K],
    keyPath: string,
    got: unknown,
    map?: ConfMap,
    expected?: string,
  ): void {
    const problem = checkOption(field, value);
    if (problem !== undefined) this.fail(keyPath, expected ?? problem, got, map);
    this.options[field] = value;
  }

  warn(message: string, keyPath: string, map?: ConfMap): void {
    const loc = this.locate(keyPath, map);
    this.warnings.push(loc === undefined ? message : `${message} (${loc})`);
  }

  unsupported(keyPath: string, map?: ConfMap): void {
    this.warn(`unsupported config key ${JSON.stringify(keyPath)} ignored`, keyPath, map);
  }

  addUsers(users: readonly UserConfig[]): void {
    this.accountUsers.push(...users);
  }

  result(format: 'json' | 'nats'): LoadedConfig {
    if (this.accountUsers.length > 0) {
      const users = [...((this.options.users as UserConfig[] | undefined) ?? []), ...this.accountUsers];
      this.set('users', users, 'accounts', users);
    }
    return { options: this.options as Partial<ServerOptions>, warnings: this.warnings, format };
  }
}

/** A `{ ... }` block, or a ConfigError naming the key. */
export function asMap(c: Collector, keyPath: string, v: unknown): ConfMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) c.fail(keyPath, 'a block { ... }', v);
  return v as ConfMap;
}
