// A received message. Its bytes are copied once out of the parser's buffer; the header block is
// decoded only when `headers` is first read.

import { MsgHeaders } from '../protocol/headers.ts';
import { ErrorCode, NatsError } from './errors.ts';

/** What a message needs to answer itself. */
export interface Responder {
  publish(subject: string, data?: Uint8Array | string, opts?: { headers?: MsgHeaders; reply?: string }): void;
}

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

export class Msg {
  /** The subject it was published to (not the subscription's pattern). */
  readonly subject: string;
  readonly sid: number;
  /** Reply subject, '' when none. */
  readonly reply: string;
  /** Payload (without headers). */
  readonly data: Uint8Array;
  private readonly raw: Uint8Array;
  private readonly hdrLen: number;
  private decoded: MsgHeaders | undefined | null = null;
  private readonly responder: Responder | undefined;

  /** `bytes` is header block then payload; it must be owned by the message (already copied). */
  constructor(subject: string, sid: number, reply: string, hdrLen: number, bytes: Uint8Array, responder?: Responder) {
    this.subject = subject;
    this.sid = sid;
    this.reply = reply;
    this.raw = bytes;
    this.hdrLen = hdrLen;
    this.data = hdrLen === 0 ? bytes : hdrLen === bytes.length ? EMPTY : bytes.subarray(hdrLen);
    this.responder = responder;
  }

  /** The decoded header block, or undefined when the message has none. */
  get headers(): MsgHeaders | undefined {
    if (this.decoded === null) {
      if (this.hdrLen === 0) this.decoded = undefined;
      else {
        try {
          this.decoded = MsgHeaders.decode(this.raw.subarray(0, this.hdrLen));
        } catch {
          this.decoded = undefined;
        }
      }
    }
    return this.decoded;
  }

  /** Status code from the header block (e.g. 503, 404, 408, 100), 0 when none. */
  get statusCode(): number {
    return this.hdrLen === 0 ? 0 : (this.headers?.code ?? 0);
  }

  /** The raw header block bytes (empty when none). */
  get headerBytes(): Uint8Array {
    return this.raw.subarray(0, this.hdrLen);
  }

  string(): string {
    return decoder.decode(this.data);
  }

  json<T = unknown>(): T {
    try {
      return JSON.parse(decoder.decode(this.data)) as T;
    } catch (e) {
      throw new NatsError(ErrorCode.BadPayload, `message on '${this.subject}' is not JSON`, { cause: e });
    }
  }

  /** Publish to this message's reply subject; false when it has none. */
  respond(data?: Uint8Array | string, opts?: { headers?: MsgHeaders }): boolean {
    if (this.reply === '' || this.responder === undefined) return false;
    this.responder.publish(this.reply, data, opts);
    return true;
  }
}
