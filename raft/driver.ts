// RaftDriver: the only effectful part of raft/. It turns a pure RaftNode into a running member:
// ticks from a Clock, messages out through a Transport, durable state into a Storage, committed
// entries into the application — in the order the Ready contract (types.ts) requires:
//
//   persist (snapshot, entries, hard state)  →  send messages  →  apply  →  advance
//
// It is deliberately generic and small; the cluster layer supplies the Transport (msgpackr
// frames over routes) and the Applier (the replicated stream).

import type { Clock, TimerHandle } from '../runtime/clock.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import type { RaftNode } from './raft.ts';
import type { Storage } from './storage.ts';
import type { Entry, Message, ReadState, Snapshot, SoftState } from './types.ts';

export interface Transport {
  /** Best-effort delivery to `m.to` for each message; loss, delay and reordering are tolerated. */
  send(messages: readonly Message[]): void;
}

export interface Applier {
  /** Replace the state machine with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void | Promise<void>;
  /** Apply committed entries, in order. Conf-change entries are already in force inside raft. */
  applyEntries(entries: readonly Entry[]): void | Promise<void>;
  /** Read-index answers: serve each read once the applied index reaches `index`. */
  onReadStates?(readStates: readonly ReadState[]): void;
  /** Leader or role changed. */
  onSoftState?(softState: SoftState): void;
}

export interface RaftDriverOptions {
  readonly node: RaftNode;
  readonly storage: Storage;
  readonly transport: Transport;
  readonly applier: Applier;
  readonly clock: Clock;
  readonly tickMs: number;
  readonly logger?: Logger;
  /** Called once if persisting or applying fails; the driver has stopped by then. */
  readonly onFatal?: (err: unknown) => void;
}

export class RaftDriver {
  private readonly opts: RaftDriverOptions;
  private readonly logger: Logger;
  private ticker: TimerHandle | null = null;
  private scheduled: TimerHandle | null = null;
  private pumping: Promise<void> | null = null;
  private stopped = false;

  constructor(opts: RaftDriverOptions) {
    this.opts = opts;
    this.logger = opts.logger ?? silentLogger;
  }

  get node(): RaftNode {
    return this.opts.node;
  }

  start(): void {
    if (this.ticker !== null || this.stopped) return;
    this.ticker = this.opts.clock.setInterval(() => {
      this.opts.node.tick();
      this.kick();
    }, this.opts.tickMs);
    this.kick();
  }

  /** Stops ticking and waits for the Ready being processed, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ticker?.cancel();
    this.ticker = null;
    this.scheduled?.cancel();
    this.scheduled = null;
    if (this.pumping !== null) await this.pumping;
  }

  /** Resolves when no Ready is being processed (for orderly shutdown and tests). */
  async whenIdle(): Promise<void> {
    while (this.pumping !== null) await this.pumping;
  }

  /** A message from a peer. */
  receive(m: Message): void {
    if (this.stopped) return;
    this.opts.node.step(m);
    this.kick();
  }

  /** Runs a request against the node (propose, readIndex, transferLeadership, ...). */
  withNode<T>(fn: (node: RaftNode) => T): T {
    const out = fn(this.opts.node);
    this.kick();
    return out;
  }

  /** Processes pending Ready batches soon (once per turn, however many inputs arrived). */
  private kick(): void {
    if (this.stopped || this.scheduled !== null || this.pumping !== null) return;
    this.scheduled = this.opts.clock.setImmediate(() => {
      this.scheduled = null;
      this.pumping = this.pump().finally(() => {
        this.pumping = null;
        if (!this.stopped && this.opts.node.hasReady()) this.kick();
      });
    });
  }

  private async pump(): Promise<void> {
    const { node, storage, transport, applier } = this.opts;
    try {
      while (!this.stopped && node.hasReady()) {
        const rd = node.ready();
        // 1. Durable first: nothing below may promise what a crash could take back.
        await storage.save({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot });
        // 2. Then talk.
        if (rd.messages.length > 0) transport.send(rd.messages);
        // 3. Then apply (every committed entry is durable locally by now).
        if (rd.softState !== null) applier.onSoftState?.(rd.softState);
        if (rd.snapshot !== null) await applier.applySnapshot(rd.snapshot);
        if (rd.committedEntries.length > 0) await applier.applyEntries(rd.committedEntries);
        if (rd.readStates.length > 0) applier.onReadStates?.(rd.readStates);
        node.advance(rd);
      }
    } catch (err) {
      this.logger.error({ err, node: node.id }, 'raft driver stopped: persist or apply failed');
      this.stopped = true;
      this.ticker?.cancel();
      this.ticker = null;
      this.opts.onFatal?.(err);
    }
  }
}
