// A system-account monitoring request's body, as nats-server reads it (events.go's *EventOptions):
// JSON with the endpoint's options under their Go JSON names ({"subscriptions": true, "acc": "A"})
// plus the filter that says which servers answer (server_name, cluster, host, tags, domain). The
// options become the HTTP query the endpoint's builder already reads, so a $SYS request and the
// monitoring port answer from the same code.

/** The monitoring endpoints reachable as $SYS.REQ.SERVER.{PING,<id>}.<NAME>, by name. */
export const SERVER_REQUEST_PATHS = {
  VARZ: '/varz',
  CONNZ: '/connz',
  SUBSZ: '/subsz',
  ROUTEZ: '/routez',
  LEAFZ: '/leafz',
  ACCOUNTZ: '/accountz',
  JSZ: '/jsz',
  HEALTHZ: '/healthz',
} as const;

export type ServerRequestName = keyof typeof SERVER_REQUEST_PATHS | 'STATSZ';

/** nats-server's EventFilterOptions: a server that does not match does not answer at all. */
export interface EventFilter {
  readonly serverName: string;
  readonly cluster: string;
  readonly host: string;
  readonly tags: readonly string[];
  readonly domain: string;
}

/** What a server answering a filtered request is compared with. */
export interface FilteredServer {
  readonly name: string;
  readonly host: string;
  readonly cluster: string;
  readonly domain: string;
  readonly tags: readonly string[];
}

/** nats-server's filterRequest: names, hosts and clusters by substring, every tag, the domain exactly. */
export function serverMatches(f: EventFilter, s: FilteredServer): boolean {
  if (f.serverName !== '' && !s.name.includes(f.serverName)) return false;
  if (f.host !== '' && !s.host.includes(f.host)) return false;
  if (f.cluster !== '' && !s.cluster.includes(f.cluster)) return false;
  if (f.tags.some((t) => !s.tags.includes(t))) return false;
  if (f.domain !== '' && s.domain !== f.domain) return false;
  return true;
}

type FieldType = 'bool' | 'int' | 'string' | 'strings';
/** A JSON option and the query parameter it becomes (a function for the few that are not 1:1). */
type Field = readonly [json: string, type: FieldType, query: string | ((v: never, q: URLSearchParams) => void)];

/** nats-server's ConnState: 0 open, 1 closed, 2 all. */
const CONN_STATES = ['open', 'closed', 'all'];

const FILTER_FIELDS: readonly Field[] = [
  ['server_name', 'string', ''],
  ['cluster', 'string', ''],
  ['host', 'string', ''],
  ['tags', 'strings', ''],
  ['domain', 'string', ''],
];

/** Each request's options (Go JSON names) and the query parameters of its endpoint. */
const OPTIONS: Record<string, readonly Field[]> = {
  VARZ: [],
  STATSZ: [],
  INFO: [],
  CONNZ: [
    ['sort', 'string', 'sort'],
    ['auth', 'bool', 'auth'],
    ['subscriptions', 'bool', 'subs'],
    ['subscriptions_detail', 'bool', (v: boolean, q) => v && q.set('subs', 'detail')],
    ['offset', 'int', 'offset'],
    ['limit', 'int', 'limit'],
    ['cid', 'int', 'cid'],
    ['mqtt_client', 'string', ''],
    ['state', 'int', (v: number, q) => q.set('state', CONN_STATES[v] ?? String(v))],
    ['user', 'string', 'user'],
    ['acc', 'string', 'acc'],
    ['filter_subject', 'string', ''],
  ],
  SUBSZ: [
    ['offset', 'int', 'offset'],
    ['limit', 'int', 'limit'],
    ['subscriptions', 'bool', 'subs'],
    ['account', 'string', 'acc'],
    ['test', 'string', 'test'],
  ],
  ROUTEZ: [
    ['subscriptions', 'bool', 'subs'],
    ['subscriptions_detail', 'bool', (v: boolean, q) => v && q.set('subs', 'detail')],
  ],
  LEAFZ: [
    ['subscriptions', 'bool', 'subs'],
    ['account', 'string', 'acc'],
  ],
  ACCOUNTZ: [['account', 'string', 'acc']],
  JSZ: [
    ['account', 'string', 'acc'],
    ['accounts', 'bool', 'accounts'],
    ['streams', 'bool', 'streams'],
    ['consumer', 'bool', 'consumers'],
    ['config', 'bool', 'config'],
    ['leader_only', 'bool', 'leader-only'],
    ['offset', 'int', 'offset'],
    ['limit', 'int', 'limit'],
  ],
  HEALTHZ: [
    ['js-enabled-only', 'bool', 'js-enabled-only'],
    ['js-server-only', 'bool', 'js-server-only'],
  ],
  // The account statistics request ($SYS.REQ.ACCOUNT.<acc>.STATZ and .PING.STATZ): read by the
  // requests layer itself, not passed to /accstatz as a query.
  STATZ: [
    ['accounts', 'strings', ''],
    ['include_unused', 'bool', ''],
  ],
};

/** The Go type each request's options decode into, named in decoding errors as nats-server's are. */
const GO_STRUCTS: Record<string, string> = {
  VARZ: 'VarzEventOptions',
  STATSZ: 'StatszEventOptions',
  INFO: 'AccInfoEventOptions',
  CONNZ: 'ConnzEventOptions',
  SUBSZ: 'SubszEventOptions',
  ROUTEZ: 'RoutezEventOptions',
  LEAFZ: 'LeafzEventOptions',
  ACCOUNTZ: 'AccountzEventOptions',
  JSZ: 'JszEventOptions',
  HEALTHZ: 'HealthzEventOptions',
  STATZ: 'AccountStatzEventOptions',
};

export interface ParsedRequest {
  readonly filter: EventFilter;
  /** The endpoint's query built from the options. */
  readonly query: URLSearchParams;
  /** The options as sent (after type checks), for the few read directly. */
  readonly options: Readonly<Record<string, unknown>>;
}

const NO_FILTER: EventFilter = { serverName: '', cluster: '', host: '', tags: [], domain: '' };

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

const GO_TYPES: Record<FieldType, string> = { bool: 'bool', int: 'int', string: 'string', strings: '[]string' };

function typeOk(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
    case 'strings':
      return Array.isArray(v) && v.every((s) => typeof s === 'string');
  }
}

/**
 * Reads a request body for `name` (an empty body: no options, no filter). Throws an Error with a
 * message like Go's encoding/json for a body that is not JSON or has an option of the wrong type
 * (nats-server answers those with a 400); unknown keys are ignored, as Go ignores them.
 */
export function parseRequestOptions(name: string, body: Uint8Array): ParsedRequest {
  const fields = OPTIONS[name] ?? [];
  const query = new URLSearchParams();
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (text.trim() === '') return { filter: NO_FILTER, query, options: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error((err as Error).message);
  }
  // Go decodes `null` into a struct as nothing at all.
  if (parsed === null) return { filter: NO_FILTER, query, options: {} };
  const goStruct = GO_STRUCTS[name] ?? 'EventFilterOptions';
  if (jsonType(parsed) !== 'object') throw new Error(`json: cannot unmarshal ${jsonType(parsed)} into Go value of type server.${goStruct}`);
  const obj = parsed as Record<string, unknown>;
  const options: Record<string, unknown> = {};
  for (const [json, type, param] of [...fields, ...FILTER_FIELDS]) {
    const v = obj[json];
    if (v === undefined || v === null) continue;
    if (!typeOk(v, type)) throw new Error(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${goStruct}.${json} of type ${GO_TYPES[type]}`);
    options[json] = v;
    // Go's zero values mean "not given".
    if (v === false || v === 0 || v === '') continue;
    if (typeof param === 'function') (param as (v: unknown, q: URLSearchParams) => void)(v, query);
    else if (param !== '') query.set(param, type === 'bool' ? '1' : String(v));
  }
  const str = (k: string): string => (options[k] as string | undefined) ?? '';
  const filter: EventFilter = {
    serverName: str('server_name'),
    cluster: str('cluster'),
    host: str('host'),
    tags: (options.tags as string[] | undefined) ?? [],
    domain: str('domain'),
  };
  return { filter, query, options };
}
