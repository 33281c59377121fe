// The system account's requests, as nats-server answers them (events.go initEventTracking):
//   $SYS.REQ.SERVER.PING[.STATSZ]          every server, its statistics ({server, statsz})
//   $SYS.REQ.SERVER.PING.<VARZ|CONNZ|...>  every server, that monitoring endpoint ({server, data})
//   $SYS.REQ.SERVER.<server id>.<same>     only that server
//   $SYS.REQ.ACCOUNT.<acc>.<CONNZ|SUBSZ|LEAFZ|JSZ|INFO|STATZ|CONNS>  one account's view, every server
// and, in every other account, the three nats-server imports there from the system account
// ($SYS.REQ.SERVER.PING.CONNZ, $SYS.REQ.ACCOUNT.PING.CONNZ and .PING.STATZ), for that account only.
// A request's body carries the endpoint's options as JSON (event-options.ts); the answer is built by
// the monitoring endpoint's own builder (server/monitor/), so both give the same document.
// Subscribed through a bridge that takes routed messages: every server of a cluster answers.

import type { Router } from '../router/router.ts';
import { parseRequestOptions, serverMatches, SERVER_REQUEST_PATHS, type FilteredServer, type ParsedRequest } from '../monitor/event-options.ts';
import type { Bridge } from './bridge.ts';
import type { SystemEvents } from './system-events.ts';

/** Calls a monitoring endpoint's builder; resolves to its document (a /healthz 503 body too). */
export type MonitorCall = (path: string, query: URLSearchParams) => Promise<unknown>;

/** nats-server's errSkipZreq: this server has nothing to say, so it stays silent. */
const SKIP = Symbol('skip');

type Answer = (p: ParsedRequest, account: string) => Promise<unknown>;
/** A monitoring answer, or one of the few answered otherwise. */
type Kind = Answer | 'statsz' | 'conns' | 'idz';

/** Go's net/http status codes nats-server puts in `error.code`. */
const BAD_REQUEST = 400;
const INTERNAL_ERROR = 500;

export class SystemRequests {
  private readonly router: Router;
  private readonly events: SystemEvents;
  private readonly server: FilteredServer & { readonly id: string };
  private readonly monitor: MonitorCall;
  private readonly accountExists: (name: string) => boolean;
  private readonly undo: (() => void)[] = [];

  constructor(
    router: Router,
    events: SystemEvents,
    server: FilteredServer & { readonly id: string },
    monitor: MonitorCall,
    accountExists: (name: string) => boolean,
  ) {
    this.router = router;
    this.accountExists = accountExists;
    this.events = events;
    this.server = server;
    this.monitor = monitor;
  }

  /**
   * Subscribes the requests in the system account; and in each of `accounts` the three that
   * nats-server imports into every account from the system account, answered for that account
   * alone: $SYS.REQ.SERVER.PING.CONNZ and $SYS.REQ.ACCOUNT.PING.CONNZ (its connections on every
   * server) and $SYS.REQ.ACCOUNT.PING.STATZ (its statistics).
   */
  serve(bridge: Bridge, accounts: readonly { readonly name: string; readonly router: Router }[] = []): void {
    const on = (router: Router, subject: string, name: string, answer: Kind, fixed?: string): void => {
      this.undo.push(
        bridge.subscribe(router, subject, (s, reply, hdrLen, msg) => {
          // nats-server's statsz request without a reply: the answer goes out as the periodic one.
          if (reply === '' && answer === 'statsz') reply = `$SYS.SERVER.${this.server.id}.STATSZ`;
          if (reply === '') return 0;
          const account = fixed ?? (s.startsWith('$SYS.REQ.ACCOUNT.') ? s.split('.')[3]! : '');
          this.handle(router, name, account, reply, msg.subarray(hdrLen), answer);
          return 1;
        }),
      );
    };
    const sys = this.router;
    // The bare PING is kept by nats-server for older tools; it is STATSZ.
    on(sys, '$SYS.REQ.SERVER.PING', 'STATSZ', 'statsz');
    for (const prefix of ['$SYS.REQ.SERVER.PING', `$SYS.REQ.SERVER.${this.server.id}`]) {
      on(sys, `${prefix}.STATSZ`, 'STATSZ', 'statsz');
      // nats-server 2.10: who is there, without an envelope (its ServerID).
      on(sys, `${prefix}.IDZ`, 'IDZ', 'idz');
      for (const [name, path] of Object.entries(SERVER_REQUEST_PATHS)) on(sys, `${prefix}.${name}`, name, (p) => this.monitor(path, p.query));
    }
    const connz: Answer = (p, acc) => this.monitor('/connz', withParam(p.query, 'acc', acc));
    const statz: Answer = (p, acc) => this.accountStatz(p, acc);
    const account: Record<string, Answer | 'conns'> = {
      CONNZ: connz,
      SUBSZ: (p, acc) => this.monitor('/subsz', withParam(withParam(p.query, 'subs', '1'), 'acc', acc)),
      LEAFZ: (p, acc) => this.monitor('/leafz', withParam(p.query, 'acc', acc)),
      JSZ: (p, acc) => this.accountJsz(p, acc),
      INFO: async (_p, acc) => ((await this.monitor('/accountz', new URLSearchParams({ acc }))) as { account_detail: unknown }).account_detail,
      STATZ: statz,
      CONNS: 'conns',
    };
    for (const [name, answer] of Object.entries(account)) on(sys, `$SYS.REQ.ACCOUNT.*.${name}`, name, answer);
    for (const a of accounts) {
      on(a.router, '$SYS.REQ.SERVER.PING.CONNZ', 'CONNZ', connz, a.name);
      on(a.router, '$SYS.REQ.ACCOUNT.PING.CONNZ', 'CONNZ', connz, a.name);
      // Named, not PING: the account's own statistics (nats-server maps it to ACCOUNT.<acc>.STATZ).
      on(a.router, '$SYS.REQ.ACCOUNT.PING.STATZ', 'STATZ', statz, a.name);
    }
  }

  close(): void {
    for (const u of this.undo.splice(0)) u();
  }

  /** Answers in `router` (the account the request came from) for `account` ('' = the server). */
  private handle(router: Router, name: string, account: string, reply: string, body: Buffer, answer: Kind): void {
    const send = (msg: object): void => this.events.publish(reply, msg, router);
    if (answer === 'idz') {
      send({ name: this.server.name, host: this.server.host, id: this.server.id });
      return;
    }
    if (answer === 'conns') {
      // nats-server answers only when the account has connections here, with its CONNS event.
      const event = this.events.accountConnsEvent(account);
      if (event !== undefined) send(event);
      return;
    }
    // Parsed now: the message is only valid during the delivery, the answer may come later.
    let p: ParsedRequest;
    try {
      p = parseRequestOptions(name, body);
    } catch (err) {
      send({ server: this.events.serverInfo(), error: { code: BAD_REQUEST, description: (err as Error).message } });
      return;
    }
    if (!serverMatches(p.filter, this.server)) return;
    if (answer === 'statsz') {
      send(this.events.statszMessage());
      return;
    }
    answer(p, account).then(
      (data) => {
        if (data !== SKIP) send({ server: this.events.serverInfo(), data });
      },
      (err: unknown) => {
        const description = err instanceof Error ? err.message : String(err);
        // nats-server's answer then carries the failed call's nil result as `data: null`.
        send({ server: this.events.serverInfo(), data: null, error: { code: INTERNAL_ERROR, description } });
      },
    );
  }

  /** nats-server's JszAccount: the account's detail as /jsz?accounts=1 lists it. */
  private async accountJsz(p: ParsedRequest, acc: string): Promise<unknown> {
    const jsz = (await this.monitor('/jsz', withParam(withParam(p.query, 'accounts', '1'), 'acc', acc))) as {
      disabled?: boolean;
      account_details?: { name: string }[];
    };
    if (jsz.disabled === true) throw new Error('jetstream not enabled');
    if (!this.accountExists(acc)) throw new Error(`account "${acc}" not found`);
    const detail = jsz.account_details?.find((d) => d.name === acc);
    if (detail === undefined) throw new Error(`account "${acc}" not jetstream enabled`);
    return detail;
  }

  /**
   * nats-server's account STATZ: the named account (or with PING every account, or those the
   * options list), only those with connections here unless include_unused; silent when none.
   */
  private async accountStatz(p: ParsedRequest, acc: string): Promise<unknown> {
    const wanted = acc !== 'PING' ? [acc] : ((p.options.accounts as string[] | undefined) ?? []);
    const unused = p.options.include_unused === true;
    const all = (await this.monitor('/accstatz', new URLSearchParams({ unused: '1' }))) as { account_statz: { acc: string; total_conns: number }[] };
    let list = all.account_statz;
    if (wanted.length > 0) list = wanted.flatMap((name) => list.filter((a) => a.acc === name));
    if (!unused) list = list.filter((a) => a.total_conns > 0);
    if (list.length === 0 && !unused) return SKIP;
    return { ...all, account_statz: list };
  }
}

function withParam(query: URLSearchParams, name: string, value: string): URLSearchParams {
  const q = new URLSearchParams(query);
  q.set(name, value);
  return q;
}
