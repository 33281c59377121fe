// Query parameters as nats-server reads them on its monitoring endpoints: booleans through Go's
// strconv.ParseBool, counts as non-negative integers, and paging by offset and limit.

import { QueryError } from './http.ts';

/** nats-server's default page size, also used when limit=0. */
export const DEFAULT_PAGE_LIMIT = 1024;

/** Go's strconv.ParseBool, which nats-server uses for boolean query parameters. */
export function parseBool(query: URLSearchParams, name: string): boolean {
  const v = query.get(name);
  if (v === null || v === '') return false;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new QueryError(`Error decoding boolean for '${name}': strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** A non-negative integer parameter, `fallback` when absent. */
export function parseCount(query: URLSearchParams, name: string, fallback: number): number {
  const v = query.get(name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new QueryError(`invalid value for ${name}: ${v}`);
  return n;
}

/** Pages `items` as nats-server does: offset past the end gives an empty page, limit 0 the default. */
export function page<T>(items: readonly T[], query: URLSearchParams): { items: T[]; offset: number; limit: number } {
  const offset = parseCount(query, 'offset', 0);
  const limit = parseCount(query, 'limit', DEFAULT_PAGE_LIMIT) || DEFAULT_PAGE_LIMIT;
  return { items: items.slice(offset, offset + limit), offset, limit };
}
