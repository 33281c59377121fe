// Lame-duck mode: a graceful shutdown that moves clients away instead of dropping them all at once
// (SIGUSR2, `sluice server --signal ldm=<pid>`). The order is nats-server's:
//   1. stop accepting clients (the listeners close; open connections stay);
//   2. stop JetStream, so its stores are flushed and closed while clients can still be told;
//   3. send every client an INFO with `ldm: true` (clients surface it as an event; apps may reconnect);
//   4. wait the grace period, so clients can leave on their own and several servers put into lame
//      duck together do not trade clients with each other;
//   5. close the remaining clients one at a time, spread over what is left of the duration, each
//      pause picked at random in [interval/2, interval), so they do not all reconnect at once.
// The caller then runs the ordinary shutdown. docs/operations.md describes it for users.

import type { Clock, TimerHandle } from '../runtime/clock.ts';
import type { Logger } from '../runtime/logger.ts';
import type { Rng } from '../runtime/rng.ts';

/** What lame-duck mode needs from the server. */
export interface LameDuckServer {
  /** Closes the client listeners (TCP, WebSocket); open connections are not touched. */
  stopAccepting(): void;
  /** Flushes and closes JetStream (nothing when it is off). */
  stopJetStream(): Promise<void>;
  /** The client connections open now. */
  openClients(): readonly LameDuckClient[];
}

export interface LameDuckClient {
  readonly closed: boolean;
  /** Sends the async INFO with `ldm: true`. */
  notifyLameDuck(): void;
  /** Closes the connection as at shutdown. */
  closeForShutdown(): void;
}

export interface LameDuckSettings {
  readonly durationMs: number;
  readonly gracePeriodMs: number;
}

/** The closes are spread over at least this, even when the grace period takes all of the duration. */
const MIN_SPREAD_MS = 1000;
/** No need to wait longer than this between two clients (10 clients over 2 minutes). */
const MAX_INTERVAL_MS = 1000;

/** How the closes are paced: `batch` clients per pause of about `intervalMs`. */
export function closePacing(clients: number, spreadMs: number): { intervalMs: number; batch: number } {
  if (clients <= 0) return { intervalMs: 0, batch: 1 };
  const interval = spreadMs / clients;
  // More clients than milliseconds: close several per pause instead of sub-millisecond timers.
  if (interval < 1) return { intervalMs: 1, batch: Math.ceil(clients / spreadMs) };
  return { intervalMs: Math.min(interval, MAX_INTERVAL_MS), batch: 1 };
}

export class LameDuck {
  private cancelled = false;
  private timer: TimerHandle | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly server: LameDuckServer,
    private readonly settings: LameDuckSettings,
    private readonly clock: Clock,
    private readonly rng: Rng,
    private readonly logger: Logger,
  ) {}

  /** Resolves once every client is closed (or cancel() was called); the caller then shuts down. */
  async run(): Promise<void> {
    const { durationMs, gracePeriodMs } = this.settings;
    this.logger.info({ lame_duck_duration_ms: durationMs, lame_duck_grace_period_ms: gracePeriodMs }, 'entering lame duck mode, stop accepting new clients');
    this.server.stopAccepting();
    await this.server.stopJetStream();
    const clients = this.server.openClients().filter((c) => !c.closed);
    if (clients.length === 0 || this.cancelled) return;
    for (const c of clients) c.notifyLameDuck();
    const { intervalMs, batch } = closePacing(clients.length, Math.max(durationMs - gracePeriodMs, MIN_SPREAD_MS));
    await this.pause(gracePeriodMs);
    if (this.cancelled) return;
    const remaining = clients.filter((c) => !c.closed);
    this.logger.info({ clients: remaining.length, interval_ms: Math.round(intervalMs), batch }, 'lame duck: closing existing clients');
    for (let i = 0; i < remaining.length; i++) {
      if (this.cancelled) return;
      const c = remaining[i]!;
      if (!c.closed) c.closeForShutdown();
      if (i === remaining.length - 1) break;
      if (batch === 1 || i % batch === batch - 1) {
        await this.pause(Math.max(intervalMs / 2, this.rng.next() * intervalMs));
      }
    }
  }

  /** Stops the drain at its next step (an immediate shutdown was asked for). */
  cancel(): void {
    this.cancelled = true;
    this.timer?.cancel();
    this.wake?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = this.clock.setTimeout(resolve, ms);
    });
  }
}
