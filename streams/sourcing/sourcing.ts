// Mirrors and sources between the streams of this server. Follows every stream through the
// manager's lifecycle: a stream with `mirror` or `sources` gets one SourceLink per origin; a link
// attaches to its origin while that stream exists (as an observer of its appends), copies what it
// has not copied yet in bounded turns, and detaches when the origin goes away, to pick up again
// where it left off (or from the start of a recreated origin) when it comes back.
//
// Where a link resumes after a restart is read from the target's own store, so it can never
// disagree with what was stored: a mirror holds its origin's sequences (resume after its last),
// a sourced message carries "Nats-Stream-Source: <origin> <seq> ..." (resume after the newest one
// per source, found scanning back from the end). Design: docs/adr/0013-mirrors-and-sources.md.

import type { Clock, TimerHandle } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { steadyWorkStarting } from '../../runtime/steady-work.ts';
import { findHeaderValue } from '../../protocol/headers.ts';
import type { StreamConfig, StreamSourceInfo } from '../../protocol/jetstream-api.ts';
import type { StreamLifecycle } from '../manager.ts';
import type { Stream } from '../stream/stream.ts';
import type { MessageBus } from '../bus.ts';
import { ExternalLink } from './external-link.ts';
import { SourceLink, STREAM_SOURCE_HDR, parseSourceHeader } from './source-link.ts';

/** Messages one link copies per event-loop turn before yielding to I/O. */
export const PUMP_BATCH = 4096;
/**
 * A backlog at least this long (origin sequences still to copy after a turn) is steady work: the
 * process owner is told so (runtime/steady-work.ts) and may size its heap for it.
 */
export const STEADY_BACKLOG = 10 * PUMP_BATCH;
/**
 * About this many bytes per turn at most: a turn of large messages copies fewer of them (by the
 * origin's average message size), so one turn of 4,096 1 MiB messages never queues 4 GiB for one
 * commit.
 */
export const PUMP_TURN_BYTES = 8 * 1024 * 1024;
/**
 * Bytes a link may copy ahead of its target's commits. The target's store holds every copied
 * record in memory until its transaction commits; a catch-up that outran a slow writer (a slow
 * disk, `durable` sync) would otherwise grow without bound. Past it, the next turn waits for the
 * target's durable(). A 200,000 x 128 B mirror (js-mirror) never reaches it.
 */
export const MAX_UNCOMMITTED_BYTES = 64 * 1024 * 1024;

export interface SourcingDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** A mirror with mirror_direct caught up with its origin: serve the origin's direct gets too. */
  readonly mirrorCaughtUp?: (mirror: Stream, origin: string) => void;
  /** Reaches origins in other JetStream domains (`external`) through their API prefix. */
  readonly bus?: MessageBus;
  /** Tests: MAX_UNCOMMITTED_BYTES and PUMP_TURN_BYTES made smaller. */
  readonly maxUncommittedBytes?: number;
  readonly pumpTurnBytes?: number;
}

export class StreamSourcing implements StreamLifecycle {
  private readonly deps: SourcingDeps;
  private readonly logger: Logger;
  /** Links by target stream name. */
  private readonly targets = new Map<string, SourceLink[]>();
  /** Streams of this server by name (every stream is announced through the lifecycle). */
  private readonly streams = new Map<string, Stream>();
  /** The consumer-fed links of origins elsewhere (external-link.ts), by link. */
  private readonly remotes = new Map<SourceLink, ExternalLink>();
  private readonly timers = new Set<TimerHandle>();
  private closed = false;

  constructor(deps: SourcingDeps) {
    this.deps = deps;
    this.logger = deps.logger.child({ component: 'sourcing' });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  added(stream: Stream): void {
    this.streams.set(stream.name, stream);
    // Links waiting for this stream as their origin.
    for (const links of this.targets.values()) for (const l of links) if (!l.isExternal && l.originName === stream.name && l.origin === null) this.attach(l, stream);
    this.startTarget(stream);
  }

  updated(stream: Stream, previous: StreamConfig): void {
    const same = JSON.stringify(previous.sources ?? null) === JSON.stringify(stream.config.sources ?? null);
    if (same) return;
    this.stopTarget(stream.name);
    this.startTarget(stream);
  }

  removed(stream: Stream): void {
    this.streams.delete(stream.name);
    this.stopTarget(stream.name);
    for (const links of this.targets.values()) {
      for (const l of links) {
        if (l.origin !== stream) continue;
        this.detachLink(l);
        // A stream made again under this name is a new origin: copy it from its start.
        l.nextSeq = 0;
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const name of [...this.targets.keys()]) this.stopTarget(name);
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  // ---- info --------------------------------------------------------------------------------

  /** StreamInfo's `mirror` / `sources` for `stream`, if it has any. */
  info(stream: string): { mirror?: StreamSourceInfo; sources?: StreamSourceInfo[] } {
    const links = this.targets.get(stream);
    if (links === undefined) return {};
    const now = this.deps.clock.nowMs();
    if (links[0]?.kind === 'mirror') return { mirror: links[0].info(now) };
    return { sources: links.map((l) => l.info(now)) };
  }

  // ---- links -------------------------------------------------------------------------------

  private startTarget(stream: Stream): void {
    const cfg = stream.config;
    const links: SourceLink[] = [];
    const logger = this.logger.child({ stream: stream.name });
    if (cfg.mirror !== undefined) links.push(new SourceLink('mirror', cfg.mirror, stream, this.deps.clock, logger));
    for (const s of cfg.sources ?? []) links.push(new SourceLink('source', s, stream, this.deps.clock, logger));
    if (links.length === 0) return;
    this.targets.set(stream.name, links);
    this.resumePoints(stream, links);
    for (const l of links) {
      if (l.isExternal) {
        this.startRemote(l);
        continue;
      }
      const origin = this.streams.get(l.originName);
      if (origin !== undefined) this.attach(l, origin);
    }
  }

  private stopTarget(name: string): void {
    for (const l of this.targets.get(name) ?? []) {
      this.detachLink(l);
      this.remotes.get(l)?.stop();
      this.remotes.delete(l);
    }
    this.targets.delete(name);
  }

  /** An origin behind another API prefix: followed through a consumer there (external-link.ts). */
  private startRemote(l: SourceLink): void {
    const bus = this.deps.bus;
    if (bus === undefined || this.closed) return;
    const remote = new ExternalLink(l, { bus, clock: this.deps.clock, logger: this.logger.child({ stream: l.target.name }) });
    this.remotes.set(l, remote);
    remote.start();
  }

  /** Where each link continues, read from what the target already stored. */
  private resumePoints(target: Stream, links: readonly SourceLink[]): void {
    const st = target.store.state();
    if (st.lastSeq === 0) return;
    if (links[0]!.kind === 'mirror') {
      links[0]!.nextSeq = st.lastSeq + 1;
      return;
    }
    const byName = new Map(links.map((l) => [l.iname, l]));
    let missing = links.length;
    // Newest first; stop once every source has its position.
    for (let seq = st.lastSeq; seq >= st.firstSeq && missing > 0; seq--) {
      const m = target.store.get(seq);
      if (m === undefined || m.hdr === null) continue;
      const v = findHeaderValue(m.hdr, STREAM_SOURCE_HDR);
      if (v === undefined) continue;
      const parsed = parseSourceHeader(v);
      const l = parsed === undefined ? undefined : byName.get(parsed.iname);
      if (l === undefined || l.nextSeq !== 0) continue;
      l.nextSeq = parsed!.seq + 1;
      missing--;
    }
  }

  private attach(l: SourceLink, origin: Stream): void {
    if (l.origin !== null || this.closed) return;
    l.origin = origin;
    if (l.nextSeq === 0) l.nextSeq = l.initialSeq(origin);
    l.detach = origin.addObserver({ onAppend: () => this.schedule(l) });
    this.schedule(l);
  }

  private detachLink(l: SourceLink): void {
    l.detach?.();
    l.detach = null;
    if (l.origin !== null) l.lastActiveMs = this.deps.clock.nowMs();
    l.origin = null;
  }

  /** One pump turn per link at a time, after the current I/O: appends are copied in batches. */
  private schedule(l: SourceLink): void {
    if (l.scheduled || l.awaitingCommit || this.closed) return;
    l.scheduled = true;
    const t = this.deps.clock.setImmediate(() => {
      this.timers.delete(t);
      l.scheduled = false;
      if (l.origin === null || this.closed) return;
      let more = false;
      try {
        more = l.pump(PUMP_BATCH, this.deps.pumpTurnBytes ?? PUMP_TURN_BYTES);
      } catch (err) {
        this.logger.error({ stream: l.target.name, origin: l.originName, err: String(err) }, 'copying from origin failed');
        return;
      }
      if (more) {
        if (l.backlog() >= STEADY_BACKLOG) steadyWorkStarting();
        if (l.uncommittedBytes >= (this.deps.maxUncommittedBytes ?? MAX_UNCOMMITTED_BYTES)) this.resumeAfterCommit(l);
        else this.schedule(l);
      } else {
        // Caught up: what follows comes at the origin's own pace, which its commits bound.
        l.uncommittedBytes = 0;
        if (l.kind === 'mirror' && l.target.config.mirror_direct) this.deps.mirrorCaughtUp?.(l.target, l.originName);
      }
    });
    this.timers.add(t);
  }

  /** The link has copied MAX_UNCOMMITTED_BYTES ahead of the target's commits: go on once they land. */
  private resumeAfterCommit(l: SourceLink): void {
    l.awaitingCommit = true;
    const resume = (): void => {
      l.awaitingCommit = false;
      l.uncommittedBytes = 0;
      this.schedule(l);
    };
    l.target.durable().then(resume, (err: unknown) => {
      // The target's own publishes report a failed commit; the link tries again from where it is.
      this.logger.warn({ stream: l.target.name, origin: l.originName, err: String(err) }, 'target commit failed while copying');
      resume();
    });
  }
}
