// What a link to another server (a route, a leaf node connection) does whatever its protocol:
// one outbound buffer written once per turn through the Flusher, a slow peer cut at max_pending,
// producers held while the socket drains, keep-alive PINGs with a limit on unanswered ones, the
// round trip of the last answered one, and closing that cannot hang on a peer that stopped
// reading. RouteLink (server/cluster/route.ts) and LeafLink (server/leafnode/link.ts) add their
// handshake, their frames and what their host is told.

import type { Duplex } from 'node:stream';
import { OutboundBuffer } from '../../protocol/encoder.ts';
import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import { StalledProducers, type StalledProducer } from '../router/subscription.ts';
import type { Flushable, Flusher } from './flusher.ts';

/** Above this much in the socket's own buffer, the link counts as congested (producers are held). */
const STALL_THRESHOLD_BYTES = 4 * 1024 * 1024;
/** A closed link whose peer stopped reading is destroyed after this long. */
const END_GRACE_MS = 1000;

export interface PeerLinkHost {
  readonly flusher: Flusher;
  readonly clock: Clock;
  readonly pingIntervalMs: number;
  readonly maxPingsOutstanding: number;
  readonly maxPendingBytes: number;
}

export abstract class PeerLink implements Flushable {
  queuedForFlush = false;
  congested = false;
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  lastActivityMs: number;
  /** Round trip of the last answered PING, ms (-1 = none yet). */
  rttMs = -1;

  protected readonly out = new OutboundBuffer();
  protected closeReason = '';
  private pingTimer: TimerHandle | undefined;
  private pingsOutstanding = 0;
  private pingSentMs = 0;
  private readonly stalledProducers = new StalledProducers();

  protected constructor(
    protected readonly linkHost: PeerLinkHost,
    protected socket: Duplex,
  ) {
    this.lastActivityMs = linkHost.clock.nowMs();
  }

  /** True once the link is closed (nothing is written any more). */
  protected abstract get isClosed(): boolean;
  /** Closes the link because the peer does not read what is queued for it. */
  protected abstract closeSlow(): void;
  /** Closes the link because PINGs went unanswered. */
  protected abstract closeStale(): void;
  /** Appends this protocol's PING to `out`. */
  protected abstract writePing(): void;

  /** Pending outbound bytes (ours plus the socket's), for /routez and /leafz. */
  get pendingBytes(): number {
    return this.out.length + this.socket.writableLength;
  }

  holdProducer(producer: StalledProducer): void {
    this.stalledProducers.hold(producer);
  }

  flush(): void {
    if (this.isClosed) return;
    const n = this.out.length;
    if (n === 0) return;
    if (this.socket.writableLength + n > this.linkHost.maxPendingBytes) {
      this.out.length = 0;
      this.closeSlow();
      return;
    }
    this.socket.write(this.out.take());
    if (!this.congested && this.socket.writableLength > STALL_THRESHOLD_BYTES) this.congested = true;
  }

  /** The peer answered a PING. */
  pong(): void {
    this.pingsOutstanding = 0;
    if (this.pingSentMs > 0) this.rttMs = this.linkHost.clock.nowMs() - this.pingSentMs;
  }

  /** The handshake is done: PING every ping interval from now on. */
  protected startKeepAlive(): void {
    this.pingTimer = this.linkHost.clock.setInterval(() => this.keepAlive(), this.linkHost.pingIntervalMs);
  }

  /** Flushes what is queued and ends the socket; one whose peer stopped reading is destroyed soon after. */
  protected endSocket(): void {
    this.flush();
    const socket = this.socket;
    socket.end();
    const t = this.linkHost.clock.setTimeout(() => socket.destroy(), END_GRACE_MS);
    socket.once('close', () => t.cancel());
  }

  /** The socket drained: held producers go on. */
  protected onDrain(): void {
    this.congested = false;
    this.stalledProducers.releaseAll();
  }

  /** Teardown shared by every link: no more PINGs, nobody left held. */
  protected stopLink(): void {
    this.pingTimer?.cancel();
    this.onDrain();
  }

  private keepAlive(): void {
    if (this.pingsOutstanding >= this.linkHost.maxPingsOutstanding) {
      this.closeStale();
      return;
    }
    this.pingsOutstanding++;
    this.pingSentMs = this.linkHost.clock.nowMs();
    this.writePing();
    this.flush();
  }
}
