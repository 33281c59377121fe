// Virtual time for JetStream's timers (ack_wait, backoff, heartbeats, expires, inactivity): time
// moves only when a test calls advance(). setImmediate stays real, because it only means "after
// the current I/O" (a consumer continuing a long delivery pass), never a duration.

import { ManualClock, type TimerHandle } from '../../runtime/clock.ts';

export class VirtualClock extends ManualClock {
  override setImmediate(fn: () => void): TimerHandle {
    const t = setImmediate(fn);
    return { cancel: () => clearImmediate(t) };
  }
}
