// Adding header lines to a stored message's NATS/1.0 header block: what direct gets, republish
// and sourcing do to a message on its way out or in. The block stays bytes except for this one
// concatenation, which happens only on those paths.

const CRLF_CRLF = '\r\n\r\n';

/**
 * `hdr` (a raw `NATS/1.0` block or null) with `lines` ("Name: value\r\n" each, already formatted)
 * appended before the terminating blank line.
 */
export function appendHeaderLines(hdr: Uint8Array | null, lines: string): Buffer {
  if (hdr === null || hdr.length === 0) return Buffer.from(`NATS/1.0\r\n${lines}\r\n`, 'utf8');
  const own = Buffer.from(hdr.buffer, hdr.byteOffset, hdr.byteLength).toString('utf8');
  // Drop the block's terminating blank line, append ours, terminate again.
  const body = own.endsWith(CRLF_CRLF) ? own.slice(0, -2) : own.endsWith('\r\n') ? own : own + '\r\n';
  return Buffer.from(`${body}${lines}\r\n`, 'utf8');
}

/**
 * `hdr` without the header lines `drop` selects (by name), with `lines` appended: how a sourced
 * message loses the origin's Nats-Stream-Source and Nats-Expected-* headers and gets its own.
 */
export function rewriteHeaderLines(hdr: Uint8Array | null, drop: (name: string) => boolean, lines: string): Buffer {
  if (hdr === null || hdr.length === 0) return appendHeaderLines(null, lines);
  const text = Buffer.from(hdr.buffer, hdr.byteOffset, hdr.byteLength).toString('utf8');
  const all = text.split('\r\n');
  let kept = `${all[0]}\r\n`;
  for (let i = 1; i < all.length; i++) {
    const line = all[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon > 0 && drop(line.slice(0, colon).trim())) continue;
    kept += `${line}\r\n`;
  }
  return Buffer.from(`${kept}${lines}\r\n`, 'utf8');
}
