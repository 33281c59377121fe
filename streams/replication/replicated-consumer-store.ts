// Consumers of replicated streams, ephemerals included (ADR 0010 step 9). They run on the
// stream's leader; what a single server would write to `sluice:consumers` (a config record, a
// state snapshot, a removal) is instead proposed to the stream's own Raft log, and every replica,
// the leader included, writes it into its copy (`sluice:replica-consumers`) when the entry
// applies. Whichever replica leads next restores the stream's consumers from that copy.
//
// The copy is also kept in memory: lmdb-js writes become readable only once their transaction
// commits, while a new leader restores its consumers right after applying the last entries.
//
// A write "completes" (an ack reply goes out, a CREATE is answered) once its entry is committed
// and applied on the leader, never when it is only proposed.

import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { StateSnapshot } from '../consumer/ack-state.ts';
import {
  ConsumerStore,
  configKey,
  stateKey,
  type ConsumerRecord,
  type LoadedConsumer,
  type StateWriter,
  type Waiter,
} from '../consumer/persistence.ts';
import type { LmdbEnvironment, SyncMode } from '../store/lmdb-env.ts';
import type { ConsumerLogOp } from './op-codec.ts';

const DB_NAME = 'sluice:replica-consumers';

/** Proposes a consumer entry to a stream's log; resolves once it is committed and applied here. */
export type ConsumerLogProposer = (stream: string, op: ConsumerLogOp) => Promise<void>;

interface Copy {
  record: ConsumerRecord;
  state: StateSnapshot | undefined;
}

export class ReplicatedConsumerStore extends ConsumerStore {
  private readonly propose: ConsumerLogProposer;
  /** stream -> consumer -> its record and last state, as the log says. */
  private readonly copies = new Map<string, Map<string, Copy>>();

  constructor(env: LmdbEnvironment, sync: SyncMode, clock: Clock, logger: Logger, propose: ConsumerLogProposer) {
    super(env, sync, clock, logger, DB_NAME);
    this.propose = propose;
    for (const loaded of super.loadAll()) this.copyOf(loaded.record.stream).set(loaded.record.name, { record: loaded.record, state: loaded.state });
  }

  private copyOf(stream: string): Map<string, Copy> {
    let m = this.copies.get(stream);
    if (m === undefined) {
      m = new Map();
      this.copies.set(stream, m);
    }
    return m;
  }

  /** Nothing is restored at start-up: a stream's consumers come back when a replica leads it. */
  override loadAll(): LoadedConsumer[] {
    return [];
  }

  /** The consumers a new leader of `stream` restores. */
  load(stream: string): LoadedConsumer[] {
    return [...(this.copies.get(stream)?.values() ?? [])].map((c) => ({ record: c.record, state: c.state }));
  }

  // ---- writes go through the log ----------------------------------------------------------

  /**
   * A writer is released when its consumer stops here: its leader moved on (or the stream went).
   * Whatever it had not written is not in the log, so an ack waiting for it is not confirmed.
   */
  protected override get abandonOnRelease(): boolean {
    return true;
  }

  override saveConfig(rec: ConsumerRecord): Promise<void> {
    return this.propose(rec.stream, { op: 'consumer-put', record: rec });
  }

  override remove(stream: string, name: string): Promise<void> {
    return this.propose(stream, { op: 'consumer-del', stream, name });
  }

  override put(w: StateWriter, state: StateSnapshot, waiter: Waiter | null): void {
    this.propose(w.streamName, { op: 'consumer-state', stream: w.streamName, name: w.consumerName, state }).then(
      () => waiter?.resolve(),
      (err: unknown) => {
        // Usually leadership moved on: the next leader restores the last committed state, and
        // whatever this write carried is redelivered (at-least-once).
        this.logger.debug({ stream: w.streamName, consumer: w.consumerName, err: String(err) }, 'consumer state not replicated');
        waiter?.reject(err);
      },
    );
  }

  // ---- every replica, as entries apply -----------------------------------------------------

  /** Writes a committed consumer entry into this replica's copy (same LMDB transaction as the applied index). */
  apply(op: ConsumerLogOp): void {
    switch (op.op) {
      case 'consumer-put': {
        const copies = this.copyOf(op.record.stream);
        const had = copies.get(op.record.name);
        copies.set(op.record.name, { record: op.record, state: had?.state });
        void this.db.put(configKey(op.record.stream, op.record.name), op.record);
        break;
      }
      case 'consumer-state': {
        const copy = this.copies.get(op.stream)?.get(op.name);
        // A state entry behind a removal (proposed before it, applied after) is moot.
        if (copy === undefined) return;
        copy.state = op.state;
        void this.db.put(stateKey(op.stream, op.name), op.state);
        break;
      }
      case 'consumer-del':
        this.copies.get(op.stream)?.delete(op.name);
        void this.db.remove(configKey(op.stream, op.name));
        void this.db.remove(stateKey(op.stream, op.name));
        break;
    }
  }

  /** The stream's consumers as its leader had them (a replica that copied the stream). */
  replaceStream(stream: string, consumers: readonly LoadedConsumer[]): void {
    this.dropStream(stream);
    for (const c of consumers) {
      this.apply({ op: 'consumer-put', record: c.record });
      if (c.state !== undefined) this.apply({ op: 'consumer-state', stream, name: c.record.name, state: c.state });
    }
  }

  /** The stream is gone: so are its consumers' copies. */
  dropStream(stream: string): void {
    const copies = this.copies.get(stream);
    this.copies.delete(stream);
    for (const name of copies?.keys() ?? []) {
      void this.db.remove(configKey(stream, name));
      void this.db.remove(stateKey(stream, name));
    }
  }
}
