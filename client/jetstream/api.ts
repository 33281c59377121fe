// The JetStream control plane: JSON requests to `$JS.API.*` (or a domain's / custom prefix) over
// the connection's request mux, with typed errors (JetStreamApiError carries err_code; no
// responders means JetStream is not enabled), and the stream/consumer management calls (`jsm`).

import type {
  ApiError,
  ConsumerConfig,
  ConsumerInfo,
  MsgGetRequest,
  StoredMsgJson,
  StreamConfig,
  StreamConfigRequest,
  StreamInfo,
} from '../../protocol/jetstream-api.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { NatsConnection } from '../connection.ts';
import { ErrorCode, JetStreamApiError, NatsError, NoRespondersError } from '../errors.ts';
import type { Msg } from '../msg.ts';

export interface JetStreamOptions {
  /** API prefix (default `$JS.API`); `domain` sets `$JS.<domain>.API`. */
  apiPrefix?: string;
  domain?: string;
  /** Timeout of each API request and publish acknowledgement. */
  timeoutMs?: number;
}

export const DEFAULT_JS_TIMEOUT_MS = 5000;

export function apiPrefixOf(opts: JetStreamOptions): string {
  if (opts.domain !== undefined && opts.domain !== '') return `$JS.${opts.domain}.API`;
  return opts.apiPrefix ?? '$JS.API';
}

const encoder = new TextEncoder();

/** Throws JetStreamApiError when a decoded response carries an error object. */
export function checkApiResponse<T extends { error?: ApiError }>(r: T): T {
  if (r.error !== undefined) throw new JetStreamApiError(r.error);
  return r;
}

export function notEnabled(e: unknown): unknown {
  if (e instanceof NoRespondersError) return new NatsError(ErrorCode.JetStreamNotEnabled, 'JetStream not enabled (no responders)');
  return e;
}

export class JsApi {
  readonly nc: NatsConnection;
  readonly clock: Clock;
  readonly prefix: string;
  readonly timeoutMs: number;

  constructor(nc: NatsConnection, opts: JetStreamOptions = {}) {
    this.nc = nc;
    this.clock = nc.clock;
    this.prefix = apiPrefixOf(opts);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_JS_TIMEOUT_MS;
  }

  /** A raw API request (body JSON-encoded unless undefined). */
  async requestMsg(subject: string, body?: unknown): Promise<Msg> {
    const data = body === undefined ? undefined : encoder.encode(JSON.stringify(body));
    try {
      return await this.nc.request(`${this.prefix}.${subject}`, data, { timeoutMs: this.timeoutMs });
    } catch (e) {
      throw notEnabled(e);
    }
  }

  async request<T extends object>(subject: string, body?: unknown): Promise<T> {
    const m = await this.requestMsg(subject, body);
    return checkApiResponse(m.json<T & { error?: ApiError }>());
  }
}

export interface StreamListing {
  total: number;
  offset: number;
  limit: number;
}

/** Stream and consumer management (`jsm`). */
export class JetStreamManager {
  readonly api: JsApi;

  constructor(nc: NatsConnection, opts: JetStreamOptions = {}) {
    this.api = new JsApi(nc, opts);
  }

  accountInfo(): Promise<Record<string, unknown>> {
    return this.api.request('INFO');
  }

  readonly streams = {
    add: (cfg: StreamConfigRequest & { name: string }): Promise<StreamInfo> => this.api.request(`STREAM.CREATE.${cfg.name}`, cfg),
    update: (name: string, cfg: Partial<StreamConfig>): Promise<StreamInfo> =>
      this.api.request(`STREAM.UPDATE.${name}`, { ...cfg, name }),
    info: (name: string, opts?: { subjects_filter?: string; deleted_details?: boolean }): Promise<StreamInfo> =>
      this.api.request(`STREAM.INFO.${name}`, opts),
    delete: async (name: string): Promise<boolean> =>
      (await this.api.request<{ success?: boolean }>(`STREAM.DELETE.${name}`)).success === true,
    purge: async (name: string, opts?: { filter?: string; seq?: number; keep?: number }): Promise<number> =>
      (await this.api.request<{ purged: number }>(`STREAM.PURGE.${name}`, opts)).purged,
    names: async (subject?: string): Promise<string[]> => {
      const out: string[] = [];
      for (let offset = 0; ; ) {
        const r = await this.api.request<StreamListing & { streams: string[] | null }>('STREAM.NAMES', subject ? { offset, subject } : { offset });
        const page = r.streams ?? [];
        out.push(...page);
        offset += page.length;
        if (page.length === 0 || offset >= r.total) return out;
      }
    },
    list: async (subject?: string): Promise<StreamInfo[]> => {
      const out: StreamInfo[] = [];
      for (let offset = 0; ; ) {
        const r = await this.api.request<StreamListing & { streams: StreamInfo[] | null }>('STREAM.LIST', subject ? { offset, subject } : { offset });
        const page = r.streams ?? [];
        out.push(...page);
        offset += page.length;
        if (page.length === 0 || offset >= r.total) return out;
      }
    },
    getMessage: async (name: string, query: MsgGetRequest): Promise<StoredMsgJson> =>
      (await this.api.request<{ message: StoredMsgJson }>(`STREAM.MSG.GET.${name}`, query)).message,
    deleteMessage: async (name: string, seq: number, erase = true): Promise<boolean> =>
      (await this.api.request<{ success?: boolean }>(`STREAM.MSG.DELETE.${name}`, { seq, no_erase: !erase })).success === true,
  };

  readonly consumers = {
    /** Create (or update, when it exists with a compatible config) a consumer. */
    add: (stream: string, cfg: Partial<ConsumerConfig>): Promise<ConsumerInfo> => {
      const name = cfg.name ?? cfg.durable_name;
      const config = { deliver_policy: 'all', ack_policy: 'explicit', replay_policy: 'instant', ...cfg };
      const filter = cfg.filter_subject;
      const subject =
        name === undefined
          ? `CONSUMER.CREATE.${stream}`
          : filter !== undefined && !/[*>]/.test(filter)
            ? `CONSUMER.CREATE.${stream}.${name}.${filter}`
            : `CONSUMER.CREATE.${stream}.${name}`;
      return this.api.request(subject, { stream_name: stream, config });
    },
    update: (stream: string, name: string, cfg: Partial<ConsumerConfig>): Promise<ConsumerInfo> =>
      this.api.request(`CONSUMER.CREATE.${stream}.${name}`, { stream_name: stream, config: { ...cfg, name }, action: 'update' }),
    info: (stream: string, name: string): Promise<ConsumerInfo> => this.api.request(`CONSUMER.INFO.${stream}.${name}`),
    delete: async (stream: string, name: string): Promise<boolean> =>
      (await this.api.request<{ success?: boolean }>(`CONSUMER.DELETE.${stream}.${name}`)).success === true,
    list: async (stream: string): Promise<ConsumerInfo[]> => {
      const out: ConsumerInfo[] = [];
      for (let offset = 0; ; ) {
        const r = await this.api.request<StreamListing & { consumers: ConsumerInfo[] | null }>(`CONSUMER.LIST.${stream}`, { offset });
        const page = r.consumers ?? [];
        out.push(...page);
        offset += page.length;
        if (page.length === 0 || offset >= r.total) return out;
      }
    },
  };
}
