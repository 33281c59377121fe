// Message bodies in and out: the nats CLI's body templates ({{Count}}, {{TimeStamp}}, ...),
// -H k:v headers, and printing a received message the way `nats sub` does:
//   [#1] Received on "orders.new" with reply "_INBOX.x"
//   Trace-Id: 42
//
//   {"id":1}
//
// --raw prints the body alone on one line.

import { headers as newHeaders, type MsgHeaders } from '../client/index.ts';
import type { Output } from './format.ts';
import { CliError } from './io.ts';
import { headerFlags } from './values.ts';

export interface TemplateValues {
  /** 1 for the first message. */
  count: number;
  nowMs: number;
  /** A unique id (the {{ID}} function). */
  id: () => string;
  /** The request body, for `reply` bodies ({{Request}}). */
  request?: string;
}

const KITCHEN = (d: Date): string => {
  const h = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
  return `${h}:${String(d.getMinutes()).padStart(2, '0')}${d.getHours() < 12 ? 'AM' : 'PM'}`;
};

function rfc3339Local(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const pad = (n: number): string => String(Math.floor(Math.abs(n))).padStart(2, '0');
  const local = new Date(d.getTime() + off * 60_000).toISOString().slice(0, 19);
  return off === 0 ? `${local}Z` : `${local}${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

/** True when `text` holds a {{...}} template. */
export function hasTemplate(text: string): boolean {
  return /\{\{.*?\}\}/.test(text);
}

/**
 * Expands `{{Count}}` (also `{{ .Count }}`, `{{Cnt}}`), `{{TimeStamp}}` (RFC 3339), `{{Unix}}`,
 * `{{UnixNano}}`, `{{Time}}` (3:04PM), `{{ID}}` and `{{Request}}`. An unknown name is an error.
 */
export function expandTemplate(text: string, v: TemplateValues): string {
  return text.replace(/\{\{\s*\.?([A-Za-z]+)\s*\}\}/g, (_, name: string) => {
    const d = new Date(v.nowMs);
    switch (name) {
      case 'Count':
      case 'Cnt':
        return String(v.count);
      case 'TimeStamp':
        return rfc3339Local(d);
      case 'Unix':
        return String(Math.floor(v.nowMs / 1000));
      case 'UnixNano':
        return `${v.nowMs}000000`;
      case 'Time':
        return KITCHEN(d);
      case 'ID':
        return v.id();
      case 'Request':
        if (v.request !== undefined) return v.request;
        break;
    }
    throw new CliError(`unknown template function {{${name}}} in the body (known: Count, Cnt, TimeStamp, Unix, UnixNano, Time, ID${v.request !== undefined ? ', Request' : ''})`);
  });
}

/** -H k:v flags as a header set; undefined when none. */
export function headersFrom(values: readonly string[] | undefined): MsgHeaders | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const h = newHeaders();
  for (const [k, v] of headerFlags(values)) {
    try {
      h.append(k, v);
    } catch {
      throw new CliError(`invalid value for --header: expected K:V with a header name, got "${k}:${v}"`);
    }
  }
  return h;
}

export interface PrintOptions {
  raw?: boolean;
  /** Print headers (also with --raw). */
  headers?: boolean;
  headersOnly?: boolean;
}

const decoder = new TextDecoder();

export interface PrintableMsg {
  subject: string;
  reply?: string;
  data: Uint8Array;
  headers?: MsgHeaders | undefined;
}

function headerLines(h: MsgHeaders | undefined): string[] {
  if (h === undefined) return [];
  const lines: string[] = [];
  if (h.code !== 0) lines.push(`Nats-Status: ${h.code}${h.description !== '' ? ` ${h.description}` : ''}`);
  for (const k of h.keys()) for (const v of h.getAll(k)) lines.push(`${k}: ${v}`);
  return lines;
}

/** One received message, `nats sub` style; `title` replaces the "[#n] Received on" line (null: none). */
export function printMsg(out: Output, n: number, m: PrintableMsg, o: PrintOptions, title?: string | null): void {
  const body = decoder.decode(m.data);
  if (o.raw === true) {
    if (o.headers === true) for (const l of headerLines(m.headers)) out.line(l);
    if (o.headersOnly !== true) out.line(body);
    return;
  }
  const reply = m.reply !== undefined && m.reply !== '' ? ` with reply "${m.reply}"` : '';
  if (title !== null) out.line(title ?? `[#${n}] Received on "${m.subject}"${reply}`);
  const hl = headerLines(m.headers);
  for (const l of hl) out.line(l);
  if (hl.length > 0) out.line();
  if (o.headersOnly !== true) {
    out.line(body);
    out.line();
  }
}
