// One origin feeding one stream: a mirror, or one entry of `sources`. Knows which origin
// messages it wants (filter_subject or the subject_transforms' sources), how it renames them, the
// next origin sequence to copy and how to store a copied message in the target. The pumping and
// the origin's comings and goings are sourcing.ts's job.
//
// Design: docs/adr/0013-mirrors-and-sources.md.

import { createHash } from 'node:crypto';
import type { Clock } from '../../runtime/clock.ts';
import type { Logger } from '../../runtime/logger.ts';
import { compileSubjectTransform, type SubjectTransform } from '../../protocol/subject-transform.ts';
import { subjectMatches } from '../../protocol/subject.ts';
import type { StreamSource, StreamSourceInfo } from '../../protocol/jetstream-api.ts';
import { parseTimeNs } from '../time.ts';
import type { StoredMsg, TimeNs } from '../store/types.ts';
import type { Stream } from '../stream/stream.ts';
import { rewriteHeaderLines } from '../stream/header-block.ts';

/** The header a sourced message carries: "<origin> <origin seq> <filters> <destinations>". */
export const STREAM_SOURCE_HDR = 'Nats-Stream-Source';

interface Route {
  /** Origin subjects this route takes ('>' for all). */
  readonly filter: string;
  /** Renames them; null keeps the subject. */
  readonly transform: SubjectTransform | null;
}

/** Headers the origin's message loses when sourced: a previous hop's source, and expectations. */
function dropOnSource(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'nats-stream-source' || n.startsWith('nats-expected-');
}

export class SourceLink {
  readonly kind: 'mirror' | 'source';
  readonly config: StreamSource;
  readonly target: Stream;
  /**
   * nats-server's index name "<origin> <filters> <destinations>": what tells two sources of one
   * origin apart in the Nats-Stream-Source header, and so where each resumes.
   */
  readonly iname: string;
  /** The origin while it exists on this server; null while it does not. */
  origin: Stream | null = null;
  /** Next origin sequence to copy; 0 until a start was chosen. */
  nextSeq = 0;
  /** When the link last copied or found itself caught up (clock ms); -1 = never. */
  lastActiveMs = -1;
  /** A pump turn is scheduled. */
  scheduled = false;
  /** Bytes copied into the target since the link last waited for its commits (sourcing.ts). */
  uncommittedBytes = 0;
  /** The link waits for the target's commits before its next turn. */
  awaitingCommit = false;
  /** Stops following the origin's appends. */
  detach: (() => void) | null = null;
  /**
   * For an origin in another JetStream domain (`external`): what the link learnt from the
   * consumer feeding it (external-link.ts); null for an origin on this server.
   */
  remote: { lag(): number; lastActiveMs(): number } | null = null;
  private readonly routes: readonly Route[];
  /** The single filter handed to the store's iterator when there is one; undefined = read all. */
  private readonly storeFilter: string | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private warnedSeq = 0;
  /** A mirror's last stored sequence during a pump turn. */
  private mirrorLast = 0;
  /** During a pump turn: the origin's records can be stored in the target as they are. */
  private sameRecords = false;


  constructor(kind: 'mirror' | 'source', config: StreamSource, target: Stream, clock: Clock, logger: Logger) {
    this.kind = kind;
    this.config = config;
    this.target = target;
    this.clock = clock;
    this.logger = logger;
    const trs = config.subject_transforms ?? [];
    if (trs.length === 0) {
      this.routes = [{ filter: config.filter_subject || '>', transform: null }];
    } else {
      this.routes = trs.map((t) => {
        const filter = t.src || '>';
        const c = t.dest === '' ? null : compileSubjectTransform(filter, t.dest);
        // Validation refused transforms that do not compile.
        return { filter, transform: c !== null && c.ok ? c.transform : null };
      });
    }
    this.storeFilter = this.routes.length === 1 && this.routes[0]!.filter !== '>' ? this.routes[0]!.filter : undefined;
    const filters = this.routes.map((r) => r.filter).join('\f');
    const dests = trs.length === 0 ? '>' : trs.map((t) => t.dest || '>').join('\f');
    // An origin elsewhere is told apart by its API prefix: two edges' streams may share a name.
    const name = config.external === undefined ? config.name : `${config.name}:${nameHash(config.external.api)}`;
    this.iname = `${name} ${filters} ${dests}`;
  }

  /** The origin is in another JetStream domain (or behind another API prefix). */
  get isExternal(): boolean {
    return this.config.external !== undefined;
  }

  /** The origin's subject filters when it is read through a consumer: [] = everything. */
  get filters(): string[] {
    return this.routes.every((r) => r.filter === '>') ? [] : this.routes.map((r) => r.filter);
  }

  get originName(): string {
    return this.config.name;
  }

  /** The subject a message on `subject` is stored under, or undefined when this link skips it. */
  map(subject: string): string | undefined {
    for (const r of this.routes) {
      if (r.transform !== null) {
        const t = r.transform.match(subject);
        if (t !== undefined) return t;
      } else if (r.filter === '>' || subjectMatches(r.filter, subject)) {
        return subject;
      }
    }
    return undefined;
  }

  /** Where a link with no stored progress starts: opt_start_seq, opt_start_time, else the beginning. */
  initialSeq(origin: Stream): number {
    if (this.config.opt_start_seq !== undefined && this.config.opt_start_seq > 0) return this.config.opt_start_seq;
    if (this.config.opt_start_time !== undefined) {
      const t = parseTimeNs(this.config.opt_start_time);
      if (t !== undefined) {
        const st = origin.store.state();
        for (const m of origin.store.iterate(st.firstSeq)) if (m.timeNs >= t) return m.seq;
        return st.lastSeq + 1;
      }
    }
    return 1;
  }

  /** Origin sequences not looked at yet: cheaper than lag() (no counting), 0 when detached. */
  backlog(): number {
    const origin = this.origin;
    return origin === null ? 0 : Math.max(0, origin.store.state().lastSeq + 1 - this.nextSeq);
  }

  /** Origin messages this link still has to look at (nats-server reports its consumer's pending). */
  lag(): number {
    if (this.remote !== null) return this.remote.lag();
    const origin = this.origin;
    if (origin === null || this.nextSeq === 0) return 0;
    const from = Math.max(this.nextSeq, 1);
    let n = 0;
    for (const r of this.routes) n += origin.store.numPendingFrom(from, r.filter === '>' ? undefined : r.filter);
    return n;
  }

  info(nowMs: number): StreamSourceInfo {
    // Nanoseconds since the origin was last seen working: 0 while a local one is attached (the
    // copy runs in this process and is told of every append), since the last message or
    // heartbeat for a remote one, -1 when it never was.
    const last = this.remote !== null ? this.remote.lastActiveMs() : this.origin !== null ? nowMs : this.lastActiveMs;
    const out: StreamSourceInfo & { filter_subject?: string; subject_transforms?: StreamSource['subject_transforms'] } = {
      name: this.config.name,
      ...(this.config.external !== undefined ? { external: this.config.external } : {}),
      lag: this.lag(),
      active: last < 0 ? -1 : Math.max(0, nowMs - last) * 1_000_000,
    };
    if (this.config.filter_subject !== undefined) out.filter_subject = this.config.filter_subject;
    if (this.config.subject_transforms !== undefined) out.subject_transforms = this.config.subject_transforms;
    return out;
  }

  /**
   * Copies up to `maxMsgs` origin messages into the target, fewer when the origin's average
   * message is large enough for them to pass `maxBytes` (at least one). Returns true when more
   * are waiting.
   */
  pump(maxMsgs: number, maxBytes = Infinity): boolean {
    const origin = this.origin;
    if (origin === null || origin.isClosed || this.target.isClosed) return false;
    const before = origin.store.state();
    const avg = before.messages > 0 ? before.bytes / before.messages : 0;
    const max = avg > 0 ? Math.max(1, Math.min(maxMsgs, Math.floor(maxBytes / avg))) : maxMsgs;
    if (this.nextSeq > before.lastSeq + 1) {
      // The origin is behind where this link got to: it was deleted and made again (or its
      // sequences otherwise restarted). Its messages are new ones: start from its beginning.
      this.logger.warn({ stream: this.target.name, origin: this.config.name, next: this.nextSeq, origin_last: before.lastSeq }, 'origin restarted its sequences; copying from its start');
      this.nextSeq = Math.max(before.firstSeq, 1);
    }
    // A mirror stores only sequences above its own last one (after a restarted origin, the ones it
    // already has are skipped); read once per turn, the link being the mirror's only writer.
    this.mirrorLast = this.kind === 'mirror' ? this.target.store.state().lastSeq : 0;
    const format = origin.store.recordFormat;
    this.sameRecords = format !== null && format === this.target.store.recordFormat;
    let n = 0;
    if (this.storeFilter === undefined) {
      // A run of sequences read in one go (LMDB: one cursor over the committed records), several
      // times cheaper per message than the store's iterator, which finds each next message anew.
      // Every sequence of the run counts toward the turn, so a long run of deleted ones yields too.
      const last = before.lastSeq;
      const from = Math.max(this.nextSeq, before.firstSeq);
      const to = Math.min(last, from + max - 1);
      // A full turn with more behind it is a catch-up: its copies stay out of the target's read
      // cache (StreamStore.bulkAppends). The last turn's, the newest messages, go in as any
      // append does, unless they share a commit with a bulk turn's.
      const bulk = to < last;
      if (bulk) this.target.store.bulkAppends(true);
      try {
        if (from <= to) origin.store.visitRange(from, to, this.copyMsg);
      } finally {
        if (bulk) this.target.store.bulkAppends(false);
      }
      this.nextSeq = Math.max(from, to + 1);
      if (to < last) return true;
    } else {
      for (const m of origin.store.iterate(this.nextSeq, this.storeFilter)) {
        if (n >= max) return true;
        this.copy(m);
        this.nextSeq = m.seq + 1;
        n++;
      }
    }
    // Nothing left below the origin's last sequence (deleted or filtered messages included).
    const last = origin.store.state().lastSeq;
    if (this.nextSeq <= last) this.nextSeq = last + 1;
    this.lastActiveMs = this.clock.nowMs();
    return false;
  }

  private readonly copyMsg = (m: StoredMsg): void => this.copy(m);

  private copy(m: StoredMsg): void {
    this.uncommittedBytes += m.record !== undefined ? m.record.length : m.subject.length + (m.hdr?.length ?? 0) + m.data.length;
    // The origin's record is the mirror's too unless a transform renamed the subject.
    this.store(m.seq, m.timeNs, m.subject, m.hdr, m.data, this.sameRecords ? m.record : undefined);
  }

  /**
   * Stores origin message `seq` in the target (renamed, or skipped when this link does not take
   * its subject): a mirror at the same sequence and time, above its last one only; a source
   * through the publish path with the Nats-Stream-Source header. Also how a remote origin's
   * messages arrive (external-link.ts), with `mirrorLast` read from the target each time.
   */
  store(seq: number, timeNs: TimeNs, originSubject: string, hdr: Uint8Array | null, data: Uint8Array, record?: Uint8Array): void {
    const subject = this.map(originSubject);
    if (subject === undefined) return;
    if (this.kind === 'mirror') {
      const rec = subject === originSubject ? record : undefined;
      if (seq > this.mirrorLast && this.target.applyMirrored(seq, timeNs, subject, hdr, data, rec)) this.mirrorLast = seq;
      return;
    }
    const h = rewriteHeaderLines(hdr, dropOnSource, `${STREAM_SOURCE_HDR}: ${this.sourceHeader(seq)}\r\n`);
    const decided = this.target.ingestSourced(subject, h, data);
    if (decided.kind === 'rejected' && this.warnedSeq !== seq) {
      // A limit of the target (discard new) refused it: the message is skipped, as nats-server
      // logs and moves on for everything but a full max_msgs.
      this.warnedSeq = seq;
      this.logger.warn({ stream: this.target.name, source: this.config.name, seq, err: decided.error.description }, 'sourced message not stored');
    }
  }

  /** A remote origin's message is about to be stored: the mirror's last sequence, read now. */
  beginRemoteStore(): void {
    if (this.kind === 'mirror') this.mirrorLast = this.target.store.state().lastSeq;
  }

  private sourceHeader(seq: number): string {
    const [name, filters, dests] = this.iname.split(' ');
    return `${name} ${seq} ${filters} ${dests}`;
  }
}


const HASH_DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** nats-server's getHash: 8 base-62 digits from the SHA-256 of `name` (here an API prefix). */
export function nameHash(name: string): string {
  const sum = createHash('sha256').update(name).digest();
  let out = '';
  for (let i = 0; i < 8; i++) out += HASH_DIGITS[sum[i]! % 62];
  return out;
}

/** Parses a Nats-Stream-Source value into the index name and origin sequence. */
export function parseSourceHeader(value: string): { iname: string; seq: number } | undefined {
  const f = value.split(' ');
  if (f.length < 4) return undefined;
  const seq = Number(f[1]);
  if (!Number.isSafeInteger(seq) || seq <= 0) return undefined;
  return { iname: `${f[0]} ${f[2]} ${f[3]}`, seq };
}
