// The accounts of one server (docs/accounts.md, docs/adr/0015-accounts.md): each is its own
// subject space, a Router of its own, so interest, queue groups, request/reply and no-responders
// never cross between accounts except through the imports wired here. The global account ($G)
// always exists (connections without an account are in it), so does the system account.

import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Rng } from '../../runtime/rng.ts';
import { Router } from '../router/router.ts';
import type { MessageTarget } from '../router/subscription.ts';
import type { ClientConnection } from '../connection/client-connection.ts';
import { ANY_ORIGIN_TARGET_ID, Bridge, BridgeMisses, ORIGIN_ONLY_TARGET_ID, publishShown } from './bridge.ts';
import {
  DEFAULT_SYSTEM_ACCOUNT,
  findExport,
  GLOBAL_ACCOUNT,
  mapSubject,
  serviceImportLocalSubject,
  streamImportLocalSubject,
  type AccountConfig,
  type ServiceExport,
  type ServiceImport,
  type StreamImport,
} from './config.ts';
import { answerJetStreamDisabled, JS_API_SUBJECTS } from './jetstream-disabled.ts';
import { withRequestInfo } from './request-info.ts';
import { SystemEvents, type EventServer, type StatsSource } from './system-events.ts';
import { SystemRequests, type MonitorCall } from './system-requests.ts';
import { RESPONSE_THRESHOLD_MS, ResponseRoutes } from './responses.ts';
import { subjectsCollide } from '../../protocol/subject.ts';

const JS_ACK_PREFIX = '$JS.ACK.';

export class Account {
  readonly name: string;
  readonly router: Router;
  /** undefined for the accounts that exist without configuration ($G, an implicit $SYS). */
  readonly config: AccountConfig | undefined;
  /** Replies to requests that came in through service imports (made when first needed). */
  responses: ResponseRoutes | undefined = undefined;
  /** What the account's closed connections sent and received (/accstatz adds the open ones'). */
  readonly closedTraffic = { inMsgs: 0, inBytes: 0, outMsgs: 0, outBytes: 0, slowConsumers: 0 };

  /** Counts a closed connection's traffic in (once, when it closes). */
  retire(c: { inMsgs: number; inBytes: number; outMsgs: number; outBytes: number }, slowConsumer: boolean): void {
    const t = this.closedTraffic;
    t.inMsgs += c.inMsgs;
    t.inBytes += c.inBytes;
    t.outMsgs += c.outMsgs;
    t.outBytes += c.outBytes;
    if (slowConsumer) t.slowConsumers++;
  }

  constructor(name: string, rng: Rng, config: AccountConfig | undefined) {
    this.name = name;
    this.router = new Router(rng, name);
    this.config = config;
  }
}

export interface AccountsOptions {
  readonly accounts: readonly AccountConfig[];
  readonly systemAccount: string;
}

export class Accounts {
  readonly global: Account;
  readonly system: Account;
  /** Requests that reached only imports leading nowhere (see BridgeMisses). */
  readonly misses = new BridgeMisses();
  /**
   * The client whose request (a publish with a reply) is being delivered right now, else null:
   * set by the connection around the delivery, read by the JetStream API audit.
   */
  requester: ClientConnection | null = null;
  /** Imports and the JetStream-disabled answers: act only on messages that entered here. */
  private readonly originOnly: Bridge;
  /** Responses crossing back: also for responses that a route brought. */
  private readonly anyOrigin: Bridge;
  private readonly byName = new Map<string, Account>();
  private readonly clock: Clock;
  private sweepTimer: TimerHandle | undefined;
  private readonly undo: (() => void)[] = [];

  constructor(o: AccountsOptions, rng: Rng, clock: Clock, onError: (err: unknown, subject: string) => void) {
    this.clock = clock;
    this.originOnly = new Bridge(ORIGIN_ONLY_TARGET_ID, this.misses, onError);
    this.anyOrigin = new Bridge(ANY_ORIGIN_TARGET_ID, this.misses, onError);
    this.global = this.add(new Account(GLOBAL_ACCOUNT, rng, undefined));
    for (const c of o.accounts) this.add(new Account(c.name, rng, c));
    this.system = this.byName.get(o.systemAccount) ?? this.add(new Account(DEFAULT_SYSTEM_ACCOUNT, rng, undefined));
  }

  /** Whether accounts besides the system account are configured (else: nats-server's "global account only"). */
  get configured(): boolean {
    return this.all().some((a) => a.config !== undefined && a !== this.system);
  }

  get(name: string): Account | undefined {
    return this.byName.get(name);
  }

  /** The router of `name`'s account ($G's for '' or an account this server does not have). */
  routerOf(name: string): Router {
    return (this.byName.get(name) ?? this.global).router;
  }

  all(): Account[] {
    return [...this.byName.values()];
  }

  /** The bridges' subscriptions: the server's own, never a client's. */
  isBridge(target: MessageTarget): boolean {
    return target === this.originOnly || target === this.anyOrigin;
  }

  /**
   * The accounts JetStream serves: $G when no accounts are configured (nats-server's "global
   * account only"), else those whose config enables it (none: every account gets 10039).
   */
  jetstreamAccounts(): Account[] {
    if (!this.configured) return [this.global];
    return this.all().filter((a) => a.config?.jetstream === true);
  }

  /**
   * Where an account's JetStream keeps its data: the store directory itself for $G without
   * configured accounts (as always), `<store_dir>/accounts/<name>` for a configured account, so
   * no account ever opens another's streams (nats-server keeps a directory per account too).
   */
  jetstreamStoreDir(storeDir: string, account: Account): string {
    return account === this.global && !this.configured ? storeDir : join(storeDir, 'accounts', account.name);
  }

  /** Wires every configured import and starts forgetting stale response mappings. */
  bindImports(): void {
    for (const importer of this.all()) {
      for (const imp of importer.config?.imports ?? []) {
        const exporter = this.byName.get(imp.account)!;
        if (imp.kind === 'stream') this.bindStreamImport(importer, exporter, imp);
        else this.bindServiceImport(importer, exporter, imp);
      }
    }
    if (this.all().some((a) => a.responses !== undefined)) {
      this.sweepTimer = this.clock.setInterval(() => {
        for (const a of this.byName.values()) a.responses?.sweep();
      }, RESPONSE_THRESHOLD_MS / 4);
    }
  }

  /**
   * On a server with JetStream: every other account answers `$JS.API` requests with 10039, unless
   * it imports the API from the JetStream account (cross-account JetStream).
   */
  answerJetStreamDisabled(jetstream: readonly Account[]): void {
    for (const a of this.all()) {
      if (jetstream.includes(a)) continue;
      const imported = (a.config?.imports ?? []).some((i) => i.kind === 'service' && subjectsCollide(serviceImportLocalSubject(i), JS_API_SUBJECTS));
      if (!imported) this.undo.push(answerJetStreamDisabled(this.originOnly, a.router));
    }
  }

  /**
   * Starts the system account's events (system-events.ts) and its requests (system-requests.ts),
   * answered by the monitoring endpoints through `monitor`.
   */
  startSystemEvents(server: EventServer, stats: StatsSource, monitor: MonitorCall): SystemEvents {
    const events = new SystemEvents(this.system.router, server, stats, this.clock);
    const requests = new SystemRequests(this.system.router, events, { ...server, tags: [] }, monitor, (name) => this.get(name) !== undefined);
    requests.serve(
      this.anyOrigin,
      this.all().filter((a) => a !== this.system),
    );
    events.start();
    this.undo.push(() => {
      requests.close();
      events.close();
    });
    return events;
  }

  close(): void {
    this.sweepTimer?.cancel();
    for (const u of this.undo.splice(0)) u();
    for (const a of this.byName.values()) a.responses?.close();
  }

  private add(a: Account): Account {
    this.byName.set(a.name, a);
    return a;
  }

  /** What `exporter` publishes on the import's subject is published here on the local subject. */
  private bindStreamImport(importer: Account, exporter: Account, imp: StreamImport): void {
    const local = streamImportLocalSubject(imp);
    const prefix = imp.prefix === '' ? '' : `${imp.prefix}.`;
    const to = importer.router;
    this.undo.push(
      this.originOnly.subscribe(exporter.router, imp.subject, (subject, reply, hdrLen, msg, shown) => {
        const target = prefix !== '' ? prefix + subject : mapSubject(imp.subject, local, subject);
        // A delivery shown with another subject keeps it; a plain message shows its new subject.
        return publishShown(to, target, shown === subject ? target : shown, reply, hdrLen, msg);
      }),
    );
  }

  /**
   * A request published here on the local subject goes to `exporter` on the exported subject, with
   * a reply subject there that leads back (ResponseRoutes) and a Nats-Request-Info header naming
   * the importing account, as nats-server adds. JetStream ack replies pass unchanged:
   * they name a consumer in the exporting account (nats-server's exception for pull consumers).
   */
  private bindServiceImport(importer: Account, exporter: Account, imp: ServiceImport): void {
    const local = serviceImportLocalSubject(imp);
    const exp = findExport(exporter.config!, 'service', imp.subject, importer.name) as ServiceExport;
    const responses = (exporter.responses ??= new ResponseRoutes(exporter.router, this.anyOrigin, this.clock));
    const from = importer.router;
    const to = exporter.router;
    this.undo.push(
      this.originOnly.subscribe(from, local, (subject, reply, hdrLen0, msg0, shown0) => {
        const target = mapSubject(local, imp.subject, subject);
        const shown = shown0 === subject ? target : shown0;
        const [hdrLen, msg] = withRequestInfo(hdrLen0, msg0, importer.name);
        if (reply === '' || reply.startsWith(JS_ACK_PREFIX)) return publishShown(to, target, shown, reply, hdrLen, msg);
        const mapped = responses.add(from, reply, exp.responseType);
        const reached = publishShown(to, target, shown, mapped, hdrLen, msg);
        if (reached <= 0) responses.forget(mapped);
        return reached;
      }),
    );
  }
}
