// JetStream time and duration text, exactly as nats-server (Go) writes and reads it:
// - times: RFC 3339 in UTC with up to nine fraction digits, trailing zeros trimmed (Go's
//   time.RFC3339Nano), and "0001-01-01T00:00:00Z" for the zero time;
// - durations: Go's time.ParseDuration syntax ("1h30m", "1.5s", "250ms") for the places where a
//   header or flag carries one.
// Timestamps are epoch nanoseconds as bigint (see StoreTypes.TimeNs).

export const ZERO_TIME = '0001-01-01T00:00:00Z';

const NS_PER_MS = 1_000_000n;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Formats epoch nanoseconds like Go's time.Time.UTC().Format(time.RFC3339Nano); 0n is the zero time. */
export function formatTimeNs(epochNs: bigint): string {
  if (epochNs === 0n) return ZERO_TIME;
  let ms = epochNs / NS_PER_MS;
  let subMsNs = epochNs % NS_PER_MS;
  if (subMsNs < 0n) {
    // Before 1970: keep the fraction positive, as Go does.
    subMsNs += NS_PER_MS;
    ms -= 1n;
  }
  const d = new Date(Number(ms));
  const year = d.getUTCFullYear();
  const base =
    `${year < 0 ? '-' + pad(-year, 4) : pad(year, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const fracNs = d.getUTCMilliseconds() * 1_000_000 + Number(subMsNs);
  if (fracNs === 0) return base + 'Z';
  let frac = pad(fracNs, 9);
  let end = frac.length;
  while (end > 0 && frac.charCodeAt(end - 1) === 0x30) end--;
  frac = frac.slice(0, end);
  return `${base}.${frac}Z`;
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 time (any offset, up to nanosecond precision) into epoch nanoseconds.
 * The zero time parses to 0n. Returns undefined for anything that is not RFC 3339.
 */
export function parseTimeNs(text: string): bigint | undefined {
  if (text === ZERO_TIME) return 0n;
  const m = RFC3339_RE.exec(text);
  if (m === null) return undefined;
  const [, y, mo, da, h, mi, s, frac, , sign, oh, om] = m;
  const month = Number(mo);
  const day = Number(da);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  if (Number.isNaN(ms)) return undefined;
  let ns = BigInt(ms) * NS_PER_MS;
  if (frac !== undefined) ns += BigInt(frac.padEnd(9, '0'));
  if (sign !== undefined) {
    const offsetNs = BigInt(Number(oh) * 3600 + Number(om) * 60) * 1_000_000_000n;
    ns += sign === '+' ? -offsetNs : offsetNs;
  }
  return ns;
}

const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/**
 * Go's time.ParseDuration: a sequence of decimal numbers with units (ns, us, ms, s, m, h), an
 * optional sign, "0" alone allowed. Returns nanoseconds, or undefined when the text is invalid.
 */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

/** Formats nanoseconds like Go's time.Duration.String() ("2m0s", "1.5s", "250ms"). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let v = Math.abs(ns);
  let out: string;
  if (v < 1e3) out = `${v}ns`;
  else if (v < 1e6) out = `${trimFloat(v / 1e3)}µs`;
  else if (v < 1e9) out = `${trimFloat(v / 1e6)}ms`;
  else {
    const h = Math.floor(v / 3600e9);
    v -= h * 3600e9;
    const m = Math.floor(v / 60e9);
    v -= m * 60e9;
    const sec = `${trimFloat(v / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? '-' + out : out;
}

function trimFloat(x: number): string {
  // Up to 9 decimals, no trailing zeros (Go prints the exact decimal of the remainder).
  return Number(x.toFixed(9)).toString();
}
