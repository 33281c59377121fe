// The $JS.API request router: one subscription on `$JS.API.>` and a registry of handlers keyed by
// the tokens after the prefix ("INFO", "STREAM.CREATE", "STREAM.MSG.GET", ...; the longest
// registered match wins and the remaining tokens are the handler's arguments). The consumer layer
// adds its CONSUMER.* routes with `register` on the same router.
//
// Contract kept for every route: requests without a reply subject are ignored; every JSON
// response carries `type` first; failures are `{code, err_code, description}` objects; a handler
// never takes the server down — anything thrown that is not a JsApiException is logged and
// answered with a 500.

import type { Logger } from '../../runtime/logger.ts';
import { jsApiError, type ApiError, type JsErrKind } from '../../protocol/js-errors.ts';
import { responseType } from '../../protocol/jetstream-api.ts';
import type { BusSubscription, MessageBus } from '../bus.ts';
import { parseJsonObject } from '../json-shape.ts';
import { JsApiException } from '../manager.ts';
import type { ApiAdvisories } from './advisories.ts';

export const API_PREFIX = '$JS.API';
const API_PREFIX_DOT = API_PREFIX + '.';

export interface ApiRequest {
  readonly subject: string;
  /** Tokens after the matched route, e.g. ['ORDERS'] for STREAM.INFO.ORDERS. */
  readonly args: readonly string[];
  readonly reply: string;
  /** Copies: handlers may be asynchronous. */
  readonly hdr: Uint8Array | null;
  readonly data: Uint8Array;
  /** Who asked, for the API audit (advisories.ts); undefined when nobody listens or it is unknown. */
  readonly client?: Record<string, unknown> | undefined;
}

/** Returned by a handler that answered by itself (e.g. with a raw message) or must not answer. */
export const NO_RESPONSE: unique symbol = Symbol('no-response');

export interface ApiRoute {
  /** Response type kind: "stream_create" -> io.nats.jetstream.api.v1.stream_create_response. */
  readonly kind: string;
  /** Resolves to the response body (without `type`), or NO_RESPONSE. Throws JsApiException. */
  handle(req: ApiRequest): unknown | Promise<unknown>;
  /** Extra fields nats-server includes in this route's error responses (e.g. purged: 0). */
  readonly errorFields?: Readonly<Record<string, unknown>>;
  /** Error used when the handler fails unexpectedly. */
  readonly internalError?: JsErrKind;
}

export interface ApiStats {
  total: number;
  errors: number;
}

export class ApiRouter {
  readonly stats: ApiStats = { total: 0, errors: 0 };
  private readonly routes = new Map<string, ApiRoute>();
  private maxRouteTokens = 1;
  private readonly bus: MessageBus;
  private readonly logger: Logger;
  private sub: BusSubscription | null = null;
  /**
   * Consulted before the local handler (a clustered server's replicated streams): true when it
   * took the request (forwarded it, or knows another server answers it).
   */
  interceptor: ((route: string, req: ApiRequest) => boolean) | null = null;
  /** Told of every answer sent: the stream advisories and the API audit (advisories.ts). */
  advisories: ApiAdvisories | null = null;

  constructor(bus: MessageBus, logger: Logger) {
    this.bus = bus;
    this.logger = logger;
  }

  /** Adds (or replaces) the handler for `route`, e.g. "CONSUMER.CREATE". */
  register(route: string, r: ApiRoute): void {
    this.routes.set(route, r);
    this.maxRouteTokens = Math.max(this.maxRouteTokens, route.split('.').length);
  }

  unregister(route: string): void {
    this.routes.delete(route);
  }

  start(): void {
    if (this.sub !== null) return;
    this.sub = this.bus.subscribe(`${API_PREFIX}.>`, (subject, reply, hdr, data) =>
      this.dispatch(subject, reply, hdr, data),
    );
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
  }

  /** Finds the route for a request subject; exposed for tests. */
  match(subject: string): { route: ApiRoute; name: string; args: string[] } | undefined {
    if (!subject.startsWith(API_PREFIX_DOT)) return undefined;
    const tokens = subject.slice(API_PREFIX_DOT.length).split('.');
    for (let n = Math.min(this.maxRouteTokens, tokens.length); n >= 1; n--) {
      const name = tokens.slice(0, n).join('.');
      const route = this.routes.get(name);
      if (route !== undefined) return { route, name, args: tokens.slice(n) };
    }
    return undefined;
  }

  /** The registered route `name` (e.g. "STREAM.INFO"), for answering outside dispatch. */
  route(name: string): ApiRoute | undefined {
    return this.routes.get(name);
  }

  /** Answers `reply` as `route` would: the body with the route's response type. */
  reply(route: ApiRoute, reply: string, body: object): void {
    const out = { type: responseType(route.kind), ...body };
    this.send(reply, out);
    this.advisories?.answered(route.kind, undefined, out);
  }

  /**
   * A request the server takes on a replicated stream's behalf (its leader's cluster-wide
   * subscription): answered by the local handler, without asking the interceptor again.
   */
  dispatchDirect(subject: string, reply: string, hdr: Buffer | null, data: Buffer): void {
    this.dispatch(subject, reply, hdr, data, false);
  }

  private dispatch(subject: string, reply: string, hdr: Buffer | null, data: Buffer, intercept = true): void {
    if (reply === '') return;
    const found = this.match(subject);
    if (found === undefined) return; // like nats-server: unknown API subjects get no answer
    this.stats.total++;
    const req: ApiRequest = {
      subject,
      args: found.args,
      reply,
      hdr: hdr === null ? null : Uint8Array.prototype.slice.call(hdr),
      data: Uint8Array.prototype.slice.call(data),
      client: this.advisories?.requestClient(),
    };
    const { route } = found;
    if (intercept && this.interceptor !== null && this.interceptor(found.name, req)) return;
    let result: unknown;
    try {
      result = route.handle(req);
    } catch (err) {
      this.fail(route, req, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (body: unknown) => this.respond(route, req, body),
        (err: unknown) => this.fail(route, req, err),
      );
    } else {
      this.respond(route, req, result);
    }
  }

  private respond(route: ApiRoute, req: ApiRequest, body: unknown): void {
    if (body === NO_RESPONSE) return;
    const out = { type: responseType(route.kind), ...(body as object) };
    this.send(req.reply, out);
    this.advisories?.answered(route.kind, req, out);
  }

  private fail(route: ApiRoute, req: ApiRequest, err: unknown): void {
    let error: ApiError;
    if (err instanceof JsApiException) {
      error = err.apiError;
    } else {
      this.logger.error({ subject: req.subject, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'JetStream API handler failed');
      error = jsApiError(route.internalError ?? 'StreamGeneral', { err: err instanceof Error ? err.message : String(err) });
      error.code = 500;
    }
    this.sendError(req.reply, route, error, req);
  }

  /** Answers `reply` with the route's error shape; `req` when this server took the request. */
  sendError(reply: string, route: ApiRoute, error: ApiError, req?: ApiRequest): void {
    this.stats.errors++;
    const out = { type: responseType(route.kind), error, ...(route.errorFields ?? {}) };
    this.send(reply, out);
    this.advisories?.answered(route.kind, req, out);
  }

  private send(reply: string, body: object): void {
    try {
      this.bus.publish(reply, '', null, Buffer.from(JSON.stringify(body), 'utf8'));
    } catch (err) {
      this.logger.error({ reply, err: String(err) }, 'failed to send JetStream API response');
    }
  }
}

// ---- helpers for route handlers -------------------------------------------------------------

/** Parses the request body as a JSON object ({} when empty and allowed), or throws 10025. */
export function requestJson(req: ApiRequest, emptyOk = true): Record<string, unknown> {
  const parsed = parseJsonObject(req.data, emptyOk);
  if (!parsed.ok) throw new JsApiException(jsApiError('InvalidJSON', { err: parsed.err }));
  return parsed.value;
}

/** Throws 10038 unless the body is empty (nats-server isEmptyRequest: blank or `{}`-ish null). */
export function requireEmpty(req: ApiRequest): void {
  if (req.data.length === 0) return;
  const text = Buffer.from(req.data).toString('utf8').trim();
  if (text === '' || text === '{}' || text === 'null') return;
  throw new JsApiException(jsApiError('NotEmptyRequest'));
}

export function apiFail(kind: JsErrKind, params?: Record<string, string | number>): never {
  throw new JsApiException(jsApiError(kind, params));
}
