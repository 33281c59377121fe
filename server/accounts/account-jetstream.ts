// JetStream for the accounts beyond the first that enable it: each gets a JetStream of its own
// (its store directory, its $JS.API handlers on an internal client in its account's router), so
// streams, consumers and KV are per account and no account sees another's. The server starts the
// first account's JetStream itself (the one /jsz, clustering and lame duck know); this keeps the
// others. Standalone servers only: the options refuse several JetStream accounts in a cluster.

import type { Logger } from '../../runtime/logger.ts';
import type { JetStreamDeps, JetStreamService } from '../../streams/index.ts';
import type { MessageTarget } from '../router/subscription.ts';
import { InternalClient } from '../internal-client.ts';
import type { Account } from './accounts.ts';

/** What every account's JetStream shares (the server's settings). */
export type SharedJetStreamDeps = Omit<JetStreamDeps, 'storeDir' | 'bus'>;

interface AccountJetStream {
  readonly account: Account;
  readonly internal: InternalClient;
  readonly service: JetStreamService;
}

export class AccountJetStreams {
  private readonly started: AccountJetStream[] = [];

  /** Starts JetStream for each account, with its own store directory. */
  async start(accounts: readonly Account[], storeDirOf: (a: Account) => string, deps: SharedJetStreamDeps, logger: Logger): Promise<void> {
    if (accounts.length === 0) return;
    const { startJetStream } = await import('../../streams/index.ts');
    for (const account of accounts) {
      const internal = new InternalClient(0, account.router, (err, subject) =>
        logger.error({ err: String(err), stack: (err as Error)?.stack, subject, account: account.name }, 'internal handler failed'),
      );
      const storeDir = storeDirOf(account);
      const limits = account.config?.jetstreamLimits;
      const service = await startJetStream({ ...deps, storeDir, bus: internal, ...(limits !== undefined ? { limits } : {}) });
      this.started.push({ account, internal, service });
      logger.info({ account: account.name, store_dir: storeDir }, 'JetStream enabled for account');
    }
  }

  /** The internal client of one of these JetStreams (the server's own subscriptions). */
  isInternal(target: MessageTarget): boolean {
    return this.started.some((s) => s.internal === target);
  }

  /** Each account's JetStream (monitoring: /jsz per account). */
  services(): { account: Account; service: JetStreamService }[] {
    return this.started.map(({ account, service }) => ({ account, service }));
  }

  /** Their internal clients, for what is bound per account (the JetStream domain bridge). */
  internals(): { account: Account; internal: InternalClient }[] {
    return this.started.map(({ account, internal }) => ({ account, internal }));
  }

  async close(): Promise<void> {
    await Promise.all(this.started.map((s) => s.service.close()));
  }
}
