// NATS JWTs (operator mode, docs/accounts.md "Operator mode"): decoding and signature checks are
// @nats-io/jwt's; this module only adds what a server must check on top of a valid signature: the
// claim's kind, the key kinds of subject and issuer, and its validity dates.

import { createRequire } from 'node:module';
import { useNativeEd25519 } from './ed25519.ts';
import type { Account, Activation, ClaimsData, Operator, User } from '@nats-io/jwt';

export type { Account as AccountJwt, Activation as ActivationJwt, ClaimsData, Operator as OperatorJwt, User as UserJwt } from '@nats-io/jwt';
export type { Permissions as JwtPermissions, SigningKey as JwtSigningKey, UserPermissionsLimits as JwtUserPermissionsLimits } from '@nats-io/jwt';

type JwtModule = typeof import('@nats-io/jwt');
let lib: JwtModule | undefined;
/** Loaded on first use (only operator mode needs it); CommonJS, so through require. */
function jwtLib(): JwtModule {
  if (lib === undefined) {
    useNativeEd25519();
    lib = createRequire(import.meta.url)('@nats-io/jwt') as JwtModule;
  }
  return lib;
}

interface KindOf {
  operator: Operator;
  account: Account;
  user: User;
  activation: Activation;
}
export type ClaimKind = keyof KindOf;

/** The nkey prefix of a claim's subject (nats-server's jwt.Decode*Claims check these too). */
const SUBJECT_PREFIX: Readonly<Record<ClaimKind, string>> = { operator: 'O', account: 'A', user: 'U', activation: 'A' };
/** Who may sign each kind: an operator (or its signing key) signs operators and accounts, accounts sign users. */
const ISSUER_PREFIX: Readonly<Record<ClaimKind, string>> = { operator: 'O', account: 'O', user: 'A', activation: 'A' };

const A_KIND: Readonly<Record<ClaimKind, string>> = { operator: 'an operator', account: 'an account', user: 'a user', activation: 'an activation' };
const KEY_KIND: Readonly<Record<string, string>> = { O: 'an operator', A: 'an account', U: 'a user' };

/**
 * `token` decoded and its signature verified against its issuer (`iss`), as a claim of `kind`.
 * Returns the claims, or why not (one phrase). Says nothing about whether the issuer is trusted.
 */
export function decodeClaims<K extends ClaimKind>(token: string, kind: K): ClaimsData<KindOf[K]> | string {
  const text = token.trim();
  const key = `${kind} ${text}`;
  const known = decoded.get(key);
  if (known !== undefined) return known as ClaimsData<KindOf[K]> | string;
  const result = decodeUncached(text, kind);
  if (decoded.size >= MAX_DECODED) decoded.delete(decoded.keys().next().value!);
  decoded.set(key, result);
  return result;
}

/**
 * Recent decodes by kind and token, outcome included: a reconnecting user, or many clients
 * sharing one .creds file, cost no JSON parsing and signature check after the first. The claims
 * are read-only to every caller.
 */
const decoded = new Map<string, ClaimsData<unknown> | string>();
const MAX_DECODED = 4096;

function decodeUncached<K extends ClaimKind>(text: string, kind: K): ClaimsData<KindOf[K]> | string {
  let claims: ClaimsData<KindOf[K]>;
  try {
    claims = jwtLib().decode<KindOf[K]>(text);
  } catch (err) {
    return `not a valid JWT (${(err as Error).message})`;
  }
  const type = (claims.nats as { type?: string } | undefined)?.type ?? claims.type;
  if (type !== kind) return `not ${A_KIND[kind]} JWT (its type is ${JSON.stringify(type ?? '')})`;
  if (typeof claims.sub !== 'string' || !claims.sub.startsWith(SUBJECT_PREFIX[kind])) return `its subject is not ${KEY_KIND[SUBJECT_PREFIX[kind]]} public key`;
  if (typeof claims.iss !== 'string' || !claims.iss.startsWith(ISSUER_PREFIX[kind])) return `its issuer is not ${KEY_KIND[ISSUER_PREFIX[kind]]} key`;
  return claims;
}

/** Why the claim is not valid at `nowMs` (expired, not yet valid), or undefined when it is. */
export function outsideValidity(claims: { exp?: number; nbf?: number }, nowMs: number): string | undefined {
  const now = nowMs / 1000;
  if (claims.exp !== undefined && claims.exp > 0 && now > claims.exp) return 'expired';
  if (claims.nbf !== undefined && claims.nbf > 0 && now < claims.nbf) return 'not valid yet';
  return undefined;
}

/** When the claim expires, in ms since the epoch; undefined = never. */
export function expiresAtMs(claims: { exp?: number }): number | undefined {
  return claims.exp !== undefined && claims.exp > 0 ? claims.exp * 1000 : undefined;
}
