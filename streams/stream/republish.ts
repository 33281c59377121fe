// Stream `republish`: every message the stream stores whose subject matches `src` is published
// again, right after it is stored, to the transformed subject, with headers saying where it is
// stored (nats-server processJetStreamMsg): Nats-Stream, Nats-Subject, Nats-Sequence,
// Nats-Time-Stamp and Nats-Last-Sequence (the previous sequence of that exact subject, 0 if none:
// lets a plain subscriber notice a gap), and with `headers_only` no payload but Nats-Msg-Size.
// KV buckets use it to push changes to plain subscribers.

import type { RePublish } from '../../protocol/jetstream-api.ts';
import { compileSubjectTransform, type SubjectTransform } from '../../protocol/subject-transform.ts';
import { formatTimeNs } from '../time.ts';
import type { TimeNs } from '../store/types.ts';
import { appendHeaderLines } from './header-block.ts';

const EMPTY = new Uint8Array(0);

export interface RepublishMsg {
  readonly subject: string;
  readonly hdr: Buffer;
  readonly data: Uint8Array;
}

export class Republisher {
  private readonly transform: SubjectTransform;
  private readonly headersOnly: boolean;
  private readonly streamName: string;

  /** Null when the config has no usable republish (validation refuses a bad one first). */
  static of(streamName: string, cfg: RePublish | undefined): Republisher | null {
    if (cfg === undefined) return null;
    const c = compileSubjectTransform(cfg.src ?? '>', cfg.dest);
    return c.ok && c.transform !== null ? new Republisher(streamName, c.transform, cfg.headers_only === true) : null;
  }

  private constructor(streamName: string, transform: SubjectTransform, headersOnly: boolean) {
    this.streamName = streamName;
    this.transform = transform;
    this.headersOnly = headersOnly;
  }

  /** Where a message stored on `subject` is republished, or undefined when it is not. */
  destination(subject: string): string | undefined {
    return this.transform.match(subject);
  }

  /** The message to publish to `dest` for a message stored at `seq`. */
  message(dest: string, seq: number, subject: string, timeNs: TimeNs, lastSeqOnSubject: number, hdr: Uint8Array | null, data: Uint8Array): RepublishMsg {
    let lines =
      `Nats-Stream: ${this.streamName}\r\nNats-Subject: ${subject}\r\nNats-Sequence: ${seq}\r\n` +
      `Nats-Time-Stamp: ${formatTimeNs(timeNs)}\r\nNats-Last-Sequence: ${lastSeqOnSubject}\r\n`;
    if (this.headersOnly) lines += `Nats-Msg-Size: ${data.length}\r\n`;
    return { subject: dest, hdr: appendHeaderLines(hdr, lines), data: this.headersOnly ? EMPTY : data };
  }
}
