// Prepared publishes: one message encoded once as `count` back-to-back PUB/HPUB frames, published
// with NatsConnection.publishPrepared as a single copy into the outbound buffer. For load
// generators and bulk senders that publish the same subject and size over and over; the payload
// bytes of each copy can still be changed in place (e.g. to stamp a sequence or a time).

import { OutboundBuffer, writePub } from '../protocol/encoder.ts';

export class PreparedPublish {
  readonly subject: string;
  /** Messages in `frames`. */
  readonly count: number;
  /** Payload plus header bytes of one message (what max_payload limits). */
  readonly messageBytes: number;
  /** @internal The encoded frames. */
  readonly frames: Uint8Array;
  /** @internal Bytes of one frame. */
  readonly frameBytes: number;
  private readonly payloadOffset: number;
  private readonly payloadBytes: number;

  /** Use NatsConnection.prepare(). */
  constructor(subject: string, reply: string, headers: Uint8Array | null, payload: Uint8Array, count: number) {
    const one = new OutboundBuffer(64 + subject.length + reply.length + payload.length + (headers?.length ?? 0));
    writePub(one, subject, reply, headers, payload);
    const frame = one.take();
    const frames = new Uint8Array(frame.length * count);
    for (let i = 0; i < count; i++) frames.set(frame, i * frame.length);
    this.subject = subject;
    this.count = count;
    this.messageBytes = payload.length + (headers?.length ?? 0);
    this.frames = frames;
    this.frameBytes = frame.length;
    // The payload sits just before the frame's closing CRLF.
    this.payloadBytes = payload.length;
    this.payloadOffset = frame.length - 2 - payload.length;
  }

  /** A view of message `i`'s payload: write into it (same length) to change what is sent. */
  payload(i: number): Uint8Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`message index ${i} out of 0..${this.count - 1}`);
    const at = i * this.frameBytes + this.payloadOffset;
    return this.frames.subarray(at, at + this.payloadBytes);
  }
}
