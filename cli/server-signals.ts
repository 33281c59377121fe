// The signals a running `sluice server` answers, as nats-server does (docs/operations.md):
//   SIGINT          stop now (a graceful close; clients are dropped at once)
//   SIGTERM         the same, except during lame-duck mode, where it is ignored and the drain goes on
//   SIGUSR2         lame-duck mode: stop accepting, move clients away over lame_duck_duration, exit 0
//   SIGHUP          re-read the config file and apply what can change without a restart
//   SIGUSR1         reopen the log file (after logrotate moved it)
// A second SIGINT/SIGTERM while already stopping exits at once with status 1.

import type { JsonLogger, RunningServer } from '../server/index.ts';

export interface SignalActions {
  /** Re-read the configuration and hand it to the server (SIGHUP). */
  reload(server: RunningServer): void;
  /** Reopen the log file (SIGUSR1); nothing when logging to stdout. */
  reopenLog(): void;
}

/** Why the server is stopping: a stop signal, or lame-duck mode that ran its course. */
export type StopCause = NodeJS.Signals;

export class ServerSignals {
  /** Resolves when the server should be closed. */
  readonly stopped: Promise<StopCause>;
  private resolveStop!: (cause: StopCause) => void;
  private server: RunningServer | undefined;
  private stopping = false;
  private lameDuck = false;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(
    private readonly logger: JsonLogger,
    private readonly actions: SignalActions,
  ) {
    this.stopped = new Promise((resolve) => (this.resolveStop = resolve));
  }

  /** Listens before the server starts, so a SIGTERM during start-up still ends in a clean close. */
  install(): void {
    this.handlers.set('SIGINT', () => this.stop('SIGINT'));
    this.handlers.set('SIGTERM', () => {
      if (this.lameDuck && !this.stopping) {
        this.logger.info({ signal: 'SIGTERM' }, 'lame duck mode in progress: SIGTERM ignored (SIGINT stops at once)');
        return;
      }
      this.stop('SIGTERM');
    });
    this.handlers.set('SIGUSR2', () => this.enterLameDuck());
    this.handlers.set('SIGHUP', () => this.whenRunning('SIGHUP', (s) => this.actions.reload(s)));
    this.handlers.set('SIGUSR1', () => this.actions.reopenLog());
    for (const [signal, handler] of this.handlers) process.on(signal, handler);
  }

  /** The server is up: reload and lame duck can act on it. */
  attach(server: RunningServer): void {
    this.server = server;
  }

  uninstall(): void {
    for (const [signal, handler] of this.handlers) process.off(signal, handler);
  }

  private stop(signal: NodeJS.Signals): void {
    if (!this.stopping) {
      this.stopping = true;
      this.resolveStop(signal);
      return;
    }
    this.logger.warn({ signal }, 'second signal: exiting without waiting for shutdown');
    this.logger.flush();
    process.exit(1);
  }

  private whenRunning(signal: NodeJS.Signals, act: (server: RunningServer) => void): void {
    if (this.server === undefined || this.stopping) {
      this.logger.warn({ signal }, 'signal ignored: the server is not running');
      return;
    }
    act(this.server);
  }

  private enterLameDuck(): void {
    if (this.lameDuck) return;
    this.whenRunning('SIGUSR2', (server) => {
      this.lameDuck = true;
      // The listeners close and the drain waits on timers that do not hold the process open (the
      // runtime clock unrefs them): without this handle, the process could end mid-drain once the
      // last client left on its own.
      const keepAlive = setInterval(() => {}, 60_000);
      void server.enterLameDuckMode().finally(() => {
        clearInterval(keepAlive);
        if (!this.stopping) {
          this.stopping = true;
          this.resolveStop('SIGUSR2');
        }
      });
    });
  }
}
