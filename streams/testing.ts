// Test doubles for streams/: an in-memory MessageBus that routes by subject pattern and records
// everything published, so stream and API behaviour can be tested without a server.

import { subjectMatches } from '../protocol/subject.ts';
import type { BusHandler, BusSubscription, MessageBus } from './bus.ts';

export interface Published {
  subject: string;
  reply: string;
  hdr: Buffer | null;
  data: Buffer;
  /** publishAs only: where it was routed (subject is what the MSG line carried). */
  deliverSubject?: string;
}

interface Sub {
  subject: string;
  queue: string;
  handler: BusHandler;
  closed: boolean;
}

export class FakeBus implements MessageBus {
  readonly published: Published[] = [];
  private readonly subs: Sub[] = [];

  subscribe(subject: string, handler: BusHandler, queue = ''): BusSubscription {
    const sub: Sub = { subject, queue, handler, closed: false };
    this.subs.push(sub);
    return {
      unsubscribe: () => {
        sub.closed = true;
        const i = this.subs.indexOf(sub);
        if (i >= 0) this.subs.splice(i, 1);
      },
    };
  }

  /** Records the message and delivers it to matching subscriptions (one member per queue group). */
  publish(subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): number {
    const h = hdr === null || hdr.length === 0 ? null : Buffer.from(hdr);
    const d = Buffer.from(data);
    this.published.push({ subject, reply, hdr: h, data: d });
    const groups = new Set<string>();
    let n = 0;
    for (const s of [...this.subs]) {
      if (s.closed || !subjectMatches(s.subject, subject)) continue;
      if (s.queue !== '') {
        if (groups.has(s.queue)) continue;
        groups.add(s.queue);
      }
      s.handler(subject, reply, h, d);
      n++;
    }
    return n;
  }

  /** Like publish, routed by `deliverSubject`; recorded and handed over with `subject`. */
  publishAs(deliverSubject: string, subject: string, reply: string, hdr: Uint8Array | null, data: Uint8Array): number {
    const h = hdr === null || hdr.length === 0 ? null : Buffer.from(hdr);
    const d = Buffer.from(data);
    this.published.push({ subject, reply, hdr: h, data: d, deliverSubject });
    const groups = new Set<string>();
    let n = 0;
    for (const s of [...this.subs]) {
      if (s.closed || !subjectMatches(s.subject, deliverSubject)) continue;
      if (s.queue !== '') {
        if (groups.has(s.queue)) continue;
        groups.add(s.queue);
      }
      s.handler(subject, reply, h, d);
      n++;
    }
    return n;
  }

  hasInterest(subject: string): boolean {
    return this.subs.some((s) => !s.closed && subjectMatches(s.subject, subject));
  }

  subscriptionCount(): number {
    return this.subs.length;
  }

  subjects(): string[] {
    return this.subs.map((s) => s.subject);
  }

  /** Messages published to `subject`, parsed as JSON. */
  jsonTo(subject: string): unknown[] {
    return this.published.filter((p) => p.subject === subject).map((p) => JSON.parse(p.data.toString('utf8')));
  }
}

/** A NATS/1.0 header block from name/value pairs. */
export function hdrs(...pairs: [string, string][]): Buffer {
  let s = 'NATS/1.0\r\n';
  for (const [k, v] of pairs) s += `${k}: ${v}\r\n`;
  return Buffer.from(s + '\r\n', 'latin1');
}
