// Subjects: tokens separated by '.', '*' (one token) and '>' (one or more trailing tokens) as
// whole-token wildcards. All checks are charCode loops over the string (no regex, no split), since
// they run on the publish and subscribe paths.

const DOT = 0x2e;
const STAR = 0x2a;
const GT = 0x3e;

/** Space, tab, CR, LF, FF: never allowed in a subject or queue name. */
function isSubjectWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a || c === 0x0c;
}

/**
 * 0 = invalid; 1 = valid literal; 2 = valid with wildcards. One pass shared by the two validators.
 */
function classify(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  let wild = false;
  let tokStart = 0;
  let sawGt = false; // a '>' token was seen; anything after it is invalid
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : DOT;
    if (c === DOT) {
      const tokLen = i - tokStart;
      if (tokLen === 0 || sawGt) return 0;
      if (tokLen === 1) {
        const t = s.charCodeAt(tokStart);
        if (t === STAR) wild = true;
        else if (t === GT) {
          wild = true;
          sawGt = true;
        }
      }
      tokStart = i + 1;
    } else if (isSubjectWhitespace(c)) {
      return 0;
    }
  }
  return wild ? 2 : 1;
}

/** What classify() says of a subject, for callers that need both answers from one pass. */
export const SubjectKind = { Invalid: 0, Literal: 1, Wildcard: 2 } as const;
export type SubjectKind = (typeof SubjectKind)[keyof typeof SubjectKind];

export function subjectKind(s: string): SubjectKind {
  return classify(s) as SubjectKind;
}

/** A subscription subject: non-empty tokens, no whitespace, wildcards whole tokens, '>' last. */
export function isValidSubject(s: string): boolean {
  return classify(s) !== 0;
}

/** A publish subject: a valid subject without wildcard tokens. */
export function isValidPublishSubject(s: string): boolean {
  return classify(s) === 1;
}

/** True when `s` is a valid subject containing a '*' or '>' token. */
export function hasWildcard(s: string): boolean {
  return classify(s) === 2;
}

/** Queue group names: non-empty, no whitespace or control characters. Dots are allowed. */
export function isValidQueueName(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f) return false;
  }
  return true;
}

/**
 * Stream, consumer and bucket style names: non-empty; no '.', '*', '>', '/', '\', whitespace or
 * control characters.
 */
export function isValidName(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === DOT || c === STAR || c === GT || c === 0x2f || c === 0x5c) {
      return false;
    }
  }
  return true;
}

export function tokenize(s: string): string[] {
  return s.split('.');
}

/** End index (exclusive) of the token starting at `start`. */
function tokenEnd(s: string, start: number): number {
  const i = s.indexOf('.', start);
  return i < 0 ? s.length : i;
}

function isToken(s: string, start: number, end: number, c: number): boolean {
  return end - start === 1 && s.charCodeAt(start) === c;
}

function sameToken(a: string, as: number, ae: number, b: string, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let k = 0; k < ae - as; k++) {
    if (a.charCodeAt(as + k) !== b.charCodeAt(bs + k)) return false;
  }
  return true;
}

/** Does the (valid) pattern match the literal subject? */
export function subjectMatches(pattern: string, literal: string): boolean {
  let p = 0;
  let l = 0;
  const pn = pattern.length;
  const ln = literal.length;
  for (;;) {
    const pe = tokenEnd(pattern, p);
    const le = tokenEnd(literal, l);
    if (isToken(pattern, p, pe, GT)) return true;
    if (!isToken(pattern, p, pe, STAR) && !sameToken(pattern, p, pe, literal, l, le)) return false;
    const pDone = pe >= pn;
    const lDone = le >= ln;
    if (pDone || lDone) return pDone && lDone;
    p = pe + 1;
    l = le + 1;
  }
}

/**
 * Could one literal subject match both patterns? Used to reject overlapping stream subjects.
 * Symmetric.
 */
export function subjectsCollide(a: string, b: string): boolean {
  let i = 0;
  let j = 0;
  const an = a.length;
  const bn = b.length;
  for (;;) {
    const ae = tokenEnd(a, i);
    const be = tokenEnd(b, j);
    // '>' eats one or more tokens; the other side has at least this one.
    if (isToken(a, i, ae, GT) || isToken(b, j, be, GT)) return true;
    const wild = isToken(a, i, ae, STAR) || isToken(b, j, be, STAR);
    if (!wild && !sameToken(a, i, ae, b, j, be)) return false;
    const aDone = ae >= an;
    const bDone = be >= bn;
    if (aDone || bDone) return aDone && bDone;
    i = ae + 1;
    j = be + 1;
  }
}

/** Is every literal matched by `sub` also matched by `pattern`? (`sub` ⊆ `pattern`) */
export function isSubsetOf(sub: string, pattern: string): boolean {
  let i = 0;
  let j = 0;
  const sn = sub.length;
  const pn = pattern.length;
  for (;;) {
    const se = tokenEnd(sub, i);
    const pe = tokenEnd(pattern, j);
    if (isToken(pattern, j, pe, GT)) return true; // sub has >= 1 token left here
    if (isToken(sub, i, se, GT)) return false; // sub matches arbitrarily many, pattern does not
    if (isToken(pattern, j, pe, STAR)) {
      // any single sub token ('*' or literal) fits
    } else if (isToken(sub, i, se, STAR) || !sameToken(sub, i, se, pattern, j, pe)) {
      return false;
    }
    const sDone = se >= sn;
    const pDone = pe >= pn;
    if (sDone || pDone) return sDone && pDone;
    i = se + 1;
    j = pe + 1;
  }
}
