// Publishing many JetStream messages quickly but with every PubAck checked: windows of 500
// publishes in flight.

import type { JetStreamClient } from '@nats-io/jetstream';

export async function publishMany(js: JetStreamClient, subjectOf: (i: number) => string, n: number, from = 0): Promise<void> {
  const WINDOW = 500;
  for (let i = from; i < from + n; i += WINDOW) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(i + WINDOW, from + n); j++) batch.push(js.publish(subjectOf(j), `m${j}`));
    await Promise.all(batch);
  }
}
