// The leafnode wire protocol, outbound side (the frames leaf-parser.ts reads; docs/leafnodes.md).
// Lines are copied into the connection's OutboundBuffer; nothing is formatted per message
// beyond the digits of the sizes.

import type { OutboundBuffer } from './encoder.ts';

const SPACE = 0x20;

/** `LS+ <subject>` or `LS+ <subject> <queue> <weight>`. */
export function writeLeafSub(out: OutboundBuffer, subject: string, queue: string, weight: number): void {
  out.appendAscii('LS+ ');
  out.appendUtf8(subject);
  if (queue !== '') {
    out.appendByte(SPACE);
    out.appendUtf8(queue);
    out.appendByte(SPACE);
    out.appendUint(weight);
  }
  out.appendCrlf();
}

/** `LS- <subject> [<queue>]`. */
export function writeLeafUnsub(out: OutboundBuffer, subject: string, queue: string): void {
  out.appendAscii('LS- ');
  out.appendUtf8(subject);
  if (queue !== '') {
    out.appendByte(SPACE);
    out.appendUtf8(queue);
  }
  out.appendCrlf();
}

/**
 * LMSG (no headers) or HMSG (hdrLen > 0): `subject`, then `+ reply q...` when there are queues
 * and a reply, `| q...` for queues only, `reply` alone, then the size(s), the bytes and CRLF.
 */
export function writeLeafMsg(
  out: OutboundBuffer,
  subject: string,
  subjectBytes: Buffer | null,
  reply: string,
  queues: readonly string[],
  hdrLen: number,
  msg: Uint8Array,
): void {
  out.appendAscii(hdrLen > 0 ? 'HMSG ' : 'LMSG ');
  if (subjectBytes !== null) out.appendBytes(subjectBytes);
  else out.appendUtf8(subject);
  out.appendByte(SPACE);
  if (queues.length > 0) {
    if (reply !== '') {
      out.appendAscii('+ ');
      out.appendUtf8(reply);
      out.appendByte(SPACE);
    } else {
      out.appendAscii('| ');
    }
    for (let i = 0; i < queues.length; i++) {
      out.appendUtf8(queues[i]!);
      out.appendByte(SPACE);
    }
  } else if (reply !== '') {
    out.appendUtf8(reply);
    out.appendByte(SPACE);
  }
  if (hdrLen > 0) {
    out.appendUint(hdrLen);
    out.appendByte(SPACE);
  }
  out.appendUint(msg.length);
  out.appendCrlf();
  out.appendBytes(msg);
  out.appendCrlf();
}
