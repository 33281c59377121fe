// CONNECT's JSON, checked and decoded as nats-server does: every known field must have its JSON
// type (or be null), absent fields take nats-server's defaults (verbose, pedantic and echo
// default to true; clients that want otherwise say so).

export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  headers: boolean;
  noResponders: boolean;
  protocol: number;
  name: string;
  lang: string;
  version: string;
  tlsRequired: boolean;
  user: string;
  pass: string;
  authToken: string;
  nkey: string;
  sig: string;
  jwt: string;
}

export type ConnectParseResult = { ok: true; options: ConnectOptions } | { ok: false; reason: string };

/**
 * The JSON type of every CONNECT field nats-server decodes (its ClientOpts). nats-server
 * unmarshals CONNECT into a typed struct, so a field of another type fails the whole CONNECT and
 * the connection is closed ("json: cannot unmarshal string into Go struct field
 * ClientOpts.verbose of type bool"); `null` leaves the default, unknown fields are ignored.
 */
const FIELD_TYPES: Readonly<Record<string, 'boolean' | 'string' | 'integer' | 'object'>> = {
  echo: 'boolean',
  verbose: 'boolean',
  pedantic: 'boolean',
  tls_required: 'boolean',
  nkey: 'string',
  jwt: 'string',
  sig: 'string',
  auth_token: 'string',
  user: 'string',
  pass: 'string',
  name: 'string',
  lang: 'string',
  version: 'string',
  protocol: 'integer',
  account: 'string',
  new_account: 'boolean',
  headers: 'boolean',
  no_responders: 'boolean',
  import: 'object',
  export: 'object',
  remote_account: 'string',
  proxy_sig: 'string',
};

/** Go's int is 64 bits: a larger number does not fit (nats-server rejects it too). */
const MAX_GO_INT = 2 ** 63;

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

/** Why the field's value does not fit its type, or undefined when it does. */
function wrongType(field: string, v: unknown): string | undefined {
  if (!Object.hasOwn(FIELD_TYPES, field) || v === null) return undefined;
  const expected = FIELD_TYPES[field];
  const got = jsonType(v);
  if (expected === 'integer') {
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < MAX_GO_INT) return undefined;
    return `CONNECT field "${field}" must be an integer, got ${got === 'number' ? String(v) : `a JSON ${got}`}`;
  }
  if (got === expected) return undefined;
  return `CONNECT field "${field}" must be a JSON ${expected}, got a JSON ${got}`;
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}
function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function parseConnectJson(json: string): ConnectParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'CONNECT is not valid JSON' };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, reason: 'CONNECT is not a JSON object' };
  }
  const o = raw as Record<string, unknown>;
  for (const field of Object.keys(o)) {
    const reason = wrongType(field, o[field]);
    if (reason !== undefined) return { ok: false, reason };
  }
  // Checked above: an integer, or absent/null (the default, 0).
  const protocol = typeof o.protocol === 'number' ? o.protocol : 0;
  return {
    ok: true,
    options: {
      verbose: bool(o.verbose, true),
      pedantic: bool(o.pedantic, true),
      echo: bool(o.echo, true),
      headers: bool(o.headers, false),
      noResponders: bool(o.no_responders, false),
      protocol,
      name: str(o.name),
      lang: str(o.lang),
      version: str(o.version),
      tlsRequired: bool(o.tls_required, false),
      user: str(o.user),
      pass: str(o.pass),
      authToken: str(o.auth_token),
      nkey: str(o.nkey),
      sig: str(o.sig),
      jwt: str(o.jwt),
    },
  };
}
