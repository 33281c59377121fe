// CONNECT's JSON, decoded with nats-server's defaults for absent fields (verbose, pedantic and
// echo default to true; clients that want otherwise say so).

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
  const protocol = o.protocol === undefined ? 0 : o.protocol;
  return {
    ok: true,
    options: {
      verbose: bool(o.verbose, true),
      pedantic: bool(o.pedantic, true),
      echo: bool(o.echo, true),
      headers: bool(o.headers, false),
      noResponders: bool(o.no_responders, false),
      protocol: typeof protocol === 'number' ? protocol : -1,
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
