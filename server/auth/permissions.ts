// Publish/subscribe authorization with nats-server's rules:
//   - no `allow` list = everything allowed; `deny` overrides `allow`;
//   - allow_responses turns the blanket publish allow off (when no publish allow list is given)
//     and lets a connection answer the reply subjects of requests it received, `maxMsgs` times
//     within `expiresMs` (defaults 1 and 2 minutes);
//   - a SUB on a wildcard that merely overlaps a denied subject is allowed, and the denied subjects
//     are filtered out at delivery (nats-server's "deny filter"), so nothing denied is delivered.
//
// Permissions (the compiled, immutable rules of one user) are shared by that user's connections
// and memoise subject decisions in bounded maps: the publish hot path is one Map lookup (or one
// string compare when the subject repeats). ConnectionPermissions adds the per-connection state
// (reply subjects received, whether the deny filter is active).

import { hasWildcard, isSubsetOf, subjectMatches, subjectsCollide } from '../../protocol/subject.ts';
import type { PermissionsConfig, SubjectPermissionConfig } from './users.ts';

export const DEFAULT_ALLOW_RESPONSE_MAX_MSGS = 1;
export const DEFAULT_ALLOW_RESPONSE_EXPIRES_MS = 2 * 60 * 1000;
/** Entries in a decision cache before it is cleared (a cache, not a record: clearing is cheap). */
export const PERMISSION_CACHE_MAX_ENTRIES = 1024;
/** Reply subjects remembered per connection for allow_responses (nats-server: replyPermLimit). */
export const REPLY_PERMISSION_MAX_ENTRIES = 4096;

interface SubRule {
  readonly subject: string;
  /** Queue group pattern; '' = a plain entry. */
  readonly queue: string;
}

export const SubscribeDecision = {
  Allow: 0,
  Deny: 1,
  /** Allowed, but some subjects it covers are denied: filter them at delivery. */
  AllowFiltered: 2,
} as const;
export type SubscribeDecision = (typeof SubscribeDecision)[keyof typeof SubscribeDecision];

export interface ResponsePermission {
  /** <= 0 = unlimited. */
  readonly maxMsgs: number;
  /** <= 0 = never expires. */
  readonly expiresMs: number;
}

function parseSubRules(list: readonly string[]): SubRule[] {
  return list.map((entry) => {
    const [subject, queue = ''] = entry.trim().split(/\s+/);
    return { subject: subject!, queue };
  });
}

function queueMatches(queue: string, pattern: string): boolean {
  return queue === pattern || (hasWildcard(pattern) && isSubsetOf(queue, pattern));
}

export class Permissions {
  /** undefined = every subject allowed (before deny). */
  readonly pubAllow: readonly string[] | undefined;
  readonly pubDeny: readonly string[];
  readonly subAllow: readonly SubRule[] | undefined;
  readonly subDeny: readonly SubRule[];
  readonly responses: ResponsePermission | undefined;
  /** False when publishing is unrestricted: connections then skip the publish check entirely. */
  readonly restrictsPublish: boolean;
  private readonly pubCache = new Map<string, boolean>();
  private readonly deliveryCache = new Map<string, boolean>();
  private lastPubSubject = '';
  private lastPubAllowed = true;

  constructor(cfg: PermissionsConfig) {
    const pub: SubjectPermissionConfig = cfg.publish ?? {};
    const sub: SubjectPermissionConfig = cfg.subscribe ?? {};
    const r = cfg.allowResponses;
    if (r === undefined || r === false) {
      this.responses = undefined;
    } else {
      const o = r === true ? {} : r;
      // 0 means "the default", as in nats-server; negative means unlimited.
      this.responses = {
        maxMsgs: o.maxMsgs === undefined || o.maxMsgs === 0 ? DEFAULT_ALLOW_RESPONSE_MAX_MSGS : o.maxMsgs,
        expiresMs: o.expiresMs === undefined || o.expiresMs === 0 ? DEFAULT_ALLOW_RESPONSE_EXPIRES_MS : o.expiresMs,
      };
    }
    // allow_responses without a publish allow list means "only responses" (nats-server turns the
    // blanket allow off).
    this.pubAllow = pub.allow !== undefined ? [...pub.allow] : this.responses !== undefined ? [] : undefined;
    this.pubDeny = [...(pub.deny ?? [])];
    this.subAllow = sub.allow !== undefined ? parseSubRules(sub.allow) : undefined;
    this.subDeny = parseSubRules(sub.deny ?? []);
    this.restrictsPublish = this.pubAllow !== undefined || this.pubDeny.length > 0;
  }

  /** The static publish rule for a literal subject (allow_responses is the connection's part). */
  publishAllowed(subject: string): boolean {
    if (subject === this.lastPubSubject) return this.lastPubAllowed;
    let allowed = this.pubCache.get(subject);
    if (allowed === undefined) {
      allowed = this.computePublish(subject);
      if (this.pubCache.size >= PERMISSION_CACHE_MAX_ENTRIES) this.pubCache.clear();
      this.pubCache.set(subject, allowed);
    }
    this.lastPubSubject = subject;
    this.lastPubAllowed = allowed;
    return allowed;
  }

  private computePublish(subject: string): boolean {
    const allow = this.pubAllow;
    if (allow !== undefined && !allow.some((p) => subjectMatches(p, subject))) return false;
    return !this.pubDeny.some((p) => subjectMatches(p, subject));
  }

  /**
   * SUB `subject` (possibly a wildcard) in `queue` ('' = none). A wildcard SUB is allowed when an
   * allow entry covers all of it, and denied when a deny entry covers all of it. As in
   * nats-server, when queue entries cover the subject, a queue SUB is judged by them alone.
   */
  subscribeDecision(subject: string, queue: string): SubscribeDecision {
    const allow = this.subAllow;
    if (allow !== undefined) {
      let queueRuled = false;
      let allowed = false;
      if (queue !== '') {
        for (const r of allow) {
          if (r.queue === '' || !isSubsetOf(subject, r.subject)) continue;
          queueRuled = true;
          if (queueMatches(queue, r.queue)) allowed = true;
        }
      }
      if (!queueRuled) allowed = allow.some((r) => r.queue === '' && isSubsetOf(subject, r.subject));
      if (!allowed) return SubscribeDecision.Deny;
    }
    let overlaps = false;
    for (const r of this.subDeny) {
      // Deny overrides allow: a plain deny entry denies any queue as well.
      if (r.queue !== '' && (queue === '' || !queueMatches(queue, r.queue))) continue;
      if (isSubsetOf(subject, r.subject)) return SubscribeDecision.Deny;
      if (r.queue === '' && subjectsCollide(subject, r.subject)) overlaps = true;
    }
    return overlaps ? SubscribeDecision.AllowFiltered : SubscribeDecision.Allow;
  }

  /** For connections with a deny filter: must a message on `subject` be withheld? */
  deliveryDenied(subject: string): boolean {
    let denied = this.deliveryCache.get(subject);
    if (denied === undefined) {
      denied = this.subDeny.some((r) => r.queue === '' && subjectMatches(r.subject, subject));
      if (this.deliveryCache.size >= PERMISSION_CACHE_MAX_ENTRIES) this.deliveryCache.clear();
      this.deliveryCache.set(subject, denied);
    }
    return denied;
  }
}

export function compilePermissions(cfg: PermissionsConfig | undefined): Permissions | undefined {
  return cfg === undefined ? undefined : new Permissions(cfg);
}

interface ReplyGrant {
  atMs: number;
  sent: number;
}

/** One connection's view of its user's permissions, plus the state allow_responses needs. */
export class ConnectionPermissions {
  readonly rules: Permissions;
  /** Set once a wildcard SUB overlapped a denied subject: deliveries are then checked. */
  filterDeliveries = false;
  private readonly nowMs: () => number;
  private readonly replies: Map<string, ReplyGrant> | undefined;

  constructor(rules: Permissions, nowMs: () => number) {
    this.rules = rules;
    this.nowMs = nowMs;
    this.replies = rules.responses !== undefined ? new Map() : undefined;
  }

  get tracksReplies(): boolean {
    return this.replies !== undefined;
  }

  canPublish(subject: string): boolean {
    if (this.rules.publishAllowed(subject)) return true;
    const replies = this.replies;
    if (replies === undefined) return false;
    const grant = replies.get(subject);
    if (grant === undefined) return false;
    const { maxMsgs, expiresMs } = this.rules.responses!;
    grant.sent++;
    if ((maxMsgs > 0 && grant.sent > maxMsgs) || (expiresMs > 0 && this.nowMs() - grant.atMs > expiresMs)) {
      replies.delete(subject);
      return false;
    }
    // Spent grants go now rather than at the next prune.
    if (maxMsgs > 0 && grant.sent === maxMsgs) replies.delete(subject);
    return true;
  }

  subscribeDecision(subject: string, queue: string): SubscribeDecision {
    const d = this.rules.subscribeDecision(subject, queue);
    if (d === SubscribeDecision.AllowFiltered) this.filterDeliveries = true;
    return d;
  }

  /**
   * Called for each message delivered to this connection. Returns false when it must be withheld
   * (deny filter); otherwise remembers its reply subject for allow_responses.
   */
  admitDelivery(subject: string, reply: string): boolean {
    if (this.filterDeliveries && this.rules.deliveryDenied(subject)) return false;
    if (reply !== '' && this.replies !== undefined) this.grantReply(reply);
    return true;
  }

  private grantReply(reply: string): void {
    const replies = this.replies!;
    const existing = replies.get(reply);
    if (existing !== undefined) replies.delete(reply); // re-insert: Map order stays oldest-first
    replies.set(reply, { atMs: this.nowMs(), sent: 0 });
    if (replies.size > REPLY_PERMISSION_MAX_ENTRIES) this.pruneReplies();
  }

  /** Drops expired grants; if still over the bound, the oldest ones (a bound on memory). */
  private pruneReplies(): void {
    const replies = this.replies!;
    const { expiresMs } = this.rules.responses!;
    const now = this.nowMs();
    if (expiresMs > 0) for (const [k, g] of replies) if (now - g.atMs > expiresMs) replies.delete(k);
    for (const k of replies.keys()) {
      if (replies.size <= REPLY_PERMISSION_MAX_ENTRIES) break;
      replies.delete(k);
    }
  }
}
