// Operator mode's keys of a config file (nats-server syntax and JSON alike), nats-server's shapes
// (opts.go):
//   operator: "/path/to/operator.jwt"        # or the JWT itself, or a list of either
//   resolver: MEMORY
//   resolver_preload: { <account public key>: "<account JWT>" }
// An operator file may hold the bare JWT or the decorated form nsc writes (-----BEGIN NATS
// OPERATOR JWT----- ...). Like nats-server, a path is read relative to the working directory.

import { readFileSync } from 'node:fs';
import { MEMORY_RESOLVER } from '../accounts/operator.ts';
import { decodeClaims } from '../auth/jwt-claims.ts';
import { asMap, asString, Bad, type Collector, type Conv } from './convert.ts';
import type { ConfMap } from './nats-conf.ts';

/** Three base64url parts: a JWT given inline rather than a file name. */
const INLINE_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** The JWT of a decorated file: the first armored block. */
const DECORATED = /-{3,}[^\n]*BEGIN[^\n]*-{3,}\s*\r?\n\s*([A-Za-z0-9_.-]+)\s*\r?\n/;

const asStrings: Conv<string[]> = (v) =>
  typeof v === 'string' ? [v] : Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : new Bad('an operator JWT or file, or a list of them');

/** The operator JWT named by `ref`: the text itself, or the (decorated) content of that file. */
function readOperator(c: Collector, path: string, ref: string, parent: ConfMap, readFile: (p: string) => string): string {
  const text = ref.trim();
  let jwt = text;
  if (!INLINE_JWT.test(text)) {
    let content: string;
    try {
      content = readFile(text);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      c.fail(path, `an operator JWT or a readable file holding one (${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)})`, ref, parent);
    }
    jwt = (DECORATED.exec(content)?.[1] ?? content).trim();
  }
  const claims = decodeClaims(jwt, 'operator');
  if (typeof claims === 'string') c.fail(path, `an operator JWT (this one is ${claims})`, ref, parent);
  return jwt;
}

/** Maps `key` if it is one of operator mode's keys; false when it is not. */
export function mapOperatorKey(c: Collector, key: string, v: unknown, parent: ConfMap, readFile: (p: string) => string = (p) => readFileSync(p, 'utf8')): boolean {
  switch (key.toLowerCase()) {
    case 'operator':
    case 'operators':
    case 'root':
    case 'roots':
    case 'root_operator':
    case 'root_operators': {
      const refs = c.convert(asStrings, key, v, parent);
      c.set('operators', refs.map((r) => readOperator(c, key, r, parent, readFile)), key, v, parent);
      return true;
    }
    case 'resolver':
    case 'account_resolver':
    case 'accounts_resolver': {
      const s = typeof v === 'string' ? v.trim().toUpperCase() : '';
      if (s !== 'MEM' && s !== MEMORY_RESOLVER) c.fail(key, 'MEMORY (the URL and nats resolvers are not built)', v, parent);
      c.set('resolver', MEMORY_RESOLVER, key, v, parent);
      return true;
    }
    case 'resolver_preload':
    case 'resolverpreload': {
      const block = asMap(c, key, v);
      const preload: Record<string, string> = {};
      for (const [account, jwt] of Object.entries(block)) {
        const path = `${key}.${account}`;
        const token = c.convert(asString, path, jwt, block).trim();
        const claims = decodeClaims(token, 'account');
        if (typeof claims === 'string') c.fail(path, `an account JWT (this one is ${claims})`, jwt, block);
        preload[account] = token;
      }
      c.set('resolverPreload', preload, key, v, parent);
      return true;
    }
    default:
      return false;
  }
}
