// Simulator options, profiles and results (the vocabulary shared by the simulation, its CLI and
// its tests).

import type { RaftOptions, UnsafeTestMutations } from '../../raft/raft.ts';

/**
 * Named fault profiles. 'leader-churn': three voters, raw Raft (no pre-vote, no check-quorum),
 * one entry per Append and one Append in flight, a permanent storm, and half of all new leaders
 * struck at once — the conditions under which an older-term entry reaches a majority before
 * the new leader's own entry does (Figure 8).
 */
export const PROFILES = {
  'leader-churn': {
    clusterSize: 3,
    raftOverrides: { preVote: false, checkQuorum: false, maxSizePerMsgBytes: 1, maxInflightMsgs: 1 },
    nemesisRate: 0.5,
    alwaysStormy: true,
  },
} as const satisfies Record<string, Partial<SimOptions>>;
export type ProfileName = keyof typeof PROFILES;

export interface SimOptions {
  readonly seed: number;
  /** A named profile; explicit options below override it. */
  readonly profile?: ProfileName;
  /** Events in the fault phase. Default 3000. */
  readonly steps?: number;
  /** Default: 3 or 5, chosen by the seed. */
  readonly clusterSize?: 3 | 5;
  /** Test-only raft bugs (mutation testing of the checker). */
  readonly mutations?: UnsafeTestMutations;
  /**
   * Test-only: the simulated driver breaks the Ready contract by sending messages before
   * persisting (a crash can then take back a vote or an acknowledgement already sent).
   */
  readonly unsafeSendBeforePersist?: boolean;
  /** Probability a new leader is struck at once; default drawn from the seed. */
  readonly nemesisRate?: number;
  /** Keep the fault phase stormy throughout (no calm periods). */
  readonly alwaysStormy?: boolean;
  /** Raft options to force instead of drawing them from the seed. */
  readonly raftOverrides?: Partial<Pick<RaftOptions, 'preVote' | 'checkQuorum' | 'heartbeatTick' | 'maxInflightMsgs' | 'maxSizePerMsgBytes'>>;
  /** Bound on ticks from healing until a fresh proposal is applied by every member. Default 400. */
  readonly livenessTimeoutTicks?: number;
  /** Receives one line per event (for replaying a failing seed). */
  readonly trace?: (line: string) => void;
}

export interface SimViolation {
  readonly invariant: string;
  readonly detail: string;
  readonly step: number;
  readonly timeMs: number;
  readonly phase: 'faults' | 'liveness';
}

export interface SimStats {
  steps: number;
  livenessSteps: number;
  livenessTicks: number;
  virtualMs: number;
  maxTerm: number;
  leaders: number;
  committed: number;
  proposals: number;
  reads: number;
  readsServed: number;
  crashes: number;
  restarts: number;
  partitions: number;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  confChangesProposed: number;
  transfers: number;
  messages: number;
  dropped: number;
  duplicated: number;
}

export interface SimResult {
  readonly seed: number;
  /** Arguments of `npm run sim --` that replay this run exactly. */
  readonly replayArgs: string;
  readonly ok: boolean;
  readonly violation: SimViolation | null;
  readonly config: string;
  readonly stats: SimStats;
}

export function formatResult(r: SimResult): string {
  if (r.ok) return `seed ${r.seed}: ok (${r.stats.steps} steps + ${r.stats.livenessSteps} liveness steps, ${r.stats.committed} committed, max term ${r.stats.maxTerm}) [${r.config}]`;
  const v = r.violation!;
  return (
    `seed ${r.seed}: VIOLATION ${v.invariant} at step ${v.step} (t=${v.timeMs}ms, ${v.phase} phase)\n  ${v.detail}\n  config: ${r.config}\n` +
    `  replay: npm run sim -- ${r.replayArgs} --trace`
  );
}
