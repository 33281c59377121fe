// Majority quorum arithmetic over a single voter set.
//
// Membership changes one voter at a time (docs/adr/0002-raft-design.md), so a plain majority
// of the current configuration is the only quorum the library needs: any majority of C and
// any majority of C ± one server intersect.

import type { NodeId } from './types.ts';

export const VoteResult = {
  /** Neither a majority of grants nor enough rejections to make one impossible. */
  Pending: 'pending',
  Won: 'won',
  Lost: 'lost',
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** Size of a majority of n voters. */
export function majority(n: number): number {
  return (n >>> 1) + 1;
}

/**
 * The largest index that a majority of `voters` has acknowledged: sort the acknowledged
 * indexes descending and take the majority-th. A voter without an entry in `acked` counts as 0.
 * With no voters there is nothing to commit.
 *
 * `scratch` avoids an allocation per call on the hot path; it is overwritten.
 */
export function committedIndex(
  voters: readonly NodeId[],
  acked: ReadonlyMap<NodeId, { readonly match: number }>,
  scratch: number[] = [],
): number {
  const n = voters.length;
  if (n === 0) return 0;
  scratch.length = n;
  for (let i = 0; i < n; i++) {
    // Insertion sort, descending: n is 1..7 in practice.
    const v = acked.get(voters[i])?.match ?? 0;
    let j = i - 1;
    while (j >= 0 && scratch[j] < v) {
      scratch[j + 1] = scratch[j];
      j--;
    }
    scratch[j + 1] = v;
  }
  return scratch[majority(n) - 1];
}

/** Tallies votes: `votes` holds the answers received so far (true = granted). */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const n = voters.length;
  if (n === 0) return VoteResult.Lost;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = majority(n);
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** True when at least a majority of `voters` satisfies `pred`. */
export function hasQuorum(voters: readonly NodeId[], pred: (id: NodeId) => boolean): boolean {
  let yes = 0;
  for (const id of voters) if (pred(id)) yes++;
  return voters.length > 0 && yes >= majority(voters.length);
}
