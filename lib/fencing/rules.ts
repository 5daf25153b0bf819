/**
 * The worker's fence, as pure functions: which leader epochs may still get work done.
 *
 * The worker remembers the highest epoch it has accepted and learns the current leader's epoch by
 * watching the election. An epoch below either is stale and refused. An epoch above both is
 * unknown: it is accepted only once ZooKeeper, read after a sync, says it is the current leader's,
 * so a forged epoch, a follower's or a lagging server's view cannot lock the real leader out.
 */

/** What the worker knows. `0n` means "none known". */
export interface FenceState {
  readonly highestAccepted: bigint;
  readonly leaderEpoch: bigint;
}

/** The verdict on a request's epoch. */
export type FenceVerdict =
  | { readonly kind: "accept" }
  | { readonly kind: "reject"; readonly reason: string }
  /** Unknown and higher than anything known: ask ZooKeeper. */
  | { readonly kind: "verify" };

/** A verdict after any verification: accept or reject. */
export type FinalVerdict = Exclude<FenceVerdict, { readonly kind: "verify" }>;

/** No epoch: plain clients (like the original RPC check) are served unfenced. */
export const NO_EPOCH = 0n;

/** Judges a request's epoch against what the worker knows. */
export function judgeEpoch(epoch: bigint, state: FenceState): FenceVerdict {
  if (epoch === NO_EPOCH) return { kind: "accept" };
  const floor = state.highestAccepted > state.leaderEpoch
    ? state.highestAccepted
    : state.leaderEpoch;
  if (epoch < floor) {
    return {
      kind: "reject",
      reason: `stale leader epoch ${epoch}: the current leader's epoch is ${state.leaderEpoch}` +
        ` and the highest accepted is ${state.highestAccepted}`,
    };
  }
  if (epoch === state.leaderEpoch || epoch === state.highestAccepted) return { kind: "accept" };
  return { kind: "verify" };
}

/** Judges an unknown epoch once ZooKeeper has named the current leader's (`0n`: no leader). */
export function judgeVerified(epoch: bigint, confirmedLeaderEpoch: bigint): FinalVerdict {
  if (epoch === confirmedLeaderEpoch) return { kind: "accept" };
  return {
    kind: "reject",
    reason: `leader epoch ${epoch} is not the current leader's: ZooKeeper says ` +
      (confirmedLeaderEpoch === NO_EPOCH ? "there is no leader" : `it is ${confirmedLeaderEpoch}`),
  };
}

/** The state after accepting `epoch`. */
export function afterAccept(epoch: bigint, state: FenceState): FenceState {
  return epoch > state.highestAccepted ? { ...state, highestAccepted: epoch } : state;
}
