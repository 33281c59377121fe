// The system account's requests, as nats-server answers them (events.go initEventTracking):
//   $SYS.REQ.SERVER.PING[.STATSZ]          every server, its statistics ({server, statsz})
//   $SYS.REQ.SERVER.PING.<VARZ|CONNZ|...>  every server, that monitoring endpoint ({server, data})
//   $SYS.REQ.SERVER.<server id>.<same>     only that server
//   $SYS.REQ.ACCOUNT.<acc>.<CONNZ|SUBSZ|LEAFZ|JSZ|INFO|STATZ|CONNS>  one account's view, every server
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

  serve(bridge: Bridge): void {
    const on = (subject: string, name: string, answer: Answer | 'statsz' | 'conns'): void => {
      this.undo.push(
        bridge.subscribe(this.router, subject, (s, reply, hdrLen, msg) => {
          if (reply === '') return 0;
          this.handle(name, s, reply, msg.subarray(hdrLen), answer);
          return 1;
        }),
      );
    };
    // The bare PING is kept by nats-server for older tools; it is STATSZ.
    on('$SYS.REQ.SERVER.PING', 'STATSZ', 'statsz');
    for (const prefix of ['$SYS.REQ.SERVER.PING', `$SYS.REQ.SERVER.${this.server.id}`]) {
      on(`${prefix}.STATSZ`, 'STATSZ', 'statsz');
      for (const [name, path] of Object.entries(SERVER_REQUEST_PATHS)) on(`${prefix}.${name}`, name, (p) => this.monitor(path, p.query));
    }
    const account: Record<string, Answer | 'conns'> = {
      CONNZ: (p, acc) => this.monitor('/connz', withParam(p.query, 'acc', acc)),
      SUBSZ: (p, acc) => this.monitor('/subsz', withParam(withParam(p.query, 'subs', '1'), 'acc', acc)),
      LEAFZ: (p, acc) => this.monitor('/leafz', withParam(p.query, 'acc', acc)),
      JSZ: (p, acc) => this.accountJsz(p, acc),
      INFO: async (_p, acc) => ((await this.monitor('/accountz', new URLSearchParams({ acc }))) as { account_detail: unknown }).account_detail,
      STATZ: (p, acc) => this.accountStatz(p, acc),
      CONNS: 'conns',
    };
    for (const [name, answer] of Object.entries(account)) on(`$SYS.REQ.ACCOUNT.*.${name}`, name, answer);
  }

  close(): void {
    for (const u of this.undo.splice(0)) u();
  }

  private handle(name: string, subject: string, reply: string, body: Buffer, answer: Answer | 'statsz' | 'conns'): void {
    const account = subject.startsWith('$SYS.REQ.ACCOUNT.') ? subject.split('.')[3]! : '';
    if (answer === 'conns') {
      // nats-server answers only when the account has connections here, with its CONNS event.
      const event = this.events.accountConnsEvent(account);
      if (event !== undefined) this.events.publish(reply, event);
      return;
    }
    let p: ParsedRequest;
    try {
      p = parseRequestOptions(name, body);
    } catch (err) {
      this.events.publish(reply, { server: this.events.serverInfo(), error: { code: BAD_REQUEST, description: (err as Error).message } });
      return;
    }
    if (!serverMatches(p.filter, this.server)) return;
    if (answer === 'statsz') {
      this.events.publish(reply, this.events.statszMessage());
      return;
    }
    // Copied now: the message is only valid during the delivery, the answer comes later.
    answer(p, account).then(
      (data) => {
        if (data !== SKIP) this.events.publish(reply, { server: this.events.serverInfo(), data });
      },
      (err: unknown) => {
        const description = err instanceof Error ? err.message : String(err);
        // nats-server's answer then carries the failed call's nil result as `data: null`.
        this.events.publish(reply, { server: this.events.serverInfo(), data: null, error: { code: INTERNAL_ERROR, description } });
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
