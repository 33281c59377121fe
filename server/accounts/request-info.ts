// The `Nats-Request-Info` header nats-server adds to a request that crosses into another account
// through a service import, so the exporting account's responder can tell which account asked:
// `{"acc":"<importing account>"}` (nats-server also sends the requester's round trip time when it
// knows one; a bridge does not). A message that already carries the header keeps it.

import { findHeaderValue } from '../../protocol/headers.ts';

export const REQUEST_INFO_HEADER = 'Nats-Request-Info';
const EMPTY_BLOCK_START = Buffer.from('NATS/1.0\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

/** `msg` (hdrLen header bytes, then the payload) with the header added: [hdrLen, msg]. */
export function withRequestInfo(hdrLen: number, msg: Buffer, account: string): [number, Buffer] {
  if (hdrLen > 0 && findHeaderValue(msg.subarray(0, hdrLen), REQUEST_INFO_HEADER) !== undefined) return [hdrLen, msg];
  const line = Buffer.from(`${REQUEST_INFO_HEADER}: ${JSON.stringify({ acc: account })}\r\n`, 'utf8');
  // A block ends with an empty line: the new header goes before it.
  const head = hdrLen > 0 ? msg.subarray(0, hdrLen - 2) : EMPTY_BLOCK_START;
  const out = Buffer.concat([head, line, CRLF, msg.subarray(hdrLen)]);
  return [head.length + line.length + CRLF.length, out];
}
