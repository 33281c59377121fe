// protocol/ uses Node's internal one-shot Buffer methods (latin1Slice, utf8Slice, latin1Write,
// utf8Write) on its hot paths. The `buffer` package that stands in for node:buffer in the browser
// bundle does not expose them on the prototype; add them on top of its public API. In Node the
// methods exist and nothing changes.

import { Buffer } from 'node:buffer';

interface InternalMethods {
  latin1Slice?(start: number, end: number): string;
  utf8Slice?(start: number, end: number): string;
  latin1Write?(s: string, offset: number, length?: number): number;
  utf8Write?(s: string, offset: number, length?: number): number;
}

const proto = Buffer.prototype as unknown as InternalMethods & Buffer;
proto.latin1Slice ??= function (this: Buffer, start: number, end: number): string {
  return this.toString('latin1', start, end);
};
proto.utf8Slice ??= function (this: Buffer, start: number, end: number): string {
  return this.toString('utf8', start, end);
};
proto.latin1Write ??= function (this: Buffer, s: string, offset: number, length?: number): number {
  return this.write(s, offset, length ?? this.length - offset, 'latin1');
};
proto.utf8Write ??= function (this: Buffer, s: string, offset: number, length?: number): number {
  return this.write(s, offset, length ?? this.length - offset, 'utf8');
};
