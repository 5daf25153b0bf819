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
  const floor = floorOf(state);
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

/**
 * The state after a read of the election named `leaderEpoch` as the leader's. The known leader
 * epoch never moves backwards: a read from a server that lags behind (a new session may land on
 * one) must not replace a newer leader's epoch with an older one, which would let the older
 * leader's calls through. (`0n`, no leader right now, changes nothing either.)
 */
export function afterLearn(leaderEpoch: bigint, state: FenceState): FenceState {
  return leaderEpoch > state.leaderEpoch ? { ...state, leaderEpoch } : state;
}

/** The highest epoch the fence knows of: nothing lower may act. */
export function floorOf(state: FenceState): bigint {
  return state.highestAccepted > state.leaderEpoch ? state.highestAccepted : state.leaderEpoch;
}

/**
 * Whether ZooKeeper's history restarted (a new ensemble, a wiped data directory, a restored
 * backup). `lastZxid` is the newest zxid a session saw right after a sync, so every zxid the
 * ensemble has committed is at most that; `markers` are the id in the history marker node as the
 * fence knew it and as it found it (after the same sync).
 * - Within one history zxids only grow, and every epoch the fence knows is the zxid of a node
 *   ZooKeeper created: a synced zxid below one of them means that history is gone (a restored
 *   backup keeps the marker, so this is what tells). A lagging server cannot fake it (the sync
 *   brings it up to date) and a partitioned one cannot sync at all.
 * - A new ensemble may have passed the old epochs already (a young old history, a busy new one),
 *   but it has not the marker the fence knew: another marker, or none (the fence makes one).
 */
export function historyRestarted(
  lastZxid: bigint,
  state: FenceState,
  markers: { readonly known?: string; readonly found?: string } = {},
): boolean {
  if (lastZxid < floorOf(state)) return true;
  return markers.known !== undefined && markers.found !== markers.known;
}

/** What the fence knows at the start of a new history: nothing. */
export const NEW_HISTORY: FenceState = Object.freeze({ highestAccepted: 0n, leaderEpoch: 0n });
