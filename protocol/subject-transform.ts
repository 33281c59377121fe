// Subject transforms: rewriting a literal subject that matches `src` into `dest`, where `dest`
// refers to the source's `*` tokens by position ($1, {{wildcard(1)}}) or through token functions
// ({{partition(n,1,2)}}, {{split(1,-)}}, {{splitfromleft(1,3)}}, ...). One implementation for every
// user: the stream `subject_transform`, `republish`, and the `subject_transforms` of mirrors and
// sources (docs/jetstream-streams.md, "Subject transforms").
//
// Behaviour and error texts are nats-server 2.10's (a client or operator compares them): a bad
// transform is refused when the config is checked, never when a message arrives. Pure: no I/O.

import { Buffer } from 'node:buffer';
import { subjectMatches } from './subject.ts';

/** A compiled transform. */
export interface SubjectTransform {
  readonly src: string;
  readonly dest: string;
  /** The transformed subject when the literal `subject` matches `src`, else undefined. */
  match(subject: string): string | undefined;
}

export type CompileResult = { ok: true; transform: SubjectTransform | null } | { ok: false; error: string };

/** nats-server ErrBadSubject. */
export const BAD_SUBJECT = 'invalid subject';
const INVALID_DEST = 'invalid mapping destination';
export const TransformErr = {
  IndexOutOfRange: `${INVALID_DEST}: wildcard index out of range`,
  NotEnoughArgs: `${INVALID_DEST}: not enough arguments passed to the function`,
  InvalidArg: `${INVALID_DEST}: function argument is invalid or in the wrong format`,
  TooManyArgs: `${INVALID_DEST}: too many arguments passed to the function`,
  UnknownFunction: `${INVALID_DEST}: unknown function`,
  InvalidTransform: `${INVALID_DEST}: invalid transform`,
} as const;

const enum Fn {
  Literal,
  Partition,
  Wildcard,
  SplitFromLeft,
  SplitFromRight,
  SliceFromLeft,
  SliceFromRight,
  Split,
  Left,
  Right,
}

/** One destination token: a literal, or a function of source tokens (by position in the subject). */
interface DestToken {
  readonly fn: Fn;
  readonly literal: string;
  readonly srcIdx: readonly number[];
  readonly intArg: number;
  readonly strArg: string;
}

class TransformError extends Error {}

function mappingError(reason: string, token: string): never {
  throw new TransformError(token === '' ? reason : `${reason} in ${token}`);
}

/** Which names map to which function; the patterns accept any case of the first letters, as Go's. */
const FUNCTIONS: readonly (readonly [RegExp, Fn])[] = [
  [/{{\s*[wW]ildcard\s*\((.*)\)\s*}}/, Fn.Wildcard],
  [/{{\s*[pP]artition\s*\((.*)\)\s*}}/, Fn.Partition],
  [/{{\s*[sS]plit[fF]rom[lL]eft\s*\((.*)\)\s*}}/, Fn.SplitFromLeft],
  [/{{\s*[sS]plit[fF]rom[rR]ight\s*\((.*)\)\s*}}/, Fn.SplitFromRight],
  [/{{\s*[sS]lice[fF]rom[lL]eft\s*\((.*)\)\s*}}/, Fn.SliceFromLeft],
  [/{{\s*[sS]lice[fF]rom[rR]ight\s*\((.*)\)\s*}}/, Fn.SliceFromRight],
  [/{{\s*[rR]ight\s*\((.*)\)\s*}}/, Fn.Right],
  [/{{\s*[lL]eft\s*\((.*)\)\s*}}/, Fn.Left],
  [/{{\s*[sS]plit\s*\((.*)\)\s*}}/, Fn.Split],
];

/** Go's strconv.Atoi: optional sign, decimal digits, nothing else. */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

const INT32_MAX = 2 ** 31 - 1;

interface Placeholder {
  fn: Fn;
  /** 1-based wildcard positions named by the function. */
  wildcards: number[];
  intArg: number;
  strArg: string;
}

/** nats-server indexPlaceHolders: what one destination token asks for. */
function parsePlaceholder(token: string): Placeholder {
  const literal: Placeholder = { fn: Fn.Literal, wildcards: [], intArg: -1, strArg: '' };
  const n = token.length;
  if (n <= 1) return literal;
  if (token[0] === '$') {
    // The old $1 form; anything else starting with $ is an ordinary token.
    const i = atoi(token.slice(1));
    return i === undefined ? literal : { fn: Fn.Wildcard, wildcards: [i], intArg: -1, strArg: '' };
  }
  if (!(n > 4 && token.startsWith('{{') && token.endsWith('}}'))) return literal;
  for (const [re, fn] of FUNCTIONS) {
    const m = re.exec(token);
    if (m === null) continue;
    const args = m[1]!.split(/,\s*/);
    const int = (s: string): number => {
      const v = atoi(s.trim());
      if (v === undefined) mappingError(TransformErr.InvalidArg, token);
      return v;
    };
    switch (fn) {
      case Fn.Wildcard:
        if (args.length === 1 && args[0] === '') mappingError(TransformErr.NotEnoughArgs, token);
        if (args.length > 1) mappingError(TransformErr.TooManyArgs, token);
        return { fn, wildcards: [int(args[0]!)], intArg: -1, strArg: '' };
      case Fn.Partition: {
        if (args.length < 2) mappingError(TransformErr.NotEnoughArgs, token);
        const count = int(args[0]!);
        if (count > INT32_MAX) mappingError(TransformErr.InvalidArg, token);
        return { fn, wildcards: args.slice(1).map(int), intArg: count, strArg: '' };
      }
      case Fn.Split: {
        if (args.length < 2) mappingError(TransformErr.NotEnoughArgs, token);
        if (args.length > 2) mappingError(TransformErr.TooManyArgs, token);
        const idx = int(args[0]!);
        if (args[1]!.includes(' ') || args[1]!.includes('.')) mappingError(TransformErr.InvalidArg, token);
        return { fn, wildcards: [idx], intArg: -1, strArg: args[1]! };
      }
      default: {
        // (wildcard index, integer) functions.
        if (args.length < 2) mappingError(TransformErr.NotEnoughArgs, token);
        if (args.length > 2) mappingError(TransformErr.TooManyArgs, token);
        return { fn, wildcards: [int(args[0]!)], intArg: int(args[1]!), strArg: '' };
      }
    }
  }
  return mappingError(TransformErr.UnknownFunction, token);
}

/** nats-server subjectInfo: validity (no empty token, nothing after '>'), tokens, '*' count, '>'. */
function subjectInfo(s: string): { valid: boolean; tokens: string[]; pwcs: number; fwc: boolean } {
  const tokens = s.split('.');
  let pwcs = 0;
  let fwc = false;
  for (const t of tokens) {
    if (t.length === 0 || fwc) return { valid: false, tokens, pwcs, fwc };
    if (t === '>') fwc = true;
    else if (t === '*') pwcs++;
  }
  return { valid: s !== '', tokens, pwcs, fwc };
}

/**
 * Compiles `src` -> `dest` (nats-server NewSubjectTransform, non-strict). An empty `dest` is no
 * transform (null); an empty `src` means '>'. The error text is nats-server's.
 */
export function compileSubjectTransform(src: string, dest: string): CompileResult {
  if (dest === '') return { ok: true, transform: null };
  if (src === '') src = '>';
  const s = subjectInfo(src);
  const d = subjectInfo(dest);
  if (!s.valid || !d.valid || d.pwcs > 0 || s.fwc !== d.fwc) return { ok: false, error: BAD_SUBJECT };
  try {
    return { ok: true, transform: new CompiledTransform(src, dest, s.tokens, d.tokens, buildDest(s.tokens, s.pwcs, d.tokens)) };
  } catch (err) {
    if (err instanceof TransformError) return { ok: false, error: err.message };
    throw err;
  }
}

function buildDest(stokens: readonly string[], npwcs: number, dtokens: readonly string[]): DestToken[] {
  const out: DestToken[] = [];
  // Position in the subject of the n-th '*' (1-based). Go's map yields 0 for a missing key, so an
  // index of 0 or below refers to the first token; kept for the same output.
  const wildcardPos: number[] = [];
  stokens.forEach((t, i) => {
    if (t === '*') wildcardPos.push(i);
  });
  const posOf = (n: number): number => (n >= 1 && n <= wildcardPos.length ? wildcardPos[n - 1]! : 0);
  for (const token of dtokens) {
    const ph = parsePlaceholder(token);
    if (ph.fn === Fn.Literal) {
      out.push({ fn: Fn.Literal, literal: token, srcIdx: [], intArg: -1, strArg: '' });
      continue;
    }
    // A source without '*' has nothing for a function to refer to.
    if (npwcs === 0) mappingError(TransformErr.IndexOutOfRange, token);
    const srcIdx: number[] = [];
    for (const w of ph.wildcards) {
      if (w > npwcs) mappingError(TransformErr.IndexOutOfRange, `${token}: [${w}]`);
      srcIdx.push(posOf(w));
    }
    out.push({ fn: ph.fn, literal: token, srcIdx, intArg: ph.intArg, strArg: ph.strArg });
  }
  return out;
}

/** FNV-1a, 32 bits, over the UTF-8 bytes (nats-server's partition hash). */
function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  const bytes = /^[\x00-\x7f]*$/.test(key) ? null : Buffer.from(key, 'utf8');
  const n = bytes === null ? key.length : bytes.length;
  for (let i = 0; i < n; i++) {
    h ^= bytes === null ? key.charCodeAt(i) : bytes[i]!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

class CompiledTransform implements SubjectTransform {
  readonly src: string;
  readonly dest: string;
  private readonly stoks: readonly string[];
  private readonly dtoks: readonly string[];
  private readonly parts: readonly DestToken[];
  /** '>' -> '>': every subject maps to itself. */
  private readonly identity: boolean;

  constructor(src: string, dest: string, stoks: readonly string[], dtoks: readonly string[], parts: readonly DestToken[]) {
    this.src = src;
    this.dest = dest;
    this.stoks = stoks;
    this.dtoks = dtoks;
    this.parts = parts;
    this.identity = src === '>' && dest === '>';
  }

  match(subject: string): string | undefined {
    if (this.identity) return subject;
    const tokens = subject.split('.');
    for (const t of tokens) if (t === '' || t === '*' || t === '>') return undefined;
    if (this.src !== '>' && !subjectMatches(this.src, subject)) return undefined;
    return this.apply(tokens);
  }

  private apply(tokens: readonly string[]): string {
    let out = '';
    const last = this.parts.length - 1;
    for (let i = 0; i <= last; i++) {
      const p = this.parts[i]!;
      if (p.fn === Fn.Literal) {
        if (p.literal === '>') break;
        out += p.literal;
      } else {
        out += applyFn(p, tokens);
      }
      if (i < last) out += '.';
    }
    // A trailing '>' carries the rest of the subject over.
    if (this.dtoks[this.dtoks.length - 1] === '>') {
      out += tokens.slice(this.stoks.length - 1).join('.');
    }
    return out;
  }
}

function applyFn(p: DestToken, tokens: readonly string[]): string {
  const tok = tokens[p.srcIdx[0] ?? 0] ?? '';
  const n = p.intArg;
  switch (p.fn) {
    case Fn.Wildcard:
      return tok;
    case Fn.Partition: {
      if (n === 0) return '0';
      let key = '';
      for (const i of p.srcIdx) key += tokens[i] ?? '';
      return String(fnv1a32(key) % n);
    }
    case Fn.SplitFromLeft:
      return n > 0 && n < tok.length ? `${tok.slice(0, n)}.${tok.slice(n)}` : tok;
    case Fn.SplitFromRight:
      return n > 0 && n < tok.length ? `${tok.slice(0, tok.length - n)}.${tok.slice(tok.length - n)}` : tok;
    case Fn.SliceFromLeft: {
      if (!(n > 0 && n < tok.length)) return tok;
      const pieces: string[] = [];
      for (let i = 0; i < tok.length; i += n) pieces.push(tok.slice(i, i + n));
      return pieces.join('.');
    }
    case Fn.SliceFromRight: {
      if (!(n > 0 && n < tok.length)) return tok;
      const pieces: string[] = [];
      const rem = tok.length % n;
      if (rem > 0) pieces.push(tok.slice(0, rem));
      for (let i = rem; i < tok.length; i += n) pieces.push(tok.slice(i, i + n));
      return pieces.join('.');
    }
    case Fn.Split: {
      // Empty pieces are dropped; the separators follow nats-server's rule exactly (a run of
      // delimiters at the start can still leave a leading '.').
      const pieces = tok.split(p.strArg);
      let out = '';
      for (let j = 0; j < pieces.length; j++) {
        out += pieces[j]!;
        if (j < pieces.length - 1 && pieces[j + 1] !== '' && !(j === 0 && pieces[j] === '')) out += '.';
      }
      return out;
    }
    case Fn.Left:
      return n > 0 && n < tok.length ? tok.slice(0, n) : tok;
    case Fn.Right:
      return n > 0 && n < tok.length ? tok.slice(tok.length - n) : tok;
    default:
      return tok;
  }
}

/**
 * nats-server ValidateMappingDestination (source `subject_transforms`): an error text, or
 * undefined when `dest` is a usable destination.
 */
export function validateMappingDestination(dest: string): string | undefined {
  if (dest === '') return undefined;
  let fwc = false;
  for (const t of dest.split('.')) {
    if (t.length === 0 || fwc) return `${TransformErr.InvalidTransform} in ${t}`;
    if (t.length > 4 && t.startsWith('{{') && t.endsWith('}}')) {
      const known = FUNCTIONS.some(([re, fn]) => fn !== Fn.Left && fn !== Fn.Right && re.test(t));
      if (!known) return `${TransformErr.UnknownFunction} in ${t}`;
      continue;
    }
    if (t === '>') fwc = true;
    else if (/[\t\n\f\r ]/.test(t)) return TransformErr.InvalidTransform;
  }
  return undefined;
}
