// Config reload (SIGHUP, `sluice server --signal reload=<pid>`): which option changes a running
// server can take, and which need a restart. Like nats-server, a reload is all or nothing: when
// any changed option needs a restart, none is applied and the old configuration stays in force.
// Applying the accepted changes is the server's job (server.ts reload()); connections pick them up
// through ClientConnection.applyReload.

import type { ServerOptions } from './options-types.ts';

/**
 * Options a running server applies without a restart. Limits are read when used, so they apply to
 * every connection's next operation (the ping interval and write deadline from the next
 * connection on); auth options make every connection's credentials be judged again.
 */
const RELOADABLE: ReadonlySet<keyof ServerOptions> = new Set<keyof ServerOptions>([
  'users',
  'noAuthUser',
  'token',
  'user',
  'pass',
  'logLevel',
  'maxPayloadBytes',
  'maxControlLineBytes',
  'maxPendingBytes',
  'maxConnections',
  'maxSubscriptionsPerConnection',
  'pingIntervalMs',
  'maxPingsOutstanding',
  'authTimeoutMs',
  'writeDeadlineMs',
  'lameDuckDurationMs',
  'lameDuckGracePeriodMs',
]);

/** Changing any of these changes who may connect and what they may do. */
export const AUTH_OPTIONS: ReadonlySet<keyof ServerOptions> = new Set<keyof ServerOptions>(['users', 'token', 'user', 'pass', 'noAuthUser']);

export interface ReloadPlan {
  /** Options whose value differs and that can be applied now. */
  readonly changed: readonly (keyof ServerOptions)[];
  /** Options whose value differs and that need a restart: when any, the reload is refused. */
  readonly refused: readonly (keyof ServerOptions)[];
}

/** Option values are plain data (strings, numbers, arrays and objects of them). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function planReload(current: ServerOptions, next: ServerOptions): ReloadPlan {
  const changed: (keyof ServerOptions)[] = [];
  const refused: (keyof ServerOptions)[] = [];
  for (const field of Object.keys(current) as (keyof ServerOptions)[]) {
    if (sameValue(current[field], next[field])) continue;
    (RELOADABLE.has(field) ? changed : refused).push(field);
  }
  return { changed, refused };
}
