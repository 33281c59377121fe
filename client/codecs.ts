// Payload codecs: strings (UTF-8), JSON and msgpack (msgpackr). Decoding errors are typed.

import { pack, unpack } from 'msgpackr';
import { ErrorCode, NatsError } from './errors.ts';

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function StringCodec(): Codec<string> {
  return {
    encode: (s) => encoder.encode(s),
    decode: (b) => decoder.decode(b),
  };
}

/** JSON; `reviver` is passed to JSON.parse. An empty payload decodes to undefined (as T). */
export function JSONCodec<T = unknown>(reviver?: (key: string, value: unknown) => unknown): Codec<T> {
  return {
    encode: (v) => encoder.encode(JSON.stringify(v)),
    decode: (b) => {
      if (b.length === 0) return undefined as T;
      try {
        return JSON.parse(decoder.decode(b), reviver) as T;
      } catch (e) {
        throw new NatsError(ErrorCode.BadPayload, `bad JSON payload: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}

export function MsgpackCodec<T = unknown>(): Codec<T> {
  return {
    encode: (v) => pack(v),
    decode: (b) => {
      try {
        return unpack(b) as T;
      } catch (e) {
        throw new NatsError(ErrorCode.BadPayload, `bad msgpack payload: ${(e as Error).message}`, { cause: e });
      }
    },
  };
}
