// A parser for nats-server's configuration syntax, so a nats-server config file can be handed to
// sluice unchanged. The grammar follows nats-server's conf/lex.go and conf/parse.go (read, not
// copied); where they are lenient we are too, and a few spots that nats-server rejects with a
// confusing message we accept (noted inline). The result is a plain JS object plus a side table
// of where each key was defined, so the option mapping can point at file:line:col.
//
//   document   := ['{'] entries ['}']              (a top-level brace pair is optional)
//   entries    := { entry terminator }            terminator: newline | ',' | ';' | '}' | EOF
//   entry      := key [sep] value | 'include' path
//   key        := bare | "quoted" | 'quoted'       sep: ':' | '=' | whitespace
//   value      := map | array | "string" | 'raw' | (block) | number | bool | $variable | bare
//   map        := '{' entries '}'                 (`key { ... }` needs no separator)
//   array      := '[' { value (',' | newline) } ']'
//   number     := digits [size suffix]            1k=1000, 1kb=1KiB=1024, m/mb, g/gb, t/tb, ...
//   comment    := '#' ... | '//' ...              to the end of the line, wherever a terminator may go
//
// A token that starts with a digit but is not a number ("10s", "1.5h", "127.0.0.1:4222") is an
// unquoted string: durations and addresses need no quotes.

import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { sizeSuffixMultiplier } from '../options.ts';

export type ConfScalar = string | number | boolean;
export type ConfValue = ConfScalar | ConfValue[] | ConfMap;
export interface ConfMap {
  [key: string]: ConfValue;
}

export interface ConfLocation {
  readonly file: string;
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly col: number;
}

export interface KeyInfo {
  /** Where the key was written. */
  readonly loc: ConfLocation;
  /** Source text of the value when it was an unquoted scalar (e.g. "2m" before it became 2000000). */
  readonly raw: string | undefined;
  /** Set when the key was referenced as `$key`: it defines a variable, it is not a setting. */
  usedAsVariable: boolean;
}

export class NatsConfError extends Error {
  override name = 'NatsConfError';
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly reason: string;
  constructor(loc: ConfLocation, reason: string) {
    super(`${loc.file}:${loc.line}:${loc.col}: ${reason}`);
    this.file = loc.file;
    this.line = loc.line;
    this.col = loc.col;
    this.reason = reason;
  }
}

export interface ParsedConf {
  readonly root: ConfMap;
  /** Definition site and flags of `key` in `map` (any map reachable from root). */
  keyInfo(map: ConfMap, key: string): KeyInfo | undefined;
}

export interface NatsConfParseOptions {
  /** Name used in error messages; also the base for relative `include` paths. Default '<config>'. */
  file?: string;
  /** Where `$VAR` falls back to when no enclosing map defines VAR. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Reads included files. Default fs.readFileSync(path, 'utf8'). */
  readFile?: (path: string) => string;
}

export function parseNatsConf(text: string, options: NatsConfParseOptions = {}): ParsedConf {
  const shared: Shared = {
    info: new WeakMap(),
    env: options.env ?? process.env,
    readFile: options.readFile ?? ((p) => readFileSync(p, 'utf8')),
  };
  const file = options.file ?? '<config>';
  const stack = file.startsWith('<') ? [] : [resolvePath(file)];
  const root = new Parser(text, file, shared, stack, 0).parseDocument();
  return { root, keyInfo: (map, key) => shared.info.get(map)?.get(key) };
}

export function parseNatsConfFile(path: string, options: Omit<NatsConfParseOptions, 'file'> = {}): ParsedConf {
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));
  return parseNatsConf(readFile(path), { ...options, file: path, readFile });
}

// ---------------------------------------------------------------------------------------------

interface Shared {
  readonly info: WeakMap<ConfMap, Map<string, KeyInfo>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
}

/** Deep enough for any real layout; stops include cycles and self-referencing env variables. */
const MAX_NESTING = 32;

const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  on: true,
  false: false,
  no: false,
  off: false,
};

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isNewline = (c: string | undefined): boolean => c === '\n' || c === '\r';
const isSpace = (c: string | undefined): boolean =>
  c !== undefined && (isBlank(c) || isNewline(c) || c === '\f' || c === '\v' || c === '\u00a0' || c === '\ufeff');
/** Characters that end an unquoted value (nats-server's lexString). */
const endsBareValue = (c: string | undefined): boolean =>
  c === undefined || isNewline(c) || isBlank(c) || c === ';' || c === ',' || c === ']' || c === '}';
const isSizeSuffixStart = (c: string | undefined): boolean => c !== undefined && 'kKmMgGtTpPeE'.includes(c);

class Parser {
  private pos = 0;
  /** Offsets where each line starts, for turning an offset into line:col. */
  private readonly lineStarts: number[];
  /** Maps currently open, outermost first: where `$name` is looked up (block scoping). */
  private readonly scopes: ConfMap[] = [];

  constructor(
    private readonly src: string,
    private readonly file: string,
    private readonly shared: Shared,
    /** Files being parsed, outermost first, to refuse include cycles. */
    private readonly includeStack: readonly string[],
    /** Nesting of env-variable expansion, to refuse `A=$A`. */
    private readonly envDepth: number,
  ) {
    this.lineStarts = [0];
    for (let i = 0; i < src.length; i++) {
      if (src[i] === '\n') this.lineStarts.push(i + 1);
    }
    if (src.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  // --- positions and errors ------------------------------------------------------------------

  private locAt(offset: number): ConfLocation {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - this.lineStarts[lo]! + 1 };
  }

  private fail(reason: string, offset = this.pos): never {
    throw new NatsConfError(this.locAt(offset), reason);
  }

  private describeChar(offset = this.pos): string {
    const c = this.src[offset];
    if (c === undefined) return 'end of file';
    if (c === '\n' || c === '\r') return 'end of line';
    return `'${c}'`;
  }

  private peek(ahead = 0): string | undefined {
    return this.src[this.pos + ahead];
  }

  private atComment(): boolean {
    const c = this.peek();
    return c === '#' || (c === '/' && this.peek(1) === '/');
  }

  private skipComment(): void {
    while (this.pos < this.src.length && !isNewline(this.src[this.pos])) this.pos++;
  }

  private skipBlanks(): void {
    while (isBlank(this.peek())) this.pos++;
  }

  /** Whitespace, newlines and comments: what may separate entries and array elements. */
  private skipLayout(): void {
    for (;;) {
      if (isSpace(this.peek())) this.pos++;
      else if (this.atComment()) this.skipComment();
      else return;
    }
  }

  // --- document, maps, entries ---------------------------------------------------------------

  parseDocument(): ConfMap {
    const root: ConfMap = {};
    this.skipLayout();
    // nats-server allows the whole file to be wrapped in one pair of braces (JSON-looking files).
    const wrapped = this.peek() === '{';
    if (wrapped) this.pos++;
    this.scopes.push(root);
    this.parseEntries(root, wrapped ? '}' : undefined);
    this.scopes.pop();
    if (wrapped) {
      this.skipLayout();
      if (this.pos < this.src.length) this.fail(`unexpected ${this.describeChar()} after the closing '}'`);
    }
    return root;
  }

  /** Entries up to `closer` ('}' consumed) or, at top level, to the end of the input. */
  private parseEntries(map: ConfMap, closer: '}' | undefined): void {
    for (;;) {
      this.skipLayout();
      const c = this.peek();
      if (c === undefined) {
        if (closer !== undefined) this.fail(`unexpected end of file: missing '${closer}'`);
        return;
      }
      if (c === closer) {
        this.pos++;
        return;
      }
      if (c === ',' || c === ';' || c === ':' || c === '=' || c === '}' || c === ']') {
        this.fail(`unexpected '${c}', expected a key`);
      }
      this.parseEntry(map);
      this.endOfEntry(closer);
    }
  }

  /** After a value: blanks, an optional comment, then a terminator. '}' is left for the caller. */
  private endOfEntry(closer: '}' | undefined): void {
    this.skipBlanks();
    if (this.atComment()) this.skipComment();
    const c = this.peek();
    if (c === undefined || isNewline(c) || c === ',' || c === ';') {
      if (c !== undefined) this.pos++;
      return;
    }
    if (c === closer) return;
    this.fail(`expected a new line, ',' or ';' after the value, got ${this.describeChar()}`);
  }

  private parseEntry(map: ConfMap): void {
    const keyStart = this.pos;
    const { key, quoted } = this.parseKey();
    if (!quoted && key.toLowerCase() === 'include' && isBlank(this.peek())) {
      this.parseInclude(map, keyStart);
      return;
    }
    // nats-server lets any whitespace, newlines included, sit between a key and its value when
    // there is no separator (so `key\n{ ... }` works); after ':' or '=' only blanks may.
    this.skipSpaceOnly();
    if (this.peek() === ':' || this.peek() === '=') {
      this.pos++;
      this.skipBlanks();
    }
    const c = this.peek();
    if (c === undefined || isNewline(c) || this.atComment()) this.fail(`missing value for key "${key}"`);
    const valueStart = this.pos;
    const value = this.parseValue();
    const bare = this.isBareScalarAt(valueStart);
    this.set(map, key, value, {
      loc: this.locAt(keyStart),
      raw: bare ? this.src.slice(valueStart, this.pos) : undefined,
      usedAsVariable: false,
    });
  }

  private skipSpaceOnly(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  private isBareScalarAt(offset: number): boolean {
    const c = this.src[offset];
    return c !== '"' && c !== "'" && c !== '[' && c !== '{' && c !== '(' && c !== '$';
  }

  private set(map: ConfMap, key: string, value: ConfValue, info: KeyInfo): void {
    // Later definitions win, as in nats-server.
    map[key] = value;
    let infos = this.shared.info.get(map);
    if (!infos) {
      infos = new Map();
      this.shared.info.set(map, infos);
    }
    infos.set(key, info);
  }

  private parseKey(): { key: string; quoted: boolean } {
    const q = this.peek();
    if (q === '"' || q === "'") {
      const start = ++this.pos;
      while (this.pos < this.src.length && this.src[this.pos] !== q) {
        if (isNewline(this.src[this.pos])) this.fail('unterminated quoted key');
        this.pos++;
      }
      if (this.pos >= this.src.length) this.fail('unterminated quoted key', start - 1);
      const key = this.src.slice(start, this.pos);
      this.pos++;
      return { key, quoted: true };
    }
    const start = this.pos;
    // Stopping at '{' and '[' too is a leniency: nats-server would fold them into the key name.
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (isSpace(c) || c === ':' || c === '=' || c === '{' || c === '[') break;
      this.pos++;
    }
    if (this.pos === start) this.fail(`expected a key, got ${this.describeChar()}`);
    return { key: this.src.slice(start, this.pos), quoted: false };
  }

  // --- include -------------------------------------------------------------------------------

  private parseInclude(map: ConfMap, keyStart: number): void {
    this.skipBlanks();
    const pathStart = this.pos;
    const c = this.peek();
    let path: string;
    if (c === '"' || c === "'") {
      this.pos++;
      const start = this.pos;
      while (this.pos < this.src.length && this.src[this.pos] !== c && !isNewline(this.src[this.pos])) this.pos++;
      if (this.peek() !== c) this.fail('unterminated include path', pathStart);
      path = this.src.slice(start, this.pos);
      this.pos++;
    } else {
      if (c === undefined || isNewline(c) || c === '[' || c === '{' || c === '(') {
        this.fail(`expected a file name after include, got ${this.describeChar()}`);
      }
      while (!endsBareValue(this.peek())) this.pos++;
      path = this.src.slice(pathStart, this.pos);
    }
    if (path === '') this.fail('empty include path', pathStart);

    // Relative to the including file, as nats-server does; a config given as a string resolves
    // against the working directory.
    const base = this.file.startsWith('<') ? process.cwd() : dirname(this.file);
    const target = resolvePath(base, path);
    if (this.includeStack.includes(target)) this.fail(`include cycle: "${path}" is already being parsed`, keyStart);
    if (this.includeStack.length > MAX_NESTING) this.fail('includes nested too deeply', keyStart);
    let text: string;
    try {
      text = this.shared.readFile(target);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      this.fail(`cannot read included file "${path}" (${target}): ${why}`, pathStart);
    }
    // An included file is parsed on its own (its variables are its own), then its keys are
    // merged into the map the include appears in: nats-server semantics.
    const included = new Parser(text, target, this.shared, [...this.includeStack, target], this.envDepth);
    const sub = included.parseDocument();
    const subInfos = this.shared.info.get(sub);
    for (const k of Object.keys(sub)) {
      const info = subInfos?.get(k) ?? { loc: this.locAt(keyStart), raw: undefined, usedAsVariable: false };
      this.set(map, k, sub[k]!, info);
    }
  }

  // --- values --------------------------------------------------------------------------------

  private parseValue(): ConfValue {
    const c = this.peek();
    switch (c) {
      case '[':
        return this.parseArray();
      case '{':
        return this.parseMap();
      case '"':
        return this.parseDoubleQuoted();
      case "'":
        return this.parseSingleQuoted();
      case '(':
        return this.parseBlock();
      case '.':
        return this.fail('a number must start with a digit');
      case undefined:
        return this.fail('expected a value, got end of file');
    }
    if (isNewline(c)) this.fail('expected a value, got end of line');
    if (isDigit(c) || (c === '-' && isDigit(this.peek(1)))) return this.parseNumberish();
    return this.parseBare();
  }

  private parseMap(): ConfMap {
    if (this.scopes.length > MAX_NESTING * 4) this.fail('maps nested too deeply');
    this.pos++; // '{'
    const map: ConfMap = {};
    this.scopes.push(map);
    this.parseEntries(map, '}');
    this.scopes.pop();
    return map;
  }

  private parseArray(): ConfValue[] {
    const open = this.pos++;
    const out: ConfValue[] = [];
    for (;;) {
      this.skipLayout();
      const c = this.peek();
      if (c === undefined) this.fail("unexpected end of file: missing ']'", open);
      if (c === ']') {
        this.pos++;
        return out;
      }
      if (c === ',') this.fail("unexpected ',' in array, expected a value");
      out.push(this.parseValue());
      this.skipBlanks();
      if (this.atComment()) this.skipComment();
      const d = this.peek();
      if (d === ',' || isNewline(d)) {
        this.pos++;
      } else if (d !== ']') {
        if (d === undefined) this.fail("unexpected end of file: missing ']'", open);
        this.fail(`expected ',' or ']' in array, got ${this.describeChar()}`);
      }
    }
  }

  private parseDoubleQuoted(): string {
    const open = this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('unterminated string', open);
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.peek();
      this.pos++;
      switch (e) {
        case 't':
          out += '\t';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case 'x': {
          const hex = this.src.slice(this.pos, this.pos + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail(`expected two hexadecimal digits after '\\x', got "${hex}"`);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 2;
          break;
        }
        default:
          this.fail(`invalid escape '\\${e ?? ''}' (allowed: \\t \\n \\r \\" \\\\ \\xHH)`, this.pos - 2);
      }
    }
  }

  /** Single quotes: raw text, no escapes. */
  private parseSingleQuoted(): string {
    const open = this.pos++;
    const end = this.src.indexOf("'", this.pos);
    if (end < 0) this.fail('unterminated string', open);
    const s = this.src.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  /** `( ... )` where the closing ')' stands alone on its line: a multi-line raw string. */
  private parseBlock(): string {
    const open = this.pos++;
    const re = /\n\)(?=\r?\n|$)/g;
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (!m) this.fail("unterminated block: expected ')' alone on a line", open);
    const s = this.src.slice(this.pos, m.index + 1);
    this.pos = m.index + 2;
    return s;
  }

  /**
   * A token starting with a digit (or '-' digit): an integer with an optional size suffix, a
   * float, an ISO-8601 Zulu datetime (kept as its string), an IP address, or else an unquoted
   * string ("10s", "1h30m", "2001:db8::1").
   */
  private parseNumberish(): ConfValue {
    const start = this.pos;
    const negative = this.peek() === '-';
    if (negative) this.pos++;
    while (isDigit(this.peek())) this.pos++;
    const digitsEnd = this.pos;
    const c = this.peek();

    if (!negative && c === '-' && digitsEnd - start === 4) {
      const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/.exec(this.src.slice(start));
      if (!m) this.fail('a datetime must be in full Zulu form, e.g. 2006-01-02T15:04:05Z', start);
      this.pos = start + m[0].length;
      return this.finishToken(start, m[0]);
    }
    if (c === '.' && isDigit(this.peek(1))) {
      this.pos++;
      while (isDigit(this.peek())) this.pos++;
      if (this.peek() === '.') {
        // A second dot: an IP address (with an optional :port), nats-server's lexIPAddr.
        while (isDigit(this.peek()) || this.peek() === '.' || this.peek() === ':' || this.peek() === '-') this.pos++;
        return this.finishToken(start, this.src.slice(start, this.pos));
      }
      if (endsBareValue(this.peek())) return Number(this.src.slice(start, this.pos));
      return this.bareFrom(start);
    }
    if (isSizeSuffixStart(c)) {
      this.pos++;
      while (this.peek() !== undefined && 'bBiI'.includes(this.peek()!)) this.pos++;
      if (endsBareValue(this.peek())) {
        const suffix = this.src.slice(digitsEnd, this.pos);
        const mult = sizeSuffixMultiplier(suffix);
        if (mult === undefined) this.fail(`invalid size suffix "${suffix}"`, digitsEnd);
        return this.integer(start, digitsEnd, mult);
      }
      return this.bareFrom(start);
    }
    if (endsBareValue(c)) return this.integer(start, digitsEnd, 1);
    return this.bareFrom(start);
  }

  private integer(start: number, digitsEnd: number, mult: number): number {
    const n = Number(this.src.slice(start, digitsEnd)) * mult;
    if (!Number.isSafeInteger(n)) this.fail(`integer ${this.src.slice(start, this.pos)} is out of range`, start);
    return n;
  }

  /** The token ends here; anything glued on makes the whole token an unquoted string. */
  private finishToken(start: number, value: string): string {
    if (endsBareValue(this.peek())) return value;
    return this.bareFrom(start) as string;
  }

  private bareFrom(start: number): ConfValue {
    this.pos = start;
    return this.parseBare();
  }

  /** Unquoted text up to a terminator: a boolean, a `$variable`, or a string. */
  private parseBare(): ConfValue {
    const start = this.pos;
    while (!endsBareValue(this.peek())) this.pos++;
    const text = this.src.slice(start, this.pos);
    if (text === '') this.fail(`expected a value, got ${this.describeChar()}`);
    const lower = text.toLowerCase();
    if (Object.prototype.hasOwnProperty.call(BOOLEANS, lower)) return BOOLEANS[lower]!;
    // "$2a$..." is a bcrypt hash written without quotes, not a variable (nats-server does the same).
    if (text[0] === '$' && !/^\$2[aby]\$/.test(text)) return this.lookupVariable(text.slice(1), start);
    return text;
  }

  /** Innermost enclosing map first, then the environment (its value parsed as a config value). */
  private lookupVariable(name: string, at: number): ConfValue {
    if (name === '') this.fail("expected a variable name after '$'", at);
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const scope = this.scopes[i]!;
      if (Object.prototype.hasOwnProperty.call(scope, name)) {
        const info = this.shared.info.get(scope)?.get(name);
        if (info) info.usedAsVariable = true;
        return scope[name]!;
      }
    }
    const raw = this.shared.env[name];
    if (raw === undefined) this.fail(`variable "$${name}" is not defined in this file or the environment`, at);
    if (this.envDepth >= MAX_NESTING) this.fail(`variable "$${name}" expands into itself`, at);
    try {
      const sub = new Parser(`v=${raw}`, `$${name}`, this.shared, this.includeStack, this.envDepth + 1).parseDocument();
      const v = sub['v'];
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof NatsConfError && err.reason.includes('expands into itself')) {
        this.fail(`variable "$${name}" expands into itself`, at);
      }
      // A value that is not valid config syntax is taken as a plain string: env values are
      // often arbitrary text (paths with spaces, passwords).
    }
    return raw;
  }
}
